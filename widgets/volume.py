"""``volume``: mentions per minute for several topics, with alert markers and a live legend."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from app import wallquery
from app.formatting import compact
from app.store import tables as T
from app.ui import theme
from app.ui.tilebase import TileContext, TileFrame, TileOptions, TileSpec, elide, records_note
from widgets.plotting import make_plot, nice_top, time_window


class VolumeOptions(TileOptions):
    #: topic names; empty = the brand and competitor topics of the config
    topics: list[str] = Field(default_factory=list, max_length=7)
    window_min: int = Field(default=180, ge=10, le=60 * 24 * 30)


class _Legend(QWidget):
    def __init__(self, tile: VolumeTile) -> None:
        super().__init__()
        self.tile = tile
        self.setFixedHeight(tile.s.px(46))
        #: the legend's words as last painted
        self.drawn: list[str] = []

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = self.tile.s
        h = self.height()
        head = f"per min, last {self.tile.rate_min} min:"
        labels = [(t, f"{self.tile.ctx.topic_label(t)} {compact(r)}") for t, r in self.tile.rates.items()]
        # every label whole: a smaller font before anything is cut
        font = s.small
        while True:
            fm = QFontMetrics(font)
            need = fm.horizontalAdvance(head) + s.px(20) + sum(
                s.px(34) + fm.horizontalAdvance(text) + s.px(24) for _, text in labels)
            if need <= self.width() or font.pixelSize() <= s.px(16):
                break
            font.setPixelSize(font.pixelSize() - 1)
        p.setFont(font)
        fm = QFontMetrics(font)
        p.setPen(theme.colour(theme.MUTED))
        self.drawn = [head]
        x = float(fm.horizontalAdvance(head))
        p.drawText(QRectF(0, 0, x, h), Qt.AlignmentFlag.AlignVCenter, head)
        x += s.px(20)
        for topic, text in labels:
            p.setBrush(theme.colour(self.tile.ctx.colour_of(topic)))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(QRectF(x, h / 2 - s.px(5), s.px(26), s.px(10)), 3, 3)
            x += s.px(34)
            p.setPen(theme.colour(theme.TEXT))
            w = min(fm.horizontalAdvance(text) + s.px(3), self.width() - x)  # elide() rounds down
            if w <= 0:
                break
            shown = elide(text, font, w)
            self.drawn.append(shown)
            p.drawText(QRectF(x, 0, w, h), Qt.AlignmentFlag.AlignVCenter, shown)
            x += w + s.px(24)
        p.end()


class VolumeTile(TileFrame):
    tables = frozenset({T.ROLLUPS, T.ALERTS})
    period_s = 30.0

    def __init__(self, opts: VolumeOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Mentions per minute")
        self.opts = opts
        self.topics = opts.topics or [
            t.name for t in ctx.config.topics if t.kind in {"brand", "competitor"}
        ] or ["*"]  # fmt: skip
        self.rates: dict[str, float] = {t: 0.0 for t in self.topics}
        self.begins: float | None = None
        #: the legend's rates are per minute over the alerts' window, from minute rollups,
        #: whatever the chart's span: the same figure an alert quotes, on every screen
        self.rate_min = ctx.config.alerts.window_min
        lay = QVBoxLayout(self)
        m = self.s.margin
        lay.setContentsMargins(m, self.header_height(), m, m)
        lay.setSpacing(self.s.px(4))
        self.legend = _Legend(self)
        lay.addWidget(self.legend)
        self.plot = make_plot(self.s)
        lay.addWidget(self.plot, 1)
        self.curves = {
            t: self.plot.plot(pen=pg.mkPen(ctx.colour_of(t), width=self.s.px(3))) for t in self.topics
        }
        # a line is drawn again only when its points change (once a minute: the open bucket
        # is left out); a scene switch or a repaint in between shows its cached picture
        for curve in self.curves.values():
            curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.marks = pg.ScatterPlotItem(
            symbol="t", size=self.s.px(22), brush=pg.mkBrush(theme.CRISIS), pen=pg.mkPen(theme.TEXT)
        )
        self.plot.addItem(self.marks)
        # the newest alert in view says why, next to its marker (plain text: terms come from posts)
        self.why = pg.TextItem(color=theme.TEXT, anchor=(1.0, 0.5), fill=pg.mkBrush(theme.colour(theme.SURFACE_HI, 230)))
        self.why.setFont(self.s.small)
        self.plot.addItem(self.why)

    def load(self) -> None:
        now = self.ctx.clock()
        start = now - self.opts.window_min * 60
        peak = 0.0
        any_data = False
        # before the record begins the chart knows nothing: no line there, not a zero line
        self.begins = wallquery.records_begin(self.ctx.conn, wallquery.resolution_for(now - start))
        for topic in self.topics:
            s = wallquery.series(self.ctx.conn, topic, start, now)
            per_min = np.asarray(s.n, dtype=float) * (60.0 / s.res)
            # the current bucket is still filling: leave it out so the line does not dive
            xs, ys = np.asarray(s.starts[:-1], dtype=float), per_min[:-1]
            if self.begins is not None:  # its first bucket too: partly before the record, a false rise
                ys = np.where(xs < self.begins + s.res, np.nan, ys)
            last = self._drawn.get(topic)
            if last is None or not (np.array_equal(last[0], xs) and np.array_equal(last[1], ys, equal_nan=True)):
                self.curves[topic].setData(xs, ys, connect="finite")
                self._drawn[topic] = (xs, ys)
            if len(ys) and not np.isnan(ys).all():
                peak = max(peak, float(np.nanmax(ys)))
            self.rates[topic] = wallquery.rate_per_min(self.ctx.conn, topic, now, self.rate_min)
            any_data = any_data or bool(per_min.any())
        marks = wallquery.alert_marks(self.ctx.conn, self.topics, start)
        self.marks.setData(
            x=[a.ts for a in marks], y=[peak * 1.04 for _ in marks], data=[a.id for a in marks]
        )
        newest = max(marks, key=lambda a: a.ts, default=None)
        if newest is not None and newest.terms:
            kind = "spike" if newest.kind == "spike" else "negative"
            self.why.setText(f"{kind}: {', '.join(newest.terms[:3])}")
            self.why.setPos(newest.ts - (now - start) * 0.01, peak * 0.97)
            self.why.setVisible(True)
        else:
            self.why.setVisible(False)
        self.plot.setXRange(*time_window(now, now - start), padding=0)
        self.plot.setYRange(0, nice_top(max(peak * 1.1, 5)), padding=0)
        self.empty_text = "" if any_data else f"No mentions in the last {self.opts.window_min // 60 or 1} h"
        self.plot.setVisible(any_data)
        self.legend.setVisible(any_data)
        self.subtitle = f"last {self.opts.window_min // 60} h" if self.opts.window_min >= 120 else f"last {self.opts.window_min} min"
        self.subtitle += records_note(self.begins, start, now)
        self.subtitle_short = [self.subtitle.replace("records from", "from")] if self.begins else []
        self.legend.update()



SPEC = TileSpec("volume", "Mentions per minute", VolumeOptions, VolumeTile,
                "per-minute lines for several topics, with alert markers")  # fmt: skip
