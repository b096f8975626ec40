"""The main window: dataset, network and training controls on the left, live plots in the centre.

``MainWindow`` wires the widgets together and owns one run at a time. Training happens in a child
process driven by a worker thread (:mod:`bpstudio.ui.worker`); the window only

- builds a :class:`~bpstudio.engine.remote.RunRequest` from the current dataset, network and
  training settings when Train / Step / Step epoch is pressed,
- appends each ``Progress`` message (≤ 20 a second) to the plots' buffers and repaints them from a
  ≤ 30 Hz ``QTimer`` only when new data arrived,
- copies the parameter snapshots (≤ 5 Hz) into its own :class:`~bpstudio.engine.Network` and
  hands it to the weight-driven view on screen (decision surface, network diagram, backprop
  trace, weight heatmaps; the hidden ones catch up when their tab is opened), and the final
  weights when the run ends (finished / stopped / early-stopped / diverged — the reason goes to
  the status bar and a notice above the plots).

Layout: the side column scrolls (dataset, network, training settings) above a fixed bar with
Train / Step / Step epoch / Stop / Reset; the loss and gradient-norm plots are always visible at
the top right, the other views are tabs below them (the selected tab persists).

A second run continues from the current weights, and its steps continue the curves; Reset weights
re-initialises the network and clears the plots. Closing the window stops the child and waits
for the worker thread. Window geometry, splitters, the last built-in dataset, the network and the
training settings persist through ``QSettings``.

Leaves out: several windows sharing one child, undo, and restoring a CSV dataset at start-up (the
recent-files menu reopens it through the import dialog).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.data import DatasetOptions
from bpstudio.engine.remote import Finished, Progress, RunRequest
from bpstudio.ui import dialogs, theme
from bpstudio.ui.dataset_panel import DatasetPanel
from bpstudio.ui.key_guard import SpaceGuard
from bpstudio.ui.network_editor import NetworkEditor, NetworkSpec
from bpstudio.ui.network_view import NetworkDiagramView
from bpstudio.ui.plots import AccuracyPlot, GradientNormPlot, LossPlot
from bpstudio.ui.surface_view import DecisionSurfaceView
from bpstudio.ui.trace_view import BackpropTraceView
from bpstudio.ui.training_panel import TrainingPanel
from bpstudio.ui.weights_view import WeightsView
from bpstudio.ui.wheel_guard import WheelGuard
from bpstudio.ui.worker import WorkerHandle

ORGANIZATION = "Backprop Studio"
APPLICATION = "bpstudio"
NET_DTYPE = "float32"  # the engine trains fastest in float32; exports keep it
REFRESH_MS = 33  # ≤ 30 Hz repaint
PARAMS_INTERVAL = 0.2  # s between weight snapshots while training (≤ 5 Hz)
BIG_NET_PARAMS = 250_000  # above this many parameters, snapshots come once a second
# the tabs below the loss and gradient-norm plots: (key saved in QSettings, title)
VIEW_TABS = (
    ("surface", "Decision surface"),
    ("network", "Network"),
    ("trace", "Backprop trace"),
    ("weights", "Weights"),
    ("accuracy", "Accuracy"),
)

_REASONS = {
    "finished": "Training finished",
    "stopped": "Training stopped",
    "early_stopped": "Early stopping",
    "diverged": "Training diverged",
}


def _fmt_seconds(s: float) -> str:
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _first_clause(text: str, limit: int = 90) -> str:
    """A long message cut at its first ':' or sentence end (for the one-line status bar)."""
    if len(text) <= limit:
        return text
    cuts = [i for i in (text.find(": "), text.find(". ")) if i > 0]
    end = min(cuts) if cuts else limit
    return text[: min(end, limit)].rstrip(" .,;:") + " (details above the plots)."


@contextlib.contextmanager
def _plain_lines():
    """Create curves without antialiasing.

    A noisy curve drawn with a pen wider than 1 px *and* antialiasing goes through Qt's path
    stroker: measured here, one repaint of the loss and gradient-norm plots then took up to 2 s
    during a fast run. Without antialiasing pyqtgraph draws wide pens as line segments, ~30× faster.
    """
    old = pg.getConfigOption("antialias")
    pg.setConfigOptions(antialias=False)
    try:
        yield
    finally:
        pg.setConfigOptions(antialias=old)


def _default_settings() -> QSettings:
    app = QApplication.instance()
    if app is not None and app.organizationName():
        return QSettings()
    return QSettings(ORGANIZATION, APPLICATION)


class NoticeBar(QFrame):
    """A one-line, non-modal notice above the plots (run ended, diverged, …) with a close button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        colors = {"info": "#2E7D32", "warning": "#E69F00", "error": "#D55E00"}
        self.setStyleSheet(
            f"#noticeBar {{ border: 1px solid {colors.get(kind, '#888')}; border-radius: 4px; }}"
        )
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    """Backprop Studio's window. ``MainWindow()`` opens on a built-in dataset, ready to train."""

    runStateChanged = Signal(str)  # "idle" | "running" | "paused" | "stopping"
    runEnded = Signal(str)  # stop reason, or "error"

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        dataset: str | None = None,
        engine_module: str = "bpstudio.engine",
        restore: bool = True,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Backprop Studio")
        self.setAcceptDrops(True)
        self._settings = settings if settings is not None else _default_settings()
        self._state = "idle"
        self._dataset: Any = None
        self._data_gen = 0
        self._net: Any = None
        self._run_id: int | None = None
        self._run_epochs: int | None = None
        self._run_step0 = 0  # curve step before this run
        self._epoch_offset = 0  # epochs completed by earlier runs
        self._steps_done = 0  # steps completed by earlier runs
        self._rate: tuple[float, int] | None = None  # (elapsed, step) at the previous message
        self._steps_per_s = 0.0
        self._plots_dirty = False
        self._refresh_next = 0  # round-robin position in _refresh_plots
        self._paint_cost = 0.0  # s, running mean of one view's refresh + paint
        self._closing = False
        self.last_error: tuple[str, str] | None = None
        self.paused_step: int | None = None  # the step the child confirmed pausing at
        self._last_lr: float | None = None
        self._trained_seconds = 0.0  # training time of the current weights (all runs)
        self._spec_applied: Any = None  # the editor's spec the current network was built from
        self._changing_data = False

        initial = (
            dataset
            if dataset is not None
            else (self._settings.value("dataset/last", None) if restore else None)
        )
        self._build_widgets(initial if isinstance(initial, str) else None)
        self._build_actions()
        self._build_menus()
        self._build_status_bar()

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("plotRefreshTimer")
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh_plots)

        self._worker = WorkerHandle(engine_module)
        w = self._worker.worker
        w.runStarted.connect(self._on_run_started)
        w.progress.connect(self._on_progress)
        w.runFinished.connect(self._on_finished)
        w.runFailed.connect(self._on_failed)

        self.resize(1400, 860)
        if restore:
            self._restore_settings()
        self.dataset_panel.datasetChanged.connect(self._on_dataset_changed)
        self.dataset_panel.recentFilesChanged.connect(self._rebuild_recent_menu)
        self.network_editor.specChanged.connect(self._on_spec_changed)
        self.network_editor.specChanged.connect(
            lambda *_: self.wheel_guard.protect(self.network_editor)
        )
        # Space presses a focused button instead of toggling training
        self.space_guard = SpaceGuard(self)
        self.space_guard.protect(self)
        self.network_editor.specChanged.connect(
            lambda *_: self.space_guard.protect(self.network_editor)
        )
        self._rebuild_recent_menu()
        self._apply_initial_dataset(
            initial if isinstance(initial, str) else None, restored=dataset is None
        )
        self._apply_saved_spec()
        self._set_state("idle")
        # spawn the training process once the window is on screen, not before
        QTimer.singleShot(300, self._worker.worker.prewarm)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ construction
    def _build_widgets(self, initial: str | None) -> None:
        kw = {}
        if initial and initial.startswith("builtin:"):
            kw["builtin"] = initial.removeprefix("builtin:")
        self.dataset_panel = DatasetPanel(settings=self._settings, **kw)
        self.network_editor = NetworkEditor()
        self.training_panel = TrainingPanel(embed_controls=False)
        side = QWidget()
        side.setObjectName("sidePanel")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(6, 6, 6, 6)
        side_layout.setSpacing(8)
        side_layout.addWidget(self.dataset_panel)
        side_layout.addWidget(self.network_editor)
        side_layout.addWidget(self.training_panel)
        side_layout.addStretch(1)
        self.side_scroll = QScrollArea()
        self.side_scroll.setObjectName("sideScroll")
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setWidget(side)
        self.side_scroll.setMinimumWidth(340)
        # scrolling the panel must not change the fields the pointer passes over
        self.wheel_guard = WheelGuard(self.side_scroll)
        self.wheel_guard.protect(side)
        # the run controls never scroll out of view
        bar = self.training_panel.run_controls
        bar.setFrameShape(QFrame.Shape.StyledPanel)
        self.side_column = QWidget()
        self.side_column.setObjectName("sideColumn")
        col = QVBoxLayout(self.side_column)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        col.addWidget(self.side_scroll, 1)
        col.addWidget(bar, 0)

        with _plain_lines():
            self.loss_plot = LossPlot()
            self.grad_plot = GradientNormPlot()
            self.accuracy_plot = AccuracyPlot()
        for plot in (self.grad_plot, self.accuracy_plot):  # one step ↔ epoch map for x in epochs
            plot.set_epoch_boundaries(self.loss_plot.epoch_boundaries)
        self.surface_view = DecisionSurfaceView()
        self.network_view = NetworkDiagramView()
        self.trace_view = BackpropTraceView()
        self.weights_view = WeightsView()
        self.trace_view.set_learning_rate(self.training_panel.learning_rate())
        for plot in (self.loss_plot, self.grad_plot, self.accuracy_plot):
            # Grid lines for two tick levels, not three: the finest level is most of the lines
            # and roughly doubled each repaint (measured: 11 ms → 4 ms for a 500×400 plot).
            for side in ("left", "bottom"):
                plot.getPlotItem().getAxis(side).setStyle(maxTickLevel=1)

        def boxed(plot: Any, controls: bool) -> QWidget:
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(2)
            lay.addWidget(plot, 1)
            if controls:
                lay.addWidget(plot.controls(box))
            return box

        self.top_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.top_splitter.setObjectName("topPlotSplitter")
        self.top_splitter.addWidget(boxed(self.loss_plot, True))
        self.top_splitter.addWidget(boxed(self.grad_plot, True))
        self.view_tabs = QTabWidget()
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.setDocumentMode(True)
        pages = {
            "surface": self.surface_view,
            "network": self.network_view,
            "trace": self.trace_view,
            "weights": self.weights_view,
            "accuracy": self.accuracy_plot,
        }
        self._tab_keys = [key for key, _ in VIEW_TABS]
        for key, title in VIEW_TABS:
            self.view_tabs.addTab(boxed(pages[key], False), title)
        self.view_tabs.setTabToolTip(
            self._tab_keys.index("trace"),
            "One sample through the network: forward pass, then BP1–BP4 backwards",
        )
        self.plot_splitter = QSplitter(Qt.Orientation.Vertical)
        self.plot_splitter.setObjectName("plotSplitter")
        self.plot_splitter.addWidget(self.top_splitter)
        self.plot_splitter.addWidget(self.view_tabs)
        for sp in (self.top_splitter, self.plot_splitter):
            sp.setChildrenCollapsible(False)
        # views that draw the current weights; the ones not on screen are refreshed lazily
        self._param_views: list[Any] = [
            self.surface_view,
            self.network_view,
            self.trace_view,
            self.weights_view,
        ]
        self._stale_views: list[Any] = []
        self.view_tabs.currentChanged.connect(self._on_tab_changed)
        self.trace_view.sampleChanged.connect(self._on_trace_sample)
        self.surface_view.scene().sigMouseClicked.connect(self._on_surface_clicked)

        self.notice = NoticeBar()
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(4, 4, 4, 0)
        centre_layout.addWidget(self.notice)
        centre_layout.addWidget(self.plot_splitter, 1)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(self.side_column)
        self.main_splitter.addWidget(centre)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([400, 1000])
        self.top_splitter.setSizes([500, 500])
        self.plot_splitter.setSizes([330, 470])
        self.setCentralWidget(self.main_splitter)

        tp = self.training_panel
        tp.trainClicked.connect(self.toggle_training)
        tp.stepClicked.connect(self.step)
        tp.stepEpochClicked.connect(self.step_epoch)
        tp.stopClicked.connect(self.stop)
        tp.resetClicked.connect(self.reset_weights)
        tp.learningRateChanged.connect(self._on_lr_changed)
        tp.learningRateChanged.connect(self.trace_view.set_learning_rate)

    def _action(
        self, name: str, text: str, slot: Any, shortcuts: list[Any] | None = None, tip: str = ""
    ) -> QAction:
        act = QAction(text, self)
        act.setObjectName(name)
        if shortcuts:
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        act.triggered.connect(lambda _checked=False: slot())
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.action_open = self._action(
            "actionOpenCsv", "&Open CSV…", self.open_csv, [K.Open], "Open a CSV table (Ctrl+O)"
        )
        self.action_export = self._action(
            "actionExport",
            "&Export weights…",
            self.export_weights,
            ["Ctrl+E"],
            "Save the trained network and its preprocessing (Ctrl+E)",
        )
        self.action_quit = self._action("actionQuit", "&Quit", self.close, ["Ctrl+Q"])
        # Space is a window shortcut: a focused spin box or line edit accepts the ShortcutOverride
        # for a printable key, so typing a space there never starts training.
        self.action_train = self._action(
            "actionTrain",
            "&Train",
            self.toggle_training,
            ["Space", "F5", "Ctrl+Return"],
            "Train / pause (Space, F5, Ctrl+Return)",
        )
        self.action_step = self._action(
            "actionStep", "&Step", self.step, ["Ctrl+Right"], "Train one mini-batch (Ctrl+→)"
        )
        self.action_step_epoch = self._action(
            "actionStepEpoch",
            "Step &epoch",
            self.step_epoch,
            ["Ctrl+Shift+Right"],
            "Train to the end of the epoch (Ctrl+Shift+→)",
        )
        self.action_stop = self._action(
            "actionStop", "St&op", self.stop, ["Ctrl+."], "End the run (Ctrl+.)"
        )
        self.action_reset = self._action(
            "actionReset",
            "&Reset weights",
            self.reset_weights,
            ["Ctrl+R"],
            "Re-initialise the network and clear the plots (Ctrl+R)",
        )
        self.action_reset_views = self._action(
            "actionResetViews", "Reset plot &views", self.reset_plot_views, ["Ctrl+0"]
        )
        self.action_log_loss = QAction("Log scale: &loss", self, checkable=True)
        self.action_log_loss.setObjectName("actionLogLoss")
        self.action_log_loss.toggled.connect(self.loss_plot.set_log_y)
        self.loss_plot.logYChanged.connect(self.action_log_loss.setChecked)
        self.action_log_grad = QAction("Log scale: &gradient norms", self, checkable=True)
        self.action_log_grad.setObjectName("actionLogGrad")
        self.action_log_grad.setChecked(self.grad_plot.log_y())
        self.action_log_grad.toggled.connect(self.grad_plot.set_log_y)
        self.grad_plot.logYChanged.connect(self.action_log_grad.setChecked)
        self.action_x_epochs = QAction("X axis in &epochs", self, checkable=True)
        self.action_x_epochs.setObjectName("actionXEpochs")
        self.action_x_epochs.setToolTip("Loss and gradient-norm plots against epochs, not steps")
        for plot in (self.loss_plot, self.grad_plot):
            self.action_x_epochs.toggled.connect(
                lambda on, p=plot: p.set_x_mode("epoch" if on else "step")
            )
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode, label in (("auto", "&Auto (system)"), ("light", "&Light"), ("dark", "&Dark")):
            act = QAction(label, self, checkable=True)
            act.setObjectName(f"actionTheme{mode.title()}")
            act.setData(mode)
            act.triggered.connect(lambda _=False, m=mode: self.set_theme(m))
            self.theme_group.addAction(act)
            self.theme_actions[mode] = act
        self.theme_actions.get(theme.current_mode(), self.theme_actions["auto"]).setChecked(True)
        self.action_shortcuts = QAction("&Keyboard shortcuts", self)
        self.action_shortcuts.triggered.connect(self.show_shortcuts)
        self.action_about = QAction("&About Backprop Studio", self)
        self.action_about.triggered.connect(self.show_about)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (
            self.action_open,
            self.action_export,
            None,
            self.action_train,
            self.action_step,
            self.action_step_epoch,
            self.action_stop,
            None,
            self.action_reset,
        ):
            if act is None:
                tb.addSeparator()
            else:
                tb.addAction(act)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addAction(self.action_open)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.setObjectName("recentMenu")
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.action_export)
        file_menu.addSeparator()
        file_menu.addAction(self.action_quit)
        train_menu = mb.addMenu("&Training")
        for act in (
            self.action_train,
            self.action_step,
            self.action_step_epoch,
            self.action_stop,
            self.action_reset,
        ):
            train_menu.addAction(act)
        view_menu = mb.addMenu("&View")
        theme_menu = view_menu.addMenu("&Theme")
        for act in self.theme_actions.values():
            theme_menu.addAction(act)
        view_menu.addSeparator()
        view_menu.addAction(self.action_log_loss)
        view_menu.addAction(self.action_log_grad)
        view_menu.addAction(self.action_x_epochs)
        view_menu.addAction(self.action_reset_views)
        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.action_shortcuts)
        help_menu.addAction(self.action_about)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.epoch_label = QLabel("epoch –")
        self.step_label = QLabel("step –")
        self.rate_label = QLabel("– steps/s")
        self.elapsed_label = QLabel("0.0 s")
        for lab, name in (
            (self.epoch_label, "epochLabel"),
            (self.step_label, "stepLabel"),
            (self.rate_label, "rateLabel"),
            (self.elapsed_label, "elapsedLabel"),
        ):
            lab.setObjectName(name)
            lab.setMinimumWidth(80)
            sb.addPermanentWidget(lab)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("runProgress")
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.hide()
        sb.addPermanentWidget(self.progress_bar)

    # ------------------------------------------------------------------ dataset & network
    def _apply_initial_dataset(self, source: str | None, *, restored: bool = False) -> None:
        """Open the dataset given on the command line, or the one of the last session: a
        built-in with its parameters, or a CSV file with the import options chosen then (no
        dialog; a file that has gone away is skipped)."""
        panel = self.dataset_panel
        params = self._json(self._settings.value("dataset/params")) if source else None
        if source and source.startswith("builtin:") and isinstance(params, dict) and params:
            # a stale setting must not stop the window opening
            with contextlib.suppress(Exception):
                panel.select_builtin(source, **params)
        ds = panel.current()
        if ds is not None and ds is not self._dataset:
            self._on_dataset_changed(ds)
        if source and not source.startswith("builtin:") and panel.accepts_path(source):
            options = self._saved_csv_options() if restored else None
            if restored and (options is None or not os.path.isfile(source)):
                return
            QTimer.singleShot(0, lambda: panel.open_csv(source, options=options))

    def _saved_csv_options(self) -> DatasetOptions | None:
        saved = self._json(self._settings.value("dataset/options"))
        if not isinstance(saved, dict):
            return None
        known = {f.name for f in dataclasses.fields(DatasetOptions)}
        try:
            return DatasetOptions(**{k: v for k, v in saved.items() if k in known})
        except TypeError:
            return None

    def _on_dataset_changed(self, ds: Any) -> None:
        if ds is None:
            return
        if self._state != "idle":  # the panel is locked while training; be safe anyway
            self.stop()
        self._dataset = ds
        self._data_gen += 1
        self.surface_view.set_dataset(ds)
        self.view_tabs.setTabVisible(self._tab_keys.index("accuracy"), ds.task == "classification")
        # a regression net has no decision boundary: the tab shows its prediction
        self.view_tabs.setTabText(
            self._tab_keys.index("surface"),
            "Decision surface" if ds.task == "classification" else "Prediction",
        )
        self.trace_view.set_dataset(ds)
        outputs = ds.classes if ds.task == "classification" else ds.target_names
        self.network_view.set_names(list(ds.feature_names), list(outputs or []))
        self._on_trace_sample(self.trace_view.sample_index)
        # set_io emits specChanged, which rebuilds the network and clears the plots
        self._changing_data = True
        try:
            self.network_editor.set_io(ds.n_inputs, ds.n_outputs, ds.task)
            if self._net is None or list(self._net.sizes) != self.network_editor.sizes():
                self._on_spec_changed()
        finally:
            self._changing_data = False
        # the rows the net sees (after dropped ones), as in the dataset panel's summary
        n_used = len(ds.X_train) + len(ds.X_val) + len(ds.X_test)
        self.statusBar().showMessage(
            f"{ds.name}: {n_used} rows, {ds.n_inputs} inputs → {ds.n_outputs} outputs", 5000
        )

    def _on_spec_changed(self) -> None:
        if self._dataset is None:
            return
        trained = self._steps_done if self._net is not None else 0
        if not self._changing_data and trained and not self._confirm_discard():
            return
        try:
            self._net = self.network_editor.build_network(NET_DTYPE)
        except ValueError as exc:  # EngineError: an impossible combination
            self.statusBar().showMessage(f"Network not valid: {exc}", 8000)
            return
        self._spec_applied = self.network_editor.spec()
        self._clear_history()
        self._params_changed(now=True)
        if trained and not self._changing_data:
            self.statusBar().showMessage(
                f"Network changed: the weights trained for {trained:,} steps were discarded; "
                "the new network starts from fresh weights."
            )
        elif not self._changing_data:
            self.statusBar().clearMessage()  # no stale "Finished…" under a new network

    def _confirm_discard(self) -> bool:
        """Ask before an edit throws away weights trained for more than a minute; on No, put
        the editor back as the trained network was built. True: go on and discard."""
        if self._trained_seconds <= 60 or self._spec_applied is None:
            return True
        if dialogs.ask_yes_no(
            self,
            "Discard the trained network?",
            f"These weights were trained for {_fmt_seconds(self._trained_seconds)} "
            f"({self._steps_done:,} steps). Changing the network starts again from new "
            "weights, and the training so far is lost.\n\nDiscard the trained weights?",
        ):
            return True
        editor = self.network_editor
        editor.blockSignals(True)
        try:
            editor.set_spec(self._spec_applied)
        finally:
            editor.blockSignals(False)
        self.statusBar().showMessage("Network unchanged: the trained weights are kept", 5000)
        return False

    def _clear_history(self) -> None:
        self.loss_plot.clear()
        self.accuracy_plot.clear()
        if self._net is not None:
            with _plain_lines():
                self.grad_plot.set_layers([f"W{n}" for n in self._net.layer_names])
        else:
            self.grad_plot.clear()
        self._steps_done = 0
        self._epoch_offset = 0
        self._trained_seconds = 0.0
        self.training_panel.set_current_lr(None)
        self.epoch_label.setText("epoch –")
        self.step_label.setText("step –")
        self.rate_label.setText("– steps/s")
        self.elapsed_label.setText("0.0 s")
        self.progress_bar.hide()
        self.notice.hide()

    @property
    def network(self) -> Any:
        """The window's network (holds the weights of the last snapshot / finished run)."""
        return self._net

    @property
    def dataset(self) -> Any:
        return self._dataset

    @property
    def state(self) -> str:
        return self._state

    @property
    def worker_handle(self) -> WorkerHandle:
        return self._worker

    # ------------------------------------------------------------------ run control
    def toggle_training(self) -> None:
        """Train when idle, pause when running, resume when paused."""
        if self._state == "idle":
            self._start_run("run")
        elif self._state == "running":
            self._worker.worker.submit("pause")
            self._set_state("paused")
            self.statusBar().showMessage("Pausing…")
        elif self._state == "paused":
            self._worker.worker.submit("resume")
            self._set_state("running")
            self.paused_step = None
            self.statusBar().showMessage("Training…")

    def step(self) -> None:
        """One mini-batch (starting a paused run if none exists)."""
        if self._state == "idle":
            self._start_run("step")
        elif self._state == "paused":
            self._worker.worker.submit("step", 1)

    def step_epoch(self) -> None:
        """Train to the end of the epoch, then pause."""
        if self._state == "idle":
            self._start_run("step_epoch")
        elif self._state == "paused":
            self._worker.worker.submit("step_epoch")

    def stop(self) -> None:
        if self._state in ("running", "paused"):
            self._worker.worker.submit("stop")
            self._set_state("stopping")

    def reset_weights(self) -> None:
        if self._state != "idle" or self._net is None:
            return
        self._net.reinitialize()
        self._clear_history()
        self._params_changed(now=True)
        self.statusBar().showMessage("Weights re-initialised", 3000)

    def _start_run(self, mode: str) -> None:
        ds, net = self._dataset, self._net
        if ds is None or net is None:
            self.statusBar().showMessage("Nothing to train: no dataset or network", 5000)
            return
        if len(ds.X_train) == 0:
            dialogs.show_error(self, "Cannot train", "The training set has no rows.")
            return
        cfg = self.training_panel.fit_config()
        has_val = ds.X_val is not None and len(ds.X_val) > 0
        # the weight-driven views are tabs: snapshots are wanted whichever one is open now
        n_params = sum(int(v.size) for v in net.params.values())
        interval = PARAMS_INTERVAL if n_params <= BIG_NET_PARAMS else 1.0
        req = RunRequest(
            net_config=net.config(),
            params=net.get_params(),
            fit=cfg,
            data_key=f"data-{id(self)}-{self._data_gen}",
            X=ds.X_train,
            Y=ds.Y_train,
            X_val=ds.X_val if has_val else None,
            Y_val=ds.Y_val if has_val else None,
            step_budget=1 if mode == "step" else None,
            until_epoch=mode == "step_epoch",
            params_interval=interval,
            step_offset=self._steps_done,
        )
        self._run_epochs = cfg["epochs"]
        self._run_step0 = self._steps_done
        self._rate = None
        self._steps_per_s = 0.0
        self._run_id = None
        self.paused_step = None
        self.notice.hide()
        self._worker.worker.run(req)
        self._set_state("running" if mode == "run" else "paused")
        if self._run_epochs:
            self.progress_bar.setRange(0, 0)  # busy until the batch count is known
            self.progress_bar.show()
        else:
            self.progress_bar.hide()
        self._refresh_timer.start()
        self.statusBar().showMessage("Training…" if mode == "run" else "Stepping…")

    def _on_lr_changed(self, lr: float) -> None:
        if self._state in ("running", "paused"):
            self._worker.worker.submit("set_lr", float(lr))

    def _set_state(self, state: str) -> None:
        self._state = state
        busy = state != "idle"
        self.training_panel.set_state("running" if state == "stopping" else state)
        if state == "stopping":
            self.training_panel.train_button.setEnabled(False)
            self.training_panel.step_button.setEnabled(False)
            self.training_panel.step_epoch_button.setEnabled(False)
            self.training_panel.stop_button.setEnabled(False)
        else:
            self.training_panel.train_button.setEnabled(True)
        self.dataset_panel.set_locked(busy)
        self.network_editor.set_locked(busy)
        self.action_open.setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        self.action_train.setText({"running": "&Pause", "paused": "Res&ume"}.get(state, "&Train"))
        self.action_train.setEnabled(state != "stopping")
        self.action_step.setEnabled(state in ("idle", "paused"))
        self.action_step_epoch.setEnabled(state in ("idle", "paused"))
        self.action_stop.setEnabled(state in ("running", "paused"))
        self.action_reset.setEnabled(not busy)
        self.runStateChanged.emit(state)

    # ------------------------------------------------------------------ worker messages
    def _on_run_started(self, run_id: int) -> None:
        self._run_id = run_id

    def _on_progress(self, p: Progress) -> None:
        if self._closing or (self._run_id is not None and p.run_id != self._run_id):
            return
        if len(p.steps):
            self.loss_plot.append_steps(p.steps, p.losses)
            self._plots_dirty = True
        if len(p.grad_steps):
            self.grad_plot.append(p.grad_steps, p.grad_norms)
            self._plots_dirty = True
        ep = p.epochs
        n_ep = len(ep["epoch"])
        if n_ep:
            classification = self._dataset is not None and self._dataset.task == "classification"
            for i in range(n_ep):
                val = float(ep["val_loss"][i])
                self.loss_plot.append_epoch(
                    int(ep["step"][i]),
                    int(ep["epoch"][i]) + self._epoch_offset,
                    float(ep["train_loss"][i]),
                    None if np.isnan(val) else val,
                )
                if classification:
                    ta, va = float(ep["train_acc"][i]), float(ep["val_acc"][i])
                    if not np.isnan(ta) or not np.isnan(va):
                        self.accuracy_plot.append_epoch(
                            int(ep["epoch"][i]) + self._epoch_offset,
                            None if np.isnan(ta) else ta,
                            None if np.isnan(va) else va,
                        )
            self._plots_dirty = True
        if p.params is not None and self._net is not None:
            self._net.set_params(p.params)
            self._params_changed()
        self._last_lr = p.lr
        self.training_panel.set_current_lr(p.lr)
        self._update_status(p.epoch, p.step, p.batch, p.n_batches, p.elapsed)
        if p.paused and self._state == "paused":
            self.paused_step = p.step
            self.statusBar().showMessage(f"Paused at step {p.step}")
        elif not p.paused:
            self.paused_step = None
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _update_status(
        self, epoch: int, step: int, batch: int, n_batches: int, elapsed: float
    ) -> None:
        if self._rate is not None:
            e0, s0 = self._rate
            if elapsed > e0 + 1e-6 and step >= s0:
                inst = (step - s0) / (elapsed - e0)
                self._steps_per_s = (
                    inst if self._steps_per_s == 0 else (0.7 * self._steps_per_s + 0.3 * inst)
                )
        self._rate = (elapsed, step)
        total_epoch = epoch + self._epoch_offset
        self.epoch_label.setText(
            f"epoch {total_epoch}" + (f", batch {batch}/{n_batches}" if n_batches else "")
        )
        self.step_label.setText(f"step {step}")
        self.rate_label.setText(
            f"{self._steps_per_s:,.0f} steps/s" if self._steps_per_s else "– steps/s"
        )
        self.elapsed_label.setText(_fmt_seconds(elapsed))
        if self._run_epochs and n_batches:
            total = self._run_epochs * n_batches
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(total, step - self._run_step0))

    def _refresh_plots(self, everything: bool = False) -> None:
        """Repaint what has new data: one view per tick while training, so that no event-loop
        iteration pays for several plot paints (each costs several ms in software rendering)."""
        views: list[tuple[Any, Any]] = [
            (self.loss_plot, self.loss_plot.has_pending),
            (self.grad_plot, self.grad_plot.has_pending),
            (self.accuracy_plot, self.accuracy_plot.has_pending),
            (None, self._param_view_pending),
        ]
        n = len(views)
        for i in range(n):
            view, pending = views[(self._refresh_next + i) % n]
            if not pending():
                continue
            t0 = time.perf_counter()
            if view is None:
                view = self._update_param_views(limit=None if everything else 1)
                if view is None:
                    continue
            elif view.isVisible() or everything:
                view.refresh()
            else:
                continue
            if not everything:
                # paint now, so the cost is measured, then space the ticks so that repainting
                # takes at most ~1/4 of the GUI thread (the rest stays free for input and timers)
                (view.viewport() if hasattr(view, "viewport") else view).repaint()
                cost = time.perf_counter() - t0
                self._paint_cost = 0.8 * self._paint_cost + 0.2 * cost
                interval = int(1000 * min(0.25, max(REFRESH_MS / 1000, 4 * self._paint_cost)))
                if abs(interval - self._refresh_timer.interval()) > 5:
                    self._refresh_timer.setInterval(interval)
                self._refresh_next = (self._refresh_next + i + 1) % n
                break
        self._plots_dirty = any(p() for _, p in views)
        if self._state == "idle" and not self._plots_dirty:
            self._refresh_timer.stop()

    def _on_finished(self, f: Finished) -> None:
        if self._closing or (self._run_id is not None and f.run_id != self._run_id):
            return
        if self._net is not None:
            self._net.set_params(f.params)
            self._params_changed()
        self._plots_dirty = True
        self._steps_done = self._run_step0 + f.steps
        self._trained_seconds += f.seconds
        self._epoch_offset += f.epochs
        self._run_id = None
        self._set_state("idle")
        self._refresh_plots(everything=True)
        self.progress_bar.hide()
        head = _REASONS.get(f.stop_reason, f.stop_reason)
        detail = (f.message or "").strip()
        summary = f"{f.epochs} epoch(s), {f.steps} step(s) in {_fmt_seconds(f.seconds)}"
        # the engine's message already says what happened ("Finished 30 epoch(s)…"); the head
        # only adds a word for the reasons whose message does not name them
        text = detail if detail else f"{head} after {summary}."
        # the status bar shares its line with epoch/step/rate: a long message (the divergence
        # advice) would run under them, so it keeps the first clause and the notice has the rest
        self.statusBar().showMessage(_first_clause(text))
        rose = self._loss_rose() if f.stop_reason != "diverged" else None
        if f.stop_reason == "diverged":
            self.notice.show_message(f"<b>{head}.</b> {detail}", "error")
        elif rose is not None:
            lr = self.training_panel.learning_rate()
            self.notice.show_message(
                f"<b>The loss rose during this run</b> (from {rose[0]:.4g} to {rose[1]:.4g}): "
                f"the learning rate α = {lr:g} is probably too large. Lower it, then press "
                "Reset weights and train again.",
                "warning",
            )
        elif f.stop_reason == "early_stopped":
            self.notice.show_message(f"<b>{head}.</b> {detail or summary}", "info")
        self.runEnded.emit(f.stop_reason)

    def _loss_rose(self) -> tuple[float, float] | None:
        """(start, end) training loss of the run that just ended if it ended clearly worse
        than it started (the loss stayed finite, so the engine does not call it diverged), else
        None. Start: the last per-epoch training loss before the run, or for a fresh network the
        first mini-batch's loss (computed before any update); end: the last per-epoch loss."""
        bufs = self.loss_plot.buffers
        ex, ey = bufs["epoch"].x, bufs["epoch"].y
        sx, sy = bufs["step"].x, bufs["step"].y
        s0 = self._run_step0
        after = ex > s0
        if not after.any():
            return None
        end = float(ey[after][-1])
        before = ex <= s0
        if before.any():
            start = float(ey[before][-1])
        else:
            first = sx > s0
            if not first.any():
                return None
            start = float(sy[first][0])
        if not (math.isfinite(start) and math.isfinite(end)):
            return None
        if end > 2.0 * start and end - start > 0.05:
            return start, end
        return None

    def _on_failed(self, title: str, message: str, user_error: bool) -> None:
        if self._closing:
            return
        self.last_error = (title, message)
        was_running = self._state != "idle"
        self._run_id = None
        if was_running:
            self._set_state("idle")
            self.progress_bar.hide()
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0] if message else ''}")
        if not self._closing:
            dialogs.show_error(self, title, message)
        self.runEnded.emit("error")

    # ------------------------------------------------------------------ weight-driven views
    def _params_changed(self, now: bool = False) -> None:
        """The network's weights changed: every weight view is stale; the visible one is
        redrawn by the refresh timer (or at once with ``now``), the others when shown."""
        self._stale_views = list(self._param_views)
        self._plots_dirty = True
        if now:
            self._update_param_views(limit=None)
        elif not self._refresh_timer.isActive() and not self._closing:
            self._refresh_timer.start()

    def _param_view_pending(self) -> bool:
        return any(v.isVisible() for v in self._stale_views)

    def _update_param_views(self, limit: int | None = 1) -> Any:
        """Give the current network to (at most ``limit``) stale views on screen; returns the
        last one updated, or None."""
        done = None
        for view in list(self._stale_views):
            if not view.isVisible():
                continue
            self._stale_views.remove(view)
            if self._net is not None:
                view.set_network(self._net)
            done = view
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    break
        return done

    def _on_tab_changed(self, _index: int) -> None:
        if self._param_view_pending():
            self._update_param_views(limit=None)

    def _trace_sample(self) -> tuple[Any, Any, int | None]:
        s = self.trace_view.sample()
        if s is None:
            return None, None, None
        return s[0], s[1], self.trace_view.sample_index

    def _on_trace_sample(self, _index: int) -> None:
        self.network_view.set_sample(*self._trace_sample())

    def _on_surface_clicked(self, event: Any) -> None:
        """A click on the decision surface picks the nearest training sample for the trace."""
        ds = self._dataset
        if ds is None or ds.n_inputs != 2 or len(ds.X_train) == 0:
            return
        vb = self.surface_view.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        d = np.hypot(ds.X_train[:, 0] - p.x(), ds.X_train[:, 1] - p.y())
        i = int(np.argmin(d))
        self.trace_view.set_sample_index(i)
        self.statusBar().showMessage(
            f"Training sample {i + 1} selected: see the Backprop trace and Network tabs", 5000
        )

    # ------------------------------------------------------------------ files
    def open_csv(self, path: str | None = None) -> None:
        if self._state != "idle":
            return
        self.dataset_panel.open_csv(path)

    def _rebuild_recent_menu(self, *_: Any) -> None:
        self.recent_menu.clear()
        try:
            files = list(self.dataset_panel.recent_files())
        except Exception:  # noqa: BLE001
            files = []
        for path in files:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_csv(p))
        if not files:
            empty = self.recent_menu.addAction("(none)")
            empty.setEnabled(False)

    def export_weights(self) -> None:
        """Save the network (as trained so far) with the dataset's preprocessing."""
        if self._net is None:
            return
        from bpstudio.io import EXPORT_FORMATS, save_model

        ds = self._dataset
        name = (getattr(ds, "name", "model") or "model").replace(" ", "_").replace(":", "_")
        path = dialogs.get_save_model_path(self, f"{name}.npz", dict(EXPORT_FORMATS))
        if not path:
            return
        extra = {
            "dataset": getattr(ds, "name", None),
            "steps": self._steps_done,
            "epochs": self._epoch_offset,
            "training": self.training_panel.fit_config(),
            "snapshot_while_training": self._state != "idle",
        }
        try:
            save_model(path, self._net, preprocessor=getattr(ds, "preprocessor", None), extra=extra)
        except Exception as exc:  # noqa: BLE001 - any failure is shown, nothing is lost
            dialogs.show_error(self, "Export failed", str(exc))
            return
        self.statusBar().showMessage(f"Exported the network to {path}", 6000)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_path(event)
        if path is not None and self._state == "idle":
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_path(event)
        if path is None or self._state != "idle":
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.dataset_panel.open_csv(path))

    def _dropped_path(self, event: Any) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                path = url.toLocalFile()
                accepts = getattr(self.dataset_panel, "accepts_path", None)
                if accepts is None or accepts(path):
                    return path
        return None

    # ------------------------------------------------------------------ view / help
    def set_theme(self, mode: str) -> None:
        theme.apply_theme(QApplication.instance(), mode)
        if mode in self.theme_actions:
            self.theme_actions[mode].setChecked(True)
        self._settings.setValue("view/theme", mode)
        self.notice.setStyleSheet(self.notice.styleSheet())

    def reset_plot_views(self) -> None:
        for plot in (self.loss_plot, self.grad_plot, self.accuracy_plot):
            plot.reset_view()
        self.surface_view.getPlotItem().vb.autoRange()

    def shortcut_text(self) -> str:
        rows = [
            ("Space, F5, Ctrl+Return", "Train / pause / resume"),
            ("Ctrl+→", "Step one mini-batch"),
            ("Ctrl+Shift+→", "Step one epoch"),
            ("Ctrl+.", "Stop"),
            ("Ctrl+R", "Reset weights"),
            ("Ctrl+O", "Open CSV…"),
            ("Ctrl+E", "Export weights…"),
            ("Ctrl+0", "Reset plot views"),
            ("Ctrl+Q", "Quit"),
            ("Mouse on a plot", "Drag to pan, wheel to zoom, right-click for log-y / reset"),
        ]
        body = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"

    def show_shortcuts(self) -> None:
        dialogs.show_info(self, "Keyboard shortcuts", self.shortcut_text())

    def show_about(self) -> None:
        from bpstudio import __version__

        dialogs.show_info(
            self,
            "About Backprop Studio",
            f"<b>Backprop Studio</b> {__version__}<br>Watch backpropagation train a fully "
            "connected network: BP1–BP4 in matrix form, NumPy engine, PySide6 + pyqtgraph.",
        )

    # ------------------------------------------------------------------ settings & closing
    def _restore_settings(self) -> None:
        s = self._settings
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray | bytes) and geo:
            self.restoreGeometry(geo)
        state = s.value("window/state")
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(state)
        for key, sp in (
            ("main", self.main_splitter),
            ("plots", self.plot_splitter),
            ("top", self.top_splitter),
        ):
            val = s.value(f"splitters/{key}")
            if isinstance(val, QByteArray | bytes) and val:
                sp.restoreState(val)
        self._saved_spec = self._json(s.value("network/spec"))
        training = self._json(s.value("training/settings"))
        if isinstance(training, dict):
            self.training_panel.apply_settings(training)
        self.loss_plot.set_log_y(str(s.value("view/logLoss", "false")).lower() == "true")
        self.grad_plot.set_log_y(str(s.value("view/logGrad", "true")).lower() == "true")
        tab = s.value("view/tab")
        if isinstance(tab, str) and tab in self._tab_keys:
            self.view_tabs.setCurrentIndex(self._tab_keys.index(tab))

    @staticmethod
    def _json(value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return None

    _saved_spec: Any = None

    def _apply_saved_spec(self) -> None:
        if isinstance(self._saved_spec, dict):
            with contextlib.suppress(Exception):  # an old or broken setting is dropped
                self.network_editor.set_spec(NetworkSpec.from_dict(self._saved_spec))
        self._saved_spec = None

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        for key, sp in (
            ("main", self.main_splitter),
            ("plots", self.plot_splitter),
            ("top", self.top_splitter),
        ):
            s.setValue(f"splitters/{key}", sp.saveState())
        s.setValue("view/tab", self._tab_keys[self.view_tabs.currentIndex()])
        source = self.dataset_panel.current_source()
        if source.startswith("builtin:"):
            s.setValue("dataset/last", source)
            s.setValue("dataset/params", json.dumps(self.dataset_panel.current_params()))
        elif source and self.dataset_panel.current_options() is not None:
            s.setValue("dataset/last", source)
            options = dataclasses.asdict(self.dataset_panel.current_options())
            s.setValue("dataset/options", json.dumps(options))
        s.setValue("network/spec", json.dumps(self.network_editor.spec().to_dict()))
        s.setValue("training/settings", json.dumps(self.training_panel.settings()))
        s.setValue("view/logLoss", "true" if self.loss_plot.log_y() else "false")
        s.setValue("view/logGrad", "true" if self.grad_plot.log_y() else "false")
        s.setValue("view/theme", theme.current_mode())
        s.sync()

    def shutdown(self) -> None:
        """Stop the run and the child process, wait for the worker thread. Idempotent."""
        self._closing = True
        self._refresh_timer.stop()
        self.statusBar().clearMessage()  # stops the status bar's own message timer
        self.dataset_panel.shutdown()
        self._worker.close()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Views built before the window was on screen (the untrained network's surface, the
        diagram, the trace) are stale; draw them once the window shows, as any tab does."""
        super().showEvent(event)
        if self._param_view_pending():
            QTimer.singleShot(0, self._update_visible_param_views)

    def _update_visible_param_views(self) -> None:
        if not self._closing:
            self._update_param_views(limit=None)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        with contextlib.suppress(Exception):  # never keep a window open because settings failed
            self.save_settings()
        self.shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow"]
