"""``trending``: the terms rising most against their own recent history."""

from __future__ import annotations

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QPainter

from app import wallquery
from app.formatting import compact
from app.formatting import rise as rise_text
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide


class TrendingOptions(TileOptions):
    #: a topic name, or "*" for every mention
    topic: str = "*"
    limit: int = Field(default=8, ge=1, le=15)


class TrendingTile(TileFrame):
    tables = frozenset({T.TRENDING})
    period_s = 60.0

    def __init__(self, opts: TrendingOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Trending terms")
        self.opts = opts
        self.rows: list[wallquery.TrendRow] = []

    def load(self) -> None:
        self.rows = wallquery.trending(self.ctx.conn, self.opts.topic, self.opts.limit)
        self.subtitle = "last 20 min" if self.opts.topic == "*" else f"{self.opts.topic} · 20 min"
        self.subtitle_short = ["20 min"] if self.opts.topic == "*" else [f"{self.opts.topic} · 20m", "20 min"]
        self.empty_text = "" if self.rows else "Nothing rising right now"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        row_h = min(s.px(64), r.height() / max(len(self.rows), 1))
        top = max((t.rise for t in self.rows if not t.new), default=1.0)  # a new term: a full bar
        wide = r.width() >= s.px(560)
        rank_w = s.px(44 if wide else 34)
        count_w = s.px(130) if wide else 0.0
        labels = ["new" if t.new else rise_text(t.rise) for t in self.rows]
        label_w = max((QFontMetrics(s.body_bold).horizontalAdvance(x) for x in labels), default=0) + s.px(16)
        # the term before its bar: in a narrow cell the bar is only as wide as its figure
        rise_w = r.width() * 0.28 if wide else min(r.width() * 0.30, float(label_w))
        term_w = r.width() - rank_w - count_w - rise_w - s.gap
        for i, t in enumerate(self.rows):
            y = r.top() + i * row_h
            if y + row_h > r.bottom() + 1:
                break
            rise = t.rise
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.colour(theme.ORANGE, 70))
            p.drawRoundedRect(QRectF(r.right() - rise_w, y + row_h * 0.2, rise_w * (1.0 if t.new else min(1.0, rise / top)), row_h * 0.6), 5, 5)
            p.setFont(s.small)
            p.setPen(theme.colour(theme.MUTED))
            p.drawText(QRectF(r.left(), y, rank_w, row_h), Qt.AlignmentFlag.AlignVCenter, f"{i + 1}")
            term_font = s.body_bold
            for size in (26, 22):  # smaller before it is cut
                if QFontMetrics(term_font).horizontalAdvance(t.term) <= term_w:
                    break
                term_font = s.font(size, bold=True)
            p.setFont(term_font)
            p.setPen(theme.colour(theme.TEXT))
            self.draw_text(p, QRectF(r.left() + rank_w, y, term_w, row_h), Qt.AlignmentFlag.AlignVCenter,
                           elide(t.term, term_font, term_w))  # fmt: skip
            if wide:
                p.setFont(s.small)
                p.setPen(theme.colour(theme.MUTED))
                p.drawText(QRectF(r.left() + rank_w + term_w, y, count_w, row_h),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, compact(t.recent))  # fmt: skip
            label = labels[i]
            p.setPen(theme.colour(theme.TEXT))
            p.setFont(s.body_bold)
            p.drawText(QRectF(r.right() - rise_w, y, rise_w - s.px(8), row_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)  # fmt: skip



SPEC = TileSpec("trending", "Trending terms", TrendingOptions, TrendingTile,
                "terms that rose most against their own baseline")  # fmt: skip
