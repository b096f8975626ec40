"""Live training plots: loss, per-layer gradient norms and accuracy, and what plots share.

The time-series plots (``LossPlot``, ``GradientNormPlot``, ``AccuracyPlot``) only *buffer* what the
training worker sends; nothing is drawn until ``refresh()``, which the main window calls from a
QTimer (≤ 30 Hz) when new data arrived. Each series lives in a ``SeriesBuffer``: NumPy arrays that
double when full, capped at ``max_points`` (10 000) by keeping every 2nd point of the *older half*
of the history, so recent steps stay at full resolution and old ones thin out geometrically.
Curves use peak downsampling (~3 vertices per pixel column) and clip-to-view. Cost per repaint
(measured for 7 gradient-norm curves × 10 k points, log-y, 560×400, software raster): a wide or
antialiased pen sends a noisy curve through Qt's path stroker (0.5 s a paint); so *dense* curves
(per-step loss, gradient norms) are drawn with width-1 cosmetic pens and no antialiasing, and
per-epoch curves drop their markers and antialiasing once they hold more than ``SYMBOL_LIMIT``
points. ``refresh()`` only touches curves whose data changed and that are visible (hidden bias
curves are filled when shown); axes do not re-render their labels per range change (no auto SI
prefix); the hover read-out is rate-limited to ``HOVER_RATE`` Hz.
Every plot has a legend, axis labels, a hover
read-out (crosshair + exact values of the nearest points), zoom/pan (mouse), and "Reset view" /
"Log y" actions in the right-click menu (``reset_view()``, ``log_checkbox()`` for a visible toggle).

``curve.getData()`` returns what is drawn (after log mapping, downsampling, clipping);
``curve.getOriginalDataset()`` and the ``buffers`` hold every kept point in original units.

Leaves out: saving plots to file (pyqtgraph's own context-menu "Export…" does that), smoothing,
per-epoch x-axis ticks on the step plots. The weight-driven views live in ``surface_view.py``
and ``weights_view.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from bpstudio.ui import theme

MAX_POINTS = 10_000
SYMBOL_LIMIT = 60  # series with more points than this are drawn without markers
# Peak downsampling keeps the min and max of each bin: ~2 × DOWNSAMPLE_FACTOR vertices per pixel
# column (pyqtgraph's default factor, 5, draws 5× more than the eye can see).
DOWNSAMPLE_FACTOR = 1.5
HOVER_RATE = 30  # Hz: mouse-move read-outs at most this often (SignalProxy)
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


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


class SeriesBuffer:
    """Growing (x, y) float64 buffers; capacity doubles, history thins out past ``max_points``."""

    def __init__(self, max_points: int = MAX_POINTS, initial: int = 256) -> None:
        if max_points < 4:
            raise ValueError("max_points must be at least 4")
        self.max_points = max_points
        self._x = np.empty(min(initial, max_points))
        self._y = np.empty_like(self._x)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def clear(self) -> None:
        self._n = 0

    def append(self, x: Iterable[float] | float, y: Iterable[float] | float) -> None:
        xs = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
        ys = np.atleast_1d(np.asarray(y, dtype=np.float64)).ravel()
        if xs.shape != ys.shape:
            raise ValueError(f"x and y lengths differ: {xs.size} vs {ys.size}")
        m = xs.size
        if m == 0:
            return
        need = self._n + m
        if need > self._x.size:
            cap = self._x.size
            while cap < need:
                cap *= 2
            self._x = np.resize(self._x, cap)  # copies the old content, the rest is garbage
            self._y = np.resize(self._y, cap)
        self._x[self._n : need] = xs
        self._y[self._n : need] = ys
        self._n = need
        while self._n > self.max_points:
            self._decimate()

    def _decimate(self) -> None:
        # Keep every 2nd point of the older half; the newer half stays at full resolution.
        half = self._n // 2
        keep = np.arange(0, half, 2)
        k = keep.size
        self._x[:k] = self._x[keep]
        self._y[:k] = self._y[keep]
        self._x[k : k + self._n - half] = self._x[half : self._n]
        self._y[k : k + self._n - half] = self._y[half : self._n]
        self._n = k + self._n - half

    def nearest(self, x: float) -> tuple[float, float] | None:
        """The kept point whose x is closest to ``x`` (x values are assumed increasing)."""
        if self._n == 0:
            return None
        xs = self.x
        i = int(np.searchsorted(xs, x))
        if i >= self._n:
            i = self._n - 1
        elif i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
            i -= 1
        return float(xs[i]), float(self._y[i])


class _Series:
    def __init__(
        self, key: str, label: str, curve: pg.PlotDataItem, buffer: SeriesBuffer, style: dict
    ) -> None:
        self.key, self.label, self.curve, self.buffer, self.style = key, label, curve, buffer, style
        self.dirty = False
        self.in_legend = True
        self.dense = False  # many points by nature (per step): thin, never antialiased, no markers
        self.few: bool | None = None  # drawn as "few points" (markers, antialiasing) last time?


class BufferedPlot(pg.PlotWidget):
    """Base class: buffered series, hover read-out, log toggle, reset view, theme restyling."""

    logYChanged = Signal(bool)

    x_name = "x"
    #: y range (data units) shown on a log-y axis before any data, instead of pyqtgraph's 1…10
    #: with a label on every minor tick; auto-range stays on, so the first data replaces it.
    empty_log_y_range: tuple[float, float] | None = None

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        max_points: int = MAX_POINTS,
        log_y: bool = False,
    ) -> None:
        super().__init__(parent, background=theme.plot_theme().background)
        unshadow_clear(self)
        self.max_points = max_points
        self.paint_seconds = 0.0  # duration of the last paint event (for a refresh-rate policy)
        self._series: dict[str, _Series] = {}
        self._color_index = 0
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=theme.plot_theme().grid_alpha)
        item.setMenuEnabled(True)
        # PlotItem.addItem imposes its own modes on every curve, so set them here, not per curve.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
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

        # Context-menu actions (right click on the plot area).
        menu = item.vb.menu
        self.reset_action = QAction("Reset view", self)
        self.reset_action.setToolTip("Zoom out to show all the data and follow new data again")
        self.reset_action.triggered.connect(self.reset_view)
        self.log_action = QAction("Log scale (y)", self, checkable=True)
        self.log_action.toggled.connect(self.set_log_y)
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, self.reset_action)
        menu.insertAction(first, self.log_action)
        menu.insertSeparator(first)

        self._log_y = False
        self.set_log_y(log_y)
        theme.notifier().themeChanged.connect(self._restyle)
        self._restyle()

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
    ) -> _Series:
        """A curve with its buffer. ``dense``: one point per step (thin pen, no antialiasing)."""
        if color is None:
            color = self._color_index
            self._color_index += 1
        style = dict(
            color=color, width=width, alpha=alpha, symbol=symbol, size=symbol_size, dash=dash
        )
        if dense:
            style["width"] = min(width, 1.0)  # wider pens are drawn segment by segment
        curve = pg.PlotDataItem(name=label if legend else None, antialias=False)
        series = _Series(key, label, curve, SeriesBuffer(self.max_points), style)
        series.in_legend = legend
        series.dense = dense
        self._apply_style(series)
        self.getPlotItem().addItem(curve)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR  # no public setter in 0.14
        curve.setVisible(visible)
        if not (legend and visible):
            self.legend.removeItem(curve)
        self._series[key] = series
        return series

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
        if s.style["symbol"]:
            s.curve.setSymbolSize(s.style["size"])
            s.curve.setSymbolBrush(pg.mkBrush(qc))
            s.curve.setSymbolPen(pg.mkPen(theme.plot_theme().background, width=0.8))
        s.few = None  # re-decide markers/antialiasing at the next _update_density
        self._update_density(s)

    def _update_density(self, s: _Series) -> None:
        """Markers and antialiasing while a series has few points; neither once it is crowded."""
        few = not s.dense and len(s.buffer) <= SYMBOL_LIMIT
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
        self.legend.removeItem(s.curve)
        if visible and s.in_legend:
            self.legend.addItem(s.curve, s.label)
            theme.style_legend(self.legend)
        if visible and s.dirty:  # hidden curves are not refreshed; catch up now
            self._refresh_series(s)

    @property
    def buffers(self) -> dict[str, SeriesBuffer]:
        return {k: s.buffer for k, s in self._series.items()}

    def _push(self, key: str, x: Any, y: Any) -> None:
        s = self._series[key]
        s.buffer.append(x, y)
        s.dirty = True

    def has_pending(self) -> bool:
        """True when a visible curve has data appended since the last ``refresh()``."""
        return any(s.dirty and s.curve.isVisible() for s in self._series.values())

    def refresh(self) -> list[str]:
        """Push buffered data to the visible curves whose data changed (call from a ≤ 30 Hz timer
        when new data arrived). Returns the keys of the curves it updated."""
        touched = []
        for s in self._series.values():
            if s.dirty and s.curve.isVisible():
                self._refresh_series(s)
                touched.append(s.key)
        if touched:
            self._settle_view()
        return touched

    def _settle_view(self) -> None:
        # Settle auto-range and the view transform now, not in the next paint: pyqtgraph does both
        # in prepareForPaint, and the transform change then marks the items dirty again, so every
        # data update cost two full paints (measured: 2.0-2.5 paint events per refresh → 1.0).
        vb = self.getPlotItem().vb
        vb.prepareForPaint()
        vb.prepareForPaint()  # the first pass can queue one more auto-range (bounds changed)

    def _refresh_series(self, s: _Series) -> None:
        self._update_density(s)
        # copies: the buffers are rewritten in place (appends, decimation), the curve keeps these
        s.curve.setData(s.buffer.x.copy(), s.buffer.y.copy())
        s.dirty = False

    def clear(self) -> None:  # type: ignore[override]  # PlotWidget.clear would remove the items
        """Forget all data (curves stay, empty) and return to auto-range."""
        for s in self._series.values():
            s.buffer.clear()
            s.curve.setData([], [])
            s.dirty = False
            self._update_density(s)
        self._hide_hover()
        self.reset_view()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - t0

    # --- view ---------------------------------------------------------------------------------
    def reset_view(self) -> None:
        """Show all data and follow new data again (undoes zoom/pan)."""
        vb = self.getPlotItem().vb
        vb.autoRange()  # sets the range once (and switches auto-range off) ...
        vb.enableAutoRange(axis=pg.ViewBox.XYAxes, enable=True)  # ... so switch it back on
        self._apply_empty_range()

    def is_empty(self) -> bool:
        return all(len(s.buffer) == 0 for s in self._series.values())

    def _apply_empty_range(self) -> None:
        if not (self.empty_log_y_range and self.is_empty()):
            return
        lo, hi = self.empty_log_y_range
        # the view is in log10 units on a log axis; keep auto-range on for the data to come
        y = (math.log10(lo), math.log10(hi)) if self._log_y else (0.0, 1.0)
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

    def log_checkbox(self, parent: QWidget | None = None) -> QCheckBox:
        """A checkbox bound to the log-y setting, for the main window to place near the plot."""
        box = QCheckBox("Log y", parent)
        box.setToolTip("Logarithmic y axis")
        box.setChecked(self._log_y)
        box.toggled.connect(self.set_log_y)
        self.logYChanged.connect(box.setChecked)
        return box

    def controls(self, parent: QWidget | None = None) -> QWidget:
        """A compact row: [Log y] [Reset view] — optional, for placing above/below the plot."""
        w = QWidget(parent)
        lay = QHBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.log_checkbox(w))
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
        for s in self._series.values():
            if not s.curve.isVisible():
                continue
            hit = s.buffer.nearest(x)
            if hit is None:
                continue
            xi, yi = hit
            color = self.color_of(s.key)
            lines.append(
                f"<span style='color:{color}'>■</span> {s.label}: <b>{format_value(yi)}</b>"
                f" <span style='color:gray'>({self.x_name} {xi:g})</span>"
            )
            points.append((xi, yi))
        return lines, points

    def show_readout_at(self, x: float, y_view: float) -> str:
        """Show crosshair + values nearest to data x (y in view coordinates); returns the text."""
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


class LossPlot(BufferedPlot):
    """Loss J per mini-batch (thin line), per epoch on the training set (markers) and validation."""

    x_name = "step"

    def __init__(self, parent: QWidget | None = None, *, max_points: int = MAX_POINTS) -> None:
        super().__init__(parent, max_points=max_points)
        self.setObjectName("lossPlot")
        item = self.getPlotItem()
        item.setTitle("Loss", color=theme.plot_theme().foreground)
        item.setLabel("left", "loss J")
        item.getAxis("left").enableAutoSIPrefix(False)  # "×0.001" on a unitless loss confuses
        item.setLabel("bottom", "step (mini-batches)")
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
        self._epochs = epoch


class GradientNormPlot(BufferedPlot):
    """One curve per layer: ‖∂J/∂W^l‖ against the step, log-y (vanishing/exploding at a glance)."""

    x_name = "step"
    empty_log_y_range = (1e-4, 10.0)  # typical norms, from vanishing to exploding

    def __init__(self, parent: QWidget | None = None, *, max_points: int = MAX_POINTS) -> None:
        super().__init__(parent, max_points=max_points, log_y=True)
        self.setObjectName("gradientNormPlot")
        item = self.getPlotItem()
        item.setTitle("Gradient norms per layer", color=theme.plot_theme().foreground)
        item.setLabel("left", "‖∂J/∂Wˡ‖ (Frobenius norm)")
        item.setLabel("bottom", "step (mini-batches)")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._show_biases = False
        self.bias_action = QAction("Show bias gradients ‖∂J/∂b‖", self, checkable=True)
        self.bias_action.toggled.connect(self.set_show_biases)
        menu = item.vb.menu
        menu.insertAction(menu.actions()[2], self.bias_action)

    def set_layers(self, names: list[str]) -> None:
        """Start over with one W curve (and a hidden b curve) per layer: ["W2", "W3", …]."""
        for s in list(self._series.values()):
            self.getPlotItem().removeItem(s.curve)
            self.legend.removeItem(s.curve)
        self._series.clear()
        self.curves.clear()
        self._color_index = 0
        layers = []
        for n in names:
            n = str(n)
            if n[:1] in "Wb" and n[1:].isdigit():
                n = n[1:]
            if n.isdigit() and n not in layers:
                layers.append(n)
        for i, layer in enumerate(layers):
            self._add_layer(layer, i)
        self._hide_hover()
        self.reset_view()

    def _add_layer(self, layer: str, color: int) -> None:
        w, b = f"W{layer}", f"b{layer}"
        self.curves[w] = self._add_series(w, grad_label(w), color=color, dense=True).curve
        self.curves[b] = self._add_series(
            b, grad_label(b), color=color, dash=True, visible=self._show_biases, dense=True
        ).curve

    def set_show_biases(self, on: bool) -> None:
        self._show_biases = bool(on)
        if self.bias_action.isChecked() != self._show_biases:
            self.bias_action.setChecked(self._show_biases)
        for key in self._series:
            if key.startswith("b"):
                self._set_series_visible(key, self._show_biases)

    def append(self, steps: np.ndarray, norms: dict[str, np.ndarray]) -> None:
        for key, values in norms.items():
            if key not in self._series:
                if not (key[:1] in "Wb" and key[1:].isdigit()):
                    continue
                self._add_layer(key[1:], len(self._series) // 2)
            self._push(key, steps, values)


class AccuracyPlot(BufferedPlot):
    """Training and validation accuracy per epoch, in percent."""

    x_name = "epoch"

    def __init__(self, parent: QWidget | None = None, *, max_points: int = MAX_POINTS) -> None:
        super().__init__(parent, max_points=max_points)
        self.setObjectName("accuracyPlot")
        item = self.getPlotItem()
        item.setTitle("Accuracy", color=theme.plot_theme().foreground)
        item.setLabel("left", "accuracy", units="%")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.setLabel("bottom", "epoch")
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
