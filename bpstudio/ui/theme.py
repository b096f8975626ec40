"""Light and dark palettes for the whole window, and the colours every plot draws with.

``apply_theme(app, mode)`` sets the Fusion style, a ``QPalette`` and pyqtgraph's default
background / foreground, then tells built plots (via ``notifier().themeChanged``) to restyle.
Series colours are the Okabe–Ito set (distinguishable with the common colour-vision deficiencies);
class colours reuse it and fall back to evenly spaced hues past eight classes.

Leaves out: per-widget style sheets, icons, and following the OS theme live after start-up
(``mode="auto"`` reads the scheme once, when called).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# Okabe & Ito (2008), reordered so the first series (loss) is a strong blue and the black entry
# (invisible on dark backgrounds) is replaced by a grey that reads on both.
_OKABE_ITO = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#999999",  # grey
]
# On a dark background the deep blue is too dim; lighten it and the vermillion a little.
_OKABE_ITO_DARK = [
    "#3DA5F4",
    "#E69F00",
    "#19C08F",
    "#E08BC0",
    "#56B4E9",
    "#F26B1D",
    "#F0E442",
    "#B0B0B0",
]


@dataclass(frozen=True)
class PlotTheme:
    """Colours pyqtgraph items take from the current theme."""

    dark: bool
    background: str
    foreground: str
    grid_alpha: float
    crosshair: str
    text_bg: str


_LIGHT = PlotTheme(False, "#FFFFFF", "#202020", 0.25, "#7F7F7F", "#FFFFFFE6")  # RRGGBBAA
_DARK = PlotTheme(True, "#1E1F22", "#D8D8D8", 0.25, "#9A9A9A", "#1E1F22E0")

_state = {"dark": False, "mode": "light"}


class _ThemeNotifier(QObject):
    themeChanged = Signal(bool)  # dark?


_notifier: _ThemeNotifier | None = None


def notifier() -> _ThemeNotifier:
    """The object whose ``themeChanged(dark: bool)`` signal fires after ``apply_theme``."""
    global _notifier
    if _notifier is None:
        _notifier = _ThemeNotifier()
    return _notifier


def is_dark() -> bool:
    """True when the last ``apply_theme`` chose the dark palette."""
    return bool(_state["dark"])


def current_mode() -> str:
    """The mode passed to the last ``apply_theme`` ("auto", "light" or "dark")."""
    return str(_state["mode"])


def plot_theme() -> PlotTheme:
    return _DARK if is_dark() else _LIGHT


def plot_colors() -> list[str]:
    """Colour-blind-friendly series colours (hex), tuned to the current background."""
    return list(_OKABE_ITO_DARK if is_dark() else _OKABE_ITO)


def series_color(i: int) -> str:
    colors = plot_colors()
    return colors[i % len(colors)]


def class_colors(k: int) -> list[str]:
    """``k`` distinguishable class colours (hex): Okabe–Ito first, then evenly spaced hues."""
    base = plot_colors()[:7]  # the grey is kept for "no class"
    if k <= len(base):
        return base[:k]
    out = []
    for i in range(k):
        r, g, b = colorsys.hsv_to_rgb(i / k, 0.65, 0.95 if is_dark() else 0.8)
        out.append(f"#{int(r * 255):02X}{int(g * 255):02X}{int(b * 255):02X}")
    return out


def _system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    try:
        return hints.colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # pragma: no cover - Qt < 6.5
        pal = QGuiApplication.palette()
        return pal.color(QPalette.ColorRole.Window).lightness() < 128


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, alt, text = (
        QColor("#2B2D30"),
        QColor("#1E1F22"),
        QColor("#313337"),
        QColor("#DFE1E5"),
    )
    dis = QColor("#7A7E85")
    role = QPalette.ColorRole
    p.setColor(role.Window, window)
    p.setColor(role.WindowText, text)
    p.setColor(role.Base, base)
    p.setColor(role.AlternateBase, alt)
    p.setColor(role.ToolTipBase, QColor("#3C3F41"))
    p.setColor(role.ToolTipText, text)
    p.setColor(role.PlaceholderText, dis)
    p.setColor(role.Text, text)
    p.setColor(role.Button, QColor("#3C3F41"))
    p.setColor(role.ButtonText, text)
    p.setColor(role.BrightText, QColor("#FF6B68"))
    p.setColor(role.Highlight, QColor("#2F65CA"))
    p.setColor(role.HighlightedText, QColor("#FFFFFF"))
    p.setColor(role.Link, QColor("#589DF6"))
    p.setColor(role.Light, QColor("#4E5157"))
    p.setColor(role.Midlight, QColor("#43454A"))
    p.setColor(role.Mid, QColor("#393B40"))
    p.setColor(role.Dark, QColor("#1B1C1F"))
    p.setColor(role.Shadow, QColor("#111111"))
    group = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group, r, dis)
    p.setColor(group, role.Base, window)
    return p


def _light_palette() -> QPalette:
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardPalette() if style is not None else QPalette()


def apply_theme(app: QApplication | None = None, mode: str = "auto") -> bool:
    """Apply "light", "dark" or "auto" (follow the OS) to ``app``; returns True when dark."""
    if mode not in ("auto", "light", "dark"):
        raise ValueError(f"theme mode must be 'auto', 'light' or 'dark', not {mode!r}")
    app = app or QApplication.instance()
    dark = mode == "dark" or (mode == "auto" and _system_prefers_dark())
    _state["dark"], _state["mode"] = dark, mode
    if isinstance(app, QApplication):
        app.setStyle("Fusion")
        app.setPalette(_dark_palette() if dark else _light_palette())
    t = plot_theme()
    pg.setConfigOptions(background=t.background, foreground=t.foreground, antialias=True)
    notifier().themeChanged.emit(dark)
    return dark


def style_plot(widget: pg.PlotWidget) -> None:
    """Give an existing PlotWidget the current theme's background, axis and text colours."""
    t = plot_theme()
    item = widget.getPlotItem()
    if item is None:  # a closed PlotWidget
        return
    widget.setBackground(t.background)
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(t.foreground))
        axis.setTextPen(pg.mkPen(t.foreground))
    if item.legend is not None:
        style_legend(item.legend)
    title = item.titleLabel
    if title is not None and title.text:
        title.setText(title.text, color=t.foreground)


def style_legend(legend: pg.LegendItem) -> None:
    """Give a legend the current theme's frame and text colours, existing labels included.

    ``LegendItem.setLabelTextColor`` only records the colour: labels already added keep the HTML
    they were rendered with (dark text stays dark on a dark background), so render them again.
    """
    t = plot_theme()
    legend.setLabelTextColor(t.foreground)
    legend.setBrush(pg.mkBrush(t.text_bg))
    legend.setPen(pg.mkPen(t.crosshair))
    for sample, label in legend.items:
        label.setText(label.text, color=t.foreground)
        sample.update()
