"""``share_of_voice``: the brand against its competitors, as shares of all their mentions."""

from __future__ import annotations

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QPainter

from app import wallquery
from app.formatting import compact
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import (
    TileContext,
    TileFrame,
    TileOptions,
    TileSpec,
    elide,
    records_note,
)


class ShareOptions(TileOptions):
    #: topics compared; empty = the brand and competitor topics of the config
    topics: list[str] = Field(default_factory=list, max_length=8)
    period_min: int = Field(default=1440, ge=10, le=60 * 24 * 90)


def whole_percents(counts: list[int]) -> list[int]:
    """Whole percentages that sum to exactly 100 (largest remainder), so 59 + 22 + 20 never
    reads as 101 % of the conversation."""
    total = sum(counts)
    if not total:
        return [0] * len(counts)
    exact = [c * 100 / total for c in counts]
    out = [int(e) for e in exact]
    for i in sorted(range(len(counts)), key=lambda k: exact[k] - out[k], reverse=True)[: 100 - sum(out)]:
        out[i] += 1
    return out


class ShareTile(TileFrame):
    tables = frozenset({T.ROLLUPS})
    period_s = 60.0

    def __init__(self, opts: ShareOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Share of voice")
        self.opts = opts
        self.topics = opts.topics or [
            t.name for t in ctx.config.topics if t.kind in {"brand", "competitor"}
        ]
        self.now: dict[str, int] = {}
        self.before: dict[str, int] = {}

    def load(self) -> None:
        now = self.ctx.clock()
        p = self.opts.period_min * 60
        self.now = wallquery.share_of_voice(self.ctx.conn, self.topics, now - p, now)
        self.before = wallquery.share_of_voice(self.ctx.conn, self.topics, now - 2 * p, now - p)
        hours = self.opts.period_min / 60
        self.subtitle = f"last {hours:.0f} h" if hours >= 1 else f"last {self.opts.period_min} min"
        begins, whole_before = wallquery.period_record(self.ctx.conn, p, now)
        self.subtitle += records_note(begins, now - p, now)
        self.subtitle_short = [self.subtitle.replace("records from", "from")] if begins else []
        if not whole_before:  # no whole earlier period: no change in points
            self.before = {}
        self.empty_text = "" if sum(self.now.values()) else "No brand or competitor mentions yet"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        total = sum(self.now.values()) or 1
        total_before = sum(self.before.values())
        rows = sorted(self.now.items(), key=lambda kv: -kv[1])
        self.detail_bottoms: list[float] = []
        s = self.s
        row_h = min(r.height() / max(len(rows), 1), s.px(110))
        detail_h = QFontMetrics(s.small).height()
        # the bar yields to the detail line below it, which must never be cut
        bar_h = max(s.px(10), min(row_h * 0.45, row_h - detail_h - s.px(10)))
        label_w = r.width() * 0.30
        value_w = r.width() * 0.22
        bar_w = r.width() - label_w - value_w - 2 * s.gap
        shown = whole_percents([n for _, n in rows])  # they add up to 100, as shares must
        for i, (topic, n) in enumerate(rows):
            y = r.top() + i * row_h
            share = n / total
            colour = theme.colour(self.ctx.colour_of(topic))
            p.setFont(s.body_bold)
            p.setPen(theme.colour(theme.TEXT))
            top = y + max(0.0, (row_h - bar_h - detail_h - s.px(4)) / 2)
            p.drawText(QRectF(r.left(), top, label_w, bar_h), Qt.AlignmentFlag.AlignVCenter,
                       elide(self.ctx.topic_label(topic), s.body_bold, label_w))  # fmt: skip
            bar = QRectF(r.left() + label_w + s.gap, top, bar_w, bar_h)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.colour(theme.SURFACE_HI))
            p.drawRoundedRect(bar, 6, 6)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(bar.left(), bar.top(), max(bar.width() * share, 4), bar.height()), 6, 6)
            p.setPen(theme.colour(theme.TEXT))
            p.setFont(s.font(40, bold=True))
            value = QRectF(r.right() - value_w, bar.top() - s.px(10), value_w, bar.height() + s.px(20))
            p.drawText(value, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{shown[i]}%")
            self.drawn.append(f"{shown[i]}%")
            p.setFont(s.small)
            p.setPen(theme.colour(theme.MUTED))
            detail = f"{compact(n)} mentions"
            if total_before:  # a change only against a period that had mentions
                change = (share - self.before.get(topic, 0) / total_before) * 100
                detail += f" · {'+' if change >= 0 else '−'}{abs(change):.0f} pts"
            below = QRectF(bar.left(), bar.bottom() + s.px(2), bar.width() + value_w + s.gap, detail_h)
            self.draw_text(p, below, Qt.AlignmentFlag.AlignTop, elide(detail, s.small, below.width()))
            self.detail_bottoms.append(below.bottom())


SPEC = TileSpec("share_of_voice", "Share of voice", ShareOptions, ShareTile,
                "the brand against competitors, with the change in points")  # fmt: skip
