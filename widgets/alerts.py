"""``alerts``: active alerts with their explanation (how far above baseline, and why)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import wallquery
from app.formatting import age
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, wrap_lines

_KIND = {"spike": "spike", "negative_surge": "negative surge"}


class AlertsOptions(TileOptions):
    limit: int = Field(default=4, ge=1, le=10)
    #: with none active, show alerts of the last hours, dimmed
    history_hours: float = Field(default=6, ge=0, le=72)


class AlertsTile(TileFrame):
    tables = frozenset({T.ALERTS})
    period_s = 30.0

    def __init__(self, opts: AlertsOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Alerts")
        self.opts = opts
        self.rows: list[wallquery.AlertRow] = []
        self.active = 0

    def load(self) -> None:
        active = wallquery.active_alerts(self.ctx.conn, self.opts.limit)
        self.active = len(active)
        self.rows = active
        if not active and self.opts.history_hours:
            since = self.ctx.clock() - self.opts.history_hours * 3600
            self.rows = wallquery.recent_alerts(self.ctx.conn, since, self.opts.limit)
        self.setProperty("alert", bool(active))
        self.style().unpolish(self)
        self.style().polish(self)
        self.subtitle = f"{self.active} active" if self.active else "none active"
        self.empty_text = "" if self.rows else "All quiet — no alerts"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        now = self.ctx.clock()
        y = r.top()
        line_h = s.px(36)
        for a in self.rows:
            if y + s.px(44) > r.bottom():
                break
            live = a.state == "active"
            head_colour = theme.CRISIS if live else theme.MUTED
            p.setFont(s.body_bold)
            p.setPen(theme.colour(head_colour))
            when = datetime.fromtimestamp(a.ts).strftime("%H:%M")
            label = self.ctx.topic_label(a.topic)
            head = f"{'● ' if live else ''}{label} · {_KIND.get(a.kind, a.kind)}"
            state = "" if live else f" · {a.state}"
            when_text = f"{when} ({age(now - a.ts)}){state}"
            p.setFont(s.small)
            when_w = p.fontMetrics().horizontalAdvance(when_text) + s.px(12)
            two_rows = when_w > r.width() * 0.4
            if not two_rows:
                p.setPen(theme.colour(theme.MUTED))
                p.drawText(QRectF(r.left(), y, r.width(), s.px(44)),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, when_text)  # fmt: skip
            head_w = r.width() - (0 if two_rows else when_w)
            p.setFont(s.body_bold)
            p.setPen(theme.colour(head_colour))
            p.drawText(QRectF(r.left(), y, head_w, s.px(44)), Qt.AlignmentFlag.AlignVCenter,
                       elide(head, s.body_bold, head_w))  # fmt: skip
            if two_rows:
                y += s.px(40)
                p.setFont(s.small)
                p.setPen(theme.colour(theme.MUTED))
                p.drawText(QRectF(r.left(), y, r.width(), s.px(36)), Qt.AlignmentFlag.AlignVCenter, when_text)
            y += s.px(44)
            p.setFont(s.small)
            p.setPen(theme.colour(theme.TEXT, 235 if live else 150))
            room = int((r.bottom() - y) // line_h)
            for line in wrap_lines(a.explanation, s.small, r.width(), min(5 if live else 2, room)):
                p.drawText(QRectF(r.left(), y, r.width(), line_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)
                y += line_h
            y += s.px(14)



SPEC = TileSpec("alerts", "Alerts", AlertsOptions, AlertsTile,
                "active alerts with their explanation")  # fmt: skip
