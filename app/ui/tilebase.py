"""What a wall tile is: the protocol the wall relies on, its registry entry, and a base frame.

Tiles live in the ``widgets`` package and are found through the ``watchfloor.tiles``
entry point (so ``app`` never imports ``widgets``). A tile reads bounded queries from
:mod:`app.wallquery` on the GUI thread, only when a change concerns it and it is
visible; it paints plain text only.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import QFrame, QSizePolicy, QWidget

from app.config import Config
from app.store import tables as T
from app.store.changelog import Change
from app.ui import theme
from app.ui.theme import Scale

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

    def __init__(self, ctx: TileContext, title: str) -> None:
        super().__init__()
        self.setObjectName("tile")
        self.ctx = ctx
        self.s = ctx.scale
        self.title = title
        self.subtitle = ""
        self.empty_text = ""
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

    # painting
    def header_height(self) -> int:
        return self.s.px(54)

    def body_rect(self) -> QRectF:
        m = self.s.margin + self.s.px(6)
        top = self.header_height()
        return QRectF(m, top, self.width() - 2 * m, self.height() - top - m)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        m = self.s.margin + self.s.px(6)
        p.setFont(self.s.title)
        p.setPen(theme.colour(theme.MUTED))
        full_w = self.width() - 2 * m
        header = QRectF(m, self.s.px(10), full_w, self.header_height() - self.s.px(10))
        sub_w = 0.0
        if self.subtitle:
            p.setFont(self.s.small)
            sub = elide(self.subtitle, self.s.small, full_w * 0.45)
            sub_w = p.fontMetrics().horizontalAdvance(sub) + self.s.px(16)
            p.drawText(header, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, sub)
        p.setFont(self.s.title)
        p.drawText(header, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   elide(self.title.upper(), self.s.title, full_w - sub_w))  # fmt: skip
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


def elide(text: str, font: QFont, width: float) -> str:
    """One line of plain text, elided with … to fit ``width`` pixels."""
    one_line = " ".join(text.split())
    return QFontMetrics(font).elidedText(one_line, Qt.TextElideMode.ElideRight, max(1, int(width)))


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
    layout.beginLayout()
    lines: list[str] = []
    while len(lines) < max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        start, length = line.textStart(), line.textLength()
        if len(lines) == max_lines - 1 and start + length < len(flat):
            lines.append(elide(flat[start:], font, width))
        else:
            lines.append(flat[start : start + length].rstrip())
    layout.endLayout()
    return lines
