"""``sources``: the health of each source — "stale since …" with the reason when one fails."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import wallquery
from app.formatting import age, ago, compact
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, first_fit


class SourcesOptions(TileOptions):
    pass


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


class SourcesTile(TileFrame):
    tables = frozenset({T.SOURCE_STATE})
    period_s = 10.0

    def __init__(self, opts: SourcesOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Sources")
        self.judged: list[wallquery.SourceFreshness] = []

    @property
    def rows(self) -> list[wallquery.SourceHealth]:
        return [j.health for j in self.judged]

    def load(self) -> None:
        fresh = wallquery.freshness(self.ctx.conn, self.ctx.config, self.ctx.clock())
        self.judged = fresh.sources
        bad = len(fresh.not_live)
        self.subtitle = f"{bad} of {len(self.judged)} not live" if bad else "all live"
        self.empty_text = "" if self.judged else "No source has reported: is a poller running?"

    def paint_body(self, p: QPainter, r: QRectF) -> None:
        s = self.s
        now = self.ctx.clock()
        row_h = min(s.px(86), r.height() / max(len(self.judged), 1))
        for i, judged in enumerate(self.judged):
            src = judged.health
            y = r.top() + i * row_h
            if y + s.px(40) > r.bottom() + 1:
                break
            colour = theme.OK if judged.live and src.healthy else (
                theme.WARN if src.status in ("backoff", "degraded") or judged.late else theme.CRISIS)  # fmt: skip
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.colour(colour))
            d = s.px(18)
            p.drawEllipse(QRectF(r.left(), y + s.px(12), d, d))
            p.setFont(s.body_bold)
            p.setPen(theme.colour(theme.TEXT))
            name_w = r.width() * 0.45
            p.drawText(QRectF(r.left() + d + s.px(12), y, name_w, s.px(42)), Qt.AlignmentFlag.AlignVCenter,
                       elide(f"{src.name}", s.body_bold, name_w))  # fmt: skip
            p.setFont(s.small)
            p.setPen(theme.colour(theme.MUTED))
            right = f"{src.type} · {compact(src.stored_total)} stored"
            p.drawText(QRectF(r.left(), y, r.width(), s.px(42)),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right)  # fmt: skip
            shorter: list[str] = []  # the same words, shorter, tried before the line is cut
            if judged.late and src.last_success:  # its poller stopped writing: no error says so
                detail = f"stale since {_clock(src.last_success)} — nothing new for {age(now - src.last_success)}"
                shorter = [f"stale since {_clock(src.last_success)}"]
                p.setPen(theme.colour(colour))
            elif src.status == "degraded":  # data flows, but the source has a warning to show
                detail = f"updated {ago(now - (src.last_success or now))} — {src.last_error}"
                p.setPen(theme.colour(colour))
            elif src.healthy:
                detail = f"ok · updated {ago(now - src.last_success)}" if src.last_success else "starting"
                p.setPen(theme.colour(theme.MUTED))
            else:
                since = f"stale since {_clock(src.last_success)}" if src.last_success else "never reached"
                detail = f"{since} — {src.last_error or src.status}"
                if src.status == "backoff" and src.next_poll:
                    detail += f" · retry in {age(src.next_poll - now) if src.next_poll > now + 10 else 'a moment'}"
                p.setPen(theme.colour(colour))
            self.draw_text(p, QRectF(r.left() + d + s.px(12), y + s.px(40), r.width() - d - s.px(12), s.px(36)),
                           Qt.AlignmentFlag.AlignVCenter,
                           first_fit([detail, *shorter], s.small, r.width() - d - s.px(12)))  # fmt: skip



SPEC = TileSpec("sources", "Sources", SourcesOptions, SourcesTile,
                "health of each source, stale since when and why")  # fmt: skip
