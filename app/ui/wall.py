"""A wall window: the title bar and the rotating scenes of the layout screens it shows.

One window per monitor. Its scenes are its own layout screen's, followed by those of any
layout screen left without a monitor. An active crisis (declared, or an alert not yet
acknowledged) switches to the crisis scene until it is over; a console can switch a
scene or put a post in the spotlight through the database (:mod:`app.wallcontrol`).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QContextMenuEvent,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QGridLayout, QStackedWidget, QVBoxLayout, QWidget

from app import wallcontrol, wallquery
from app.layouts import Scene, Screen
from app.store import tables as T
from app.store.changelog import Change
from app.ui import theme
from app.ui.theme import Scale
from app.ui.tilebase import Tile, TileContext, TileSpec, elide, stale_clock
from app.ui.walldata import WallHub

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SceneRef:
    screen: Screen
    scene: Scene

    @property
    def key(self) -> str:
        return f"{self.screen.name}/{self.scene.name}"


def draw_mark(p: QPainter, rect: QRectF) -> None:
    """The watchfloor mark: a screen with a rising line, drawn so it needs no image file."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(theme.colour(theme.SKY))
    p.drawRoundedRect(rect, rect.width() * 0.2, rect.width() * 0.2)
    pen = QPen(theme.colour(theme.BACKGROUND), max(2.0, rect.width() * 0.1))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    w, h, x, y = rect.width(), rect.height(), rect.left(), rect.top()
    pts = [(0.2, 0.7), (0.42, 0.5), (0.58, 0.62), (0.8, 0.3)]
    for (x1, y1), (x2, y2) in itertools.pairwise(pts):
        p.drawLine(QPointF(x + x1 * w, y + y1 * h), QPointF(x + x2 * w, y + y2 * h))
    p.restore()


def picture_notice(fresh: wallquery.Freshness, problem: str, now: float) -> str:
    """The title bar's warning about the data itself ("" while it is live and readable)."""
    if problem:
        head, _, rest = problem.partition(" · ")
        return f"{head.upper()} · {rest}" if rest else problem
    if not fresh.live:
        if fresh.newest is None:
            return "NO LIVE DATA · no source has reported: is a poller running?"
        return f"NO LIVE DATA · nothing new since {stale_clock(fresh.newest, now)}"
    return ""


def partial_notice(fresh: wallquery.Freshness) -> str:
    """Some sources are not live while others are: said beside the scene, not in alarm."""
    late = fresh.not_live if fresh.live else []
    return f"  ·  {len(late)} of {len(fresh.sources)} sources not live" if late else ""


class TitleBar(QWidget):
    """Brand, scene, crisis banner and clock: the line a visitor reads first."""

    def __init__(self, scale: Scale, brand: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("titlebar")
        self.s = scale
        self.brand = brand
        self.scene_title = ""
        self.crisis: wallcontrol.Crisis | None = None
        self.position = ""
        #: what is wrong with the picture itself (no live data, a damaged database), or ""
        self.notice = ""
        self.aside = ""
        #: the middle text as last painted
        self.shown_text = ""
        #: whether the date was drawn (it gives way to what is happening on a narrow screen)
        self.dated = True
        self.branded = True
        self.clock = datetime.now
        self.setFixedHeight(scale.px(84))

    def paintEvent(self, event: QPaintEvent) -> None:
        s = self.s
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        crisis = self.crisis is not None
        notice = bool(self.notice)
        # every unacknowledged alert is over and no crisis is declared: still crisis, dimmer
        over = self.crisis is not None and self.crisis.crisis_id is None and (
            self.crisis.subsided_alerts >= self.crisis.active_alerts)
        p.fillRect(self.rect(), QColor(("#4A2410" if over else "#7A2800") if crisis else
                                       ("#5A4200" if notice else theme.SURFACE)))  # fmt: skip
        edge = theme.CRISIS if crisis else (theme.WARN if notice else theme.SURFACE_HI)
        p.fillRect(QRectF(0, h - s.px(3), w, s.px(3)), theme.colour(edge))
        m = s.px(24)
        mark = s.px(50)
        draw_mark(p, QRectF(m, (h - mark) / 2, mark, mark))
        x = m + mark + s.px(18)
        brand_font = s.font(40, bold=True)
        brand_w = QFontMetrics(brand_font).horizontalAdvance(self.brand) + s.px(4)
        now = self.clock()
        clock_w = s.px(420)
        time_w = s.px(150)
        if crisis and self.crisis is not None:
            since = datetime.fromtimestamp(self.crisis.since).strftime("%H:%M")
            text = f"CRISIS · {self.crisis.reason} · since {since}"
            if notice:  # both matter: the notice in its short form, the crisis whole
                short = self.notice.replace(" · nothing new since ", " since ")
                text = f"{short} · {text}"
            font = s.font(34, bold=True)
        elif notice:
            text = self.notice
            font = s.font(34, bold=True)
        else:
            text = f"{self.scene_title}{self.position}{self.aside}"
            font = s.font(32)

        def fit(middle: float) -> bool:
            while font.pixelSize() > s.px(24) and QFontMetrics(font).horizontalAdvance(text) > middle:
                font.setPixelSize(font.pixelSize() - 1)  # a smaller font before anything is cut
            return QFontMetrics(font).horizontalAdvance(text) <= middle

        middle = w - m - clock_w - x - brand_w - s.px(24) - s.px(16)
        # on a narrow screen the date, then the brand's name (its mark stays) give way
        # before what is happening is cut
        size = font.pixelSize()
        dated = branded = fit(middle)
        if not dated:
            font.setPixelSize(size)
            middle += clock_w - time_w
            branded = fit(middle)
        if not branded:
            font.setPixelSize(size)
            middle += brand_w + s.px(24)
            fit(middle)
        if branded:
            p.setPen(theme.colour(theme.TEXT))
            p.setFont(brand_font)
            p.drawText(QRectF(x, 0, brand_w, h), Qt.AlignmentFlag.AlignVCenter, self.brand)
            x += brand_w + s.px(24)
        p.setFont(s.font(44, bold=True))
        p.drawText(QRectF(w - m - clock_w, 0, clock_w, h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   now.strftime("%H:%M"))  # fmt: skip
        if dated:
            p.setFont(s.small)
            p.setPen(theme.colour(theme.TEXT if crisis or notice else theme.MUTED))
            p.drawText(QRectF(w - m - clock_w, 0, clock_w - time_w, h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, now.strftime("%a %d %b"))  # fmt: skip
        p.setPen(theme.colour(theme.TEXT if crisis or notice else theme.MUTED))
        p.setFont(font)
        self.dated, self.branded = dated, branded
        self.shown_text = elide(text, font, middle)
        p.drawText(QRectF(x, 0, middle, h), Qt.AlignmentFlag.AlignVCenter, self.shown_text)
        p.end()


class SceneView(QWidget):
    """A scene's grid of tiles, made once and kept (switching scenes builds nothing)."""

    def __init__(self, ref: SceneRef, tiles: list[tuple[Tile, tuple[int, int, int, int]]], scale: Scale) -> None:
        super().__init__()
        self.ref = ref
        self.tiles = [t for t, _ in tiles]
        grid = QGridLayout(self)
        grid.setContentsMargins(scale.gap, scale.gap, scale.gap, scale.gap)
        grid.setSpacing(scale.gap)
        cols, rows = ref.scene.grid
        for c in range(cols):
            grid.setColumnStretch(c, 1)
        for r in range(rows):
            grid.setRowStretch(r, 1)
        for tile, (c, r, cs, rs) in tiles:
            grid.addWidget(tile.widget(), r, c, rs, cs)


class WallWindow(QWidget):
    """One monitor's wall."""

    scene_shown = Signal(str)

    def __init__(
        self,
        screens: tuple[Screen, ...],
        hub: WallHub,
        registry: dict[str, TileSpec],
        *,
        size: tuple[int, int] | None = None,
        kiosk: bool = False,
        colours: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("wall")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.screens = screens
        self.hub = hub
        self.kiosk = kiosk
        width, height = size or tuple(screens[0].size)
        self.s = theme.scale_for(height)
        self.setWindowTitle(f"watchfloor — {screens[0].name}")
        self.resize(width, height)
        self.ctx = TileContext(hub.conn, hub.config, self.s, hub.clock, colours if colours is not None else {})
        for t in hub.config.topics:  # brand first, so colours are the same on every screen
            self.ctx.colour_of(t.name)
        self.title = TitleBar(self.s, hub.config.brand.name)
        self.stack = QStackedWidget()
        lay = QVBoxLayout(self)
        d = hub.config.wall.pixel_shift_px
        lay.setContentsMargins(0, 0, d, d)  # the picture moves within this border
        lay.setSpacing(0)
        lay.addWidget(self.title)
        lay.addWidget(self.stack, 1)

        self.views: dict[str, SceneView] = {}
        self.rotation: list[SceneRef] = []
        for screen in screens:
            for scene in screen.scenes:
                ref = SceneRef(screen, scene)
                view = SceneView(ref, self._make_tiles(ref, registry), self.s)
                self.views[ref.key] = view
                self.stack.addWidget(view)
                if not scene.crisis_only:
                    self.rotation.append(ref)
        own = screens[0]
        self.crisis_ref = SceneRef(own, own.scene(own.crisis_scene)) if own.crisis_scene and own.scene(own.crisis_scene) else None  # type: ignore[arg-type]
        self.index = 0
        self.current: SceneRef = self.rotation[0]
        self.rotate_timer = QTimer(self)
        self.rotate_timer.setSingleShot(True)
        self.rotate_timer.timeout.connect(self.next_scene)
        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self.title.update)
        hub.crisis_changed.connect(self.on_crisis)
        hub.health_changed.connect(self.on_health)
        hub.command.connect(self.on_command)
        if kiosk:
            self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
            self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
            self.setCursor(Qt.CursorShape.BlankCursor)
        self.shift_px = hub.config.wall.pixel_shift_px
        self.shift_step = 0
        self.shift_timer = QTimer(self)
        self.shift_timer.timeout.connect(self.shift_pixels)
        if self.shift_px and hub.config.wall.pixel_shift_min:
            self.shift_timer.start(int(hub.config.wall.pixel_shift_min * 60_000))
        self._allow_close = not kiosk

    def _make_tiles(self, ref: SceneRef, registry: dict[str, TileSpec]) -> list[tuple[Tile, tuple[int, int, int, int]]]:
        out = []
        for placement in ref.scene.tiles:
            spec = registry[placement.tile]
            options = spec.options.model_validate(placement.options)
            tile = spec.make(options, self.ctx, placement.title)
            self.hub.add_tile(tile)
            out.append((tile, placement.cell))
        return out

    @property
    def all_tiles(self) -> list[Tile]:
        return [t for v in self.views.values() for t in v.tiles]

    # -- scenes ----------------------------------------------------------------------

    def start(self, offset_s: float = 0.0) -> None:
        """Show the first scene; ``offset_s`` lengthens it, so screens flip at different moments."""
        self.clock_timer.start()
        self.on_health()
        self.on_crisis(self.hub.crisis)
        if self.hub.crisis is None or self.crisis_ref is None:
            self.show_scene(self.rotation[0], hold_s=self.rotation[0].scene.duration_s + offset_s)

    def show_scene(self, ref: SceneRef, *, hold_s: float | None = None) -> None:
        self.current = ref
        self.stack.setCurrentWidget(self.views[ref.key])
        self.title.scene_title = ref.scene.name.replace("-", " ").replace("_", " ").capitalize()
        if len(self.rotation) > 1 and ref in self.rotation:
            self.title.position = f"  ·  {self.rotation.index(ref) + 1}/{len(self.rotation)}"
        else:
            self.title.position = ""
        self.title.update()
        self.hub.refresh_due()
        if self.hub.crisis is None or self.crisis_ref is None:
            self.rotate_timer.start(int((hold_s or ref.scene.duration_s) * 1000))
        self.scene_shown.emit(ref.key)

    def next_scene(self) -> None:
        if self.hub.crisis is not None and self.crisis_ref is not None:
            return
        if self.current in self.rotation:
            self.index = (self.rotation.index(self.current) + 1) % len(self.rotation)
        else:
            self.index = self.index % len(self.rotation)
        self.show_scene(self.rotation[self.index])

    def scene_by_name(self, name: str) -> SceneRef | None:
        return next((SceneRef(sc, s) for sc in self.screens for s in sc.scenes if s.name == name), None)

    def on_crisis(self, crisis: wallcontrol.Crisis | None) -> None:
        self.title.crisis = crisis
        self.title.update()
        if self.crisis_ref is None:
            return
        if crisis is not None:
            self.rotate_timer.stop()
            if self.current != self.crisis_ref:
                self.show_scene(self.crisis_ref)
        elif self.current == self.crisis_ref:
            self.show_scene(self.rotation[self.index % len(self.rotation)])

    def on_health(self) -> None:
        """Say on the title bar when the picture itself cannot be trusted."""
        self.title.notice = picture_notice(self.hub.freshness, self.hub.problem, self.hub.clock())
        self.title.aside = partial_notice(self.hub.freshness)
        self.title.update()

    def on_command(self, cmd: wallcontrol.WallCommand) -> None:
        if not any(cmd.applies_to(s.name) for s in self.screens) and cmd.target != "*":
            return
        if cmd.command == "scene":
            target = cmd.args.get("screen")
            if target and target not in {s.name for s in self.screens}:
                return
            ref = self.scene_by_name(str(cmd.args.get("scene", "")))
            if ref is not None and (self.hub.crisis is None or self.crisis_ref is None):
                self.show_scene(ref)
        elif cmd.command in {"spotlight", "clear_spotlight"}:
            self.hub.on_change(Change(frozenset({T.WALL_COMMANDS})))
            if cmd.command == "spotlight" and (self.hub.crisis is None or self.crisis_ref is None):
                ref = next((r for r in self.rotation if any(t.tile == "spotlight" for t in r.scene.tiles)), None)
                if ref is not None:
                    self.show_scene(ref)

    def shift_pixels(self) -> None:
        """Move the whole picture a few pixels around a square (burn-in care)."""
        self.shift_step = (self.shift_step + 1) % 4
        dx, dy = ((0, 0), (1, 0), (1, 1), (0, 1))[self.shift_step]
        d = self.shift_px
        layout = self.layout()
        assert layout is not None
        layout.setContentsMargins(dx * d, dy * d, (1 - dx) * d, (1 - dy) * d)

    # -- kiosk -------------------------------------------------------------------------

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if not self.kiosk:
            super().contextMenuEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._allow_close:
            event.ignore()  # a kiosk wall closes only through the admin chord
            return
        self.rotate_timer.stop()
        self.clock_timer.stop()
        self.shift_timer.stop()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Close for real (admin chord, end of the program)."""
        self._allow_close = True
        self.rotate_timer.stop()
        self.clock_timer.stop()
        self.shift_timer.stop()
        self.hub.remove_tiles(self.all_tiles)
        self.close()
