"""What a wall tile is: the protocol the wall relies on, its registry entry, and a base frame.

Tiles live in the ``widgets`` package and are found through the ``watchfloor.tiles``
entry point (so ``app`` never imports ``widgets``). A tile reads bounded queries from
:mod:`app.wallquery` on the GUI thread, only when a change concerns it and it is
visible; it paints plain text only.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextLayout,
    QTextLine,
    QTextOption,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QWidget

from app.config import Config
from app.store import tables as T
from app.store.changelog import Change
from app.ui import theme
from app.ui.theme import Scale
from app.wallquery import before_record

ENTRY_POINT_GROUP = "watchfloor.tiles"


class TileOptions(BaseModel):
    """Base of every tile's options: unknown keys are errors (a typo in a layout is named)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class TileContext:
    """What a tile may use: the GUI thread's reader, the config, the clock and its scale."""

    conn: sqlite3.Connection
    config: Config
    scale: Scale
    clock: Callable[[], float] = time.time
    #: topic name → series colour, brand first, so a topic has one colour on every screen
    colours: dict[str, str] = field(default_factory=dict)

    def colour_of(self, topic: str) -> str:
        if topic not in self.colours:
            self.colours[topic] = theme.SERIES[len(self.colours) % len(theme.SERIES)]
        return self.colours[topic]

    def topic_label(self, topic: str) -> str:
        return "all mentions" if topic == "*" else topic


@runtime_checkable
class Tile(Protocol):
    """What the wall needs of a tile."""

    #: seconds after which the tile re-reads even without a change (ages, clocks); 0 = never
    period_s: float
    #: the tables it shows (:mod:`app.store.tables`); the wall refuses a name with no table
    tables: frozenset[str]

    def widget(self) -> QWidget: ...

    def concerns(self, change: Change) -> bool:
        """Does this commit touch what the tile shows?"""
        ...

    def refresh(self) -> None:
        """Re-read (bounded queries) and repaint."""
        ...

    def set_stale(self, stale: bool, since: float | None) -> None:
        """The pollers stopped delivering (since ``since``; None: never did): a tile whose
        data comes from them dims and says since when."""
        ...


@dataclass(frozen=True, slots=True)
class TileSpec:
    """A registry entry: a stable id, a typed options schema, and how to make the tile."""

    id: str
    title: str
    options: type[TileOptions]
    #: called as ``make(options, context, title)``, the options validated by ``options``
    make: Callable[..., Tile]
    description: str = ""


def load_registry() -> dict[str, TileSpec]:
    """Every tile registered under the ``watchfloor.tiles`` entry point, by id."""
    registry: dict[str, TileSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        specs: Mapping[str, TileSpec] = ep.load()
        registry.update(specs)
    return registry


def option_models(registry: Mapping[str, TileSpec]) -> dict[str, type[BaseModel]]:
    return {k: v.options for k, v in registry.items()}


# -- a base frame tiles build on --------------------------------------------------------


class TileFrame(QFrame):
    """A rounded panel with a title; subclasses paint their body in :meth:`paint_body`.

    Painting everything with QPainter keeps post text plain (``drawText`` never
    interprets markup) and keeps a refresh to one repaint.
    """

    tables: frozenset[str] = frozenset({T.EVERY})
    period_s: float = 0.0
    #: tables filled by the pollers: a tile reading them goes stale with them
    POLLED = frozenset({T.EVERY, T.MENTIONS, T.MENTION_TOPICS, T.ROLLUPS, T.TRENDING, T.ALERTS})

    def __init__(self, ctx: TileContext, title: str) -> None:
        super().__init__()
        self.setObjectName("tile")
        self.ctx = ctx
        self.s = ctx.scale
        self.title = title
        self.subtitle = ""
        #: shorter forms of the subtitle, longest first, for a cell too narrow for it whole
        self.subtitle_short: list[str] = []
        self.empty_text = ""
        self.stale = False
        self.stale_since: float | None = None
        self._veil: _Veil | None = None
        #: the tile's own words as last painted (title, subtitle, figures)
        self.drawn: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    # Tile protocol
    def widget(self) -> QWidget:
        return self

    def concerns(self, change: Change) -> bool:
        return T.EVERY in change.tables or bool(self.tables & change.tables)

    def refresh(self) -> None:
        self.load()
        self.update()

    def load(self) -> None:
        """Read what the tile shows (override)."""

    def set_stale(self, stale: bool, since: float | None) -> None:
        stale = stale and bool(self.tables & self.POLLED)
        if (stale, since) != (self.stale, self.stale_since):
            self.stale, self.stale_since = stale, since
            if stale and self._veil is None:
                self._veil = _Veil(self)
            if self._veil is not None:
                self._veil.setVisible(stale)
                self._place_veil()
            self.update()

    def _place_veil(self) -> None:
        if self._veil is not None and not self._veil.isHidden():  # isVisible() is False until shown
            self._veil.setGeometry(0, self.header_height(), self.width(), self.height() - self.header_height())
            self._veil.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_veil()

    def stale_text(self) -> str:
        if self.stale_since is None:
            return "no data received yet"
        return f"no new data since {stale_clock(self.stale_since, self.ctx.clock())}"

    def stale_short_texts(self) -> list[str]:
        """The stale note from whole to shortest, for a header too narrow for it whole."""
        if self.stale_since is None:
            return [self.stale_text(), "no data yet"]
        clock = stale_clock(self.stale_since, self.ctx.clock())
        return [self.stale_text(), f"stale since {clock}", f"since {clock}"]

    # painting
    def header_height(self) -> int:
        return self.s.px(54)

    def body_rect(self) -> QRectF:
        m = self.s.margin + self.s.px(6)
        top = self.header_height()
        return QRectF(m, top, self.width() - 2 * m, self.height() - top - m)

    def draw_text(self, p: QPainter, rect: QRectF, flags: Qt.AlignmentFlag, text: str) -> None:
        """Draw one line of the tile's own words (titles, counts, windows), kept in
        :attr:`drawn` so a test can read what a visitor sees, cut or whole."""
        self.drawn.append(text)
        p.drawText(rect, flags, text)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        self.drawn = []
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        m = self.s.margin + self.s.px(6)
        p.setFont(self.s.title)
        p.setPen(theme.colour(theme.MUTED))
        full_w = self.width() - 2 * m
        header = QRectF(m, self.s.px(10), full_w, self.header_height() - self.s.px(10))
        title, title_font = self.title.upper(), self.s.title
        subtitle = self.subtitle
        candidates = [subtitle, *self.subtitle_short]
        if self.stale:  # since when first; the window the figures cover after it
            subtitle = f"{self.stale_text()} · {subtitle}" if subtitle else self.stale_text()
            # in a narrow cell since when matters more than the window: its short forms;
            # where none fits, the header keeps the window and the veil over the body says it
            candidates = [subtitle, *self.stale_short_texts(), *candidates]
        sub_font = self.s.small
        gap = self.s.px(16)

        def width(text: str, font: QFont) -> int:
            return QFontMetrics(font).horizontalAdvance(text) if text else 0

        # neither is cut: the title names what the tile shows, the subtitle its window or
        # count; both take smaller fonts (the title first) until they fit side by side
        floor = self.s.px(18)

        def fit(sub: str) -> tuple[QFont, QFont, bool]:
            tf, sf = QFont(self.s.title), QFont(self.s.small)
            while width(title, tf) + gap + width(sub, sf) > full_w:
                if tf.pixelSize() > floor and tf.pixelSize() >= sf.pixelSize():
                    tf.setPixelSize(tf.pixelSize() - 1)
                elif sf.pixelSize() > floor:
                    sf.setPixelSize(sf.pixelSize() - 1)
                else:
                    return tf, sf, False
            return tf, sf, True

        # where even the smallest fonts do not hold it, its shorter forms (still naming the
        # window) before anything is cut
        two_lines = False
        for candidate in candidates:
            title_font, sub_font, fits = fit(candidate)
            if fits:
                subtitle = candidate
                break
        else:
            # a cell too narrow for both side by side even in their smallest forms: the
            # title over its window, each with the whole width
            two_lines = True
            subtitle = next((c for c in candidates if width(c, sub_font) <= full_w), candidates[-1])
        in_header = not self.stale or subtitle.startswith(tuple(self.stale_short_texts()))
        if self._veil is not None:
            note = "" if in_header else self.stale_text()
            if note != self._veil.note:
                self._veil.note = note
                self._veil.update()
            if note:
                self.drawn.append(note)
        title_w = width(title, title_font) + gap
        title_rect = sub_rect = header
        sub_flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if two_lines:
            top = self.s.px(3)
            half = (self.header_height() - top) / 2
            title_rect = QRectF(m, top, full_w, half)
            sub_rect = QRectF(m, top + half, full_w, half)
            sub_flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            title_w = 0
        if subtitle and full_w - title_w > self.s.px(40):
            p.setFont(sub_font)
            if self.stale:
                p.setPen(theme.colour(theme.WARN))
            sub = elide(subtitle, sub_font, full_w - title_w + 2)
            self.draw_text(p, sub_rect, sub_flags, sub)
            p.setPen(theme.colour(theme.MUTED))
        p.setFont(title_font)
        self.draw_text(p, title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       elide(title, title_font, full_w + 2))  # fmt: skip
        body = self.body_rect()
        if self.empty_text:
            p.setFont(self.s.body)
            p.setPen(theme.colour(theme.MUTED))
            p.drawText(body, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
        else:
            self.paint_body(p, body)
        p.end()

    def paint_body(self, p: QPainter, rect: QRectF) -> None:
        """Paint the tile's content into ``rect`` (override)."""


class _Veil(QWidget):
    """Dims a stale tile's body, plots included (children paint over their parent)."""

    def __init__(self, parent: TileFrame) -> None:
        super().__init__(parent)
        self.tile = parent
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        #: since when, where the header had no room for it
        self.note = ""

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), theme.colour(theme.SURFACE, 165))
        if self.note:
            s = self.tile.s
            p.setFont(s.small)
            p.setPen(theme.colour(theme.WARN))
            p.drawText(QRectF(self.rect()).adjusted(s.margin, s.px(4), -s.margin, 0),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                       self.note)  # fmt: skip
        p.end()


def stale_clock(ts: float, now: float) -> str:
    """A moment as a wall says "since when": ``10:42`` today, ``Mon 10:42`` before."""
    when = datetime.fromtimestamp(ts)
    if when.date() == datetime.fromtimestamp(now).date():
        return when.strftime("%H:%M")
    return when.strftime("%a %d %b %H:%M")


def records_note(begins: float | None, start: float, now: float) -> str:
    """`` · records from 10:42`` when a figure's window reaches back before the stored
    record begins: "last 24 h" over three hours of record would claim a day it never saw."""
    if begins is None or not before_record(begins, start):
        return ""
    return f" · records from {stale_clock(begins, now)}"


def elide(text: str, font: QFont, width: float) -> str:
    """One line of plain text, elided with … to fit ``width`` pixels."""
    one_line = " ".join(text.split())
    return QFontMetrics(font).elidedText(one_line, Qt.TextElideMode.ElideRight, max(1, int(width)))


def first_fit(forms: Sequence[str], font: QFont, width: float) -> str:
    """The first of ``forms`` (one line of plain text, longest first) that fits ``width``
    pixels whole; the last one elided if none does."""
    metrics = QFontMetrics(font)
    for form in forms:
        if metrics.horizontalAdvance(" ".join(form.split())) <= width:
            return " ".join(form.split())
    return elide(forms[-1], font, width)


def _units(text: str) -> list[int] | None:
    """The character of ``text`` at each UTF-16 unit (Qt's text layout counts those: an
    emoji beyond the first plane is two units, one character), or None when they are one
    to one, as in most posts."""
    if text.isascii() or max(map(ord, text)) <= 0xFFFF:
        return None
    at = [0] * (len(text.encode("utf-16-le")) // 2 + 1)
    unit = 0
    for i, char in enumerate(text):
        at[unit] = i
        unit += 2 if ord(char) > 0xFFFF else 1
    at[unit] = len(text)
    return at


def _chars(line: QTextLine, at: list[int] | None) -> tuple[int, int]:
    """A laid-out line's start and length in characters of the string (``at``: from
    :func:`_units`; read as characters, each emoji cut a line a letter early)."""
    start, length = line.textStart(), line.textLength()
    if at is None:
        return start, length
    return at[start], at[start + length] - at[start]


def wrap_lines(text: str, font: QFont, width: float, max_lines: int) -> list[str]:
    """Plain text broken into at most ``max_lines`` lines of ``width``, the last elided.

    QTextLayout shapes any script (right-to-left, CJK, emoji) the way QPainter draws it.
    """
    flat = " ".join(text.split())
    if not flat or max_lines < 1:
        return []
    layout = QTextLayout(flat, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    at = _units(flat)
    layout.beginLayout()
    lines: list[str] = []
    while len(lines) < max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        start, length = _chars(line, at)
        # a hashtag or a handle stays whole ("# / LumioRecall" reads as two words): a
        # line that would end on its sign ends before it
        sign = flat[start : start + length].rstrip()[-1:]
        if sign in {"#", "@"} and start + length < len(flat) and not flat[start + length].isspace():
            line.setLineWidth(max(1.0, line.naturalTextWidth() - QFontMetrics(font).horizontalAdvance(sign) - 1))
            start, length = _chars(line, at)
        if len(lines) == max_lines - 1 and start + length < len(flat):
            lines.append(elide(flat[start:], font, width))
        else:
            lines.append(flat[start : start + length].rstrip())
    layout.endLayout()
    return lines
