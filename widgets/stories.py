"""``stories``: what many people are saying in their own words, one line a story.

Each row is a story (its most typical post), how many posts it had in the window, and its
rise against the window before ("new" when it had none). Thin over
:func:`app.stories.queries.top_stories`, which reads per-minute story rollups only.
"""

from __future__ import annotations

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QPainter

from app.formatting import compact
from app.formatting import rise as rise_text
from app.store import tables as T
from app.stories import queries
from app.stories.schema import STORIES, STORY_ROLLUPS
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, wrap_lines


class StoriesOptions(TileOptions):
    #: a topic name, or "*" for every mention
    topic: str = "*"
    window_min: int = Field(default=30, ge=5, le=24 * 60)
    limit: int = Field(default=5, ge=1, le=10)
    #: lines of the label per story
    lines: int = Field(default=2, ge=1, le=3)


class StoriesTile(TileFrame):
    period_s = 30.0

    def __init__(self, opts: StoriesOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Top stories")
        self.opts = opts
        # stories change only when mentions are stored; the rollups are their own tables
        self.tables = frozenset({T.MENTIONS, STORIES, STORY_ROLLUPS})
        self.rows: list[queries.StoryRow] = []

    def load(self) -> None:
        o = self.opts
        self.rows = queries.top_stories(self.ctx.conn, o.topic, o.window_min * 60, o.limit,
                                        self.ctx.clock())  # fmt: skip
        window = f"{o.window_min} min" if o.window_min < 120 else f"{o.window_min // 60} h"
        scope = "" if o.topic == "*" else f"{o.topic} · "
        self.subtitle = f"{scope}posts in the last {window}"
        self.subtitle_short = [f"{scope}last {window}", f"{scope}{window}"]
        self.empty_text = "" if self.rows else "No story repeated in this window"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        line_h = s.px(38)
        item_h = line_h * self.opts.lines + s.px(40)
        count_w = s.px(150)
        mark_w = s.px(12)
        text_w = r.width() - count_w - mark_w - s.gap
        top = max((row.count for row in self.rows), default=1)
        y = r.top()
        for row in self.rows:
            if y + line_h > r.bottom():
                break
            lines_fit = max(1, min(self.opts.lines, int((r.bottom() - y - s.px(30)) // line_h)))
            negative = row.negative / max(row.size, 1)
            colour = theme.NEGATIVE if negative >= 0.5 else theme.SKY
            # a bar as tall as the story's share of the busiest one
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.colour(colour, 200))
            bar_h = (item_h - s.px(14)) * max(0.15, row.count / top)
            p.drawRoundedRect(QRectF(r.left(), y + item_h - s.px(14) - bar_h, s.px(6), bar_h), 3, 3)
            p.setFont(s.body)
            p.setPen(theme.colour(theme.TEXT))
            ty = y
            for line in wrap_lines(row.label, s.body, text_w, lines_fit):
                p.drawText(QRectF(r.left() + mark_w, ty, text_w, line_h),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, line)  # fmt: skip
                ty += line_h
            nets = ", ".join(sorted(row.networks, key=lambda n: -row.networks[n]))
            meta = f"{compact(row.size)} posts in all · {round(100 * negative)} % negative"
            if QFontMetrics(s.small).horizontalAdvance(f"{meta} · {nets}") <= text_w:
                meta = f"{meta} · {nets}"  # where the networks, last, fit whole
            p.setFont(s.small)
            p.setPen(theme.colour(theme.MUTED))
            self.draw_text(p, QRectF(r.left() + mark_w, ty, text_w, s.px(30)),
                           Qt.AlignmentFlag.AlignVCenter, elide(meta, s.small, text_w))  # fmt: skip
            p.setFont(s.font(40, bold=True))
            p.setPen(theme.colour(theme.TEXT))
            right = QRectF(r.right() - count_w, y, count_w, line_h * 1.2)
            p.drawText(right, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       compact(row.count))  # fmt: skip
            rise = row.rise
            label = rise_text(rise)
            p.setFont(s.small)
            p.setPen(theme.colour(theme.ORANGE if rise is None or rise >= 1.5 else theme.MUTED))
            p.drawText(QRectF(r.right() - count_w, y + line_h * 1.2, count_w, s.px(32)),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)  # fmt: skip
            y += item_h
            p.setPen(theme.colour(theme.FAINT))
            p.drawLine(int(r.left()), int(y - s.px(7)), int(r.right()), int(y - s.px(7)))


SPEC = TileSpec("stories", "Top stories", StoriesOptions, StoriesTile,
                "what many people say in their own words: a topic's top stories, counts, rise")  # fmt: skip
