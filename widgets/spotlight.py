"""``spotlight``: one post, big, put there from the console (or the most engaging recent one)."""

from __future__ import annotations

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import wallcontrol, wallquery
from app.formatting import ago, compact
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, wrap_lines


class SpotlightOptions(TileOptions):
    #: with nothing put in the spotlight, show the most engaging post of this topic
    fallback_topic: str | None = "*"
    fallback_window: int = Field(default=40, ge=1, le=200)


class SpotlightTile(TileFrame):
    tables = frozenset({T.WALL_COMMANDS, T.MENTIONS})
    period_s = 30.0

    def __init__(self, opts: SpotlightOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Spotlight")
        self.opts = opts
        self.post: wallquery.Post | None = None
        self.chosen = False

    def load(self) -> None:
        mention_id = wallcontrol.current_spotlight(self.ctx.conn)
        self.post = wallquery.post(self.ctx.conn, mention_id) if mention_id else None
        self.chosen = self.post is not None
        if self.post is None and self.opts.fallback_topic:
            recent = wallquery.latest(self.ctx.conn, self.opts.fallback_topic, self.opts.fallback_window)
            candidates = [p for p in recent if not (p.sensitive or p.content_warning)]
            self.post = max(candidates, key=lambda p: p.engagement, default=None)
        self.subtitle = "chosen by the room" if self.chosen else "most engaging"
        self.empty_text = "" if self.post else "Nothing in the spotlight"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        post = self.post
        if post is None:
            return
        s = self.s
        big = s.font(44)
        p.setPen(theme.colour(theme.sentiment_colour(post.sentiment)))
        p.setFont(s.medium)
        p.drawText(QRectF(r.left(), r.top(), s.px(60), s.px(64)), Qt.AlignmentFlag.AlignVCenter,
                   theme.sentiment_mark(post.sentiment))  # fmt: skip
        p.setPen(theme.colour(theme.TEXT))
        p.setFont(s.medium)
        name = post.author_name or post.author
        p.drawText(QRectF(r.left() + s.px(60), r.top(), r.width() - s.px(60), s.px(64)),
                   Qt.AlignmentFlag.AlignVCenter, elide(name, s.medium, r.width() - s.px(60)))  # fmt: skip
        p.setFont(s.small)
        p.setPen(theme.colour(theme.MUTED))
        parts = [post.author, post.network, ago(self.ctx.clock() - post.ts)]
        if post.author_followers:
            parts.append(f"{compact(post.author_followers)} followers")
        if post.engagement:
            parts.append(f"{compact(post.engagement)} interactions")
        # wrapped on two lines, never cut: in a narrow cell the last parts give way whole
        while True:
            lines = wrap_lines(" · ".join(parts), s.small, r.width(), 2)
            if len(parts) <= 3 or not lines or "…" not in lines[-1]:
                break
            parts.pop()
        y = r.top() + s.px(66)
        for line in lines:
            self.draw_text(p, QRectF(r.left(), y, r.width(), s.px(36)), Qt.AlignmentFlag.AlignVCenter, line)
            y += s.px(36)
        y += s.px(18)
        line_h = big.pixelSize() * 1.35
        text = post.text if not post.title else f"{post.title} — {post.text}"
        if post.content_warning or post.sensitive:
            text = f"⚠ {post.content_warning or 'sensitive content'} — {text}"
        p.setFont(big)
        p.setPen(theme.colour(theme.TEXT))
        for line in wrap_lines(text, big, r.width(), max(1, int((r.bottom() - y) // line_h))):
            p.drawText(QRectF(r.left(), y, r.width(), line_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)
            y += line_h



SPEC = TileSpec("spotlight", "Spotlight", SpotlightOptions, SpotlightTile,
                "one post, big, chosen from the console")  # fmt: skip
