"""Live training plots: loss, per-layer gradient norms, accuracy, and the decision surface.

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

``DecisionSurfaceView`` draws the training points over the network's prediction on a 100×100 grid
(2 inputs), or the data and the predicted curve (1 input), or a short note (more inputs). The grid
points and the RGBA buffer are allocated once per dataset and the one ``ImageItem`` is reused, so
an update (≤ 5 Hz while training) is a forward pass plus a colour mapping. Class colours are in
the title, not in a legend box over the data.

Leaves out: saving plots to file (pyqtgraph's own context-menu "Export…" does that), smoothing,
per-epoch x-axis ticks on the step plots, a colour bar for classification surfaces.
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


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.4e}"
    return f"{v:.6g}"


def _unshadow_clear(widget: pg.PlotWidget) -> None:
    # PlotWidget.__init__ copies PlotItem.clear onto the instance, which would hide our clear()
    # (and remove every curve); drop that instance attribute so the class method is found.
    widget.__dict__.pop("clear", None)


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
        _unshadow_clear(self)
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
                f"<span style='color:{color}'>■</span> {s.label}: <b>{_fmt(yi)}</b>"
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
        fg = QColor(t.foreground)
        bg = QColor(t.background)
        self._readout.setStyleSheet(
            f"QLabel#plotReadout {{ background: rgba({bg.red()},{bg.green()},{bg.blue()},225);"
            f" color: {fg.name()}; border: 1px solid {t.crosshair}; border-radius: 3px;"
            " padding: 3px; font-size: 9pt; }"
        )


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


class DecisionSurfaceView(pg.PlotWidget):
    """The data over the network's prediction: a surface (2 inputs), a curve (1 input) or a note."""

    GRID = 100

    def __init__(self, parent: QWidget | None = None, *, grid: int = GRID) -> None:
        super().__init__(parent, background=theme.plot_theme().background)
        _unshadow_clear(self)
        self.setObjectName("decisionSurface")
        self.grid = grid
        self.paint_seconds = 0.0  # duration of the last paint event
        self.dataset: Any = None
        self._net_sizes: list[int] | None = None
        item = self.getPlotItem()
        item.showGrid(x=False, y=False)
        item.setMenuEnabled(True)
        # No legend box: it covered data points. The title names the classes in their colours.
        self.legend = None
        self.setMinimumSize(220, 220)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        item.addItem(self.image)
        self.curve = pg.PlotDataItem()  # 1-input regression
        item.addItem(self.curve)
        self.scatters: list[pg.ScatterPlotItem] = []
        self._scatter_class: list[int | None] = []  # class index of each scatter (for restyling)
        self.note = pg.TextItem("", anchor=(0.5, 0.5))
        item.addItem(self.note, ignoreBounds=True)
        self.prediction: np.ndarray | None = None
        self._A: np.ndarray | None = None  # last raw prediction on the grid (recolour on theme)
        # Per dataset: view bounds, grid points and the RGBA buffer (allocated once).
        self._bounds_cache: tuple[float, float, float, float] | None = None
        self._grid_points: np.ndarray | None = None
        self._rgba: np.ndarray | None = None
        self._readout = QLabel(self)
        self._readout.setObjectName("plotReadout")
        self._readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._readout.hide()
        self._hover_proxy = pg.SignalProxy(
            self.scene().sigMouseMoved,
            rateLimit=HOVER_RATE,
            slot=lambda a: self._on_mouse_moved(a[0]),
        )
        theme.notifier().themeChanged.connect(self._restyle)
        self._restyle()
        self.clear()

    # --- data ---------------------------------------------------------------------------------
    def _mode(self) -> str:
        ds = self.dataset
        if ds is None:
            return "none"
        if ds.n_inputs == 2:
            return "surface"
        if ds.n_inputs == 1:
            return "curve"
        return "note"

    def clear(self) -> None:  # type: ignore[override]
        """Remove the prediction (keeps the dataset's points)."""
        self.image.clear()
        self.image.setVisible(False)
        self.curve.setData([], [])
        self.prediction = None
        self._A = None
        self._net_sizes = None

    def set_dataset(self, ds: Any) -> None:
        """Show ``ds`` (a PreparedDataset): its points, and later the prediction over them."""
        self.dataset = ds
        item = self.getPlotItem()
        for s in self.scatters:
            item.removeItem(s)
        self.scatters.clear()
        self._scatter_class.clear()
        self.clear()
        self._readout.hide()
        self.note.setText("")
        mode = self._mode()
        self._bounds_cache = self._bounds() if mode in ("surface", "curve") else None
        self._grid_points = self._rgba = None  # built at the first set_network
        X, Y = (np.asarray(ds.X), np.asarray(ds.Y)) if ds is not None else (None, None)
        names = list(getattr(ds, "feature_names", []) or [])
        classification = getattr(ds, "task", "") == "classification"
        if mode == "surface":
            item.setLabel("bottom", names[0] if names else "x1", units="scaled")
            item.setLabel("left", names[1] if len(names) > 1 else "x2", units="scaled")
            if classification:
                k = Y.shape[1] if Y.ndim == 2 and Y.shape[1] > 1 else 2
                cls = np.argmax(Y, axis=1) if Y.ndim == 2 and Y.shape[1] > 1 else (Y.ravel() > 0.5)
                colors = theme.class_colors(k)
                labels = list(getattr(ds, "classes", None) or [str(i) for i in range(k)])
                for j in range(k):
                    m = cls == j
                    sc = pg.ScatterPlotItem(
                        X[m, 0],
                        X[m, 1],
                        size=7,
                        brush=pg.mkBrush(colors[j]),
                        pen=pg.mkPen(theme.plot_theme().foreground, width=0.6),
                        name=f"class {labels[j]}",
                    )
                    self._add_scatter(sc, j)
            else:
                y = Y[:, 0] if Y.ndim == 2 else Y
                brushes = self._value_brushes(y, float(np.nanmin(y)), float(np.nanmax(y)))
                sc = pg.ScatterPlotItem(
                    X[:, 0],
                    X[:, 1],
                    size=7,
                    brush=brushes,
                    pen=pg.mkPen(theme.plot_theme().foreground, width=0.6),
                    name="target",
                )
                self._add_scatter(sc)
        elif mode == "curve":
            item.setLabel("bottom", names[0] if names else "x", units="scaled")
            targets = list(getattr(ds, "target_names", []) or [])
            item.setLabel("left", targets[0] if targets else "y", units="scaled")
            y = Y[:, 0] if Y.ndim == 2 else Y
            sc = pg.ScatterPlotItem(
                X[:, 0],
                y,
                size=5,
                brush=pg.mkBrush(theme.series_color(4)),
                pen=None,
                name="data",
            )
            self._add_scatter(sc)
        elif mode == "note":
            item.setLabel("bottom", "")
            item.setLabel("left", "")
            n = ds.n_inputs
            self.note.setText(
                f"The decision surface needs 1 or 2 inputs;\nthis dataset has {n} features.\n"
                "Loss, gradient norms and the other tabs work for any number."
            )
            self.note.setPos(0.5, 0.5)
            item.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        # empty 0…1 axes around the note only look like a broken plot (setLabel shows them)
        for side in ("left", "bottom"):
            item.showAxis(side, mode != "note")
        self._restyle()
        if mode in ("surface", "curve"):
            item.vb.autoRange()
            item.vb.enableAutoRange(enable=True)

    def _add_scatter(self, sc: pg.ScatterPlotItem, class_index: int | None = None) -> None:
        self.getPlotItem().addItem(sc)
        self.scatters.append(sc)
        self._scatter_class.append(class_index)

    def _title_html(self) -> str:
        """The title: what the view shows, with each class (or series) in its colour."""
        ds, mode = self.dataset, self._mode()

        def dot(color: str, label: str, mark: str = "●") -> str:
            return f"<span style='color:{color}'>{mark}</span>&nbsp;{label}"

        if mode == "surface" and getattr(ds, "task", "") == "classification":
            Y = np.asarray(ds.Y)
            k = Y.shape[1] if Y.ndim == 2 and Y.shape[1] > 1 else 2
            labels = list(getattr(ds, "classes", None) or [str(i) for i in range(k)])
            colors = theme.class_colors(k)
            shown = "&nbsp;&nbsp;".join(dot(colors[j], str(labels[j])) for j in range(min(k, 8)))
            more = f"&nbsp;&nbsp;… {k} classes" if k > 8 else ""
            return f"Decision surface&nbsp;&nbsp;{shown}{more}"
        if mode == "surface":
            return "Prediction surface&nbsp;&nbsp;(points: target, colour = value)"
        if mode == "curve":
            return (
                f"Prediction&nbsp;&nbsp;{dot(theme.series_color(4), 'data')}&nbsp;&nbsp;"
                f"{dot(theme.series_color(0), 'prediction', '━')}"
            )
        return "Decision surface"

    @staticmethod
    def _value_brushes(values: np.ndarray, lo: float, hi: float) -> list:
        cmap = pg.colormap.get("CET-D1")
        span = (hi - lo) or 1.0
        rgba = cmap.map(np.clip((values - lo) / span, 0, 1), mode="byte")
        return [pg.mkBrush(*c) for c in rgba]

    def _bounds(self) -> tuple[float, float, float, float]:
        X = np.asarray(self.dataset.X)
        lo, hi = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        pad = 0.08 * np.maximum(hi - lo, 1e-9)
        lo, hi = lo - pad, hi + pad
        if X.shape[1] == 1:
            return float(lo[0]), float(hi[0]), 0.0, 0.0
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def set_network(self, net: Any) -> None:
        """Recompute the prediction with ``net``'s current weights (GUI thread; ~10k forwards)."""
        mode = self._mode()
        if mode not in ("surface", "curve") or net is None:
            return
        sizes = list(getattr(net, "sizes", []))
        if not sizes or sizes[0] != self.dataset.n_inputs:
            self.clear()  # a network for another dataset (transient while switching)
            return
        if self._bounds_cache is None:
            self._bounds_cache = self._bounds()
        x0, x1, y0, y1 = self._bounds_cache
        g = self.grid
        if self._grid_points is None:  # once per dataset
            if mode == "curve":
                self._grid_points = np.linspace(x0, x1, 4 * g)[:, None]
            else:
                gx = np.linspace(x0, x1, g)
                gy = np.linspace(y0, y1, g)
                xx, yy = np.meshgrid(gx, gy, indexing="ij")  # image axis 0 = x
                self._grid_points = np.column_stack([xx.ravel(), yy.ravel()])
                self._rgba = np.empty((g * g, 4), dtype=np.ubyte)
                self._rgba[:, 3] = 255
        with np.errstate(all="ignore"):
            A = np.asarray(net.forward(self._grid_points), dtype=np.float64)
        if mode == "curve":
            self.prediction = A
            self.curve.setData(self._grid_points[:, 0], A[:, 0])
            return
        self.prediction = A.reshape(g, g, -1)
        self._A = A
        self._show_surface()
        self._net_sizes = sizes

    def _show_surface(self) -> None:
        """Colour the last prediction into the RGBA buffer and hand it to the (one) ImageItem."""
        if self._A is None or self._rgba is None or self._bounds_cache is None:
            return
        g = self.grid
        x0, x1, y0, y1 = self._bounds_cache
        first = not self.image.isVisible()
        self.image.setImage(
            self._surface_rgba(self._A, out=self._rgba).reshape(g, g, 4),
            autoLevels=False,
            levels=(0, 255),
        )
        if first:
            self.image.setRect(x0, y0, x1 - x0, y1 - y0)
            self.image.setVisible(True)

    def _surface_rgba(self, A: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        ds = self.dataset
        bg = np.array(QColor(theme.plot_theme().background).getRgb()[:3], dtype=np.float64)
        if getattr(ds, "task", "") == "classification":
            if A.shape[1] == 1:  # one sigmoid unit: P(class 1)
                p = np.clip(A[:, 0], 0, 1)
                P = np.column_stack([1 - p, p])
            else:
                P = np.clip(A, 0, None)
                s = P.sum(axis=1, keepdims=True)
                P = np.where(s > 0, P / np.where(s > 0, s, 1), 1.0 / A.shape[1])
            P = np.nan_to_num(P, nan=1.0 / P.shape[1])
            k = P.shape[1]
            cols = np.array(
                [QColor(c).getRgb()[:3] for c in theme.class_colors(k)], dtype=np.float64
            )
            rgb = P @ cols
            # Confidence → saturation: 1/k (undecided) shows the background, 1 the class colour.
            conf = (P.max(axis=1, keepdims=True) - 1.0 / k) / (1 - 1.0 / k)
            strength = 0.15 + 0.4 * conf
            rgb = bg + strength * (rgb - bg)
        else:
            y = np.nan_to_num(A[:, 0])
            Y = np.asarray(ds.Y)
            lo, hi = float(np.nanmin(Y)), float(np.nanmax(Y))
            cmap = pg.colormap.get("CET-D1")
            rgb = cmap.map(np.clip((y - lo) / ((hi - lo) or 1.0), 0, 1), mode="float")[:, :3] * 255
            rgb = bg + 0.6 * (rgb - bg)
        if out is None:
            out = np.empty((A.shape[0], 4), dtype=np.ubyte)
            out[:, 3] = 255
        np.clip(rgb, 0, 255, out=rgb)
        out[:, :3] = rgb  # unsafe cast float → ubyte, in place
        return out

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - t0

    # --- hover --------------------------------------------------------------------------------
    def _on_mouse_moved(self, pos: QPointF) -> None:
        if self.getPlotItem() is None:  # closed
            return
        vb = self.getPlotItem().vb
        if self.prediction is None or not vb.sceneBoundingRect().contains(pos):
            self._readout.hide()
            return
        p = vb.mapSceneToView(pos)
        self.show_readout_at(p.x(), p.y())

    def leaveEvent(self, event: Any) -> None:  # noqa: N802
        self._readout.hide()
        super().leaveEvent(event)

    def show_readout_at(self, x: float, y: float) -> str:
        ds = self.dataset
        if self.prediction is None or ds is None:
            return ""
        x0, x1, y0, y1 = self._bounds_cache or self._bounds()
        if self._mode() == "curve":
            A = self.prediction
            i = int(
                np.clip(round((x - x0) / ((x1 - x0) or 1) * (A.shape[0] - 1)), 0, A.shape[0] - 1)
            )
            text = f"x = {x:.3g}: prediction {_fmt(float(A[i, 0]))}"
        else:
            g = self.grid
            i = int(np.clip(round((x - x0) / ((x1 - x0) or 1) * (g - 1)), 0, g - 1))
            j = int(np.clip(round((y - y0) / ((y1 - y0) or 1) * (g - 1)), 0, g - 1))
            a = self.prediction[i, j]
            text = f"({x:.3g}, {y:.3g})  "
            if getattr(ds, "task", "") == "classification":
                classes = list(getattr(ds, "classes", None) or [])
                if a.size == 1:
                    c = int(a[0] > 0.5)
                    prob = float(a[0]) if c else 1 - float(a[0])
                else:
                    c = int(np.argmax(a))
                    prob = float(a[c] / (a.sum() or 1))
                name = classes[c] if c < len(classes) else str(c)
                text += f"class <b>{name}</b> (p = {prob:.2f})"
            else:
                text += f"prediction <b>{_fmt(float(a[0]))}</b>"
        self._readout.setText(text)
        self._readout.adjustSize()
        corner = self.mapFromScene(self.getPlotItem().vb.sceneBoundingRect().topLeft())
        self._readout.move(corner.x() + 6, corner.y() + 6)
        self._readout.show()
        return text

    def _restyle(self, *_: Any) -> None:
        if self.getPlotItem() is None:  # closed: pyqtgraph drops the plot item on close()
            return
        t = theme.plot_theme()
        self.getPlotItem().setTitle(self._title_html(), size="10pt")
        theme.style_plot(self)
        self.note.setColor(t.foreground)
        self.curve.setPen(pg.mkPen(theme.series_color(0), width=2.5))
        # the palette's class colours differ between light and dark: recolour points and surface
        ds = self.dataset
        if self.scatters and getattr(ds, "task", "") == "classification":
            k = len(self._scatter_class)
            colors = theme.class_colors(max(k, 2))
            for sc, j in zip(self.scatters, self._scatter_class, strict=True):
                if j is not None:
                    sc.setBrush(pg.mkBrush(colors[j]))
        for sc in self.scatters:
            if self._mode() == "surface":
                sc.setPen(pg.mkPen(t.foreground, width=0.6))
        self._show_surface()
        fg, bg = QColor(t.foreground), QColor(t.background)
        self._readout.setStyleSheet(
            f"QLabel#plotReadout {{ background: rgba({bg.red()},{bg.green()},{bg.blue()},225);"
            f" color: {fg.name()}; border: 1px solid {t.crosshair}; border-radius: 3px;"
            " padding: 3px; font-size: 9pt; }"
        )


class WeightsView(QWidget):
    """Heatmap of one weight matrix W^l (rows: units of layer l, columns: units of layer l−1)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightsView")
        from PySide6.QtWidgets import QComboBox, QVBoxLayout  # noqa: PLC0415

        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightsLayerCombo")
        self.layer_combo.setToolTip("Which W^l to show; shape (n_l, n_{l−1})")
        self.layer_combo.currentIndexChanged.connect(self._show)
        self.plot = pg.PlotWidget(background=theme.plot_theme().background)
        _unshadow_clear(self.plot)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "unit j of layer l−1")
        item.setLabel("left", "unit i of layer l")
        item.vb.invertY(True)  # row 0 at the top, like the matrix
        item.vb.setAspectLocked(False)
        self.image = pg.ImageItem()
        item.addItem(self.image)
        self.cmap = pg.colormap.get("CET-D1")
        self.bar = pg.ColorBarItem(values=(-1, 1), colorMap=self.cmap, interactive=False, width=14)
        self.bar.setImageItem(self.image, insert_in=item)
        self.readout = QLabel("")
        self.readout.setObjectName("weightsReadout")
        self.params: dict[str, np.ndarray] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer_combo, 1)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.readout)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        # a bound method, not a lambda: Qt drops the connection when this widget is deleted
        theme.notifier().themeChanged.connect(self._restyle)
        theme.style_plot(self.plot)

    def _restyle(self, *_: Any) -> None:
        if self.plot.getPlotItem() is None:  # closed: pyqtgraph drops the plot item on close()
            return
        theme.style_plot(self.plot)

    def set_network(self, net: Any) -> None:
        """Copy the weight matrices of ``net`` and redraw the selected one."""
        if net is None:
            self.clear()
            return
        params = net.get_params() if hasattr(net, "get_params") else dict(net.params)
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items() if k[0] == "W"}
        keys = sorted(self.params, key=lambda k: int(k[1:]))
        labels = [f"{k} {self.params[k].shape}" for k in keys]
        current = self.layer_combo.currentData()
        if [self.layer_combo.itemData(i) for i in range(self.layer_combo.count())] != keys:
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            for k, label in zip(keys, labels, strict=True):
                self.layer_combo.addItem(label, k)
            i = self.layer_combo.findData(current)
            self.layer_combo.setCurrentIndex(i if i >= 0 else 0)
            self.layer_combo.blockSignals(False)
        self._show()

    def set_layer(self, key: str) -> None:
        i = self.layer_combo.findData(key)
        if i >= 0:
            self.layer_combo.setCurrentIndex(i)

    def current_layer(self) -> str | None:
        return self.layer_combo.currentData()

    def clear(self) -> None:
        self.params = {}
        self.layer_combo.clear()
        self.image.clear()
        self.readout.setText("")

    def _show(self, *_: Any) -> None:
        key = self.layer_combo.currentData()
        if key not in self.params:
            return
        W = self.params[key]
        m = float(np.nanmax(np.abs(W))) if W.size else 1.0
        m = m if np.isfinite(m) and m > 0 else 1.0
        self.image.setImage(W.T, autoLevels=False)  # image axis 0 = x = column j
        self.image.setRect(-0.5, -0.5, W.shape[1], W.shape[0])  # cell (i, j) centred on its ticks
        self.bar.setLevels((-m, m))
        self.plot.getPlotItem().setTitle(
            f"{key}: shape {W.shape}, max |w| = {m:.3g}", color=theme.plot_theme().foreground
        )

    def _on_mouse_moved(self, pos: QPointF) -> None:
        key = self.layer_combo.currentData()
        if key not in self.params:
            return
        p = self.image.mapFromScene(pos)
        W = self.params[key]
        j, i = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= i < W.shape[0] and 0 <= j < W.shape[1]:
            self.readout.setText(
                f"{key}[{i}, {j}] = {_fmt(float(W[i, j]))}  (unit {i + 1} of layer {key[1:]} "
                f"← unit {j + 1} of layer {int(key[1:]) - 1})"
            )
