"""Wall layouts: which tiles go on which screen, in which scene (``layouts/*.toml``).

A layout names its screens; each screen has scenes (a grid of tiles) that rotate with
per-scene durations, and may name a crisis scene shown while a crisis or an active
alert stands. Screens are matched to the attached monitors by monitor name, then index,
then left-to-right position; a layout screen with no monitor left over has its scenes
rotate on a monitor that is there, so nothing is silently dropped.

This module is core (no Qt): tile ids and options are checked against the tile registry
by :func:`check_tiles`, which is handed the registry's option models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.config import FileProblems, SeveralProblems, describe_validation_error, read_toml
from app.resources import data_dir


class LayoutError(FileProblems):
    """Problems in a layout file; ``problems`` lists every one found."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class TilePlacement(_Model):
    """One tile in a scene's grid: ``at = [column, row, column span, row span]``."""

    tile: str = Field(min_length=1, max_length=100)
    at: list[int] = Field(min_length=2, max_length=4)
    title: str | None = Field(default=None, max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def cell(self) -> tuple[int, int, int, int]:
        col, row, *span = self.at
        cols, rows = [*span, 1, 1][:2]
        return col, row, cols, rows


class Scene(_Model):
    name: str = Field(min_length=1)
    duration_s: float = Field(default=60.0, ge=1, le=86400)
    #: [columns, rows]
    grid: list[int] = Field(default_factory=lambda: [4, 3], min_length=2, max_length=2)
    #: shown only as the crisis scene, never in the normal rotation
    crisis_only: bool = False
    tiles: list[TilePlacement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fits(self) -> Scene:
        cols, rows = self.grid
        if cols < 1 or rows < 1 or cols > 24 or rows > 24:
            raise ValueError(f"grid {self.grid} must be 1…24 columns and rows")
        taken: dict[tuple[int, int], int] = {}
        problems: list[str] = []  # every tile's problem at once, one line each
        for i, t in enumerate(self.tiles):
            c, r, cs, rs = t.cell
            if c < 0 or r < 0 or cs < 1 or rs < 1 or c + cs > cols or r + rs > rows:
                problems.append(f"tiles[{i}] ({t.tile}) at {t.at} does not fit the {cols}×{rows} grid")
                continue
            clash = next(((x, y) for x in range(c, c + cs) for y in range(r, r + rs)
                          if (x, y) in taken), None)  # fmt: skip
            if clash is not None:
                x, y = clash
                problems.append(f"tiles[{i}] ({t.tile}) overlaps tiles[{taken[x, y]}] at column {x}, row {y}")
                continue
            taken.update({(x, y): i for x in range(c, c + cs) for y in range(r, r + rs)})
        if problems:
            raise SeveralProblems(problems)
        return self


class Screen(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    #: the monitor's name as the system reports it (``HDMI-1``, ``DP-2``); optional
    match: str | None = None
    #: the monitor's index (0 = primary order); optional
    index: int | None = Field(default=None, ge=0)
    #: the resolution a snapshot renders at (a live wall takes its monitor's)
    size: list[int] = Field(default_factory=lambda: [1920, 1080], min_length=2, max_length=2)
    crisis_scene: str | None = None
    scenes: list[Scene] = Field(min_length=1)

    @model_validator(mode="after")
    def _scenes(self) -> Screen:
        problems = _screen_problems(self.model_dump())
        if problems:
            raise SeveralProblems(problems)
        return self

    @property
    def rotation(self) -> list[Scene]:
        return [s for s in self.scenes if not s.crisis_only]

    def scene(self, name: str) -> Scene | None:
        return next((s for s in self.scenes if s.name == name), None)


def _screen_problems(screen: Mapping[str, Any]) -> list[str]:
    """A screen's scenes as a whole: names, its crisis scene, its size (on data as written,
    so they are said even when a scene of it has problems of its own)."""
    raw = screen.get("scenes")
    scenes = [s for s in raw if isinstance(s, dict)] if isinstance(raw, list) else []
    names = [s.get("name") for s in scenes]
    dupes = {str(n) for n in names if names.count(n) > 1}
    problems: list[str] = []
    if dupes:
        problems.append(f"scene names used twice: {', '.join(sorted(dupes))}")
    crisis = screen.get("crisis_scene")
    if crisis is not None and crisis not in names:
        problems.append(f"crisis_scene {crisis!r} is not one of its scenes")
    if scenes and all(s.get("crisis_only") is True for s in scenes):
        problems.append("needs at least one scene that is not crisis_only")
    size = screen.get("size", [1920, 1080])
    if isinstance(size, list) and len(size) == 2 and all(type(v) is int for v in size):
        w, h = size
        if not (320 <= w <= 16384 and 240 <= h <= 16384):
            problems.append(f"size {size} is not a plausible screen resolution")
    return problems


class Layout(_Model):
    title: str = ""
    screens: list[Screen] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Layout:
        names = [s.name for s in self.screens]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"screen names used twice: {', '.join(sorted(dupes))}")
        return self

    def screen(self, name: str) -> Screen | None:
        return next((s for s in self.screens if s.name == name), None)


@dataclass(frozen=True, slots=True)
class LoadedLayout:
    name: str
    path: Path
    layout: Layout


def shipped_layouts() -> list[str]:
    return sorted(p.stem for p in data_dir("layouts").glob("*.toml"))


def layout_file(name_or_path: str) -> Path:
    """A shipped layout by name, or a ``.toml`` path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path:
        return Path(name_or_path)
    return data_dir("layouts") / f"{name_or_path}.toml"


def parse_layout(
    data: Mapping[str, Any], path: Path | str = "<layout>",
    options: Mapping[str, type[BaseModel]] | None = None, topics: Sequence[str] | None = None,
) -> Layout:  # fmt: skip
    """Validate a layout; with the tile registry's ``options``, its tiles too, and with the
    config's ``topics``, the topics its tiles name.

    Every problem is reported at once, like the config's: the file's shape, each scene's
    grid, and each tile's id, options and topics, even where the shape failed.
    """
    problems: list[str] = []
    layout: Layout | None = None
    try:
        layout = Layout.model_validate(data)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc))
        screens = data.get("screens")
        for i, screen in enumerate(screens if isinstance(screens, list) else []):
            said = any(p.startswith(f"screens[{i}]: ") for p in problems)
            if isinstance(screen, dict) and not said:  # its scenes failed: the screen's check never ran
                problems.extend(f"screens[{i}]: {p}" for p in _screen_problems(screen))
    tiles = _raw_tiles(data)
    if options is not None:
        problems.extend(_tile_problems(tiles, options))
    if topics is not None:
        problems.extend(_topic_problems(tiles, topics))
    if problems or layout is None:
        raise LayoutError(path, problems)
    return layout


def load_layout(name_or_path: str, options: Mapping[str, type[BaseModel]] | None = None,
                topics: Sequence[str] | None = None) -> LoadedLayout:  # fmt: skip
    """Load and validate a layout (its tiles given ``options``, the topics they name given
    ``topics``); raise :class:`LayoutError` naming the file and every key that is wrong."""
    path = layout_file(name_or_path)
    if not path.is_file():
        known = ", ".join(shipped_layouts())
        raise LayoutError(path, [f"no such layout (shipped layouts: {known})"])
    data = read_toml(path, LayoutError)
    return LoadedLayout(path.stem, path, parse_layout(data, path, options, topics))


def _raw_tiles(data: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, tile id, options) of every tile in a layout's data as written, whatever its shape."""
    out: list[tuple[str, Any, Any]] = []
    screens = data.get("screens")
    for si, screen in enumerate(screens if isinstance(screens, list) else []):
        scenes = screen.get("scenes") if isinstance(screen, dict) else None
        for ci, scene in enumerate(scenes if isinstance(scenes, list) else []):
            tiles = scene.get("tiles") if isinstance(scene, dict) else None
            for ti, tile in enumerate(tiles if isinstance(tiles, list) else []):
                if isinstance(tile, dict):
                    out.append((f"screens[{si}].scenes[{ci}].tiles[{ti}]", tile.get("tile"),
                                tile.get("options", {})))  # fmt: skip
    return out


def _tile_problems(tiles: list[tuple[str, Any, Any]], options: Mapping[str, type[BaseModel]]) -> list[str]:
    problems = []
    for key, tile_id, opts in tiles:
        if not isinstance(tile_id, str) or not isinstance(opts, dict):
            continue  # the shape check has said so
        model = options.get(tile_id)
        if model is None:
            problems.append(f"{key}.tile: unknown tile {tile_id!r} (known: {', '.join(sorted(options))})")
            continue
        try:
            model.model_validate(opts)
        except ValidationError as exc:
            problems.extend(f"{key}.options.{p}" for p in describe_validation_error(exc))
    return problems


def check_tiles(loaded: LoadedLayout, options: Mapping[str, type[BaseModel]]) -> list[str]:
    """Check every tile id and its options against the registry's option models."""
    return _tile_problems(_raw_tiles(loaded.layout.model_dump()), options)


#: the tile options that name topics of the config; ``*`` (or none) means every topic
TOPIC_OPTIONS = ("topic", "topics", "fallback_topic")


def check_topics(loaded: LoadedLayout, topics: Sequence[str]) -> list[str]:
    """Tiles naming a topic the config does not have: such a tile would stay empty, silently."""
    return _topic_problems(_raw_tiles(loaded.layout.model_dump()), topics)


def _topic_problems(tiles: list[tuple[str, Any, Any]], topics: Sequence[str]) -> list[str]:
    known = set(topics)
    listed = ", ".join(sorted(known)) or "none"
    problems = []
    for key, tile_id, opts in tiles:
        if not isinstance(opts, dict):
            continue
        for option in TOPIC_OPTIONS:
            value = opts.get(option)
            names = value if isinstance(value, list) else [value]
            for name in names:
                if isinstance(name, str) and name != "*" and name not in known:
                    problems.append(f"{key}.options.{option}: no topic {name!r} in the config "
                                    f"({tile_id} tile; topics: {listed}; '*' for all)")  # fmt: skip
    return problems


# -- placing layout screens on the monitors that are attached ---------------------------


@dataclass(frozen=True, slots=True)
class Monitor:
    name: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Placement:
    """A monitor and the layout screens it shows: its own, then any left without a monitor."""

    monitor: Monitor
    screens: tuple[Screen, ...]


def place_screens(layout: Layout, monitors: Sequence[Monitor]) -> tuple[list[Placement], list[Screen]]:
    """Assign layout screens to monitors; return the placements and the orphaned screens.

    Orphans (more layout screens than monitors) are appended to the monitors present in
    turn, so their scenes join that monitor's rotation.
    """
    ordered = sorted(monitors, key=lambda m: (m.x, m.y))
    free = list(ordered)
    chosen: dict[str, Monitor] = {}
    for screen in layout.screens:  # by name first
        hit = next((m for m in free if screen.match and m.name == screen.match), None)
        if hit:
            chosen[screen.name] = hit
            free.remove(hit)
    for screen in layout.screens:  # then by index
        if screen.name in chosen or screen.index is None or screen.index >= len(monitors):
            continue
        hit = list(monitors)[screen.index]
        if hit in free:
            chosen[screen.name] = hit
            free.remove(hit)
    for screen in layout.screens:  # then left to right
        if screen.name not in chosen and free:
            chosen[screen.name] = free.pop(0)
    orphans = [s for s in layout.screens if s.name not in chosen]
    by_monitor: dict[Monitor, list[Screen]] = {}
    for screen in layout.screens:
        if screen.name in chosen:
            by_monitor.setdefault(chosen[screen.name], []).append(screen)
    placements = [m for m in ordered if m in by_monitor]
    for i, orphan in enumerate(orphans):
        if placements:
            by_monitor[placements[i % len(placements)]].append(orphan)
    return [Placement(m, tuple(by_monitor[m])) for m in placements], orphans


def check_layout_against_screens(
    loaded: LoadedLayout, screens: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """What ``doctor`` says of a layout on the monitors found: (problems, notes).

    Fewer monitors than screens is a note (their scenes rotate elsewhere, nothing is
    lost); a screen pinned to a monitor that is not attached is a problem.
    """
    monitors = [Monitor(str(s["name"]), int(s["x"]), int(s["y"]), int(s["width"]), int(s["height"]))
                for s in screens]  # fmt: skip
    if not monitors:
        return ["no screens found"], []
    placements, orphans = place_screens(loaded.layout, monitors)
    notes = []
    for orphan in orphans:
        host = next(p.monitor.name for p in placements if orphan in p.screens)
        notes.append(
            f"layout {loaded.name!r} names {len(loaded.layout.screens)} screens but "
            f"{len(monitors)} monitor(s) are attached: the scenes of screen {orphan.name!r} "
            f"rotate on {host}"
        )
    problems = [
        f"screen {screen.name!r} asks for monitor {screen.match!r}, which is not attached "
        f"(attached: {', '.join(m.name for m in monitors)})"
        for screen in loaded.layout.screens
        if screen.match and not any(m.name == screen.match for m in monitors)
    ]
    return problems, notes
