"""``feed``: the latest mentions of a topic or competitor — author, age, sentiment, plain text."""

from __future__ import annotations

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import wallquery
from app.formatting import age, compact
from app.store import tables as T
from app.store.changelog import Change
from app.stories.queries import fold_repeats
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, wrap_lines


class FeedOptions(TileOptions):
    #: a topic name, or "*" for every mention
    topic: str = "*"
    limit: int = Field(default=12, ge=1, le=50)
    #: text lines per post
    lines: int = Field(default=2, ge=1, le=4)
    #: hide posts flagged sensitive or behind a content warning (show the warning instead)
    respect_warnings: bool = True
    #: one post stands for its story ("and 311 more like this"), not the same words again
    fold: bool = True


class FeedTile(TileFrame):
    period_s = 15.0

    def __init__(self, opts: FeedOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or f"Latest · {ctx.topic_label(opts.topic)}")
        self.opts = opts
        self.tables = frozenset({T.MENTIONS})
        self.posts: list[wallquery.Post] = []
        self.more: dict[str, int] = {}

    def concerns(self, change: Change) -> bool:
        if T.EVERY in change.tables:
            return True
        if T.MENTIONS not in change.tables:
            return False
        return self.opts.topic == "*" or not change.topics or self.opts.topic in change.topics

    def load(self) -> None:
        if self.opts.fold:
            posts = wallquery.latest(self.ctx.conn, self.opts.topic, self.opts.limit * 4)
            folded = fold_repeats(self.ctx.conn, posts, lambda p: p.id, self.opts.limit)
            self.posts, self.more = [p for p, _ in folded], {p.id: n for p, n in folded if n}
        else:
            self.posts = wallquery.latest(self.ctx.conn, self.opts.topic, self.opts.limit)
        label = self.ctx.topic_label(self.opts.topic)
        self.empty_text = "" if self.posts else f"No mentions of {label} yet"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        now = self.ctx.clock()
        meta_h = s.px(36)
        line_h = s.px(40)
        item_h = meta_h + self.opts.lines * line_h + s.px(14)
        y = r.top()
        for post in self.posts:
            if y + meta_h + line_h > r.bottom():
                break
            lines_fit = min(self.opts.lines, int((r.bottom() - y - meta_h) // line_h))
            mark_w = s.px(34)
            colour = theme.colour(theme.sentiment_colour(post.sentiment))
            p.setPen(colour)
            p.setFont(s.body_bold)
            p.drawText(QRectF(r.left(), y, mark_w, meta_h), Qt.AlignmentFlag.AlignVCenter,
                       theme.sentiment_mark(post.sentiment))  # fmt: skip
            meta = f"{age(now - post.ts)} · {post.network}"
            if post.author_followers:
                meta += f" · {compact(post.author_followers)} followers"
            if self.more.get(post.id):
                meta = f"and {compact(self.more[post.id])} more like this · {meta}"
            p.setFont(s.small)
            meta_w = p.fontMetrics().horizontalAdvance(meta) + s.px(4)
            p.setPen(theme.colour(theme.MUTED))
            p.drawText(QRectF(r.right() - meta_w, y, meta_w, meta_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, meta)  # fmt: skip
            p.setFont(s.body_bold)
            p.setPen(theme.colour(theme.TEXT))
            author_w = r.width() - mark_w - meta_w - s.gap
            p.drawText(QRectF(r.left() + mark_w, y, author_w, meta_h), Qt.AlignmentFlag.AlignVCenter,
                       elide(post.author or post.author_name or post.source, s.body_bold, author_w))  # fmt: skip
            text = post.text if not post.title else f"{post.title} — {post.text}"
            if self.opts.respect_warnings and (post.content_warning or post.sensitive):
                text = f"⚠ {post.content_warning or 'sensitive content'} (text hidden on the wall)"
            p.setFont(s.body)
            p.setPen(theme.colour(theme.TEXT, 235))
            ty = y + meta_h
            for line in wrap_lines(text, s.body, r.width() - mark_w, lines_fit):
                p.drawText(QRectF(r.left() + mark_w, ty, r.width() - mark_w, line_h),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, line)  # fmt: skip
                ty += line_h
            y += item_h
            p.setPen(theme.colour(theme.FAINT))
            p.drawLine(int(r.left()), int(y - s.px(7)), int(r.right()), int(y - s.px(7)))



SPEC = TileSpec("feed", "Latest mentions", FeedOptions, FeedTile,
                "the newest mentions of a topic: author, age, sentiment mark, text")  # fmt: skip
