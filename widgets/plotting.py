"""pyqtgraph set up once for the wall: dark plots, local-time axes, big tick labels."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

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
    item.getAxis("left").setWidth(scale.px(72))
    item.getAxis("bottom").setHeight(scale.px(44))
    item.showGrid(x=False, y=True, alpha=0.15)
    item.setContentsMargins(0, 0, scale.px(8), 0)
    return plot
