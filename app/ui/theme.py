"""Colours, type sizes and the style sheet of the wall: one place, read from five metres.

The palette is Okabe–Ito (distinguishable with the common colour-vision deficiencies);
sentiment never relies on colour alone (tiles also draw ▲ ▼ ● marks). Sizes are given
for a 1080-pixel-high screen and scale with the screen, so wall body text stays about
28 px or more on a 1080p monitor.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont

from app.resources import asset_path

# Okabe–Ito
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"

BACKGROUND = "#0B0F14"
SURFACE = "#151B23"
SURFACE_HI = "#1E2630"
TEXT = "#F2F4F7"
MUTED = "#9AA5B1"
FAINT = "#3A4552"

POSITIVE = SKY
NEUTRAL = "#8C96A0"
NEGATIVE = VERMILLION
CRISIS = VERMILLION
OK = GREEN
WARN = ORANGE

#: series colours in order: the brand first, then competitors
SERIES = [SKY, ORANGE, GREEN, PURPLE, YELLOW, BLUE, VERMILLION]
PRIORITY = {1: VERMILLION, 2: ORANGE, 3: YELLOW, 4: SKY}

FONT_FAMILY = "Noto Sans"


_FONTS: dict[tuple[str, int, bool], QFont] = {}


@dataclass(frozen=True, slots=True)
class Scale:
    """Pixel sizes for one screen: every size is its 1080p value times ``factor``."""

    factor: float = 1.0

    def px(self, base: float) -> int:
        return max(1, round(base * self.factor))

    @property
    def margin(self) -> int:
        return self.px(14)

    @property
    def gap(self) -> int:
        return self.px(12)

    def font(self, base_px: float, *, bold: bool = False, family: str = FONT_FAMILY) -> QFont:
        """A font of ``base_px`` (1080p pixels); made once per size, as tiles repaint often.

        A copy is returned, so a caller that changes it changes only its own.
        """
        key = (family, self.px(base_px), bold)
        cached = _FONTS.get(key)
        if cached is None:
            cached = QFont(family)
            cached.setPixelSize(key[1])
            cached.setBold(bold)
            cached.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
            _FONTS[key] = cached
        return QFont(cached)

    # type ramp (1080p pixels)
    @property
    def title(self) -> QFont:
        return self.font(28, bold=True)

    @property
    def body(self) -> QFont:
        return self.font(30)

    @property
    def body_bold(self) -> QFont:
        return self.font(30, bold=True)

    @property
    def small(self) -> QFont:
        return self.font(26)

    @property
    def big(self) -> QFont:
        return self.font(112, bold=True)

    @property
    def medium(self) -> QFont:
        return self.font(48, bold=True)


def scale_for(height_px: int) -> Scale:
    return Scale(max(0.5, height_px / 1080))


def colour(name: str, alpha: int = 255) -> QColor:
    c = QColor(name)
    c.setAlpha(alpha)
    return c


def sentiment_colour(value: float) -> str:
    if value >= 0.05:
        return POSITIVE
    if value <= -0.05:
        return NEGATIVE
    return NEUTRAL


def sentiment_mark(value: float) -> str:
    """A shape as well as a colour: ▲ positive, ▼ negative, ● neutral."""
    if value >= 0.05:
        return "▲"
    if value <= -0.05:
        return "▼"
    return "●"


def style_sheet(theme: str = "dark") -> str:
    """The QSS of a theme shipped in ``assets/themes``; empty if it is missing."""
    path = asset_path("themes", f"{theme}.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
