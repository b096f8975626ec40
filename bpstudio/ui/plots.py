"""Live training plots: loss, per-layer gradient norms and accuracy, and what plots share.

The time-series plots (``LossPlot``, ``GradientNormPlot``, ``AccuracyPlot``) are *views of series
objects* from ``bpstudio.session.series``: a per-step series (loss per mini-batch, gradient norms)
is a ``BinnedSeries`` (thinned evenly over the whole run, min/max/mean per bin), a per-epoch one a
``FullSeries`` (every point). Whoever owns a run's history hands its series to a plot with
``set_series(key, series)`` (or ``attach({key: series})``); the plot draws whichever series it
holds. As a convenience each plot starts with series of its own and ``append_*`` methods that
append to whatever series it holds, so a window that feeds the plots directly keeps working.

Nothing is drawn until ``refresh()``, which the main window calls from a QTimer (≤ 30 Hz) while
``has_pending()`` (a series' ``version`` moved, or the visible range did). Each refresh asks every
visible series for ``view(lo, hi, columns)``: at most ~2 points per pixel column of the plot, for
the visible x range only (the whole series while the view follows the data), so the cost of a
repaint is bounded by the screen and does not grow with the run (measured in
``tests/ui/test_plots.py``: 10⁴ and 10⁶ steps paint alike). Where a drawn point covers more than
one step, a light band (one vertical min–max segment per point) shows the envelope under the mean
line, so spikes survive zooming out. Pan and zoom re-query the view, throttled to
``RANGE_REQUERY_MS``. Dense curves use width-1 cosmetic pens without antialiasing (a wide pen sends
a noisy curve through Qt's path stroker); per-epoch curves drop their markers and antialiasing
once more than ``SYMBOL_LIMIT`` points are drawn. Axes do not re-render their labels per range
change (no auto SI prefix); the hover read-out is rate-limited to ``HOVER_RATE`` Hz.

The x axis shows steps or epochs (``set_x_mode``; a combo box in ``controls()``): per-step points
map to fractional epochs through the epoch boundaries (a ``FullSeries`` of (step at the end of the
epoch, epoch), kept by the loss plot and shared with ``set_epoch_boundaries``), per-epoch points
to the step their epoch ended at.

Every plot has a legend, axis labels, a hover read-out (crosshair + values of the nearest points),
zoom/pan (mouse), and "Reset view" / "Log y" actions in the right-click menu (``reset_view()``
auto-ranges on the series' full extent, ``log_checkbox()`` for a visible toggle). pyqtgraph's own
"Export…" entry is removed from that menu (its Matplotlib item fails without matplotlib, its image
includes the crosshair, its CSV carries junk columns): "Save image…" and "Copy image" replace it.

``curve.getData()`` returns what is drawn (after log mapping); ``curve.getOriginalDataset()`` the
drawn points in data units (bin means); ``series(key)`` / ``buffers`` the series themselves.

Leaves out: history export (the session's project file stores the series), smoothing. The
weight-driven views live in ``surface_view.py`` and ``weights_view.py``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from bpstudio.session.series import BinnedSeries, Envelope, FullSeries
from bpstudio.ui import dialogs, theme

Series = BinnedSeries | FullSeries

SYMBOL_LIMIT = 60  # series with more points drawn than this are drawn without markers
POINTS_PER_COLUMN = 1  # drawn points per pixel column (each with its min/max segment: 2 vertices)
RANGE_REQUERY_MS = 40  # pan/zoom re-queries the series at most this often
HOVER_RATE = 30  # Hz: mouse-move read-outs at most this often (SignalProxy)
MIRROR_FACTOR = 16  # a per-epoch view wider than this many points per column reads a binned copy
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
X_MODES = ("step", "epoch")


def superscript(n: int | str) -> str:
    """``12`` -> ``"¹²"`` (layer indices in labels: W² is W^2)."""
    return str(n).translate(_SUPERSCRIPTS)


def grad_label(key: str) -> str:
    """ "W3" -> "‖∂J/∂W³‖" ; "b3" -> "‖∂J/∂b³‖"."""
    return f"‖∂J/∂{key[0]}{superscript(key[1:])}‖"


def format_value(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.4e}"
    return f"{v:.6g}"


def unshadow_clear(widget: pg.PlotWidget) -> None:
    # PlotWidget.__init__ copies PlotItem.clear onto the instance, which would hide our clear()
    # (and remove every curve); drop that instance attribute so the class method is found.
    widget.__dict__.pop("clear", None)


def readout_stylesheet() -> str:
    """The hover read-out box (QLabel#plotReadout) in the current theme's colours."""
    t = theme.plot_theme()
    fg, bg = QColor(t.foreground), QColor(t.background)
    return (
        f"QLabel#plotReadout {{ background: rgba({bg.red()},{bg.green()},{bg.blue()},225);"
        f" color: {fg.name()}; border: 1px solid {t.crosshair}; border-radius: 3px;"
        " padding: 3px; font-size: 9pt; }"
    )


# --- steps <-> epochs ---------------------------------------------------------------------------
def _anchors(boundaries: FullSeries) -> tuple[np.ndarray, np.ndarray]:
    """(steps, epochs) at the ends of epochs, from (0, 0): step s of epoch e, batch b of n sits
    at epoch e − 1 + b/n."""
    s, e = boundaries.x, boundaries.y
    return np.r_[0.0, s], np.r_[0.0, e]


def _piecewise(values: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Map ``values`` from ``src`` to ``dst`` through the anchor points; past the last anchor at
    the last segment's slope."""
    values = np.asarray(values, dtype=np.float64)
    out = np.interp(values, src, dst)
    if src.size >= 2 and src[-1] > src[-2]:
        slope = (dst[-1] - dst[-2]) / (src[-1] - src[-2])
        past = values > src[-1]
        out[past] = dst[-1] + (values[past] - src[-1]) * slope
    return out


def steps_to_epochs(steps: np.ndarray, boundaries: FullSeries) -> np.ndarray:
    """Fractional epochs of steps; past the last boundary at the last epoch's pace."""
    s, e = _anchors(boundaries)
    return _piecewise(steps, s, e)


def epochs_to_steps(epochs: np.ndarray, boundaries: FullSeries) -> np.ndarray:
    """The inverse of ``steps_to_epochs``."""
    s, e = _anchors(boundaries)
    return _piecewise(epochs, e, s)


def settle_view(vb: pg.ViewBox) -> None:
    """Settle auto-range and the view transform now, not in the next paint: pyqtgraph does both
    in prepareForPaint, and the transform change then makes the curves recompute what they draw
    and queue one more auto-range, so every data update cost two full paints (measured: 2.0–2.5
    paint events per refresh → 1.0, in the single-run plots and in the Compare overlay)."""
    vb.prepareForPaint()
    vb.prepareForPaint()  # the first pass can queue one more auto-range (bounds changed)


class ValueAxis(pg.AxisItem):
    """An axis whose log-mode labels do not overlap: only powers of ten are labelled when the
    view spans more than ~1.5 decades, and 1, 2, 5 × 10ⁿ below that (pyqtgraph labels every
    minor tick 2…9, and 8·10ⁿ and 9·10ⁿ collide). Its minor grid thins out the same way: over
    many decades pyqtgraph draws nine lines a decade, and the grid was most of a repaint
    (measured: a gradient-norm plot over 9 decades, 20 ms a paint with them, 7 ms without).
    When the major ticks skip decades (10⁰, 10¹⁰, 10²⁰, …) there is no minor level at all, as in
    matplotlib: pyqtgraph adds one tick a decade there too, and a diverged run's curve over 300
    decades gave an axis of 2,773 ticks and paints of up to 120 ms."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 - pyqtgraph API
        decades = [spacing for spacing, _ in stdTicks if spacing >= 1.0]
        if decades and min(decades) > 1.0:  # majors skip decades: no minor ticks
            return [(spacing, values) for spacing, values in stdTicks if spacing >= 1.0]
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        span = abs(maxVal - minVal)
        if span <= 1.5:
            return ticks
        keep = (1, 2, 5) if span <= 4 else (1,)  # 1 × 10ⁿ: the decades, when no major level
        out = []
        for spacing, values in ticks:
            if spacing is None:  # the minor level: 2…9 × 10ⁿ
                values = [v for v in values if round(10 ** (v - math.floor(v + 1e-9))) in keep]
            out.append((spacing, values))
        return out

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        strings = super().logTickStrings(values, scale, spacing)
        lo, hi = self.range
        wide = abs(hi - lo) > 1.5
        keep = (1,) if wide else (1, 2, 5)
        out = []
        for v, text in zip(values, strings, strict=True):
            exponent = math.floor(float(v) + 1e-9)
            mantissa = 10 ** (float(v) - exponent)
            if round(mantissa) not in keep:
                text = ""
            elif wide and exponent not in (0, 1):  # one notation on a wide axis: 10⁻⁴, 10⁻⁵
                text = "10" + superscript(exponent).replace("-", "⁻")
            out.append(text)
        return out


class CountAxis(pg.AxisItem):
    """An x axis of steps or epochs whose large labels stay short: 20k, 40k, 1.5M rather than
    20000, 40000, 1500000, which ran into each other on a narrow plot (the Compare dock's)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.logMode or not values or max(abs(v * scale) for v in values) < 10_000:
            return super().tickStrings(values, scale, spacing)
        out = []
        for v in values:
            v *= scale
            unit, div = ("M", 1e6) if abs(v) >= 1e6 or spacing * scale >= 1e6 else ("k", 1e3)
            out.append(f"{v / div:.4g}{unit}" if v else "0")
        return out


class _Series:
    """One curve of a plot: the series it draws and what it drew last."""

    def __init__(
        self, key: str, label: str, curve: pg.PlotDataItem, band: pg.PlotDataItem, series: Series,
        style: dict,
    ) -> None:  # fmt: skip
        self.key, self.label, self.curve, self.band, self.style = key, label, curve, band, style
        self.series = series
        self.owned = True  # made by the plot (clear() empties it) or handed in (let go)
        self.drawn: tuple | None = None  # what the curve shows now (series, version, range, …)
        self.in_legend = True
        self.dense = False  # many points by nature (per step): thin, never antialiased, no markers
        self.few: bool | None = None  # drawn as "few points" (markers, antialiasing) last time?
        self.mirror: BinnedSeries | None = None  # binned copy of a long per-epoch series
        self.mirror_of: tuple[int, int] = (0, 0)  # (id of the series, points mirrored)
        self.n_drawn = 0

    @property
    def buffer(self) -> Series:  # the name the window and benchmarks used before
        return self.series


class BufferedPlot(pg.PlotWidget):
    """Base class: views of series, hover read-out, log toggle, x in steps or epochs, reset view,
    theme restyling."""

    logYChanged = Signal(bool)
    xModeChanged = Signal(str)

    x_name = "x"
    native_x = "step"  # what the series' x values count: "step" or "epoch"
    #: y range (data units) shown on a log-y axis before any data, instead of pyqtgraph's 1…10
    #: with a label on every minor tick; auto-range stays on, so the first data replaces it.
    empty_log_y_range: tuple[float, float] | None = None

    def __init__(self, parent: QWidget | None = None, *, log_y: bool = False, **_: Any) -> None:
        super().__init__(
            parent,
            background=theme.plot_theme().background,
            axisItems={"left": ValueAxis("left"), "bottom": CountAxis("bottom")},
        )
        unshadow_clear(self)
        self.paint_seconds = 0.0  # duration of the last paint event (for a refresh-rate policy)
        self._series: dict[str, _Series] = {}
        self._color_index = 0
        self._x_mode = self.native_x
        self._boundaries = FullSeries()  # (step at the end of an epoch, epoch)
        self._owns_boundaries = True
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=theme.plot_theme().grid_alpha)
        item.setMenuEnabled(True)
        # the series hand over at most ~2 points per pixel column of what is on screen:
        # pyqtgraph's own downsampling and clipping would only cost time
        item.setDownsampling(auto=False)
        item.setClipToView(False)
        self.legend = item.addLegend(offset=(-10, 10), labelTextSize="9pt")
        self.legend.setZValue(20)
        item.vb.setMouseMode(pg.ViewBox.PanMode)
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            # Grid lines for two tick levels, not three (the finest level is most of the lines),
            # and no auto SI prefix: it re-renders the axis label (HTML) on every range change.
            axis.setStyle(maxTickLevel=1)
            axis.enableAutoSIPrefix(False)
        self.setMinimumSize(220, 160)

        # Hover read-out: crosshair lines, markers on the nearest points, a text box in a corner.
        t = theme.plot_theme()
        self._vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(t.crosshair, width=1))
        self._hline = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(t.crosshair, width=1))
        self._markers = pg.PlotDataItem(
            [],
            [],
            pen=None,
            symbol="o",
            symbolSize=9,
            symbolBrush=None,
            symbolPen=pg.mkPen(t.foreground, width=1.5),
        )
        for it in (self._vline, self._hline, self._markers):
            it.setZValue(30)
            it.setVisible(False)
            item.addItem(it, ignoreBounds=True)
        self._readout = QLabel(self)
        self._readout.setObjectName("plotReadout")
        self._readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._readout.setTextFormat(Qt.TextFormat.RichText)
        self._readout.hide()
        self._hover_proxy = pg.SignalProxy(
            self.scene().sigMouseMoved, rateLimit=HOVER_RATE, slot=self._on_mouse_proxy
        )

        # Pan/zoom re-queries the series for what is then on screen, at most every 40 ms.
        self._range_timer = QTimer(self)
        self._range_timer.setObjectName("plotRangeTimer")
        self._range_timer.setSingleShot(True)
        self._range_timer.setInterval(RANGE_REQUERY_MS)
        self._range_timer.timeout.connect(self._on_range_settled)
        item.vb.sigXRangeChanged.connect(self._on_x_range_changed)
        item.vb.sigResized.connect(self._on_x_range_changed)

        # Context-menu actions (right click on the plot area).
        menu = item.vb.menu
        self.reset_action = QAction("Reset view", self)
        self.reset_action.setToolTip("Zoom out to show the whole run and follow new data again")
        self.reset_action.triggered.connect(self.reset_view)
        self.log_action = QAction("Log scale (y)", self, checkable=True)
        self.log_action.toggled.connect(self.set_log_y)
        self.epoch_x_action = QAction("X axis in epochs", self, checkable=True)
        self.epoch_x_action.setChecked(self.native_x == "epoch")
        self.epoch_x_action.toggled.connect(lambda on: self.set_x_mode("epoch" if on else "step"))
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, self.reset_action)
        menu.insertAction(first, self.log_action)
        menu.insertAction(first, self.epoch_x_action)
        menu.insertSeparator(first)
        self._replace_export_menu()

        self._log_y = False
        self.set_log_y(log_y)
        theme.notifier().themeChanged.connect(self._restyle)
        self._restyle()

    def _replace_export_menu(self) -> None:
        """Drop pyqtgraph's "Export…" (a Matplotlib item that fails without matplotlib, images
        with the crosshair, CSVs with junk columns); offer a clean image instead."""
        scene = self.scene()
        scene.contextMenu = [a for a in scene.contextMenu if "xport" not in a.text()]
        menu = self.getPlotItem().vb.menu
        self.save_image_action = QAction("Save image…", self)
        self.save_image_action.setToolTip("Save this plot as PNG or SVG")
        self.save_image_action.triggered.connect(lambda: self.save_image())
        self.copy_image_action = QAction("Copy image", self)
        self.copy_image_action.triggered.connect(self.copy_image)
        menu.addSeparator()
        menu.addAction(self.save_image_action)
        menu.addAction(self.copy_image_action)

    def image(self) -> Any:
        """The plot as it is on screen, without the hover crosshair and read-out (a QPixmap)."""
        hover = [it for it in (self._vline, self._hline, self._markers) if it.isVisible()]
        shown = self._readout.isVisible()
        self._hide_hover()
        try:
            return self.grab()
        finally:
            for it in hover:
                it.setVisible(True)
            self._readout.setVisible(shown)

    def save_image(self, path: str | None = None) -> str | None:
        """Save the plot as PNG (at screen size) or SVG; asks where when ``path`` is None."""
        if path is None:
            name = (self.objectName() or "plot").removesuffix("Plot") + ".png"
            path = dialogs.get_save_image_path(self, name)
            if not path:
                return None
        if path.lower().endswith(".svg"):
            from pyqtgraph.exporters import SVGExporter  # noqa: PLC0415 - rarely used

            self._hide_hover()
            SVGExporter(self.getPlotItem()).export(path)
            return path
        if not self.image().save(path):
            dialogs.show_error(self, "Save image", f"Could not write {path}.")
            return None
        return path

    def copy_image(self) -> None:
        QGuiApplication.clipboard().setPixmap(self.image())

    # --- series -------------------------------------------------------------------------------
    def _add_series(
        self,
        key: str,
        label: str,
        *,
        color: str | int | None = None,
        width: float = 1.5,
        alpha: int = 255,
        symbol: str | None = None,
        symbol_size: int = 6,
        dash: bool = False,
        legend: bool = True,
        visible: bool = True,
        dense: bool = False,
        series: Series | None = None,
    ) -> _Series:
        """A curve and the series it draws (a new one unless given). ``dense``: one point per
        step (a BinnedSeries, thin pen, no antialiasing, a min–max band where points merge)."""
        if color is None:
            color = self._color_index
            self._color_index += 1
        style = dict(
            color=color, width=width, alpha=alpha, symbol=symbol, size=symbol_size, dash=dash
        )
        if dense:
            style["width"] = min(width, 1.0)  # wider pens are drawn segment by segment
        if series is None:
            series = BinnedSeries() if dense else FullSeries()
        curve = pg.PlotDataItem(name=label if legend else None, antialias=False)
        band = pg.PlotDataItem(antialias=False, connect="pairs")
        s = _Series(key, label, curve, band, series, style)
        s.in_legend = legend
        s.dense = dense
        self._apply_style(s)
        item = self.getPlotItem()
        item.addItem(band)
        item.addItem(curve)
        band.setZValue(-1)
        for it in (curve, band):
            it.setDownsampling(auto=False)
            it.setClipToView(False)
            it.setVisible(visible)
        self.legend.removeItem(band)
        if not (legend and visible):
            self.legend.removeItem(curve)
        self._series[key] = s
        return s

    def _apply_style(self, s: _Series) -> None:
        c = s.style["color"]
        qc = QColor(theme.series_color(c) if isinstance(c, int) else c)
        line = QColor(qc)
        line.setAlpha(s.style["alpha"])
        pen = pg.mkPen(line, width=s.style["width"])
        if s.style["dash"]:
            pen.setStyle(Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        s.curve.setPen(pen)
        shade = QColor(qc)
        shade.setAlpha(max(24, s.style["alpha"] // 5))  # a light band: the lines stay readable
        band_pen = pg.mkPen(shade, width=1)
        band_pen.setCosmetic(True)
        s.band.setPen(band_pen)
        if s.style["symbol"]:
            s.curve.setSymbolSize(s.style["size"])
            s.curve.setSymbolBrush(pg.mkBrush(qc))
            s.curve.setSymbolPen(pg.mkPen(theme.plot_theme().background, width=0.8))
        s.few = None  # re-decide markers/antialiasing at the next _update_density
        self._update_density(s)

    def _update_density(self, s: _Series) -> None:
        """Markers and antialiasing while a series has few points; neither once it is crowded."""
        few = not s.dense and s.n_drawn <= SYMBOL_LIMIT
        if few == s.few:
            return
        s.few = few
        if s.style["symbol"]:  # markers help a few epochs, clutter hundreds
            s.curve.setSymbol(s.style["symbol"] if few else None)
        # PlotDataItem.opts["antialias"] is handed to its curve and scatter at each update
        s.curve.opts["antialias"] = few
        s.curve.curve.opts["antialias"] = few
        s.curve.scatter.opts["antialias"] = few
        s.curve.update()

    def color_of(self, key: str) -> str:
        c = self._series[key].style["color"]
        return theme.series_color(c) if isinstance(c, int) else str(c)

    def _set_series_visible(self, key: str, visible: bool) -> None:
        s = self._series[key]
        s.curve.setVisible(visible)
        s.band.setVisible(visible)
        self.legend.removeItem(s.curve)
        if visible and s.in_legend:
            self.legend.addItem(s.curve, s.label)
            theme.style_legend(self.legend)
        if visible and self._stale(s):  # hidden curves are not refreshed; catch up now
            self._draw(s)
            self._settle_view()

    def series(self, key: str) -> Series:
        """The series the curve ``key`` draws."""
        return self._series[key].series

    def set_series(self, key: str, series: Series) -> None:
        """Draw ``series`` as the curve ``key`` (the caller keeps owning it and appends to it;
        the next ``refresh()`` shows it)."""
        if not isinstance(series, BinnedSeries | FullSeries):
            raise TypeError(f"not a series: {type(series).__name__}")
        s = self._series[key]
        s.series = series
        s.owned = False
        s.drawn = None
        s.mirror = None

    def attach(self, series: dict[str, Series], boundaries: FullSeries | None = None) -> None:
        """Draw a run's history: ``{key: series}`` for the keys this plot has (others are
        ignored), and its epoch boundaries for the x axis in epochs."""
        for key, value in series.items():
            if key in self._series:
                self.set_series(key, value)
        if boundaries is not None:
            self.set_epoch_boundaries(boundaries)
        self._hide_hover()
        self.reset_view()

    @property
    def buffers(self) -> dict[str, Series]:
        """{key: series} of every curve (the name predates series objects)."""
        return {k: s.series for k, s in self._series.items()}

    @property
    def epoch_boundaries(self) -> FullSeries:
        """(step at the end of each epoch, epoch): maps steps to epochs on the x axis."""
        return self._boundaries

    def set_epoch_boundaries(self, boundaries: FullSeries) -> None:
        self._boundaries = boundaries
        self._owns_boundaries = False
        for s in self._series.values():
            s.drawn = None

    def _push(self, key: str, x: Any, y: Any) -> None:
        self._series[key].series.append(x, y)

    # --- drawing ------------------------------------------------------------------------------
    def _columns(self) -> int:
        width = int(self.getPlotItem().vb.width())
        return max(64, width) * POINTS_PER_COLUMN

    def _native_range(self) -> tuple[float | None, float | None]:
        """The visible x range in the series' units; (None, None) while the view follows the
        data (auto-range on x: the whole series is drawn, so that auto-range sees all of it)."""
        vb = self.getPlotItem().vb
        if vb.autoRangeEnabled()[0]:
            return None, None
        lo, hi = vb.viewRange()[0]
        if self._x_mode != self.native_x and len(self._boundaries):
            convert = steps_to_epochs if self.native_x == "epoch" else epochs_to_steps
            lo, hi = (float(v) for v in convert(np.array([lo, hi]), self._boundaries))
        return lo, hi

    def _draw_key(self, s: _Series) -> tuple:
        lo, hi = self._native_range()
        return (
            id(s.series),
            s.series.version,
            lo,
            hi,
            self._columns(),
            self._x_mode,
            id(self._boundaries),
            self._boundaries.version if self._x_mode != self.native_x else 0,
        )

    def _stale(self, s: _Series) -> bool:
        return s.drawn != self._draw_key(s)

    def _to_display(self, x: np.ndarray) -> np.ndarray:
        if self._x_mode == self.native_x or not len(self._boundaries):
            return x
        if self.native_x == "step":
            return steps_to_epochs(x, self._boundaries)
        return epochs_to_steps(x, self._boundaries)

    def _to_native(self, x: float) -> float:
        if self._x_mode == self.native_x or not len(self._boundaries):
            return x
        convert = epochs_to_steps if self.native_x == "step" else steps_to_epochs
        return float(convert(np.array([x]), self._boundaries)[0])

    def _source(self, s: _Series, lo: float | None, hi: float | None, columns: int) -> Series:
        """What to read a view from: the series, or for a long per-epoch series seen wide a
        binned copy of it kept up to date here (appends only), so the cost stays bounded."""
        series = s.series
        if not isinstance(series, FullSeries) or len(series) <= MIRROR_FACTOR * columns:
            return series
        x = series.x
        i0 = 0 if lo is None else int(np.searchsorted(x, lo))
        i1 = len(x) if hi is None else int(np.searchsorted(x, hi, side="right"))
        if i1 - i0 <= MIRROR_FACTOR * columns:
            return series
        sid, done = s.mirror_of
        if s.mirror is None or sid != id(series) or done > len(series):
            s.mirror, done = BinnedSeries(), 0
        if done < len(series):
            s.mirror.append(x[done:], series.y[done:])
        s.mirror_of = (id(series), len(series))
        return s.mirror

    def _draw(self, s: _Series) -> None:
        key = self._draw_key(s)
        lo, hi, columns = key[2], key[3], key[4]
        env: Envelope = self._source(s, lo, hi, columns).view(lo, hi, columns)
        x = self._to_display(env.x)
        s.n_drawn = int(x.size)
        self._update_density(s)
        s.curve.setData(x, env.y)
        if s.dense:
            spread = np.isfinite(env.ymin) & np.isfinite(env.ymax) & (env.ymax > env.ymin)
            if spread.any():
                bx = np.repeat(x[spread], 2)
                by = np.column_stack([env.ymin[spread], env.ymax[spread]]).ravel()
                s.band.setData(bx, by, connect="pairs")
            else:
                s.band.setData([], [])
        s.drawn = key

    def has_pending(self) -> bool:
        """True when a visible curve's series changed (or the view did) since it was drawn."""
        return any(s.curve.isVisible() and self._stale(s) for s in self._series.values())

    def refresh(self) -> list[str]:
        """Draw what changed in the visible curves (call from a ≤ 30 Hz timer when new data
        arrived). Returns the keys of the curves it updated."""
        touched = []
        for s in self._series.values():
            if s.curve.isVisible() and self._stale(s):
                self._draw(s)
                touched.append(s.key)
        if touched:
            self._settle_view()
        return touched

    def _settle_view(self) -> None:
        settle_view(self.getPlotItem().vb)

    def _on_x_range_changed(self, *_: Any) -> None:
        if self.getPlotItem() is None:  # closed
            return
        if (
            self.isVisible()
            and not self._range_timer.isActive()
            and any(
                s.curve.isVisible() and s.drawn is not None and self._stale(s)
                for s in self._series.values()
            )
        ):
            self._range_timer.start()

    def _on_range_settled(self) -> None:
        if self.getPlotItem() is not None and self.isVisible():
            self.refresh()

    def clear(self) -> None:  # type: ignore[override]  # PlotWidget.clear would remove the items
        """Forget all data and return to an empty, auto-ranging view. Series the plot made are
        emptied; series handed in with ``set_series`` are let go (never changed), and the curve
        draws a new empty series of its own."""
        for s in self._series.values():
            if s.owned:
                s.series.clear()
            else:
                s.series = BinnedSeries() if s.dense else FullSeries()
                s.owned = True
            s.mirror = None
            s.curve.setData([], [])
            s.band.setData([], [])
            s.n_drawn = 0
            s.drawn = None
            self._update_density(s)
        if self._owns_boundaries:
            self._boundaries.clear()
        self._hide_hover()
        self.reset_view()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.has_pending():  # data came while hidden (a tab behind another): draw it now
            self.refresh()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - t0

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._range_timer.stop()
        super().hideEvent(event)

    # --- view ---------------------------------------------------------------------------------
    def reset_view(self) -> None:
        """Show the whole run (every series' full extent, from its first point) and follow new
        data again (undoes zoom/pan). An empty plot forgets the previous run's ranges."""
        vb = self.getPlotItem().vb
        self._range_timer.stop()
        if self.is_empty():
            vb.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0, update=True)
        vb.enableAutoRange(axis=pg.ViewBox.XYAxes, enable=True)
        if not self.is_empty():
            self.refresh()  # the whole series (auto-range on x), then range on it
            vb.autoRange()  # sets the range once (and switches auto-range off) ...
            vb.enableAutoRange(axis=pg.ViewBox.XYAxes, enable=True)  # ... so switch it back on
        self._apply_empty_range()

    def is_empty(self) -> bool:
        return all(len(s.series) == 0 for s in self._series.values())

    def _apply_empty_range(self) -> None:
        if not self.is_empty():
            return
        lo, hi = self.empty_log_y_range or (0.0, 1.0)
        # the view is in log10 units on a log axis; keep auto-range on for the data to come
        if self._log_y:
            y = (math.log10(lo), math.log10(hi)) if self.empty_log_y_range else (-1.0, 1.0)
        else:
            y = (0.0, 1.0)
        vb = self.getPlotItem().vb
        vb.setYRange(*y, padding=0, update=True)
        vb.enableAutoRange(axis=pg.ViewBox.YAxis, enable=True)

    def set_log_y(self, on: bool) -> None:
        on = bool(on)
        self.getPlotItem().setLogMode(x=False, y=on)
        changed = on != self._log_y
        self._log_y = on
        if self.log_action.isChecked() != on:
            self.log_action.setChecked(on)
        self._apply_empty_range()
        if changed:
            self.logYChanged.emit(on)

    def log_y(self) -> bool:
        return self._log_y

    def x_mode(self) -> str:
        return self._x_mode

    def set_x_mode(self, mode: str) -> None:
        """Show x in "step" or "epoch" (per-step points at fractional epochs)."""
        if mode not in X_MODES:
            raise ValueError(f"x mode must be one of {X_MODES}, not {mode!r}")
        if mode == self._x_mode:
            return
        self._x_mode = mode
        self.epoch_x_action.setChecked(mode == "epoch")
        self.getPlotItem().setLabel("bottom", self._x_label())
        self._hide_hover()
        for s in self._series.values():
            s.drawn = None
        self.reset_view()
        self.xModeChanged.emit(mode)

    def _x_label(self) -> str:
        return "step (mini-batches)" if self._x_mode == "step" else "epoch"

    def log_checkbox(self, parent: QWidget | None = None) -> QCheckBox:
        """A checkbox bound to the log-y setting, for the main window to place near the plot."""
        box = QCheckBox("Log y", parent)
        box.setToolTip("Logarithmic y axis")
        box.setChecked(self._log_y)
        box.toggled.connect(self.set_log_y)
        self.logYChanged.connect(box.setChecked)
        return box

    def x_mode_combo(self, parent: QWidget | None = None) -> QComboBox:
        """A combo box bound to the x axis unit (steps / epochs)."""
        combo = QComboBox(parent)
        combo.setObjectName("xModeCombo")
        combo.addItem("x: steps", "step")
        combo.addItem("x: epochs", "epoch")
        combo.setToolTip("Show the x axis in mini-batch steps or in epochs")
        combo.setCurrentIndex(X_MODES.index(self._x_mode))
        combo.currentIndexChanged.connect(lambda i: self.set_x_mode(X_MODES[i]))
        self.xModeChanged.connect(lambda m: combo.setCurrentIndex(X_MODES.index(m)))
        return combo

    def controls(self, parent: QWidget | None = None) -> QWidget:
        """A compact row: [Log y] [x: steps ▾] [Reset view] — for placing near the plot."""
        w = QWidget(parent)
        lay = QHBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.log_checkbox(w))
        lay.addWidget(self.x_mode_combo(w))
        button = QPushButton("Reset view", w)
        button.setToolTip(self.reset_action.toolTip())
        button.clicked.connect(self.reset_view)
        lay.addWidget(button)
        lay.addStretch(1)
        return w

    # --- hover read-out -----------------------------------------------------------------------
    def _hide_hover(self) -> None:
        for it in (self._vline, self._hline, self._markers):
            it.setVisible(False)
        self._readout.hide()

    def leaveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._hide_hover()
        super().leaveEvent(event)

    def _on_mouse_proxy(self, args: tuple) -> None:
        self._on_mouse_moved(args[0])

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if self.getPlotItem() is None:  # closed
            return
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self._hide_hover()
            return
        p = vb.mapSceneToView(pos)
        self.show_readout_at(p.x(), p.y())

    def _readout_lines(self, x: float) -> tuple[list[str], list[tuple[float, float]]]:
        lines, points = [], []
        native = self._to_native(x)
        for s in self._series.values():
            if not s.curve.isVisible():
                continue
            hit = s.series.nearest(native)
            if hit is None:
                continue
            xi, yi = hit
            color = self.color_of(s.key)
            where = f"{self.x_name} {xi:g}"
            if self._x_mode != self.native_x and len(self._boundaries):
                other = float(self._to_display(np.array([xi]))[0])
                where += f", {self._x_mode} {other:.4g}"
            lines.append(
                f"<span style='color:{color}'>■</span> {s.label}: <b>{format_value(yi)}</b>"
                f" <span style='color:gray'>({where})</span>"
            )
            points.append((float(self._to_display(np.array([xi]))[0]), yi))
        return lines, points

    def show_readout_at(self, x: float, y_view: float) -> str:
        """Show crosshair + values nearest to x (display units; y in view coordinates);
        returns the text."""
        lines, points = self._readout_lines(x)
        if not lines:
            self._hide_hover()
            return ""
        self._vline.setPos(x)
        self._hline.setPos(y_view)
        px = np.array([p[0] for p in points])
        py = np.array([p[1] for p in points])
        if self._log_y:
            py = np.where(py > 0, py, np.nan)  # log of ≤ 0 is not drawable
        self._markers.setData(px, py)
        for it in (self._vline, self._hline, self._markers):
            it.setVisible(True)
        text = "<br>".join(lines)
        self._readout.setText(text)
        self._readout.adjustSize()
        rect = self.getPlotItem().vb.sceneBoundingRect()
        corner = self.mapFromScene(rect.topLeft())
        self._readout.move(corner.x() + 6, corner.y() + 6)
        self._readout.show()
        self._readout.raise_()
        return text

    # --- theme --------------------------------------------------------------------------------
    def _restyle(self, *_: Any) -> None:
        if self.getPlotItem() is None:  # closed: pyqtgraph drops the plot item on close()
            return
        t = theme.plot_theme()
        theme.style_plot(self)
        self.getPlotItem().showGrid(x=True, y=True, alpha=t.grid_alpha)
        for s in self._series.values():
            self._apply_style(s)
        self._vline.setPen(pg.mkPen(t.crosshair))
        self._hline.setPen(pg.mkPen(t.crosshair))
        self._markers.setSymbolPen(pg.mkPen(t.foreground, width=1.5))
        self._readout.setStyleSheet(readout_stylesheet())


#: the name for what this base class is now: a plot of series objects
SeriesPlot = BufferedPlot


class LossPlot(BufferedPlot):
    """Loss J per mini-batch (thin line, min–max band), per epoch on the training set (markers)
    and validation. Keeps the epoch boundaries (it is told each epoch's last step)."""

    x_name = "step"

    def __init__(self, parent: QWidget | None = None, **kw: Any) -> None:
        super().__init__(parent, **kw)
        self.setObjectName("lossPlot")
        item = self.getPlotItem()
        item.setTitle("Loss", color=theme.plot_theme().foreground)
        item.setLabel("left", "loss J")
        item.getAxis("left").enableAutoSIPrefix(False)  # "×0.001" on a unitless loss confuses
        item.setLabel("bottom", self._x_label())
        self.step_curve = self._add_series(
            "step", "per step", color=7, width=1, alpha=170, dense=True
        ).curve
        self.epoch_curve = self._add_series(
            "epoch", "train (epoch)", color=0, width=2, symbol="o", symbol_size=5
        ).curve
        self.val_curve = self._add_series(
            "val", "validation (epoch)", color=1, width=2, symbol="t", symbol_size=6
        ).curve
        self._restyle()

    def append_steps(self, steps: np.ndarray, losses: np.ndarray) -> None:
        self._push("step", steps, losses)

    def append_epoch(
        self, step: int, epoch: int, train_loss: float, val_loss: float | None = None
    ) -> None:
        if train_loss is not None:
            self._push("epoch", step, train_loss)
        if val_loss is not None:
            self._push("val", step, val_loss)
        last = self._boundaries.last()
        if last is None or step > last[0]:
            self._boundaries.append(step, epoch)
        self._epochs = epoch


class GradientNormPlot(BufferedPlot):
    """One curve per layer: ‖∂J/∂W^l‖ against the step, log-y (vanishing/exploding at a glance).

    Layer colours never repeat (evenly spaced hues beyond the palette), the legend grows columns
    past ``LEGEND_ROWS`` entries, and a note under the legend says when curves are missing because
    their gradients are exactly 0 (a log axis cannot show 0: zero initialisation, the symmetry
    lesson)."""

    x_name = "step"
    empty_log_y_range = (1e-4, 10.0)  # typical norms, from vanishing to exploding
    LEGEND_ROWS = 6

    def __init__(self, parent: QWidget | None = None, **kw: Any) -> None:
        super().__init__(parent, log_y=True, **kw)
        self.setObjectName("gradientNormPlot")
        item = self.getPlotItem()
        item.setTitle("Gradient norms per layer", color=theme.plot_theme().foreground)
        item.setLabel("left", "‖∂J/∂Wˡ‖ (Frobenius norm)")
        item.setLabel("bottom", self._x_label())
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._show_biases = False
        self._n_layers = 0
        self.bias_action = QAction("Show bias gradients ‖∂J/∂b‖", self, checkable=True)
        self.bias_action.toggled.connect(self.set_show_biases)
        menu = item.vb.menu
        menu.insertAction(menu.actions()[3], self.bias_action)
        self.note = QLabel(self)
        self.note.setObjectName("plotNote")
        self.note.setWordWrap(True)
        self.note.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note.hide()
        self._note_key: tuple | None = None

    def set_layers(self, names: list[str]) -> None:
        """Start over with one W curve (and a hidden b curve) per layer: ["W2", "W3", …]."""
        layers = []
        for n in names:
            n = str(n)
            if n[:1] in "Wb" and n[1:].isdigit():
                n = n[1:]
            if n.isdigit() and n not in layers:
                layers.append(n)
        if layers and layers == [k[1:] for k in self._series if k[:1] == "W"]:
            # the same layers (another variant of a sweep shown): keep the curves, drop the data
            # (making 2 items and a legend row per layer again cost ~30 ms a switch)
            self.clear()
            return
        for s in list(self._series.values()):
            self.getPlotItem().removeItem(s.curve)
            self.getPlotItem().removeItem(s.band)
            self.legend.removeItem(s.curve)
        self._series.clear()
        self.curves.clear()
        self._color_index = 0
        self._n_layers = len(layers)
        for i, layer in enumerate(layers):
            self._add_layer(layer, i)
        self._layout_legend()
        self._hide_hover()
        self._update_note()
        self.reset_view()

    def _layer_color(self, i: int) -> str | int:
        # the palette's first 7 (its 8th is the grey of the per-step loss), then distinct hues
        n = max(self._n_layers, i + 1)
        return i if n <= 7 else theme.class_colors(n)[i]

    def _add_layer(self, layer: str, color: int) -> None:
        w, b = f"W{layer}", f"b{layer}"
        c = self._layer_color(color)
        self.curves[w] = self._add_series(w, grad_label(w), color=c, dense=True).curve
        self.curves[b] = self._add_series(
            b, grad_label(b), color=c, dash=True, visible=self._show_biases, dense=True
        ).curve
        self._series[w].style["layer"] = self._series[b].style["layer"] = color

    def _layout_legend(self) -> None:
        shown = sum(1 for s in self._series.values() if s.in_legend and s.curve.isVisible())
        self.legend.setColumnCount(max(1, math.ceil(shown / self.LEGEND_ROWS)))

    def _restyle(self, *_: Any) -> None:
        for s in getattr(self, "_series", {}).values():  # hues depend on the theme
            if "layer" in s.style and not isinstance(s.style["color"], int):
                s.style["color"] = self._layer_color(s.style["layer"])
        super()._restyle()

    def set_show_biases(self, on: bool) -> None:
        self._show_biases = bool(on)
        if self.bias_action.isChecked() != self._show_biases:
            self.bias_action.setChecked(self._show_biases)
        for key in self._series:
            if key.startswith("b"):
                self._set_series_visible(key, self._show_biases)
        self._layout_legend()
        self._update_note()

    def append(self, steps: np.ndarray, norms: dict[str, np.ndarray]) -> None:
        for key, values in norms.items():
            if key not in self._series:
                if not (key[:1] in "Wb" and key[1:].isdigit()):
                    continue
                self._n_layers += 1
                self._add_layer(key[1:], len(self._series) // 2)
                self._layout_legend()
            self._push(key, steps, values)

    def refresh(self) -> list[str]:
        touched = super().refresh()
        if touched:
            self._update_note()
        return touched

    def clear(self) -> None:  # type: ignore[override]
        super().clear()
        self._update_note()

    def zero_layers(self) -> list[str]:
        """The visible curves whose every gradient norm so far is exactly 0."""
        out = []
        for key, s in self._series.items():
            if not s.curve.isVisible() or not len(s.series):
                continue
            hi, lo = s.series.ymax, s.series.ymin
            if np.isfinite(hi).any() and np.nanmax(hi) == 0 and np.nanmin(lo) == 0:
                out.append(key)
        return out

    def _update_note(self) -> None:
        zero = self.zero_layers()
        key = (tuple(zero), self._log_y)
        if key == self._note_key:
            return
        self._note_key = key
        if not zero:
            self.note.hide()
            return
        names = ", ".join(grad_label(k) for k in zero)
        text = (
            f"<b>{names} {'is' if len(zero) == 1 else 'are'} exactly 0 at every step</b>"
            + (" (a log axis cannot show 0)" if self._log_y else "")
            + ". When every weight starts equal (zero initialisation), the neurons of a layer "
            "compute the same thing and get the same gradient — here none at all — so they "
            "never become different: the symmetry is never broken. Choose a random initialiser."
        )
        self.note.setText(text)
        self.note.setStyleSheet(readout_stylesheet().replace("plotReadout", "plotNote"))
        self._place_note()
        self.note.show()
        self.note.raise_()

    def _place_note(self) -> None:
        rect = self.getPlotItem().vb.sceneBoundingRect()
        top_left = self.mapFromScene(rect.bottomLeft())
        width = max(160, int(rect.width()) - 16)
        self.note.setFixedWidth(width)
        self.note.adjustSize()
        self.note.move(top_left.x() + 8, max(0, top_left.y() - self.note.height() - 8))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        note = self.__dict__.get("note")  # resizeEvent runs inside PlotWidget.__init__
        if note is not None and note.isVisible():
            self._place_note()

    def set_log_y(self, on: bool) -> None:
        super().set_log_y(on)
        if "note" in self.__dict__:
            self._note_key = None
            self._update_note()


class AccuracyPlot(BufferedPlot):
    """Training and validation accuracy per epoch, in percent."""

    x_name = "epoch"
    native_x = "epoch"

    def __init__(self, parent: QWidget | None = None, **kw: Any) -> None:
        super().__init__(parent, **kw)
        self.setObjectName("accuracyPlot")
        item = self.getPlotItem()
        item.setTitle("Accuracy", color=theme.plot_theme().foreground)
        item.setLabel("left", "accuracy", units="%")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.setLabel("bottom", self._x_label())
        self.train_curve = self._add_series(
            "train", "train", color=0, width=2, symbol="o", symbol_size=5
        ).curve
        self.val_curve = self._add_series(
            "val", "validation", color=1, width=2, symbol="t", symbol_size=6
        ).curve

    def append_epoch(
        self, epoch: int, train_acc: float | None, val_acc: float | None = None
    ) -> None:
        """Accuracies as fractions in [0, 1] (shown as %); None is skipped."""
        if train_acc is not None:
            self._push("train", epoch, 100.0 * train_acc)
        if val_acc is not None:
            self._push("val", epoch, 100.0 * val_acc)
