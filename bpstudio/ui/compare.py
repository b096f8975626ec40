"""Compare runs: several runs' curves overlaid, one colour per run, and the results of a sweep.

:class:`CompareView` draws, for every run it holds, the loss (train per step, train and
validation per epoch), the accuracy in per cent (classification) or the RMSE / loss (regression)
per epoch, and the per-layer gradient norms, on three plots sharing an x axis switchable between
step, epoch and wall time (training seconds). Each run has a colour and a row in the legend
(checkable: hide / show), named with what differs from the reference run (the first one, or the
run on screen) — the settings diff of :func:`bpstudio.session.diff.diff_text`. The run on screen
(``set_current``) is drawn with a wider pen.

Cheap: per-step series are read through ``BinnedSeries.view(columns=…)`` (at most ~one point per
pixel column whatever the run's length: the plots' bounded ``Envelope``), drawn as the single-run
plots draw them: the mean line over a translucent min–max band in the run's colour (one vertical
segment per drawn point where it covers several steps). A run is redrawn only when its step count
or epoch count moved; a timer redraws one plot per tick (each ≤ 4 times a second) while the view
is visible. What keeps a 12-variant sweep from stalling the window (measured in
``benchmarks/gui_latency.py --sweep``): the per-step curves are bare ``PlotCurveItem`` s
(:class:`PerStepCurve`); each plot's auto-range reads the extents kept of each run's curves
(:class:`_OverlayViewBox`), and is settled before the paint (one paint per redraw); a diverged
run is drawn but does not set the range (its 10¹⁷⁰ flattened the others, and a log axis over
300 decades drew thousands of ticks).

Hover read-out: moving over any of the three plots draws a vertical line at the x under the
cursor on all three and lists, for each visible run (its colour, its name), the value of that
plot's curves there (nearest drawn point, i.e. what is on screen), rate-limited to ``HOVER_RATE``
(the single-run plots' figure). The legend and the results table say how each run ended
(``run_outcome``: "diverged at step 812", …) as soon as it does, while a sweep trains on.

:class:`ResultsTable` lists the runs sorted by the validation metric (accuracy, else RMSE / loss).

:func:`install` puts both into a "Compare" dock of the main window, with Compare… (``actionSweep``)
and the rewind bar (:mod:`bpstudio.ui.rewind`); the window calls it once.

Leaves out: bands under the per-epoch curves (one point per epoch: nothing to merge), a read-out
that interpolates between drawn points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpstudio.session import Run, RunStatus
from bpstudio.session.diff import diff_text
from bpstudio.session.series import Envelope
from bpstudio.ui.plots import (
    HOVER_RATE,
    CountAxis,
    ValueAxis,
    readout_stylesheet,
    settle_view,
)

X_MODES = ("step", "epoch", "time")
X_LABELS = {"step": "step", "epoch": "epoch", "time": "training time (s)"}
REFRESH_MS = 83  # one plot per tick: each of the three ≤ 4 times a second
SYMBOL_LIMIT = 40  # per-epoch curves with more epochs than this are drawn without markers
COLUMNS = 600  # points per per-step curve at most
PARTS = ("loss", "metric", "grad")  # the plots; the timer redraws one per tick
LOG_Y_PARTS = frozenset({"loss", "grad"})  # the plots with a log-y axis
LAYER_STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
)


BAND_ALPHA = 60  # the min–max band: translucent, so that 12 runs' bands stay readable


def band_xy(x: np.ndarray, env: Envelope) -> tuple[np.ndarray, np.ndarray]:
    """The min–max band of an envelope as vertical segments (``connect="pairs"``), one per drawn
    point that covers a spread of values, as ``plots.BufferedPlot`` draws it."""
    spread = np.isfinite(env.ymin) & np.isfinite(env.ymax) & (env.ymax > env.ymin)
    if not spread.any():
        return np.empty(0), np.empty(0)
    return np.repeat(x[spread], 2), np.column_stack([env.ymin[spread], env.ymax[spread]]).ravel()


def log10_positive(y: np.ndarray) -> np.ndarray:
    """log₁₀ y where y > 0, NaN elsewhere: what a log-y axis draws."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(y > 0, y, np.nan))


def data_extent(
    pairs: list[tuple[np.ndarray, np.ndarray]], log_y: bool
) -> list[list[float] | None] | None:
    """[[x min, x max], [y min, y max]] over (x, y) arrays as a plot draws them: finite points
    only, y as log10 of the positive values on a log axis; None for an axis with no point."""
    lo = [np.inf, np.inf]
    hi = [-np.inf, -np.inf]
    for x, y in pairs:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if log_y:
            y = log10_positive(y)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            continue
        for ax, v in ((0, x[ok]), (1, y[ok])):
            lo[ax] = min(lo[ax], float(v.min()))
            hi[ax] = max(hi[ax], float(v.max()))
    if not np.isfinite(lo[0]):
        return None
    return [[lo[0], hi[0]], [lo[1], hi[1]]]


class PerStepCurve(pg.PlotCurveItem):
    """A per-step curve of the overlay (a run's mean line or min–max band), drawn by a bare
    ``PlotCurveItem``: its ``setData`` costs ~8 µs, against ~50 µs through a ``PlotDataItem``
    (measured, 100 points on a log-y plot), and a redraw of 12 runs sets 8 of these per run.
    What it takes from ``PlotDataItem``: on a log-y plot it draws log₁₀ y itself (its plot calls
    ``setLogMode``), it keeps the data as given (``getOriginalDataset``), and ``curve`` is itself
    (tooltips)."""

    def __init__(self, **opts: Any) -> None:
        self._log_y = False
        self._data: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))
        self._opts: dict[str, Any] = {}
        super().__init__(**opts)
        self.curve = self

    def setLogMode(self, x: bool | None = None, y: bool | None = None) -> None:  # noqa: N802
        if y is not None and bool(y) != self._log_y:
            self._log_y = bool(y)
            self._draw()

    def setData(self, *args: Any, **opts: Any) -> None:  # noqa: N802 - pyqtgraph API
        if len(args) != 2:  # pyqtgraph's own calls (construction): as given
            super().setData(*args, **opts)
            return
        self._data = (np.asarray(args[0], dtype=float), np.asarray(args[1], dtype=float))
        self._opts = opts
        self._draw()

    def _draw(self) -> None:
        x, y = self._data
        super().setData(x, log10_positive(y) if self._log_y else y, **self._opts)

    def getOriginalDataset(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
        return self._data


class _OverlayViewBox(pg.ViewBox):
    """A view box whose auto-range reads the extents the Compare view keeps of each run's
    curves (``bounds_of``), not every item's ``dataBounds``: pyqtgraph recomputes those over
    each curve's data after every view change, twice a redraw, 2.5 ms per plot of 12 runs each
    time. Zoom, pan, the "A" button and View All behave as in any pyqtgraph plot."""

    bounds_of: Any = None  # () -> [[x0, x1] | None, [y0, y1] | None]

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802, N803
        if items is None and self.bounds_of is not None:
            return self.bounds_of()
        return super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)


def run_outcome(run: Run) -> str:
    """How a run stands, in words: "running", "finished", "diverged at step 812", …"""
    reason = run.stop_reason
    if run.status != RunStatus.ENDED or reason is None:
        return str(run.status).replace("_", " ")
    if reason == "diverged":
        return f"diverged at step {run.steps}"
    if reason == "early_stopped":
        return f"early stopped at epoch {run.epochs}"
    return str(reason).replace("_", " ")


def run_color(i: int) -> QColor:
    """A distinct colour per run (12 hues around the wheel, then again darker)."""
    hue = (i * 7 % 12) / 12.0
    return QColor.fromHsvF(hue, 0.75, 0.85 if i < 12 else 0.6)


def step_map(run: Run, mode: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, x) anchors to map a step to the x axis of ``mode`` (None: x is the step)."""
    if mode == "step":
        return None
    h = run.history
    steps = h.epochs["step"].y
    xs = h.epoch_numbers if mode == "epoch" else h.epochs["seconds"].y
    first = 0.0
    if run.parent is not None and len(steps):  # a branch: its curves start at the parent's step
        first = float(steps[0]) - (float(steps[1]) - float(steps[0]) if len(steps) > 1 else 1)
    s = np.concatenate([[first], steps, [float(run.steps)]])
    x0 = xs[0] - 1 if (mode == "epoch" and len(xs)) else 0.0
    x = np.concatenate([[x0], xs, [float(run.epochs if mode == "epoch" else run.seconds)]])
    ok = np.isfinite(s) & np.isfinite(x)
    s, x = s[ok], x[ok]
    order = np.argsort(s, kind="stable")
    return s[order], x[order]


def to_x(steps: np.ndarray, anchors: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    if anchors is None:
        return np.asarray(steps, dtype=np.float64)
    s, x = anchors
    if s.size < 2:
        return np.asarray(steps, dtype=np.float64)
    return np.interp(steps, s, x)


class _RunCurves:
    """The curves of one run on the three plots."""

    def __init__(self, view: CompareView, run: Run, color: QColor) -> None:
        self.run, self.color = run, color
        self.bounded = True  # its curves count for the plots' auto-range (not if it diverged)
        # part → [[x min, x max], [y min, y max]] of what it drew, in view units (log10 of y on a
        # log plot), or None: what the plots' auto-range reads (``_OverlayViewBox``)
        self.extent: dict[str, list[list[float] | None] | None] = {}
        self.items: list[pg.PlotDataItem] = []
        self.grad: dict[str, pg.PlotDataItem] = {}
        self.keys: dict[str, tuple] = {}  # part → what it was drawn from
        mk = self._item
        self.bands: list[pg.PlotDataItem] = []
        self.grad_bands: dict[str, pg.PlotDataItem] = {}
        self.loss_band = self._band(view.loss_plot)
        self.loss = mk(view.loss_plot, Qt.PenStyle.SolidLine, fast=True)
        self.train_epoch = mk(view.loss_plot, Qt.PenStyle.SolidLine, symbol="o")
        self.val = mk(view.loss_plot, Qt.PenStyle.DashLine, symbol="t")
        self.metric = mk(view.metric_plot, Qt.PenStyle.SolidLine, symbol="o")
        self.val_metric = mk(view.metric_plot, Qt.PenStyle.DashLine, symbol="t")
        self.view = view
        self.width = 1.5
        self.tooltip = run.name

    def _item(
        self, plot: pg.PlotWidget, style: Any, symbol: str | None = None, fast: bool = False
    ) -> Any:
        """A curve of this run: a per-step one (``fast``) as a ``PerStepCurve``, a per-epoch one
        (markers while there are few epochs) as a ``PlotDataItem``."""
        item = PerStepCurve() if fast else pg.PlotDataItem()
        item.symbol_kind = symbol  # type: ignore[attr-defined]
        if symbol:
            item.setSymbol(symbol)
            item.setSymbolSize(5)
        item.style = style  # type: ignore[attr-defined]
        plot.addItem(item)
        self.items.append(item)
        return item

    def _band(self, plot: pg.PlotWidget) -> pg.PlotDataItem:
        """A min–max band under a per-step curve: thin translucent segments, no antialiasing."""
        band = PerStepCurve(antialias=False, connect="pairs")
        shade = QColor(self.color)
        shade.setAlpha(BAND_ALPHA)
        band.setPen(pg.mkPen(shade, width=1, cosmetic=True))
        band.setZValue(-5)
        plot.addItem(band)
        self.bands.append(band)
        return band

    def set_style(self, width: float) -> None:
        self.width = width
        for item in self.items:
            item.setPen(pg.mkPen(self.color, width=width, style=item.style, cosmetic=True))
            if item.symbol_kind:
                item.setSymbolBrush(self.color)
                item.setSymbolPen(self.color)

    def set_tooltip(self, text: str) -> None:
        """Hovering a curve of this run names it and what differs from the reference."""
        self.tooltip = text
        for item in self.items:
            item.curve.setToolTip(text)

    def set_visible(self, on: bool) -> None:
        for item in (*self.items, *self.bands):
            item.setVisible(on)

    def remove(self) -> None:
        for item in (*self.items, *self.bands):
            vb = item.getViewBox()
            if vb is not None:
                vb.removeItem(item)
        self.items.clear()
        self.bands.clear()

    def update(self, mode: str, columns: int, parts: tuple[str, ...] = PARTS) -> bool:
        """Redraw ``parts`` (of "loss", "metric", "grad") if the run moved since they were."""
        run, h = self.run, self.run.history
        key = (run.steps, len(h), len(h.loss), mode, columns)
        todo = [p for p in parts if self.keys.get(p) != key]
        if not todo:
            return False
        for p in todo:
            self.keys[p] = key
        anchors = step_map(run, mode)
        drawn: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {p: [] for p in todo}
        if "loss" in todo:
            env = h.loss.view(columns=columns)
            x = to_x(env.x, anchors)
            self.loss.setData(x, env.y)
            self.loss_band.setData(*band_xy(x, env), connect="pairs")
            drawn["loss"] += [(x, env.y), (x, env.ymin), (x, env.ymax)]
        epochs, steps = h.epoch_numbers, h.epochs["step"].y
        symbols = len(h) <= SYMBOL_LIMIT

        def epoch_x(e: np.ndarray) -> np.ndarray:  # epoch numbers → the x axis
            if mode == "epoch" or not len(epochs):
                return e
            return to_x(np.interp(e, epochs, steps), anchors)

        if run.is_classification:
            pairs = (
                (self.metric, "train_accuracy", 100.0),
                (self.val_metric, "val_accuracy", 100.0),
            )
        else:
            pairs = ((self.metric, "train_rmse", 1.0), (self.val_metric, "val_rmse", 1.0))
        items = []
        if "loss" in todo:
            items += [
                (self.train_epoch, "train_loss", 1.0, "loss"),
                (self.val, "val_loss", 1.0, "loss"),
            ]
        if "metric" in todo:
            items += [(item, name, scale, "metric") for item, name, scale in pairs]
        for item, name, scale, part in items:
            env = h.epochs[name].view(columns=columns) if name in h.epochs else None
            if env is None or not len(env.x):
                item.setData([], [])
                continue
            ok = np.isfinite(env.y)
            item.setSymbol(item.symbol_kind if symbols else None)
            x, y = epoch_x(env.x[ok]), env.y[ok] * scale
            item.setData(x, y)
            drawn[part].append((x, y))
        if "grad" not in todo:
            self._note_extents(drawn)
            return True
        for i, (name, series) in enumerate(
            sorted(
                ((k, v) for k, v in h.grad_norms.items() if k.startswith("W")),
                key=lambda kv: int(kv[0][1:]),
            )
        ):
            item = self.grad.get(name)
            if item is None:
                band = self.grad_bands[name] = self._band(self.view.grad_plot)
                item = self._item(
                    self.view.grad_plot, LAYER_STYLES[i % len(LAYER_STYLES)], fast=True
                )
                self.grad[name] = item
                item.curve.setToolTip(f"{self.tooltip} · {name}")
                item.setPen(pg.mkPen(self.color, width=self.width, style=item.style, cosmetic=True))
                item.setVisible(self.items[0].isVisible())
                band.setVisible(self.items[0].isVisible())
            env = series.view(columns=columns)
            x = to_x(env.x, anchors)
            item.setData(x, env.y)
            self.grad_bands[name].setData(*band_xy(x, env), connect="pairs")
            drawn["grad"] += [(x, env.y), (x, env.ymin), (x, env.ymax)]
        self._note_extents(drawn)
        return True

    def _note_extents(self, drawn: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> None:
        for part, pairs in drawn.items():
            self.extent[part] = data_extent(pairs, log_y=part in LOG_Y_PARTS)


class CompareView(QWidget):
    """Several runs overlaid on loss, accuracy / RMSE and gradient-norm plots (see the module)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.mode = "step"
        self.curves: dict[int, _RunCurves] = {}
        self.order: list[Run] = []
        self.current: Run | None = None
        self.reference: Run | None = None
        self.loss_plot = self._plot("loss", "Loss")
        self.metric_plot = self._plot("metric", "Accuracy (%)")
        self.grad_plot = self._plot("grad", "Gradient norm ‖∂J/∂Wˡ‖")
        # One x range for the three when the user pans or zooms one. Not pyqtgraph's setXLink:
        # with it every new point's auto-range of one plot repainted the other two, so each
        # redraw cost three paints (measured in a 12-variant sweep: 41 paints a second of ~10
        # ms each, 43 % of the window's thread, and timer lateness p95 57 ms).
        for plot in (self.loss_plot, self.metric_plot, self.grad_plot):
            plot.getPlotItem().vb.sigRangeChangedManually.connect(
                lambda *_, src=plot: self._share_x(src)
            )
        self.x_combo = QComboBox()
        self.x_combo.setObjectName("compareXMode")
        for m in X_MODES:
            self.x_combo.addItem(X_LABELS[m], m)
        self.x_combo.currentIndexChanged.connect(
            lambda i: self.set_x_mode(self.x_combo.itemData(i))
        )
        self.runs_list = QListWidget()
        self.runs_list.setObjectName("compareRuns")
        self.runs_list.setToolTip("One colour per run; untick a run to hide its curves")
        self.runs_list.itemChanged.connect(self._on_item_changed)
        self.runs_list.setMaximumWidth(360)
        self.hint = QLabel("Select two or more runs in the Runs panel to compare them")
        self.hint.setObjectName("compareHint")
        self.hint.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("x axis:"))
        top.addWidget(self.x_combo)
        top.addWidget(self.hint, 1)
        self.side_button = QPushButton("Side by side")
        self.side_button.setObjectName("sideBySideButton")
        self.side_button.setToolTip(
            "The decision surface and the diagram of the first two runs next to each other"
        )
        top.addWidget(self.side_button)
        plots = QSplitter(Qt.Orientation.Horizontal)
        for p in (self.loss_plot, self.metric_plot, self.grad_plot):
            plots.addWidget(p)
        plots.addWidget(self.runs_list)
        self.runs_list.setMinimumWidth(170)
        plots.setSizes([300, 300, 300, 220])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(plots, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self._next_part = 0
        self._plots = {"loss": self.loss_plot, "metric": self.metric_plot, "grad": self.grad_plot}
        self._vlines: dict[str, pg.InfiniteLine] = {}
        self._readouts: dict[str, QLabel] = {}
        self._proxies = []
        for part, plot in self._plots.items():
            pen = pg.mkPen((170, 170, 170, 220), width=1, style=Qt.PenStyle.DashLine)
            line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
            line.setVisible(False)
            line.setZValue(50)
            plot.addItem(line, ignoreBounds=True)
            self._vlines[part] = line
            label = QLabel(self)  # the view's child: a long read-out may cover the next plot
            label.setObjectName("plotReadout")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setStyleSheet(readout_stylesheet())
            label.hide()
            self._readouts[part] = label
            self._proxies.append(
                pg.SignalProxy(
                    plot.scene().sigMouseMoved,
                    rateLimit=HOVER_RATE,
                    slot=lambda args, part=part: self._on_mouse(part, args[0]),
                )
            )

    def _plot(self, part: str, title: str) -> pg.PlotWidget:
        """The plot of ``part`` ("loss": compareLossPlot, …), log-y if in ``LOG_Y_PARTS``."""
        vb = _OverlayViewBox()
        vb.bounds_of = lambda: self.bounds(part)
        p = pg.PlotWidget(
            viewBox=vb, axisItems={"left": ValueAxis("left"), "bottom": CountAxis("bottom")}
        )
        p.setObjectName(f"compare{part.title()}Plot")
        p.setTitle(title, size="9pt")
        p.showGrid(x=True, y=True, alpha=0.25)
        p.setLogMode(y=part in LOG_Y_PARTS)
        p.setLabel("bottom", X_LABELS["step"])
        p.setMinimumWidth(200)
        return p

    # ------------------------------------------------------------------ runs
    def runs(self) -> list[Run]:
        return list(self.order)

    def visible_runs(self) -> list[Run]:
        return [r for r in self.order if self.curves[r.id].items[0].isVisible()]

    def set_runs(self, runs: list[Run], current: Run | None = None) -> None:
        """Overlay ``runs`` (in this order: the first is the diff's reference)."""
        runs = list(dict.fromkeys(runs))
        for rid in [rid for rid in self.curves if rid not in {r.id for r in runs}]:
            self.curves.pop(rid).remove()
        for i, run in enumerate(runs):
            c = self.curves.get(run.id)
            if c is None or c.run is not run:
                if c is not None:
                    c.remove()
                self.curves[run.id] = _RunCurves(self, run, run_color(i))
        self.order = runs
        self.reference = runs[0] if runs else None
        any_class = any(r.is_classification for r in runs)
        self.metric_plot.setTitle("Accuracy (%)" if any_class or not runs else "RMSE", size="9pt")
        self.hint.setVisible(len(runs) < 2)
        for run in runs:
            self.curves[run.id].set_tooltip(self.label(run))
        self._rebuild_list()
        self.set_current(current if current in runs else self.current)
        self.refresh(force=True)

    def label(self, run: Run) -> str:
        """The legend's name of ``run``: its name and what differs from the reference."""
        ref = self.reference
        if ref is None or run is ref:
            return run.name
        return f"{run.name}: {diff_text(ref, run)}"

    def _rebuild_list(self) -> None:
        self.runs_list.blockSignals(True)
        try:
            self.runs_list.clear()
            for run in self.order:
                c = self.curves[run.id]
                item = QListWidgetItem(self._legend_text(run))
                item.setData(Qt.ItemDataRole.UserRole, run.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if c.items[0].isVisible() else Qt.CheckState.Unchecked
                )
                item.setForeground(c.color)
                ref = self.reference
                item.setToolTip(
                    f"{run.name} ({run.network_label})"
                    + (
                        ""
                        if ref is None or run is ref
                        else f"\nvs {ref.name}: {diff_text(ref, run)}"
                    )
                )
                self.runs_list.addItem(item)
        finally:
            self.runs_list.blockSignals(False)

    def _legend_text(self, run: Run) -> str:
        """The legend's row: the run's label and, once it ended, how (``run_outcome``)."""
        ended = run.status == RunStatus.ENDED and run.stop_reason is not None
        if not ended:
            return self.label(run)
        label = self.label(run)  # the outcome next to the name: a narrow legend still shows it
        return f"{run.name} [{run_outcome(run)}]{label[len(run.name) :]}"

    def update_outcome(self, run: Run) -> None:
        """A run ended (or started again): say so in its legend row."""
        for i in range(self.runs_list.count()):
            item = self.runs_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == run.id:
                text = self._legend_text(run)
                if item.text() != text:
                    self.runs_list.blockSignals(True)
                    item.setText(text)
                    self.runs_list.blockSignals(False)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        rid = item.data(Qt.ItemDataRole.UserRole)
        if rid in self.curves:
            self.set_run_visible(self.curves[rid].run, item.checkState() == Qt.CheckState.Checked)

    def set_run_visible(self, run: Run, on: bool) -> None:
        c = self.curves.get(run.id)
        if c is None:
            return
        c.set_visible(on)
        self._ranges_changed()
        for i in range(self.runs_list.count()):
            item = self.runs_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == run.id:
                self.runs_list.blockSignals(True)
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                self.runs_list.blockSignals(False)

    def set_current(self, run: Run | None) -> None:
        """The run on screen is drawn wider (and on top)."""
        self.current = run
        for rid, c in self.curves.items():
            on = run is not None and rid == run.id
            c.set_style(3.0 if on else 1.5)
            for item in c.items:
                item.setZValue(10 if on else 0)
        for i in range(self.runs_list.count()):
            item = self.runs_list.item(i)
            f = item.font()
            f.setBold(run is not None and item.data(Qt.ItemDataRole.UserRole) == run.id)
            item.setFont(f)

    def set_x_mode(self, mode: str) -> None:
        if mode not in X_MODES:
            raise ValueError(f"x mode is one of {X_MODES}, got {mode!r}")
        self.mode = mode
        i = X_MODES.index(mode)
        if self.x_combo.currentIndex() != i:
            self.x_combo.setCurrentIndex(i)
        for p in (self.loss_plot, self.metric_plot, self.grad_plot):
            p.setLabel("bottom", X_LABELS[mode])
        self.refresh(force=True)
        for p in (self.loss_plot, self.metric_plot, self.grad_plot):
            p.enableAutoRange()

    def _share_x(self, source: Any) -> None:
        """The user moved ``source``'s x range: the other two plots show the same range."""
        lo, hi = source.getPlotItem().vb.viewRange()[0]
        for p in (self.loss_plot, self.metric_plot, self.grad_plot):
            if p is not source:
                p.getPlotItem().vb.setXRange(lo, hi, padding=0)

    # ------------------------------------------------------------------ hover read-out
    def _on_mouse(self, part: str, pos: Any) -> None:
        vb = self._plots[part].getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hide_readout()
            return
        self.show_readout_at(part, vb.mapSceneToView(pos).x())

    def _curves_of(self, c: _RunCurves, part: str) -> list[tuple[str, pg.PlotDataItem]]:
        if part == "loss":
            return [("", c.loss), ("val", c.val)]
        if part == "metric":
            return [("", c.metric), ("val", c.val_metric)]
        return sorted(c.grad.items(), key=lambda kv: int(kv[0][1:]))

    def readout_lines(self, part: str, x: float) -> list[str]:
        """For each visible run: its colour, name and the value of ``part``'s curves at x (the
        nearest drawn point; runs whose curves do not reach x are left out)."""
        lines = []
        for run in self.order:
            c = self.curves[run.id]
            if not c.items[0].isVisible():
                continue
            values = []
            for name, item in self._curves_of(c, part):
                xs, ys = item.getOriginalDataset()
                if xs is None or not len(xs) or not xs[0] <= x <= xs[-1]:
                    continue
                i = int(np.searchsorted(xs, x))
                if i == len(xs) or (i > 0 and x - xs[i - 1] < xs[i] - x):
                    i -= 1
                text = f"<b>{float(ys[i]):.4g}</b>"
                values.append(f"{name} {text}" if name else text)
            if values:
                lines.append(
                    f"<span style='color:{c.color.name()}'>■</span> {run.name}: "
                    + " · ".join(values)
                )
        return lines

    def _x_text(self, x: float) -> str:
        """The x under the cursor as the read-out names it: a whole step or epoch ("157,812"),
        seconds to 3 significant digits."""
        if self.mode == "time":
            return f"{x:.3g}"
        return f"{round(x):,}"

    def show_readout_at(self, part: str, x: float) -> str:
        """The vertical line at x on every plot and, on ``part``, the read-out; returns its text
        (empty, and nothing shown, when no visible run has a value there)."""
        lines = self.readout_lines(part, x)
        if not lines:
            self.hide_readout()
            return ""
        for line in self._vlines.values():
            line.setPos(x)
            line.setVisible(True)
        for other, label in self._readouts.items():
            if other != part:
                label.hide()
        label = self._readouts[part]
        text = "<br>".join(
            [f"<span style='color:gray'>{X_LABELS[self.mode]} {self._x_text(x)}</span>"] + lines
        )
        label.setText(text)
        label.adjustSize()
        plot = self._plots[part]
        rect = plot.getPlotItem().vb.sceneBoundingRect()
        corner = plot.mapTo(self, plot.mapFromScene(rect.topLeft()))
        x0 = min(int(corner.x()) + 4, max(0, self.width() - label.width() - 2))
        label.move(x0, int(corner.y()) + 4)
        label.show()
        label.raise_()
        return text

    def hide_readout(self) -> None:
        for line in self._vlines.values():
            line.setVisible(False)
        for label in self._readouts.values():
            label.hide()

    def leaveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.hide_readout()
        super().leaveEvent(event)

    # ------------------------------------------------------------------ drawing
    def _tick(self) -> None:
        """One plot per tick, so that one redraw and paint stays short (12 runs: ~10 ms)."""
        part = PARTS[self._next_part % len(PARTS)]
        self._next_part += 1
        self.refresh(parts=(part,))

    def bounds(self, part: str) -> list[list[float] | None]:
        """The data range of ``part``'s plot over the visible runs, in view units: what its
        auto-range fits. A diverged run's curves are drawn but left out (its loss of 10¹⁷⁰
        flattened every other run into the bottom row, and its 300 decades made an axis of
        2,773 ticks), unless every visible run diverged."""
        shown = [self.curves[r.id] for r in self.visible_runs()]
        counted = [c for c in shown if c.bounded] or shown
        out: list[list[float] | None] = [None, None]
        for c in counted:
            e = c.extent.get(part)
            if e is None:
                continue
            for ax in (0, 1):
                cur, new = out[ax], e[ax]
                if new is not None:
                    out[ax] = (
                        list(new) if cur is None else [min(cur[0], new[0]), max(cur[1], new[1])]
                    )
        return out

    def _ranges_changed(self) -> None:
        """Which runs count for the ranges changed: fit again (where auto-range is on)."""
        for plot in self._plots.values():
            plot.getPlotItem().vb.queueUpdateAutoRange()

    def refresh(self, force: bool = False, parts: tuple[str, ...] = PARTS) -> int:
        """Redraw ``parts`` of the runs whose history moved; returns how many runs were."""
        if not force and not self.isVisible():
            return 0
        columns = max(50, min(COLUMNS, self.loss_plot.width() // 2))
        n = 0
        for run in self.order:
            c = self.curves[run.id]
            bounded = run.stop_reason != "diverged"
            if bounded != c.bounded:
                c.bounded = bounded
                self._ranges_changed()
            if force:
                c.keys.clear()
            n += c.update(self.mode, columns, parts)
        if n:
            for p in parts:
                settle_view(self._plots[p].getPlotItem().vb)
        return n

    def curve_count(self, plot: str = "loss") -> int:
        """Curves with data on ``plot`` (loss: the per-step train loss, one per visible run)."""
        if plot == "loss":
            items = [c.loss for c in self.curves.values()]
        elif plot == "metric":
            items = [c.metric for c in self.curves.values()]
        else:
            items = [i for c in self.curves.values() for i in c.grad.values()]
        return sum(1 for i in items if i.isVisible() and i.xData is not None and len(i.xData))

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.timer.start()
        self.refresh(force=True)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.timer.stop()


class ResultsTable(QTableWidget):
    """The compared runs sorted by the validation metric (best first)."""

    HEADERS = ("#", "Run", "Val acc / RMSE", "Val loss", "Train loss", "Epochs", "Status")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setObjectName("sweepResults")
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Fitted once per update, not per cell: with ResizeToContents each changed cell re-measured
        # every row (12 runs, once a second: a 30 ms stall of the window while a sweep trains).
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        self.ranked: list[Run] = []

    def set_runs(self, runs: list[Run]) -> None:
        from bpstudio.ui.sweep import validation_metric

        ranked = sorted(runs, key=lambda r: validation_metric(r)[0])
        self.ranked = ranked
        refit = self.rowCount() != len(ranked)
        self.setRowCount(len(ranked))
        for i, run in enumerate(ranked):
            vl, tl = run.final("val_loss"), run.final("train_loss")
            cells = (
                str(i + 1),
                run.name,
                validation_metric(run)[1],
                "–" if vl is None else f"{vl:.4g}",
                "–" if tl is None else f"{tl:.4g}",
                str(run.epochs),
                run_outcome(run),
            )
            for j, text in enumerate(cells):
                item = self.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(i, j, item)
                if item.text() != text:
                    refit = refit or len(item.text()) != len(text)
                    item.setText(text)
        if refit:  # a text of a new length: fit the columns to their contents
            self.resizeColumnsToContents()


class ComparePanel(QWidget):
    """The dock's contents: the overlay and, beside it, the results table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = CompareView()
        self.results = ResultsTable()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.results)
        split.setSizes([860, 460])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self.results_timer = QTimer(self)  # the ranking moves slowly: once a second
        self.results_timer.setInterval(1000)
        self.results_timer.timeout.connect(lambda: self.results.set_runs(self.view.runs()))

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.results_timer.start()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.results_timer.stop()

    def set_runs(self, runs: list[Run], current: Run | None = None) -> None:
        self.view.set_runs(runs, current)
        self.results.set_runs(runs)


class Comparison:
    """The window's comparison: the Compare dock, Compare… (sweep), the diff in the runs panel,
    the rewind bar. Built by :func:`install`."""

    def __init__(self, window: Any) -> None:
        from bpstudio.ui.rewind import RewindBar
        from bpstudio.ui.sweep import SweepRunner

        self.w = window
        self.panel = ComparePanel()
        self.view = self.panel.view
        self.dock = QDockWidget("Compare", window)
        self.dock.setObjectName("compareDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        window.splitDockWidget(window.runs_dock, self.dock, Qt.Orientation.Horizontal)
        self.dock.hide()
        self.dock_action = self.dock.toggleViewAction()
        self.dock_action.setText("&Compare panel")
        self.dock_action.setObjectName("actionCompareDock")

        self.diff_label = QLabel()
        self.diff_label.setObjectName("runsDiff")
        self.diff_label.setWordWrap(True)
        self.diff_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diff_label.hide()
        window.runs_panel.layout().addWidget(self.diff_label)
        window.runs_panel.selectionChanged.connect(self.on_runs_selected)
        window.session.connect(self._on_session_event)

        self.sweeper = SweepRunner(window)
        self.sweeper.started.connect(self._on_sweep_started)
        results = self.panel.results
        results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        results.itemSelectionChanged.connect(
            lambda: self.sweeper.on_variant_selected(
                [results.ranked[i.row()] for i in results.selectionModel().selectedRows()]
            )
        )
        self.sweeper.ended.connect(self._on_sweep_ended)
        self.action_sweep = QAction("&Compare… (sweep a setting)", window)
        self.action_sweep.setObjectName("actionSweep")
        self.action_sweep.setToolTip(
            "Train 2–12 variants that differ in one setting together, and compare them"
        )
        self.action_sweep.triggered.connect(self.ask_sweep)
        window.runStateChanged.connect(lambda s: self.action_sweep.setEnabled(s == "idle"))
        from PySide6.QtWidgets import QMenu

        menu = window.findChild(QMenu, "trainMenu")
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.action_sweep)
        view_menu = window.findChild(QMenu, "viewMenu")
        if view_menu is not None:
            view_menu.addAction(self.dock_action)
        window.addAction(self.action_sweep)
        from PySide6.QtWidgets import QToolBar

        toolbar = window.findChild(QToolBar, "mainToolBar")
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(self.action_sweep)

        self.rewind = RewindBar(window)
        self.side: Any = None
        self.view.side_button.clicked.connect(lambda: self.show_side_by_side())

    def show_side_by_side(self, runs: list[Run] | None = None) -> Any:
        """The first two compared runs (or ``runs``) side by side, in a window of their own."""
        from bpstudio.ui.side_by_side import SideBySide

        runs = list(runs if runs is not None else self.view.visible_runs())
        if len(runs) < 2:
            self.w.statusBar().showMessage("Select two runs to see them side by side", 5000)
            return None
        if self.side is None:
            self.side = SideBySide(self.w)
        self.side.set_runs(runs[0], runs[1])
        self.side.show()
        self.side.raise_()
        return self.side

    # ------------------------------------------------------------------ selection and diff
    def on_runs_selected(self, runs: list[Run]) -> None:
        self.sweeper.on_variant_selected(runs)  # during a sweep: that variant on the main plots
        if len(runs) >= 2:
            self.panel.set_runs(runs, self.w.session.current_run)
            self.show_dock()
        if len(runs) == 2:
            self.diff_label.setText(f"{runs[0].name} → {runs[1].name}: {diff_text(*runs)}")
            self.diff_label.show()
        else:
            self.diff_label.hide()

    def _on_session_event(self, event: Any) -> None:
        from bpstudio.session import SessionEventKind

        if event.kind == SessionEventKind.CURRENT_RUN:
            self.view.set_current(self.w.session.current_run)
        elif event.kind in (SessionEventKind.RUN_FINISHED, SessionEventKind.RUN_STATUS):
            run = self.view.curves.get(event.run_id)
            if run is not None:  # an ended variant: legend and results at once
                self.view.update_outcome(run.run)
                self.panel.results.set_runs(self.view.runs())
        elif event.kind in (SessionEventKind.RUN_REMOVED, SessionEventKind.LOADED):
            alive = [r for r in self.view.runs() if r in self.w.session.runs]
            if alive != self.view.runs():
                self.panel.set_runs(alive, self.w.session.current_run)

    # ------------------------------------------------------------------ sweeps
    def ask_sweep(self) -> None:
        from bpstudio.ui import dialogs

        w = self.w
        if w.runs.busy() or w.network is None:
            return
        epochs = int(w.training_panel.fit_config().get("epochs") or 20)
        spec = dialogs.ask_sweep(w, w.network.config(), epochs)
        if spec is not None:
            self.sweeper.start(spec)

    def _on_sweep_started(self, sweep: Any) -> None:
        self.panel.set_runs(sweep.runs, None)
        self.show_dock()

    def show_dock(self) -> None:
        """Show the Compare dock at a size its three plots can be read at."""
        w, was = self.w, self.dock.isVisible()
        self.dock.show()
        self.dock.raise_()
        if not was and not self.dock.isFloating():
            title = getattr(w, "runs_dock_title", None)
            if title is not None and w.runs_dock.isVisible() and not w.runs_dock.isFloating():
                # The two share the bottom row, and a collapsed Runs dock (a short screen) holds
                # that row to its title's height: the plots got 70 px.
                title.set_collapsed(False)
            w.resizeDocks([self.dock], [max(260, int(0.42 * w.height()))], Qt.Orientation.Vertical)
            if w.runs_dock.isVisible():
                w.resizeDocks(
                    [w.runs_dock, self.dock],
                    [int(0.28 * w.width()), int(0.72 * w.width())],
                    Qt.Orientation.Horizontal,
                )

    def _on_sweep_ended(self, sweep: Any) -> None:
        self.view.hide_readout()  # its values were of the curves before this redraw
        self.view.refresh(force=True)
        self.panel.results.set_runs(sweep.runs)


def install(window: Any) -> Comparison:
    """Add the comparison (dock, Compare…, diff, rewind) to ``window``."""
    window.comparison = Comparison(window)
    return window.comparison


__all__ = [
    "CompareView",
    "Comparison",
    "ResultsTable",
    "band_xy",
    "install",
    "run_color",
    "run_outcome",
    "step_map",
]
