"""A config and layout fuzzer through ``doctor``, ``poll --once`` and ``snapshot``.

Each case mutates a valid file (a value replaced by a hostile one, a key dropped, a table
turned into a list …) and runs the real ``main()`` in this process with its output
captured: whatever the file says, the command must end with an exit code and clear
lines, never a traceback, an "internal error" or an exception out of ``main()``. What
``doctor`` accepts must also load where the wall loads it (config and layout models).
Runs are bounded: a fixed mutation set plus a capped number of hypothesis examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main

BASE_CONFIG: dict[str, Any] = {
    "brand": {"name": "Acme", "accounts": ["@acme@mastodon.example", "acme.bsky.social"]},
    "topics": [
        {"name": "acme", "kind": "brand", "query": 'acme OR #acme OR "acme phone" NOT hiring'},
        {"name": "globex", "kind": "competitor", "query": "globex OR #globex"},
    ],
    "sources": [
        {"name": "mastodon", "type": "mastodon", "base_url": "http://127.0.0.1:9",
         "hashtags": ["acme"], "token_env": "WATCHFLOOR_FUZZ_TOKEN", "interval_s": 30},
        {"name": "news", "type": "rss", "url": "http://127.0.0.1:9/press.xml", "timeout_s": 2},
        {"name": "demo", "type": "demo", "rate_per_minute": 120, "backfill_min": 0, "seed": 1},
    ],
    "rules": {"follower_threshold": 10000, "negative_threshold": -0.5},
    "alerts": {"z": 3.0, "min_count": 20, "window_min": 5},
    "retention": {"mentions_days": 30, "minute_rollups_days": 3},
    "sla": {"p1_min": 15},
    "wall": {"layout": "LAYOUT", "theme": "dark", "admin_chord": "Ctrl+Alt+Shift+Q",
             "cursor_idle_s": 3.0, "pixel_shift_px": 2, "pixel_shift_min": 10.0},
    "console": {"claim_idle_min": 15, "notify_priorities": [1]},
}  # fmt: skip

BASE_LAYOUT: dict[str, Any] = {
    "title": "fuzz",
    "screens": [{
        "name": "one", "size": [640, 360], "crisis_scene": "crisis",
        "scenes": [
            {"name": "main", "duration_s": 60, "grid": [2, 1], "tiles": [
                {"tile": "kpi", "at": [0, 0], "options": {"metric": "mentions", "period_min": 60}},
                {"tile": "feed", "at": [1, 0], "title": "New", "options": {"limit": 3}},
            ]},
            {"name": "crisis", "crisis_only": True, "grid": [1, 1],
             "tiles": [{"tile": "alerts", "at": [0, 0, 1, 1]}]},
        ],
    }],
}  # fmt: skip

HOSTILE: list[Any] = [
    math.nan, math.inf, -math.inf, 1e300, -1, 0, 1e-9, True, False, "", "x" * 100_000,
    10**30, -(10**30), [], {}, [[[[]]]], "Esc", "A", "\u202e\ud800é", "../../etc/passwd",
    {"a": {"b": {"c": 1}}}, [1, "two", 3.0], "0", "nan",
]  # fmt: skip


def toml(value: Any) -> str:
    """Any JSON-like value as a TOML document (tables written inline)."""

    def v(x: Any) -> str:
        if isinstance(x, bool):
            return "true" if x else "false"
        if isinstance(x, float):
            return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) else repr(x)
        if isinstance(x, int):
            return str(x)
        if isinstance(x, str):
            return json.dumps(x)  # JSON's escapes are TOML's (a lone surrogate is a syntax error)
        if isinstance(x, list):
            return "[" + ", ".join(v(i) for i in x) + "]"
        if isinstance(x, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {v(i)}" for k, i in x.items()) + "}"
        raise TypeError(x)

    assert isinstance(value, dict)
    return "".join(f"{json.dumps(str(k))} = {v(i)}\n" for k, i in value.items())


def leaves(tree: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into the tree: tables and lists too, so whole sections get replaced."""
    if path:
        yield path
    if isinstance(tree, dict):
        for key, child in tree.items():
            yield from leaves(child, (*path, key))
    elif isinstance(tree, list):
        for i, child in enumerate(tree):
            yield from leaves(child, (*path, i))


def mutate(tree: Any, path: tuple[Any, ...], value: Any, *, drop: bool = False) -> Any:
    tree = json.loads(json.dumps(tree))
    node = tree
    for part in path[:-1]:
        node = node[part]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return tree


def call(*argv: str) -> tuple[int, str, str]:
    """The real main() with its output captured; the logging it sets up is put back after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert isinstance(code, int)
    return code, out.getvalue(), err.getvalue()


def no_traceback(code: int, out: str, err: str, what: str) -> None:
    text = out + err
    assert "Traceback" not in text, f"{what}\n{text[-3000:]}"
    assert "internal error" not in text, f"{what}\n{text[-3000:]}"
    assert code in {0, 1, 2}, f"{what}: exit {code}\n{text[-3000:]}"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("WATCHFLOOR_FUZZ_TOKEN", "fuzz-token-value")
    return tmp_path


def write_case(folder: Path, config: Any, layout: Any, n: int) -> Path:
    layout_file = folder / f"layout{n}.toml"
    layout_file.write_text(toml(layout) if isinstance(layout, dict) else str(layout), encoding="utf-8")
    if isinstance(config, dict) and isinstance(config.get("wall"), dict) and config["wall"].get("layout") == "LAYOUT":
        config = {**config, "wall": {**config["wall"], "layout": str(layout_file)}}
    config_file = folder / f"config{n}.toml"
    config_file.write_text(toml(config) if isinstance(config, dict) else str(config), encoding="utf-8")
    return config_file


def doctor_accepts_what_loads(config_file: Path, code: int, out: str) -> None:
    """What doctor passes, the wall can load: the config and its layout validate."""
    from app.config import load_config
    from app.layouts import load_layout

    if code == 0:
        config = load_config(config_file)
        load_layout(config.wall.layout)
        assert "no problems found" in out


CONFIG_PATHS = list(leaves(BASE_CONFIG))
EXAMPLES = int(os.environ.get("WATCHFLOOR_FUZZ_EXAMPLES", "120"))  # more, to hunt by hand
VALUES = st.one_of(
    st.sampled_from(HOSTILE), st.integers(), st.floats(), st.text(max_size=40),
    st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
)


def test_the_base_files_pass(files: Path) -> None:
    cfg = write_case(files, BASE_CONFIG, BASE_LAYOUT, 0)
    code, out, err = call("doctor", "--headless", "--offline", "--config", str(cfg), "--db", str(files / "d.db"))
    assert "Traceback" not in out + err
    # the only problem of the base: nothing, its secret is set
    assert code == 0, out + err


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(path=st.sampled_from(CONFIG_PATHS), value=VALUES, drop=st.booleans())
def test_doctor_on_a_mutated_config(files: Path, path: tuple[Any, ...], value: Any, drop: bool) -> None:
    config = mutate(BASE_CONFIG, path, value, drop=drop)
    cfg = write_case(files, config, BASE_LAYOUT, 1)
    code, out, err = call("doctor", "--headless", "--offline", "--config", str(cfg), "--db", str(files / "d.db"))
    no_traceback(code, out, err, f"doctor: {path} = {value!r:.80} (drop={drop})")
    doctor_accepts_what_loads(cfg, code, out)


#: values that doctor once accepted and the wall died on
WALL_KILLERS = [
    (("wall", "cursor_idle_s"), v) for v in (math.nan, math.inf, 1e300)
] + [(("wall", "pixel_shift_min"), v) for v in (math.inf, 1e-9)] + [
    (("wall", "admin_chord"), v) for v in ("Esc", "A", "", "Shift+Q", "Ctrl+PageUp", "Hyper+Q")
] + [
    (("wall", "theme"), "no-such-theme"), (("retention", "mentions_days"), 1e-9),
    (("sources", 2, "rate_per_minute"), True), (("console", "notify_priorities"), [True]),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value"), WALL_KILLERS, ids=lambda x: repr(x)[:30])
def test_doctor_refuses_what_the_wall_cannot_run(files: Path, path: tuple[Any, ...], value: Any) -> None:
    cfg = write_case(files, mutate(BASE_CONFIG, path, value), BASE_LAYOUT, 2)
    code, out, err = call("doctor", "--headless", "--offline", "--config", str(cfg), "--db", str(files / "d.db"))
    no_traceback(code, out, err, repr((path, value)))
    key = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
    assert code == 1, out + err
    assert f"FAIL config {cfg}: {key}" in out, out  # the file, the key …
    assert "(got " in out or "needs" in out or "unknown theme" in out  # … and what was expected


def test_accepted_chords_are_ones_qt_reads() -> None:
    from PySide6.QtGui import QKeySequence

    from app.config import check_chord

    for chord in ["Ctrl+Alt+Shift+Q", "ctrl+alt+q", "Meta+F12", "Alt+Esc", "Ctrl+PgDown", "Ctrl+1"]:
        check_chord(chord)
        seq = QKeySequence(chord)
        assert seq.count() == 1 and seq[0].key().value not in (0, 0x01FFFFFF), chord


@settings(max_examples=EXAMPLES // 5, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(path=st.sampled_from([p for p in CONFIG_PATHS if p[0] in {"sources", "brand", "topics", "retention", "alerts"}]),
       value=st.sampled_from(HOSTILE))  # fmt: skip
def test_poll_once_on_a_mutated_config(files: Path, path: tuple[Any, ...], value: Any) -> None:
    config = mutate(BASE_CONFIG, path, value)
    cfg = write_case(files, config, BASE_LAYOUT, 3)
    code, out, err = call("poll", "--once", "--config", str(cfg), "--db", str(files / "p.db"))
    no_traceback(code, out, err, f"poll: {path} = {value!r:.80}")


LAYOUT_PATHS = list(leaves(BASE_LAYOUT))


@settings(max_examples=EXAMPLES // 3, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(path=st.sampled_from(LAYOUT_PATHS), value=VALUES, drop=st.booleans())
def test_snapshot_on_a_mutated_layout(files: Path, path: tuple[Any, ...], value: Any, drop: bool) -> None:
    layout = mutate(BASE_LAYOUT, path, value, drop=drop)
    cfg = write_case(files, BASE_CONFIG, layout, 4)
    db = files / "s.db"
    if not db.exists():
        from app.store.db import open_writer

        open_writer(db).close()
    layout_file = files / "layout4.toml"
    code, out, err = call("snapshot", "--config", str(cfg), "--db", str(db), "--out", str(files / "shots"),
                          "--layout", str(layout_file))  # fmt: skip
    no_traceback(code, out, err, f"snapshot: {path} = {value!r:.80} (drop={drop})")
    if code != 0:
        assert str(layout_file) in err or "layout" in err, err


RAW_FILES = [
    "\ufeff[brand]\nname = 'x'\n",                       # a byte-order mark
    "a = " + "[" * 5000 + "]" * 5000 + "\n",             # nested too deeply
    "a = " + "9" * 5000 + "\n",                          # an integer of 5,000 digits
    "[brand]\nname = '" + "x" * 300_000 + "'\n",          # an over-long value
    "\x00\x01\x02",                                       # binary
    "[brand\n",                                           # syntax
    "x" * (2 * 1024 * 1024),                              # too big
]  # fmt: skip


@pytest.mark.parametrize("text", RAW_FILES, ids=["bom", "deep", "bigint", "long", "binary", "syntax", "huge"])
def test_raw_files_through_every_command(files: Path, text: str) -> None:
    bad = files / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    good = write_case(files, BASE_CONFIG, BASE_LAYOUT, 5)
    db = files / "r.db"
    runs = [
        ("doctor", "--headless", "--offline", "--config", str(bad), "--db", str(db)),
        ("poll", "--once", "--config", str(bad), "--db", str(db)),
        ("snapshot", "--config", str(good), "--layout", str(bad), "--out", str(files / "o"), "--db", str(db)),
    ]
    for argv in runs:
        if argv[0] == "snapshot" and not db.exists():
            from app.store.db import open_writer

            open_writer(db).close()
        code, out, err = call(*argv)
        no_traceback(code, out, err, f"{argv[0]} on {text[:20]!r}")
        assert code in {1, 2}, (argv[0], out, err)
        assert str(bad) in out + err
    if text.startswith("\ufeff"):
        assert "byte-order mark" in out + err
    for line in (out + err).splitlines():
        assert len(line) < 600, line[:200]  # an over-long value is cut in the message


@pytest.fixture(autouse=True)
def _offscreen() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
