"""``sentiment``: net sentiment now (with its change) and the positive/neutral/negative trend."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

from app import wallquery
from app.formatting import signed
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
from widgets.plotting import make_plot, time_window


class SentimentOptions(TileOptions):
    topic: str = "*"
    window_min: int = Field(default=360, ge=30, le=60 * 24 * 30)
    #: the period "now" is measured over, compared with the one before it
    period_min: int = Field(default=60, ge=5, le=1440)


class _Now(QWidget):
    def __init__(self, tile: SentimentTile) -> None:
        super().__init__()
        self.tile = tile
        #: where the last paint's text ended (it must stay inside the widget)
        self.bottom = 0.0

    def paintEvent(self, event: QPaintEvent) -> None:
        t, s = self.tile, self.tile.s
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        value = t.now.net_sentiment
        p.setPen(theme.colour(theme.sentiment_colour(value)))
        text = f"{theme.sentiment_mark(value)}{signed(value)}"
        # the notes and the legend are never cut: the big number gives up height first
        line_h = s.px(34)
        notes = [wrap_lines(note, s.small, w, 2) for note in t.notes()]
        below = sum(len(n) * line_h + s.px(2) for n in notes)
        top_h = max(s.px(56), min(h * 0.5, h - below - s.px(8)))
        big = s.font(96, bold=True)
        while big.pixelSize() > 24 and (QFontMetrics(big).horizontalAdvance(text) > w - s.px(8)
                                        or big.pixelSize() > top_h * 0.95):  # fmt: skip
            big.setPixelSize(big.pixelSize() - 4)
        p.setFont(big)
        p.drawText(QRectF(0, 0, w, top_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, text)
        p.setFont(s.small)
        p.setPen(theme.colour(theme.MUTED))
        y = top_h + s.px(8)
        for note in t.notes():  # wrapped, never cut
            for line in wrap_lines(note, s.small, w, 2):
                p.drawText(QRectF(0, y, w, s.px(34)), Qt.AlignmentFlag.AlignLeft, line)
                y += s.px(34)
            y += s.px(2)
        self.bottom = y
        p.end()


class _Legend(QWidget):
    """The chart's legend above it: the window of its shares, each band's colour, name and
    share; on one row where they fit, on as many as they need where they do not."""

    def __init__(self, tile: SentimentTile) -> None:
        super().__init__()
        self.tile = tile
        self.row_h = tile.s.px(40)
        self.setFixedHeight(self.row_h)
        #: the entries as last painted, the window their shares are of, and the right
        #: edge of the widest row (inside the widget: nothing of it is cut)
        self.entries: list[str] = []
        self.lead = ""
        self.right = 0.0

    def items(self) -> list[tuple[str, str | None]]:
        t = self.tile
        shares = t.now
        if not shares.scored:
            return []
        # the shares are of the number's period, not of the chart's hours: it says so
        return [(f"last {t.opts.period_min} min:", None)] + [
            (f"{label} {count / shares.scored:.0%}", colour) for label, count, colour in (
                ("positive", shares.pos, theme.POSITIVE), ("neutral", shares.neu, theme.NEUTRAL),
                ("negative", shares.neg, theme.NEGATIVE))]  # fmt: skip

    def arrange(self, width: float) -> tuple[QFont, list[list[tuple[str, str | None, float]]]]:
        """The font and the rows of (text, colour, x) that fit ``width``."""
        s = self.tile.s
        swatch, gap = s.px(18) + s.px(8), s.px(20)
        items = self.items()
        font = s.small

        def advance(text: str, colour: str | None) -> float:
            return QFontMetrics(font).horizontalAdvance(text) + s.px(3) + (swatch if colour else 0)

        while font.pixelSize() > s.px(22) and sum(advance(*i) + gap for i in items) - gap > width:
            font.setPixelSize(font.pixelSize() - 1)
        rows: list[list[tuple[str, str | None, float]]] = [[]]
        x = 0.0
        for text, colour in items:
            w = advance(text, colour)
            if rows[-1] and x + w > width:
                rows.append([])
                x = 0.0
            rows[-1].append((text, colour, x))
            x += w + gap
        return font, rows

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        _, rows = self.arrange(self.width())
        height = self.row_h * max(1, len(rows))
        if height != self.height():
            self.setFixedHeight(height)

    def paintEvent(self, event: QPaintEvent) -> None:
        s = self.tile.s
        self.entries, self.lead, self.right = [], "", 0.0
        font, rows = self.arrange(self.width())
        if not rows[0]:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(font)
        swatch = s.px(18)
        for k, row in enumerate(rows):
            top = k * self.row_h
            for text, colour, x in row:
                if colour is None:
                    p.setPen(theme.colour(theme.MUTED))
                    self.lead = text
                else:
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(theme.colour(colour, 200))
                    p.drawRoundedRect(QRectF(x, top + (self.row_h - swatch) / 2, swatch, swatch), 3, 3)
                    x += swatch + s.px(8)
                    p.setPen(theme.colour(theme.TEXT))
                    self.entries.append(text)
                w = QFontMetrics(font).horizontalAdvance(text) + s.px(3)
                p.drawText(QRectF(x, top, w, self.row_h), Qt.AlignmentFlag.AlignVCenter, text)
                self.right = max(self.right, x + w)
        p.end()


class SentimentTile(TileFrame):
    tables = frozenset({T.ROLLUPS})
    period_s = 30.0

    def __init__(self, opts: SentimentOptions, ctx: TileContext, title: str | None) -> None:
        super().__init__(ctx, title or "Sentiment")
        self.opts = opts
        self.now = wallquery.Totals()
        self.before = wallquery.Totals()
        lay = self.lay = QHBoxLayout(self)
        m = self.s.margin
        lay.setContentsMargins(m + self.s.px(6), self.header_height(), m, m)
        lay.setSpacing(self.s.gap)
        self.number = _Now(self)
        self.number.setMinimumWidth(self.s.px(300))
        lay.addWidget(self.number, 2)
        self.plot = make_plot(self.s)
        self.plot.setYRange(0, 1, padding=0)
        self.plot.getPlotItem().getAxis("left").setTicks([[(0, "0"), (0.5, "50%"), (1, "100%")]])
        chart = QVBoxLayout()
        chart.setSpacing(self.s.px(2))
        self.legend = _Legend(self)
        chart.addWidget(self.legend)
        chart.addWidget(self.plot, 1)
        lay.addLayout(chart, 5)
        self._bottom = self.plot.plot(pen=pg.mkPen(theme.colour(theme.NEGATIVE, 0)))
        self._neg = self.plot.plot(pen=pg.mkPen(theme.NEGATIVE, width=1))
        self._neu = self.plot.plot(pen=pg.mkPen(theme.NEUTRAL, width=1))
        self._top = self.plot.plot(pen=pg.mkPen(theme.POSITIVE, width=1))
        for lower, upper, colour in ((self._bottom, self._neg, theme.NEGATIVE),
                                     (self._neg, self._neu, theme.NEUTRAL),
                                     (self._neu, self._top, theme.POSITIVE)):  # fmt: skip
            band = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(theme.colour(colour, 150)))
            band.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # redrawn when its data moves
            self.plot.addItem(band)
        self._drawn: tuple[np.ndarray, ...] = ()

    def notes(self) -> list[str]:
        """The lines under the number: its window, its change, and what is in no share."""
        period = self.opts.period_min
        lines = [f"net, last {period} min"]
        if self.before.n:
            change = self.now.net_sentiment - self.before.net_sentiment
            lines.append(f"{signed(change)} vs the {period} before")
        if self.now.unscored:  # posts in a language the scorer cannot read are in no share
            lines.append(f"{self.now.unscored} unscored (other languages)")
        return lines

    def load(self) -> None:
        now = self.ctx.clock()
        period = self.opts.period_min * 60
        self.now = wallquery.totals(self.ctx.conn, self.opts.topic, now - period, now)
        self.before = wallquery.totals(self.ctx.conn, self.opts.topic, now - 2 * period, now - period)
        if not wallquery.period_record(self.ctx.conn, period, now)[1]:
            self.before = wallquery.Totals()  # no whole period before on record: no change to tell
        start = now - self.opts.window_min * 60
        s = wallquery.series(self.ctx.conn, self.opts.topic, start, now)
        # 10-minute steps keep the shares steady enough to read; the open bucket is left out
        # shares of the scored mentions: unscored ones (other languages) are in no class
        scored = [p + u + g for p, u, g in zip(s.pos, s.neu, s.neg, strict=True)]
        n, neg, neu = (np.asarray(a[:-1], dtype=float) for a in (scored, s.neg, s.neu))
        xs = np.asarray(s.starts[:-1], dtype=float)
        step = max(1, 600 // s.res)
        k = len(n) // step * step
        if k:
            xs = xs[len(n) - k :: step]
            n, neg, neu = (a[len(a) - k :].reshape(-1, step).sum(axis=1) for a in (n, neg, neu))
        safe = np.where(n > 0, n, 1)
        has = n > 0
        neg_share = np.where(has, neg / safe, np.nan)
        neu_share = np.where(has, (neg + neu) / safe, np.nan)
        top = np.where(has, 1.0, np.nan)
        data = (xs, np.where(has, 0.0, np.nan), neg_share, neu_share, top)
        same = len(self._drawn) == len(data) and all(
            np.array_equal(a, b, equal_nan=True) for a, b in zip(self._drawn, data, strict=True))  # fmt: skip
        if not same:  # 10-minute steps: the bands change a few times an hour, not every refresh
            self._drawn = data
            for curve, ys in zip((self._bottom, self._neg, self._neu, self._top), data[1:], strict=True):
                curve.setData(xs, ys, connect="finite")
        self.plot.setXRange(*time_window(now, now - start, 600.0), padding=0)
        label = self.ctx.topic_label(self.opts.topic)
        m = self.opts.window_min
        span = f"{m // 60} h" if m >= 120 else f"{m} min"
        note = records_note(wallquery.records_begin(self.ctx.conn, s.res), start, now)
        self.subtitle = f"{label} · chart: last {span}{note}"
        short = note.replace("records from", "from")
        self.subtitle_short = [f"{label} · chart {span}{short}", f"{label} · chart {span}", f"{label} · {span}"]
        self.empty_text = "" if self.now.n or n.any() else f"No mentions of {label} yet"
        self.plot.setVisible(not self.empty_text)
        self.number.setVisible(not self.empty_text)
        self.legend.setVisible(not self.empty_text)
        self.legend.fit()  # its shares changed: it may need a row more or less
        self.number.update()
        self.legend.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        # a tall, narrow cell stacks the number over the chart: side by side, the chart
        # would be a sliver and its legend would not fit
        narrow = self.width() < self.s.px(720) and self.height() > self.width()
        direction = QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight
        if self.lay.direction() != direction:
            self.lay.setDirection(direction)
        super().resizeEvent(event)



SPEC = TileSpec("sentiment", "Sentiment", SentimentOptions, SentimentTile,
                "net sentiment now and the positive/neutral/negative trend")  # fmt: skip
