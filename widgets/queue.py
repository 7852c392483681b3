"""``queue``: what waits for a response — by priority, the oldest wait, SLA breaches, the head."""

from __future__ import annotations

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from app import wallquery
from app.formatting import compact, duration
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, wrap_lines


class QueueOptions(TileOptions):
    #: how many of the most urgent items to list under the counts
    show_items: int = Field(default=4, ge=0, le=12)


def _late(n: int) -> str:
    """Late items are counted up to a cap: past it, say so."""
    return f"{compact(n)}+" if n >= wallquery.LATE_CAP else compact(n)


def _wait(seconds: float) -> str:
    """How long an item has waited: "<1m" rather than "0m" (nothing waits no time)."""
    return "<1m" if seconds < 60 else duration(seconds)


def _two_widths(text: str, font: QFont, first_w: float, then_w: float) -> list[str]:
    """``text`` on a line of ``first_w`` and, if it goes on, a second of ``then_w``."""
    lines = wrap_lines(text, font, first_w, 2)
    if len(lines) < 2:
        return lines
    rest = " ".join(text.split())[len(lines[0]) :]
    return [lines[0], elide(rest, font, then_w)]


class QueueTile(TileFrame):
    tables = frozenset({T.QUEUE})
    period_s = 15.0

    def __init__(self, opts: QueueOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Response queue")
        self.opts = opts
        self.summary = wallquery.QueueSummary()
        self.head: list[tuple[wallquery.Post, str, float]] = []
        #: the lines of each listed item as last painted (a test reads what a visitor sees)
        self.rows_drawn: list[list[str]] = []

    def sla(self) -> dict[int, int]:
        s = self.ctx.config.sla
        return {1: s.p1_min, 2: s.p2_min, 3: s.p3_min, 4: s.p4_min}

    def load(self) -> None:
        now = self.ctx.clock()
        self.summary = wallquery.queue_summary(self.ctx.conn, now, self.sla())
        self.head = wallquery.queue_head(self.ctx.conn, self.opts.show_items) if self.opts.show_items else []
        breached = self.summary.total_breached
        self.subtitle = f"{_late(breached)} past SLA" if breached else "all within SLA"
        self.empty_text = "" if self.summary.total else "Queue clear — nothing waits for a response"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        now = self.ctx.clock()
        narrow = r.width() < s.px(640)
        cols = 2 if narrow else 4
        box_w = (r.width() - (cols - 1) * s.gap) / cols
        box_h = min(s.px(190 if not narrow else 150), r.height() * (0.55 if self.head else 1.0) / (4 // cols))
        sla = self.sla()
        for i, prio in enumerate((1, 2, 3, 4)):
            col, row = i % cols, i // cols
            box = QRectF(r.left() + col * (box_w + s.gap), r.top() + row * (box_h + s.gap), box_w, box_h)
            waiting = self.summary.waiting.get(prio, 0)
            breached = self.summary.breached.get(prio, 0)
            colour = theme.PRIORITY[prio]
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.colour(colour, 60 if waiting else 20))
            p.drawRoundedRect(box, 8, 8)
            p.setBrush(theme.colour(colour))
            p.drawRect(QRectF(box.left(), box.top(), s.px(8), box.height()))
            p.setPen(theme.colour(theme.TEXT))
            p.setFont(s.small)
            p.drawText(box.adjusted(s.px(20), s.px(6), -s.px(8), 0),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, f"P{prio}")  # fmt: skip
            number = s.font(64 if not narrow else 56, bold=True)
            while number.pixelSize() > 20 and QFontMetrics(number).horizontalAdvance(compact(waiting)) > box.width() - s.px(30):
                number.setPixelSize(number.pixelSize() - 4)
            p.setFont(number)
            p.drawText(box.adjusted(s.px(20), 0, -s.px(8), -box.height() * 0.28),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, compact(waiting))  # fmt: skip
            p.setFont(s.small)
            oldest = self.summary.oldest.get(prio)
            if breached:
                p.setPen(theme.colour(theme.CRISIS if prio <= 2 else theme.WARN))
                note = f"{_late(breached)} late"
            elif oldest is not None:
                p.setPen(theme.colour(theme.MUTED))
                note = f"oldest {_wait(now - oldest)}"
            else:
                p.setPen(theme.colour(theme.MUTED))
                note = f"SLA {duration(sla[prio] * 60)}"
            p.drawText(box.adjusted(s.px(20), 0, -s.px(8), -s.px(10)),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                       elide(note, s.small, box.width() - s.px(28)))  # fmt: skip
        y = r.top() + (4 // cols) * (box_h + s.gap) + s.gap * 0.5
        # a narrow cell gives each item two lines, the second across the whole cell: one
        # line between the priority and the wait holds a dozen letters, which tells a
        # visitor nothing; a wide cell keeps one line per item
        lines = 2 if narrow else 1
        line_h = QFontMetrics(s.body).lineSpacing()
        row_h = max(s.px(46), lines * line_h + s.px(10))
        tag_w = s.px(60)
        self.rows_drawn = []
        for post, state, queued in self.head:
            if y + row_h > r.bottom():
                break
            late = now - queued > sla[post.priority] * 60
            first = QRectF(r.left(), y + (row_h - lines * line_h) / 2, tag_w, line_h)
            p.setFont(s.body_bold)
            p.setPen(theme.colour(theme.PRIORITY[post.priority]))
            p.drawText(first, Qt.AlignmentFlag.AlignVCenter, f"P{post.priority}")
            wait = ("late " if late else "") + _wait(now - queued)
            p.setFont(s.small)
            # an item someone works on shows its state in words where the wait would be
            # (whole: the post's text yields); a new one shows how long it has waited
            word = "" if state == "new" else wallquery.STATE_WORDS.get(state, state.replace("_", " "))
            right = word or wait
            right_w = max(s.px(70), p.fontMetrics().horizontalAdvance(right) + s.px(12))
            colour = theme.CRISIS if state == "failed" or (late and not word) else (theme.ORANGE if word else theme.MUTED)
            p.setPen(theme.colour(colour))
            self.draw_text(p, QRectF(r.right() - right_w, first.top(), right_w, line_h),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right)  # fmt: skip
            p.setFont(s.body)
            p.setPen(theme.colour(theme.TEXT))
            text_w = r.width() - tag_w - right_w - s.gap
            label = post.text if narrow else f"{post.author}: {post.text}"
            shown = _two_widths(label, s.body, text_w, r.width()) if narrow else [elide(label, s.body, text_w)]
            for k, line in enumerate(shown):
                left = r.left() + (tag_w if k == 0 else 0)
                p.drawText(QRectF(left, first.top() + k * line_h, text_w if k == 0 else r.width(), line_h),
                           Qt.AlignmentFlag.AlignVCenter, line)  # fmt: skip
            self.rows_drawn.append(shown)
            y += row_h


SPEC = TileSpec("queue", "Response queue", QueueOptions, QueueTile,
                "waiting items by priority, oldest wait, SLA breaches, the most urgent items")  # fmt: skip
