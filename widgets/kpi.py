"""``kpi``: one big number with its change against the previous period (and why, if a spike)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import wallquery
from app.formatting import compact, delta_pct, signed
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import (
    TileContext,
    TileFrame,
    TileOptions,
    TileSpec,
    records_note,
    wrap_lines,
)

Metric = Literal[
    "mentions", "net_sentiment", "negative_share", "engagement", "needs_response",
    "queue_waiting", "sla_breaches",
]  # fmt: skip

_LABELS: dict[str, str] = {
    "mentions": "Mentions",
    "net_sentiment": "Net sentiment",
    "negative_share": "Negative share",
    "engagement": "Engagement",
    "needs_response": "Needing a response",
    "queue_waiting": "Waiting in queue",
    "sla_breaches": "Past SLA",
}
#: metrics where a rise is bad news (the delta turns red going up)
_UP_IS_BAD = {"negative_share", "queue_waiting", "sla_breaches", "needs_response"}


class KpiOptions(TileOptions):
    metric: Metric = "mentions"
    topic: str = "*"
    period_min: int = Field(default=60, ge=5, le=60 * 24 * 30)
    #: show the explanation of an active alert on this topic under the number
    explain: bool = True


def _short(alert: wallquery.AlertRow, label: str, window_min: int) -> str:
    """An alert's gist for a small tile: the figure, how far above usual, and when (its
    figure is of the moment it fired, not of now: a chart's "now" may differ)."""
    at = datetime.fromtimestamp(alert.ts).strftime("%H:%M")
    if alert.kind == "spike":
        ratio = alert.observed / alert.baseline if alert.baseline > 0 else 0.0
        return f"{label} at {at}: {alert.observed:.0f}/min, {ratio:.1f}× the usual (over {window_min} min)"
    return f"{label} at {at}: {alert.observed:.0%} negative (usual {alert.baseline:.0%})"


class KpiTile(TileFrame):
    tables = frozenset({T.ROLLUPS, T.QUEUE, T.ALERTS})
    period_s = 30.0

    def __init__(self, opts: KpiOptions, ctx: TileContext, title: str | None) -> None:
        label = _LABELS[opts.metric]
        if opts.topic != "*":
            label = f"{label} · {ctx.topic_label(opts.topic)}"
        super().__init__(ctx, title or label)
        self.opts = opts
        self.value = "–"
        self.delta = ""
        self.delta_colour = theme.MUTED
        self.explanation = ""
        self.short_explanation = ""

    def _period(self) -> str:
        m = self.opts.period_min
        return f"{m // 60} h" if m % 60 == 0 and m >= 60 else f"{m} min"

    def load(self) -> None:
        now = self.ctx.clock()
        period = self.opts.period_min * 60
        metric = self.opts.metric
        conn = self.ctx.conn
        self.subtitle = f"last {self._period()}"
        self.subtitle_short = [self._period()]
        if metric in {"queue_waiting", "sla_breaches"}:
            sla = self.ctx.config.sla
            q = wallquery.queue_summary(conn, now, {1: sla.p1_min, 2: sla.p2_min, 3: sla.p3_min, 4: sla.p4_min})
            n = q.total if metric == "queue_waiting" else q.total_breached
            capped = metric == "sla_breaches" and n >= wallquery.LATE_CAP
            self.value = compact(n) + ("+" if capped else "")
            p1 = q.waiting.get(1, 0)
            self.delta = f"{compact(p1)} urgent (P1)" if metric == "queue_waiting" else "answer the oldest first"
            self.delta_colour = theme.CRISIS if (metric == "queue_waiting" and p1) or (metric == "sla_breaches" and n) else theme.MUTED
            self.subtitle = "now"
            self.subtitle_short = []
        else:
            cur = wallquery.totals(conn, self.opts.topic, now - period, now)
            prev = wallquery.totals(conn, self.opts.topic, now - 2 * period, now - period)
            begins, whole_before = wallquery.period_record(conn, period, now)
            note = records_note(begins, now - period, now)
            if note:  # a count over part of its window says so
                self.subtitle += note
                self.subtitle_short = [self._period() + note.replace("records from", "from"), self._period()]
            if not cur.n and metric != "mentions":  # a share of nothing is not 0 %
                self.value = "–"
                self.delta = f"no mentions in the last {self._period()}"
                self.delta_colour = theme.MUTED
                self.explanation = ""
                return
            if metric == "net_sentiment":
                v, b = cur.net_sentiment, prev.net_sentiment
                self.value = signed(v)
                self.delta = f"{signed(v - b)} vs previous {self._period()}"
                worse = v < b
            elif metric == "negative_share":
                v = cur.neg / cur.scored if cur.scored else 0.0
                b = prev.neg / prev.scored if prev.scored else 0.0
                self.value = f"{v:.0%}"
                pts = round(abs(v - b) * 100)
                sign = "±" if pts == 0 else ("+" if v > b else "−")  # never "−0 pts"
                self.delta = f"{sign}{pts} pts vs previous {self._period()}"
                worse = v > b
            else:
                v = float(getattr(cur, metric if metric != "mentions" else "n"))
                b = float(getattr(prev, metric if metric != "mentions" else "n"))
                self.value = compact(v)
                self.delta = f"{delta_pct(v, b)} vs previous {self._period()}"
                worse = (v > b) if metric in _UP_IS_BAD else (v < b)
            flat = abs(v - b) < 1e-9 or self.delta.startswith("±")  # no change as shown
            arrow = "■" if flat else ("▲" if v > b else "▼")
            self.delta = f"{arrow} {self.delta}"
            if metric == "mentions":  # louder is good news unless the added voices complain; quieter is neither
                colour = theme.NEGATIVE if wallquery.louder_and_angrier(cur, prev) else theme.POSITIVE if v > b else theme.MUTED
            else:
                colour = theme.NEGATIVE if worse else theme.POSITIVE
            self.delta_colour = theme.MUTED if flat else colour
            if not prev.n or not whole_before:  # a young database: no whole previous period to compare with
                self.delta = f"no earlier {self._period()} to compare with"
                self.delta_colour = theme.MUTED
            if metric in {"net_sentiment", "negative_share"} and cur.unscored:
                self.delta += f" · {compact(cur.unscored)} unscored"
        self.explanation = ""
        self.short_explanation = ""
        if self.opts.explain and metric not in {"queue_waiting", "sla_breaches"}:
            for alert in wallquery.active_alerts(conn, 5):
                if self.opts.topic in {"*", alert.topic} and not alert.subsided:  # over: not "why" now
                    at = datetime.fromtimestamp(alert.ts).strftime("%H:%M")
                    self.explanation = f"at {at}, {alert.explanation}"
                    self.short_explanation = _short(alert, self.ctx.topic_label(alert.topic),
                                                    self.ctx.config.alerts.window_min)  # fmt: skip
                    break

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        # the change and the explanation are never cut: the big number gives up height
        delta_font = s.body
        lines = wrap_lines(self.delta, delta_font, r.width(), 3)
        if len(lines) > 1:
            delta_font = s.small
            lines = wrap_lines(self.delta, delta_font, r.width(), 2)
        line_h = s.px(46) if len(lines) == 1 else s.px(36)
        why = wrap_lines("⚠ " + self.explanation, s.small, r.width(), 4) if self.explanation else []
        why_h = s.px(34)
        below = len(lines) * line_h + (s.px(6) + len(why) * why_h if why else 0)
        big = s.big
        if r.height() < s.px(200):
            big = s.font(72, bold=True)
        while big.pixelSize() > s.px(72) and big.pixelSize() * 1.15 + below > r.height():
            big.setPixelSize(big.pixelSize() - 4)
        if big.pixelSize() * 1.15 + below > r.height() and why:  # still too tall: the gist
            gist = wrap_lines("⚠ " + self.short_explanation, s.small, r.width(), 2)
            why = [] if not self.short_explanation or "…" in gist[-1] else gist
            below = len(lines) * line_h + (s.px(6) + len(why) * why_h if why else 0)
        fm_h = big.pixelSize() * 1.15
        p.setFont(big)
        p.setPen(theme.colour(theme.TEXT))
        top = r.top() + max(0.0, (r.height() - fm_h - below) / 2)
        p.drawText(QRectF(r.left(), top, r.width(), fm_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.value)
        p.setFont(delta_font)
        p.setPen(theme.colour(self.delta_colour))
        y = top + fm_h
        for line in lines:
            self.draw_text(p, QRectF(r.left(), y, r.width(), line_h), Qt.AlignmentFlag.AlignVCenter, line)
            y += line_h
        if why:
            p.setFont(s.small)
            p.setPen(theme.colour(theme.ORANGE))
            y += s.px(6)
            for line in why:
                self.draw_text(p, QRectF(r.left(), y, r.width(), why_h), Qt.AlignmentFlag.AlignLeft, line)
                y += why_h


SPEC = TileSpec("kpi", "Key figure", KpiOptions, KpiTile,
                "a big number with its change against the previous period")  # fmt: skip
