"""``alerts``: active alerts with their explanation (how far above baseline, and why)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import wallcontrol, wallquery
from app.analysis.spikes import SUBSIDE_MIN
from app.formatting import ago
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, wrap_lines

_KIND = {"spike": "spike", "negative_surge": "negative surge"}
_STATE = {"resolved": "resolved", "acknowledged": "acknowledged", "active": "active"}


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
        #: of the active ones, how many are over (still unacknowledged)
        self.subsided = 0
        #: how many alerts the last paint showed whole (the rest are counted, never cut)
        self.shown = 0

    def load(self) -> None:
        # the one the crisis bar names first: the largest, not merely the newest
        # what is happening before what is over; then the largest, not merely the newest
        active = sorted(wallquery.active_alerts(self.ctx.conn, 50),
                        key=lambda a: (not a.subsided, wallcontrol.alert_weight(a.kind, a.topic, a.observed,
                                                                                a.baseline, a.z)),
                        reverse=True)[: self.opts.limit]  # fmt: skip
        self.active = wallquery.count_active_alerts(self.ctx.conn)
        self.subsided = wallquery.count_subsided_alerts(self.ctx.conn) if self.active else 0
        self.rows = active
        if not active and self.opts.history_hours:
            since = self.ctx.clock() - self.opts.history_hours * 3600
            self.rows = wallquery.recent_alerts(self.ctx.conn, since, self.opts.limit)
        self.setProperty("alert", self.active > self.subsided)  # red only while one is happening
        self.style().unpolish(self)
        self.style().polish(self)
        self.subtitle = _subtitle(self.active, self.subsided)
        self.subtitle_short = _subtitle_short(self.active, self.subsided)
        self.shown = len(self.rows)
        self.empty_text = "" if self.rows else "All quiet — no alerts"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        """Each alert whole (head, time, explanation) or not at all: what does not fit is
        counted on a last line, so the count in the header matches what the tile lists."""
        s = self.s
        now = self.ctx.clock()
        y = r.top()
        line_h = s.px(36)
        head_h = s.px(40)
        more_h = s.px(38)
        self.shown = 0
        for i, a in enumerate(self.rows):
            live = a.state == "active" and not a.subsided
            label = self.ctx.topic_label(a.topic)
            head = f"{'● ' if live else ''}{label} · {_KIND.get(a.kind, a.kind)}"
            when = datetime.fromtimestamp(a.ts).strftime("%H:%M")
            when_text = f"{when} ({ago(now - a.ts)})" + ("" if a.state == "active" else f" · {_STATE.get(a.state, a.state)}")
            if a.subsided:
                when_text += f" · {subsided_text(a)}"
            heads = wrap_lines(head, s.body_bold, r.width(), 2)
            whens = wrap_lines(when_text, s.small, r.width(), 5)  # whole: when, and since when it is over
            body = wrap_lines(a.explanation, s.small, r.width(), 8)
            need = len(heads) * head_h + len(whens) * line_h + len(body) * line_h + s.px(14)
            left = len(self.rows) - i - 1
            if y + need + (more_h if left else 0) > r.bottom() and self.shown:
                break
            p.setFont(s.body_bold)
            p.setPen(theme.colour(theme.CRISIS) if live else
                     theme.colour(theme.CRISIS, 150) if a.subsided else theme.colour(theme.MUTED))  # fmt: skip
            for line in heads:
                self.draw_text(p, QRectF(r.left(), y, r.width(), head_h), Qt.AlignmentFlag.AlignVCenter, line)
                y += head_h
            p.setFont(s.small)
            p.setPen(theme.colour(theme.MUTED))
            for line in whens:
                self.draw_text(p, QRectF(r.left(), y, r.width(), line_h), Qt.AlignmentFlag.AlignVCenter, line)
                y += line_h
            p.setPen(theme.colour(theme.TEXT, 235 if live else 150))
            for line in body:
                self.draw_text(p, QRectF(r.left(), y, r.width(), line_h), Qt.AlignmentFlag.AlignVCenter, line)
                y += line_h
            y += s.px(14)
            self.shown += 1
        hidden = len(self.rows) - self.shown
        if self.active > len(self.rows):
            hidden += self.active - len(self.rows)
        if hidden > 0:
            p.setFont(s.small)
            p.setPen(theme.colour(theme.CRISIS if self.active else theme.MUTED))
            word = ("subsided" if self.subsided == self.active else "active") if self.active else "earlier"
            more = f"+ {hidden} more {word} (see the console)"
            if p.fontMetrics().horizontalAdvance(more) > r.width():  # whole, or without the pointer
                more = f"+ {hidden} more {word}"
            self.draw_text(p, QRectF(r.left(), min(y, r.bottom() - more_h), r.width(), more_h),
                           Qt.AlignmentFlag.AlignVCenter, more)  # fmt: skip


def _subtitle(active: int, subsided: int) -> str:
    """The header's count: how many stand unacknowledged, and how many of them are over."""
    if not active:
        return "none active"
    if not subsided:
        return f"{active} active"
    if subsided == active:
        return f"all {active} subsided"
    return f"{active - subsided} live, {subsided} subsided"


def _subtitle_short(active: int, subsided: int) -> list[str]:
    if not subsided:
        return [] if active else ["none"]
    if subsided == active:
        return [f"{active} subsided", f"{active} over"]
    return [f"{active - subsided} live · {subsided} over"]


def subsided_text(a: wallquery.AlertRow) -> str:
    """An alert that is over: since when, its level now (with its window), still to acknowledge."""
    at = datetime.fromtimestamp(a.subsided_ts or a.ts).strftime("%H:%M")
    level = a.now_level or 0.0
    now = f"{level:.0f}/min" if a.kind == "spike" else f"{level:.0%} negative"
    return f"subsided at {at} · now {now} (last {SUBSIDE_MIN} min) · not yet acknowledged"


SPEC = TileSpec("alerts", "Alerts", AlertsOptions, AlertsTile,
                "active alerts with their explanation")  # fmt: skip
