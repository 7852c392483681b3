"""pyqtgraph set up once for the wall: dark plots, local-time axes, big tick labels."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QWidget

from app.ui import theme
from app.ui.theme import Scale

pg.setConfigOptions(antialias=True, background=theme.SURFACE, foreground=theme.MUTED)


def make_plot(scale: Scale, parent: QWidget | None = None) -> pg.PlotWidget:
    """A plot with a local-time x axis, no mouse interaction, and axes readable at a distance."""
    axis = pg.DateAxisItem(orientation="bottom")  # shows local time
    plot = pg.PlotWidget(parent=parent, axisItems={"bottom": axis}, background=theme.SURFACE)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    item = plot.getPlotItem()
    font = scale.font(22)
    for name in ("bottom", "left"):
        ax = item.getAxis(name)
        ax.setStyle(tickFont=font, tickTextOffset=scale.px(8))
        ax.setPen(pg.mkPen(theme.FAINT, width=1))
        ax.setTextPen(pg.mkPen(theme.MUTED))
        # an axis is redrawn only when its range changes (see time_window, nice_top): painting
        # its labels and grid lines was the largest part of a wall's refresh
        ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    item.getAxis("left").setWidth(scale.px(72))
    item.getAxis("bottom").setHeight(scale.px(44))
    item.showGrid(x=False, y=True, alpha=0.15)
    item.setContentsMargins(0, 0, scale.px(8), 0)
    return plot


def time_window(now: float, window_s: float, step_s: float = 60.0) -> tuple[float, float]:
    """A time plot's x range, ending where the current step (a minute) ends.

    The range then moves once a step instead of on every refresh, so the axis keeps its
    cached picture between refreshes; the open bucket is never drawn, so nothing is lost.
    """
    end = math.ceil(now / step_s) * step_s
    return end - window_s, end


_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)


def nice_top(value: float) -> float:
    """The y range's top: the next round number at or above ``value`` (at most 25 % more).

    The axis changes only when the data outgrows it, not with every new count.
    """
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(step * magnitude for step in _NICE if step * magnitude >= value - 1e-9)
