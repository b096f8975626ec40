"""The main window: layout and wiring. Dataset, network and training controls on the left, the
loss plot top right beside the gradient norms (with the Saturation and Gradient check tabs), the
other views in tabs below them (decision surface, network, Backprop inspector with its own small
diagram, weights, accuracy), the Runs panel in a dock at the bottom, a lesson in a dock right.

Teaching wiring: the inspector's ``highlightChanged`` lights both diagrams; a click on a weight in
a diagram, the heatmap or an image tile shows the inspector explaining it
(:meth:`MainWindow.show_weight_origin`); the inspector, the gradient check and the diagrams follow
the inspected sample (picked in the inspector, with Random, or by a click on the surface) and its
mini-batch (:meth:`MainWindow.current_batch`); the training settings reach the inspector's update
stage. The inspector, the diagnostics and the gradient check get new weights only while visible
and at most every ``TEACH_INTERVAL`` (``refresh.Throttled``).

The record is a :class:`~bpstudio.session.Session` (``window.session``): the dataset reference,
the network, the settings and every run with its history and weights. The views read the run on
screen; nothing a plot shows lives only in the plot. What lives elsewhere, each in a module named
for what it does:

- :mod:`bpstudio.ui.run_controller`: the run state machine and its bookkeeping (ids, step/epoch
  offsets, rates, outcome), between the window and the training worker. There is one training
  path: a ``RunRequest`` to the child process, which runs ``fit``.
- :mod:`bpstudio.ui.run_book`: which run trains (a new one after a change of data, network or a
  fixed setting; otherwise the run goes on), which run is shown, rename / delete.
- :mod:`bpstudio.ui.runs_panel`: the Runs table (``runsTable``).
- :mod:`bpstudio.ui.project`: project files, autosave and recovery, model files, predictions,
  history export.
- :mod:`bpstudio.ui.undo`: undo / redo of the network, the settings, the dataset and deletions.
- :mod:`bpstudio.ui.refresh`: the repaint scheduler (one view per ≤ 30 Hz tick, interval following
  the measured paint cost) and the weight-driven views that catch up when shown.
- :mod:`bpstudio.ui.traced_sample`: the traced sample, computed once for both diagrams.
- :mod:`bpstudio.ui.lesson_runner`: the Lessons menu, the lesson dock, presets, hidden controls
  and the facts lessons wait for (:meth:`MainWindow.lesson_facts`).
- :mod:`bpstudio.ui.image_export`: Save image / Copy image on every view.
- :mod:`bpstudio.ui.window_settings`: ``QSettings`` persistence.
- :mod:`bpstudio.ui.actions`: the action table, the menus and the toolbar.
- :mod:`bpstudio.ui.compare`: the Compare dock (runs overlaid, sweep results), Compare… (sweeps,
  :mod:`bpstudio.ui.sweep`), the settings diff in the Runs panel, and the rewind bar
  (:mod:`bpstudio.ui.rewind`: checkpoints through every view, branches).

Closing the window asks about unsaved runs, stops the child and waits for the worker thread.

Leaves out: several windows sharing one child.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
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
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bpstudio.engine import FitConfig
from bpstudio.engine.remote import Finished, Progress
from bpstudio.engine.stages import FORWARD
from bpstudio.session import Run, RunStatus, Session
from bpstudio.ui import actions, compare, dialogs, param_edit, room, theme, window_settings
from bpstudio.ui.activation_diagnostics import ActivationDiagnostics
from bpstudio.ui.backprop_inspector import BackpropInspector
from bpstudio.ui.dataset_panel import DatasetPanel
from bpstudio.ui.gradient_check_panel import GradientCheckPanel
from bpstudio.ui.image_export import install_image_actions
from bpstudio.ui.key_guard import SpaceGuard
from bpstudio.ui.lesson_runner import LessonRunner
from bpstudio.ui.metrics_view import MetricsView
from bpstudio.ui.network_editor import NetworkEditor, NetworkSpec
from bpstudio.ui.network_view import NetworkDiagramView
from bpstudio.ui.notice import NoticeBar, first_clause
from bpstudio.ui.plots import AccuracyPlot, GradientNormPlot, LossPlot
from bpstudio.ui.project import MODEL_SUFFIXES, ProjectFiles
from bpstudio.ui.refresh import (
    ParamViews,
    RefreshScheduler,
    Throttled,
    plain_lines,
    plot_source,
)
from bpstudio.ui.run_book import RunBook
from bpstudio.ui.run_controller import (
    RunController,
    RunState,
    StatusReadout,
    fmt_seconds,
    loss_rose,
    outcome_text,
)
from bpstudio.ui.runs_panel import RunsPanel
from bpstudio.ui.surface_panel import SurfacePanel
from bpstudio.ui.traced_sample import TracedSample
from bpstudio.ui.training_panel import TrainingPanel
from bpstudio.ui.undo import build_undo
from bpstudio.ui.weights_view import WeightsView
from bpstudio.ui.wheel_guard import WheelGuard
from bpstudio.ui.worker import WorkerHandle

NET_DTYPE = "float32"  # the engine trains fastest in float32; exports keep it
# the tabs below the loss and gradient-norm plots: (key saved in QSettings, title)
TEACH_INTERVAL = 0.26  # s: the inspector and diagnostics get new weights ≤ 4 times a second
VIEW_TABS = (
    ("surface", "Decision surface"),
    ("network", "Network"),
    ("trace", "Backprop inspector"),
    ("weights", "Weights"),
    ("accuracy", "Accuracy"),
)


def _arch(config: dict[str, Any]) -> tuple:
    """What makes two network configs the same network (not the dtype)."""
    keys = ("sizes", "activations", "output", "loss")
    return tuple(repr(config.get(k)) for k in keys)


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
        self._settings = settings if settings is not None else window_settings.default_settings()
        self._dataset: Any = None
        self._data_gen = 0
        self._net: Any = None
        self._closing = False
        self.last_step_seen = 0  # the step of the latest progress message
        self.last_error: tuple[str, str] | None = None
        # the record: dataset reference, network, settings and every run (the views read it)
        self.session = Session()
        self.book = RunBook(self)  # runs: which one trains, which one is shown
        self.session.connect(self.book.on_session_event)

        self.runs = RunController(engine_module, self)
        self.runs.stateChanged.connect(self._on_state_changed)
        self.runs.progressed.connect(self._on_progress)
        self.runs.statusChanged.connect(self._show_status)
        self.runs.finished.connect(self._on_finished)
        self.runs.failed.connect(self._on_failed)
        self.traced = TracedSample()
        self.refresher = RefreshScheduler(self, is_idle=lambda: not self.runs.busy())

        initial = (
            dataset
            if dataset is not None
            else (self._settings.value("dataset/last", None) if restore else None)
        )
        self._build_widgets(initial if isinstance(initial, str) else None)
        self.project = ProjectFiles(self)
        self._build_actions()
        self._build_undo()
        param_edit.install(self)  # hand edits of a weight or bias (paused or idle)
        self.lessons = LessonRunner(self)  # the Lessons menu and the lesson dock
        self.lessons_menu = self.lessons.menu
        actions.build_menus(self)
        # Delete in the Runs table deletes the selected runs (not a window-wide key)
        self.action_delete_run.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.action_delete_run.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.runs_panel.table.addAction(self.action_delete_run)
        self._build_status_bar()
        compare.install(self)  # compare runs, sweeps, rewind and branch

        self.resize(1400, 860)
        saved_spec = window_settings.restore(self, self._settings) if restore else None
        self.lessons.dock.hide()  # a lesson is never restored: its dock was saved with the layout
        room.fit_to_screen(self)  # a short screen: the tabs get the height, Runs collapses
        self.dataset_panel.datasetChanged.connect(self._on_dataset_changed)
        self.dataset_panel.recentFilesChanged.connect(self._rebuild_recent_menu)
        self.network_editor.specChanged.connect(self._on_spec_changed)
        self.network_editor.specChanged.connect(
            lambda *_: self.wheel_guard.protect(self.network_editor)
        )
        # Space presses a focused button instead of toggling training
        self.space_guard = SpaceGuard(self)
        self.space_guard.protect(self)
        # the focused inspector plays its stages on Space (its own key), as its buttons do
        self.inspector.installEventFilter(self.space_guard)
        self.network_editor.specChanged.connect(
            lambda *_: self.space_guard.protect(self.network_editor)
        )
        self.training_panel.settingsChanged.connect(lambda: self.undo_recorder.changed("settings"))
        self.network_editor.specChanged.connect(lambda: self.undo_recorder.changed("network"))
        self.dataset_panel.datasetChanged.connect(lambda _ds: self.undo_recorder.changed("dataset"))
        self.dataset_panel.datasetChanged.connect(lambda _ds: self.project.on_dataset_loaded())
        # what a lesson's step may wait for
        for sig in (
            self.network_editor.specChanged,
            self.training_panel.settingsChanged,
            self.training_panel.learningRateChanged,
            self.view_tabs.currentChanged,
            self.runEnded,
            self.dataset_panel.datasetChanged,
        ):
            sig.connect(self.lessons.refresh)
        self._rebuild_recent_menu()
        self.project.rebuild_recent_menu()
        window_settings.apply_initial_dataset(
            self, initial if isinstance(initial, str) else None, restored=dataset is None
        )
        if isinstance(saved_spec, dict):
            with contextlib.suppress(Exception):  # an old or broken setting is dropped
                self.network_editor.set_spec(NetworkSpec.from_dict(saved_spec))
        self.undo_recorder.resync()
        self._on_state_changed("idle")
        self.project.timer.start()
        if restore:  # unsaved work left by a crash
            QTimer.singleShot(0, self.project.offer_recovery)
        # spawn the training process once the window is on screen, not before
        QTimer.singleShot(300, self.runs.worker.prewarm)
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

        with plain_lines():
            self.loss_plot = LossPlot()
            self.grad_plot = GradientNormPlot()
            self.accuracy_plot = AccuracyPlot()
        for plot in (self.grad_plot, self.accuracy_plot):  # one step ↔ epoch map for x in epochs
            plot.set_epoch_boundaries(self.loss_plot.epoch_boundaries)
        self.surface_panel = SurfacePanel()  # plane choice, discretise, neuron maps
        self.surface_view = self.surface_panel.surface
        self.metrics_view = MetricsView(self.accuracy_plot)  # + confusion matrix
        self.network_view = NetworkDiagramView()
        self.inspector = BackpropInspector()  # one sample's BP1–BP4, stage by stage
        # the inspector's own small diagram, lit where the stage reads and writes
        self.stage_diagram = NetworkDiagramView()
        self.stage_diagram.setObjectName("stageDiagram")  # networkDiagram is the Network tab's
        for part, name in (
            (self.stage_diagram.edge_combo, "stageEdgeCombo"),
            (self.stage_diagram.fill_combo, "stageFillCombo"),
            (self.stage_diagram.legend, "stageLegend"),
        ):
            part.setObjectName(name)  # the automation names stay unique
        self.stage_diagram.set_fill_mode("activation")
        self.stage_diagram.canvas.setMinimumSize(240, 150)  # room for 8 neurons a column
        self.inspector_split = QSplitter(Qt.Orientation.Vertical)
        self.inspector_split.setObjectName("inspectorSplitter")
        self.inspector_split.addWidget(self.stage_diagram)
        self.inspector_split.addWidget(self.inspector)
        self.inspector_split.setStretchFactor(1, 1)
        self.inspector_split.setSizes([210, 390])
        self.inspector_split.setChildrenCollapsible(False)
        # a short window scrolls the tab rather than squeezing the diagram and the stage card
        self.inspector_scroll = room.scrolling(self.inspector_split, 600, "inspectorScroll")
        self.weights_view = WeightsView()
        self.inspector.set_fit_config(FitConfig.from_dict(self.training_panel.fit_config()))
        # beside the gradient norms: why they are what they are, and whether backprop is right
        self.diagnostics = ActivationDiagnostics()
        self.gradient_check = GradientCheckPanel()
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
        self.grad_tabs = QTabWidget()
        self.grad_tabs.setObjectName("gradTabs")
        self.grad_tabs.setDocumentMode(True)
        self.grad_tabs.addTab(boxed(self.grad_plot, True), "Gradient norms")
        self.grad_tabs.addTab(self.diagnostics, "Saturation")
        check_scroll = QScrollArea()
        check_scroll.setWidgetResizable(True)
        check_scroll.setWidget(self.gradient_check)
        self.grad_tabs.addTab(check_scroll, "Gradient check")
        self.grad_tabs.setTabToolTip(1, "z and a per layer: saturated and dead units, ‖δˡ‖")
        self.grad_tabs.setTabToolTip(
            2, "Backprop against finite differences, and broken on purpose"
        )
        self.top_splitter.addWidget(self.grad_tabs)
        self.view_tabs = QTabWidget()
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.setDocumentMode(True)
        pages = {
            "surface": self.surface_panel,
            "network": self.network_view,
            "trace": self.inspector_scroll,
            "weights": self.weights_view,
            "accuracy": self.metrics_view,
        }
        for key, title in VIEW_TABS:
            self.view_tabs.addTab(boxed(pages[key], False), title)
        self.view_tabs.setTabToolTip(
            self._tab_keys.index("trace"),
            "One sample through the network, stage by stage: forward pass, the loss, BP1–BP4, "
            "the update",
        )
        self.plot_splitter = QSplitter(Qt.Orientation.Vertical)
        self.plot_splitter.setObjectName("plotSplitter")
        self.plot_splitter.addWidget(self.top_splitter)
        self.plot_splitter.addWidget(self.view_tabs)
        for sp in (self.top_splitter, self.plot_splitter):
            sp.setChildrenCollapsible(False)
        # views that draw the current weights; the ones not on screen are refreshed lazily
        # the costly teaching views get the weights at most every TEACH_INTERVAL
        self.throttled = [
            Throttled(v, TEACH_INTERVAL)
            for v in (self.inspector, self.diagnostics, self.gradient_check)
        ]
        self.param_views = ParamViews(
            [
                self.surface_panel,
                self.metrics_view,
                self.network_view,
                self.stage_diagram,
                self.weights_view,
                *self.throttled,
            ],
            self._shown_net,
        )
        self.network_view.tracer = self.stage_diagram.tracer = self.traced
        image_views = (self.surface_view, self.network_view, self.inspector, self.weights_view)
        for view in (self.loss_plot, self.grad_plot, self.accuracy_plot, *image_views):
            install_image_actions(view)  # right-click: Save image… (PNG/SVG, a size), Copy
        for plot in (self.loss_plot, self.grad_plot, self.accuracy_plot):
            self.refresher.add(plot_source(plot))
        self.refresher.add(self.param_views.source())
        self.view_tabs.currentChanged.connect(self._on_tab_changed)
        self.grad_tabs.currentChanged.connect(self._on_tab_changed)
        self.inspector.sampleChanged.connect(self._on_trace_sample)
        self.inspector.stageChanged.connect(self._on_stage_changed)
        for diagram in (self.network_view, self.stage_diagram):
            self.inspector.highlightChanged.connect(diagram.set_highlight)
            diagram.weightClicked.connect(self.show_weight_origin)
        self.weights_view.weightClicked.connect(self.show_weight_origin)
        self.surface_view.scene().sigMouseClicked.connect(self._on_surface_clicked)
        self.dataset_panel.samplePicked.connect(self._on_table_sample)

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

        self.runs_panel = RunsPanel(lambda: self.session.runs, self.book.describe_run)
        self.runs_panel.selectionChanged.connect(self.book.on_runs_selected)
        self.runs_panel.model.renamed.connect(self.rename_run)
        self.runs_dock = QDockWidget("Runs", self)
        self.runs_dock.setObjectName("runsDock")
        self.runs_dock.setWidget(self.runs_panel)
        self.runs_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.runs_dock_title = room.collapsible(self.runs_dock, self)  # ▾: down to its title
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.runs_dock)
        self.resizeDocks([self.runs_dock], [118], Qt.Orientation.Vertical)  # header + 3 rows
        self.runs_dock_action = self.runs_dock.toggleViewAction()
        self.runs_dock_action.setText("&Runs panel")

        tp = self.training_panel
        tp.trainClicked.connect(self.toggle_training)
        tp.stepClicked.connect(self.step)
        tp.stepEpochClicked.connect(self.step_epoch)
        tp.stopClicked.connect(self.stop)
        tp.resetClicked.connect(self.reset_weights)
        tp.learningRateChanged.connect(self.runs.set_lr)
        tp.paceChanged.connect(self.runs.set_pace)
        tp.learningRateChanged.connect(self._on_fit_settings_changed)
        tp.settingsChanged.connect(self._on_fit_settings_changed)

    def _build_actions(self) -> None:
        actions.build_actions(self)
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
            plot.xModeChanged.connect(self._follow_x_mode)
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        self.theme_menu = QMenu("&Theme", self)
        for mode, label in (("auto", "&Auto (system)"), ("light", "&Light"), ("dark", "&Dark")):
            act = QAction(label, self, checkable=True)
            act.setObjectName(f"actionTheme{mode.title()}")
            act.setData(mode)
            act.triggered.connect(lambda _=False, m=mode: self.set_theme(m))
            self.theme_group.addAction(act)
            self.theme_actions[mode] = act
            self.theme_menu.addAction(act)
        self.theme_actions.get(theme.current_mode(), self.theme_actions["auto"]).setChecked(True)
        self.recent_menu = QMenu("Open rece&nt CSV", self)
        self.recent_menu.setObjectName("recentMenu")
        limit = float(self._settings.value("project/embedLimitMB", 2))
        self.action_embed_csv = QAction(
            f"Embed the CSV in the project (up to {limit:g} MB)", self, checkable=True
        )
        self.action_embed_csv.setObjectName("actionEmbedCsv")
        self.action_embed_csv.setToolTip("The project then opens where the CSV is not")
        self.action_embed_csv.setChecked(
            str(self._settings.value("project/embed", "false")).lower() == "true"
        )
        self.action_embed_csv.toggled.connect(self.project.set_embed)
        self.recent_projects_menu = QMenu("Open &recent project", self)
        self.recent_projects_menu.setObjectName("recentProjectsMenu")

    def _build_undo(self) -> None:
        self.undo_stack, self.undo_recorder = build_undo(self)
        self.undo_stack.indexChanged.connect(self._update_undo_actions)
        self._update_undo_actions()

    def _update_undo_actions(self, *_: Any) -> None:
        st = self.undo_stack
        # while paused, a hand edit of a weight can be undone (param_edit.may_undo)
        self.action_undo.setEnabled(st.canUndo() and param_edit.may_undo(self))
        self.action_redo.setEnabled(st.canRedo() and param_edit.may_undo(self, redo=True))
        self.action_undo.setText(f"&Undo {st.undoText()}" if st.canUndo() else "&Undo")
        self.action_redo.setText(f"&Redo {st.redoText()}" if st.canRedo() else "&Redo")

    def undo(self) -> None:
        if self.undo_stack.canUndo() and param_edit.may_undo(self):
            self.undo_stack.undo()

    def redo(self) -> None:
        if self.undo_stack.canRedo() and param_edit.may_undo(self, redo=True):
            self.undo_stack.redo()

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

    # ------------------------------------------------------------------ compatibility
    @property
    def _refresh_timer(self) -> QTimer:
        return self.refresher.timer

    @property
    def _stale_views(self) -> list[Any]:
        return self.param_views.stale

    @property
    def _tab_keys(self) -> list[str]:
        return [key for key, _ in VIEW_TABS]

    @property
    def _last_lr(self) -> float | None:
        return self.runs.last_lr

    @property
    def paused_step(self) -> int | None:
        """The step the child confirmed pausing at."""
        return self.runs.paused_step

    @property
    def network(self) -> Any:
        """The window's network (holds the weights of the last snapshot / finished run)."""
        return self._net

    @property
    def dataset(self) -> Any:
        return self._dataset

    @property
    def state(self) -> str:
        return str(self.runs.state)

    @property
    def worker_handle(self) -> WorkerHandle:
        return self.runs.worker_handle

    def current_tab(self) -> str:
        return self._tab_keys[self.view_tabs.currentIndex()]

    def set_current_tab(self, key: str) -> None:
        if key in self._tab_keys:
            self.view_tabs.setCurrentIndex(self._tab_keys.index(key))

    # ------------------------------------------------------------------ dataset & network
    def _on_dataset_changed(self, ds: Any) -> None:
        if ds is None:
            return
        if self.runs.busy():  # the panel is locked while training; be safe anyway
            self.stop()
        self._dataset = ds
        self._data_gen += 1
        self.surface_panel.set_dataset(ds)
        self.metrics_view.set_dataset(ds)
        self.view_tabs.setTabVisible(self._tab_keys.index("accuracy"), ds.task == "classification")
        # a regression net has no decision boundary: the tab shows its prediction
        self.view_tabs.setTabText(
            self._tab_keys.index("surface"),
            "Decision surface" if ds.task == "classification" else "Prediction",
        )
        self.inspector.set_dataset(ds)
        self.diagnostics.set_dataset(ds)
        self.gradient_check.set_dataset(ds)
        outputs = ds.classes if ds.task == "classification" else ds.target_names
        for diagram in (self.network_view, self.stage_diagram):
            diagram.set_names(list(ds.feature_names), list(outputs or []))
        self._on_trace_sample(self.inspector.sample_index)
        # set_io emits specChanged, which rebuilds the network and clears the plots; a head it
        # picks to fit the task belongs to the change of dataset, not an edit of its own
        self.undo_recorder.muted += 1
        try:
            self.network_editor.set_io(ds.n_inputs, ds.n_outputs, ds.task)
        finally:
            self.undo_recorder.muted -= 1
        self.undo_recorder.resync("network")
        if self._net is None or list(self._net.sizes) != self.network_editor.sizes():
            self._on_spec_changed()
        # the rows the net sees (after dropped ones), as in the dataset panel's summary
        n_used = len(ds.X_train) + len(ds.X_val) + len(ds.X_test)
        self.statusBar().showMessage(
            f"{ds.name}: {n_used} rows, {ds.n_inputs} inputs → {ds.n_outputs} outputs", 5000
        )

    def _on_spec_changed(self) -> None:
        if self._dataset is None or self.book.showing:
            return
        try:
            self._net = self.network_editor.build_network(NET_DTYPE)
        except ValueError as exc:  # EngineError: an impossible combination
            self.statusBar().showMessage(f"Network not valid: {exc}", 8000)
            return
        held = self.book.weights_of
        back = self.book.left_behind
        if back is not None and held is None and self.book.fits_network(back, self._net):
            # back to the network a trained run was left with (undo, or the same edit by
            # hand): its weights and curves come back instead of fresh weights
            self.book.left_behind = None
            self.book.show_run(back)
            self.statusBar().showMessage(f"{back.name}'s trained weights are back", 5000)
            return
        trained = held if held is not None and held.steps else None
        self.book.left_behind = trained or back
        self._fresh_weights()
        if trained is not None:
            self.statusBar().showMessage(
                f"Network changed: it starts from fresh weights; {trained.name} "
                f"({trained.steps:,} steps) stays in the Runs panel (Ctrl+Z undoes the change)",
                8000,
            )
        else:
            self.statusBar().clearMessage()  # no stale "Finished…" under a new network

    def _fresh_weights(self) -> None:
        """The network has new weights of its own: the next training is a new run. The plots
        are empty until then; the earlier runs stay in the Runs panel."""
        self.book.weights_of = None
        self.book.attach_plots(None)
        if self.session.current_run_id is not None:
            self.session.select_run(None)
        self.runs_panel.table.clearSelection()
        self._reset_readouts()
        self._params_changed(now=True)

    def _reset_readouts(self) -> None:
        self.runs.reset_counts()
        self.last_step_seen = 0
        self.training_panel.set_current_lr(None)
        self.epoch_label.setText("epoch –")
        self.step_label.setText("step –")
        self.rate_label.setText("– steps/s")
        self.elapsed_label.setText("0.0 s")
        self.progress_bar.hide()
        self.notice.hide()

    # ------------------------------------------------------------------ run control
    def toggle_training(self) -> None:
        """Train when idle, pause when running, resume when paused."""
        state = self.runs.state
        if state == RunState.IDLE:
            self._start_run("run")
        elif state == RunState.RUNNING:
            self.runs.pause()
            self.statusBar().showMessage("Pausing…")
        elif state == RunState.PAUSED:
            self.runs.resume()
            self.statusBar().showMessage("Training…")

    def step(self) -> None:
        """One mini-batch (starting a paused run if none exists)."""
        if self.runs.state == RunState.IDLE:
            self._start_run("step")
        else:
            self.runs.step()

    def step_epoch(self) -> None:
        """Train to the end of the epoch, then pause."""
        if self.runs.state == RunState.IDLE:
            self._start_run("step_epoch")
        else:
            self.runs.step_epoch()

    def stop(self) -> None:
        self.runs.stop()

    def reset_weights(self) -> None:
        if self.runs.busy() or self._net is None:
            return
        self._net.reinitialize()
        self._fresh_weights()
        self.statusBar().showMessage("Weights re-initialised: the next training is a new run", 4000)

    def _start_run(self, mode: str) -> None:
        ds, net = self._dataset, self._net
        if ds is None or net is None:
            self.statusBar().showMessage("Nothing to train: no dataset or network", 5000)
            return
        if len(ds.X_train) == 0:
            dialogs.show_error(self, "Cannot train", "The training set has no rows.")
            return
        cfg = FitConfig.from_dict(self.training_panel.fit_config())
        run = self.book.begin(cfg)  # the run this extends, or a new one
        self.notice.hide()
        data_key = f"data-{id(self)}-{self._data_gen}"
        self.runs.start(mode, ds, net, cfg, data_key, pace=self.training_panel.pace())
        run.set_status(RunStatus.RUNNING if mode == "run" else RunStatus.PAUSED)
        if self.runs.run_epochs:
            self.progress_bar.setRange(0, 0)  # busy until the batch count is known
            self.progress_bar.show()
        else:
            self.progress_bar.hide()
        self.refresher.kick()
        self.statusBar().showMessage("Training…" if mode == "run" else "Stepping…")

    def _on_state_changed(self, state: str) -> None:
        busy = state != "idle"
        tp = self.training_panel
        tp.set_state("running" if state == "stopping" else state)
        for b in (tp.train_button, tp.step_button, tp.step_epoch_button, tp.stop_button):
            if state == "stopping":
                b.setEnabled(False)
        if state != "stopping":
            tp.train_button.setEnabled(True)
        self.dataset_panel.set_locked(busy)
        self.network_editor.set_locked(busy)
        for act in (self.action_open, self.action_open_any, self.action_open_project):
            act.setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        self.action_train.setText({"running": "&Pause", "paused": "Res&ume"}.get(state, "&Train"))
        self.action_train.setEnabled(state != "stopping")
        self.action_step.setEnabled(state in ("idle", "paused"))
        self.action_step_epoch.setEnabled(state in ("idle", "paused"))
        self.action_stop.setEnabled(state in ("running", "paused"))
        self.action_reset.setEnabled(not busy)
        self._update_undo_actions()
        self.runStateChanged.emit(state)

    # ------------------------------------------------------------------ run messages
    def _on_progress(self, p: Progress) -> None:
        self.book.record(p)
        if p.step != self.last_step_seen:
            self.last_step_seen = int(p.step)
            self.lessons.refresh()
        if p.params is not None and self._net is not None:
            self._net.set_params(p.params)
            self._params_changed()
        self.training_panel.set_current_lr(p.lr)
        if p.paused and self.runs.state == RunState.PAUSED:
            self.statusBar().showMessage(f"Paused at step {p.step}")
        self.refresher.kick()

    def _show_status(self, s: StatusReadout) -> None:
        self.epoch_label.setText(
            f"epoch {s.epoch}" + (f", batch {s.batch}/{s.n_batches}" if s.n_batches else "")
        )
        self.step_label.setText(f"step {s.step}")
        self.rate_label.setText(f"{s.steps_per_s:,.0f} steps/s" if s.steps_per_s else "– steps/s")
        self.elapsed_label.setText(fmt_seconds(s.elapsed))
        if s.progress is not None:
            self.progress_bar.setRange(0, s.progress[1])
            self.progress_bar.setValue(s.progress[0])

    def _on_finished(self, f: Finished) -> None:
        run = self.book.finish(f)
        if self._net is not None:
            self._net.set_params(f.params)
            self._params_changed()
        self.refresher.flush()
        self.progress_bar.hide()
        rose = None
        if f.stop_reason != "diverged" and run is not None:
            ps, steps = self.book.series_of(run), run.history.loss
            rose = loss_rose(
                ps.train_loss.x, ps.train_loss.y, steps.x_first, steps.y, self.runs.run_step0
            )
        text, notice, kind = outcome_text(f, rose, self.training_panel.learning_rate())
        # the status bar shares its line with epoch/step/rate: a long message (the divergence
        # advice) would run under them, so it keeps the first clause and the notice has the rest
        self.statusBar().showMessage(first_clause(text))
        if notice:
            self.notice.show_message(notice, kind)
        self.lessons.on_run_finished(f.stop_reason, run, rose is not None)
        self.runEnded.emit(f.stop_reason)

    def _on_failed(self, title: str, message: str) -> None:
        if self._closing:
            return
        self.book.fail(message.splitlines()[0] if message else title)
        self.last_error = (title, message)
        self.progress_bar.hide()
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0] if message else ''}")
        dialogs.show_error(self, title, message)
        self.runEnded.emit("error")

    # ------------------------------------------------------------------ weight-driven views
    def _params_changed(self, now: bool = False) -> None:
        """The network's weights changed: every weight view is stale; the visible one is
        redrawn by the refresh timer (or at once with ``now``), the others when shown."""
        self.traced.invalidate()
        self.param_views.mark_stale()
        if now:
            self.param_views.update(limit=None)
        elif not self._closing:
            self.refresher.kick()

    def _on_tab_changed(self, _index: int) -> None:
        if self.param_views.pending():
            self.param_views.update(limit=None)

    def _trace_sample(self) -> tuple[Any, Any, int | None]:
        s = self.inspector.sample()
        if s is None:
            return None, None, None
        return s[0], s[1], self.inspector.sample_index

    def _on_trace_sample(self, _index: int) -> None:
        """The inspected sample changed: the diagram, the gradient check and the mini-batch
        the inspector shows follow it."""
        x, y, i = self._trace_sample()
        split = self.inspector.split()
        self.network_view.set_sample(x, y, i, split)
        self.stage_diagram.set_sample(x, y, i, split)
        if x is not None:
            self.gradient_check.set_sample(x, y)
        self._update_batch()

    def _on_stage_changed(self, _index: int, _title: str) -> None:
        """The inspector's diagram fills the neurons with what the stage is about: a in the
        forward pass, δ from the loss backwards."""
        st = self.inspector.current
        if st is not None:
            self.stage_diagram.set_fill_mode("activation" if st.kind == FORWARD else "delta")

    def current_batch(self) -> tuple[Any, Any, Any] | None:
        """The mini-batch training takes the inspected training sample from (its block of
        ``batch_size`` rows, in the order of the data), or None without data."""
        ds = self._dataset
        if ds is None or not len(ds.X_train):
            return None
        B = max(1, int(self.training_panel.fit_config()["batch_size"]))
        i = self.inspector.sample_index if self.inspector.split() == "train" else 0
        start = (min(i, len(ds.X_train) - 1) // B) * B
        rows = np.arange(start, min(len(ds.X_train), start + B))
        return ds.X_train[rows], ds.Y_train[rows], rows

    def _update_batch(self) -> None:
        batch = self.current_batch()
        if batch is not None:
            X, Y, rows = batch
            self.inspector.set_batch(X, Y, rows)
            self.gradient_check.set_batch(X, Y)

    def _on_fit_settings_changed(self, *_: Any) -> None:
        """Optimiser, α, L2, batch size: the inspector's update stage and mini-batch use them."""
        try:
            cfg = FitConfig.from_dict(self.training_panel.fit_config())
        except ValueError:  # a combination the engine refuses: the run will say so
            return
        self.inspector.set_fit_config(cfg)
        self._update_batch()

    def lesson_facts(self) -> dict[str, Any]:
        """Every fact a lesson's condition may ask about (``lessons.FACTS``), as things are."""
        return self.lessons.facts()

    def show_weight_origin(self, layer: int, j: int, k: int) -> None:
        """A click on w^l_jk (diagram, heatmap, tiles): the inspector explains ∂J/∂w^l_jk."""
        self.set_current_tab("trace")
        self.inspector.click_weight(int(layer), int(j), int(k))

    def _on_table_sample(self, split: str, index: int) -> None:
        """A row selected in the data table: the inspector (and the diagrams) take it."""
        self.inspector.set_sample_index(int(index), split)

    def _on_surface_clicked(self, event: Any) -> None:
        """A click on the decision surface picks the nearest training sample for the trace."""
        ds = self._dataset
        if ds is None or ds.n_inputs < 2 or len(ds.X_train) == 0:
            return
        vb = self.surface_view.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        P = self.surface_panel.project(ds.X_train)  # the plane's coordinates
        d = np.hypot(P[:, 0] - p.x(), P[:, 1] - p.y())
        i = int(np.argmin(d))
        self.inspector.set_sample_index(i, "train")
        self.statusBar().showMessage(
            f"Training sample {i + 1} selected: see the Backprop inspector and Network tabs", 5000
        )

    # ------------------------------------------------------------------ runs, projects, models
    def rename_run(self, run: Run, name: str) -> None:
        self.book.rename_run(run, name)

    def delete_selected_runs(self) -> None:
        """Delete the runs selected in the Runs panel (undoable)."""
        self.book.delete_selected()

    def set_session(self, session: Session) -> None:
        self.project.set_session(session)

    def open_file(self, path: str | None = None) -> None:
        self.project.open_file(path)

    def open_project(self, path: str | None = None) -> bool:
        """Open a ``.bpstudio`` project (asks for one without ``path``)."""
        return self.project.open_project(path)

    def save_project(self) -> bool:
        return self.project.save()

    def save_project_as(self) -> bool:
        return self.project.save_as()

    def open_model(self, path: str) -> Run | None:
        """A model file (.npz, .json, .safetensors) becomes a run shown in every view."""
        return self.project.open_model(path)

    def predict_csv(self, path: str | None = None, out: str | None = None) -> str | None:
        """The selected run's predictions on a CSV table, as ``bpstudio predict`` writes them."""
        return self.project.predict_csv(path, out)

    def export_history(self, path: str | None = None) -> str | None:
        """The selected runs' per-epoch history as CSV (as ``bpstudio runs --csv``)."""
        return self.project.export_history(path)

    # ------------------------------------------------------------------ files
    def open_csv(self, path: str | None = None) -> None:
        if self.runs.busy():
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
        self.project.export_weights()

    def export_pytorch(self) -> None:
        """Write the network as PyTorch code (``name.py``), its weights in ``name.safetensors``."""
        self.project.export_pytorch()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_path(event)
        if path is not None and not self.runs.busy():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_path(event)
        if path is None or self.runs.busy():
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.open_file(path))  # a project, a model or a table

    def _dropped_path(self, event: Any) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                path = url.toLocalFile()
                if path.lower().endswith((".bpstudio", *MODEL_SUFFIXES)):
                    return path
                if self.dataset_panel.accepts_path(path):
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
        rows = actions.shortcut_rows(self)
        body = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"

    def show_shortcuts(self) -> None:
        dialogs.show_info(self, "Keyboard shortcuts", self.shortcut_text())

    def show_about(self) -> None:
        from bpstudio import __version__

        dialogs.show_about(
            self,
            "About Backprop Studio",
            f"<b>Backprop Studio</b> {__version__}<br>Watch backpropagation train a fully "
            "connected network: BP1–BP4 in matrix form, NumPy engine, PySide6 + pyqtgraph.",
        )

    def _shown_net(self) -> Any:
        """The network the weight views draw: during a sweep the variant on the main plots
        (with its latest weights), else the window's own."""
        shown = self.comparison.sweeper.display_net()
        return shown if shown is not None else self._net

    def _follow_x_mode(self, *_: Any) -> None:
        """View → X axis in epochs follows the plots' own x-axis choices: ticked when both the
        loss and the gradient-norm plot show epochs."""
        on = all(p.x_mode() == "epoch" for p in (self.loss_plot, self.grad_plot))
        self.action_x_epochs.blockSignals(True)
        self.action_x_epochs.setChecked(on)
        self.action_x_epochs.blockSignals(False)

    # ------------------------------------------------------------------ settings & closing
    def save_settings(self) -> None:
        window_settings.save(self, self._settings)

    def shutdown(self) -> None:
        """Stop the run and the child process, wait for the worker thread. Idempotent. Quitting
        without a decision about unsaved runs (the session ends) keeps them for recovery."""
        if not self._closing and not self._close_decided:
            self.project.autosave()
        self._closing = True
        self.project.timer.stop()
        self.project.wait_autosave()
        self.undo_key_filter.close()
        self.refresher.stop()
        for t in self.throttled:
            t.stop()
        self.inspector.stop()
        self.param_editor.stop()
        self.diagnostics.stop()
        self.statusBar().clearMessage()  # stops the status bar's own message timer
        self.dataset_panel.shutdown()
        self.runs.close()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Views built before the window was on screen (the untrained network's surface, the
        diagram, the trace) are stale; draw them once the window shows, as any tab does."""
        super().showEvent(event)
        if self.param_views.pending():
            QTimer.singleShot(0, self._update_visible_param_views)

    def _update_visible_param_views(self) -> None:
        if not self._closing:
            self.param_views.update(limit=None)

    _close_decided = False
    _quit_unasked = False

    def quit_keeping_work(self) -> None:
        """Close without asking (Ctrl-C or SIGTERM in the terminal): nobody may be at the window
        to answer, so unsaved runs go to the recovery file, offered back at the next start."""
        self._quit_unasked = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._quit_unasked:
            pass  # shutdown() below writes the recovery file
        elif not self._closing and not self.project.confirm_close():
            event.ignore()
            return
        else:
            self._close_decided = True
        with contextlib.suppress(Exception):  # never keep a window open because settings failed
            self.save_settings()
        self.shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow"]
