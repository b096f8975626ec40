"""Rewind and branch: every view shows the network as it was at one of its run's checkpoints.

:class:`RewindBar` sits above the plots. Its slider (``rewindSlider``) runs over the checkpoints
of the run on screen (``Run.checkpoints``, by step) and, at its right end, the run's final
weights; moving it (or clicking a point of the loss curve: the checkpoint nearest that step)
puts that checkpoint's weights into the window's network, so the decision surface, the diagram,
the inspector and the weight views all redraw from them, and a line on the loss plot marks the
step. "Back to the end" returns to the run's last weights; "Continue from here" starts a branch
(``Session.branch``) from the checkpoint with the settings now in the training panel: its curves
start at the checkpoint's step and its name gives the parent ("Run 2 from step 1200").

While the views show a checkpoint the parent run is not the run training would extend (its
weights are not the network's), so Train without "Continue from here" starts a new run.

Leaves out: rewinding between checkpoints (only kept weights can be shown), rewinding while
training.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from bpstudio.engine import FitConfig, Network
from bpstudio.session import Run, SessionEventKind
from bpstudio.session.checkpoints import Checkpoint


class RewindBar(QWidget):
    """The checkpoint scrubber of the run on screen (see the module docstring)."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.setObjectName("rewindBar")
        self.w = window
        self.run: Run | None = None
        self.checkpoints: list[Checkpoint] = []
        self.at: Checkpoint | None = None  # the checkpoint on screen (None: the run's end)
        self.title = QLabel("Rewind:")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("rewindSlider")
        self.slider.setToolTip(
            "Replay the run's checkpoints through every view (or click a point of the loss curve)"
        )
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._on_slider)
        self.where = QLabel()
        self.where.setObjectName("rewindLabel")
        self.where.setMinimumWidth(220)
        self.end_button = QPushButton("Back to the end")
        self.end_button.setObjectName("rewindEndButton")
        self.end_button.clicked.connect(self.back_to_end)
        self.branch_button = QPushButton("Continue from here")
        self.branch_button.setObjectName("branchButton")
        self.branch_button.setToolTip(
            "A new run from this checkpoint, trained with the settings in the training panel"
        )
        self.branch_button.clicked.connect(lambda: self.continue_from_here())
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        for wid, stretch in (
            (self.title, 0),
            (self.slider, 1),
            (self.where, 0),
            (self.end_button, 0),
            (self.branch_button, 0),
        ):
            lay.addWidget(wid, stretch)
        self.marker = pg.InfiniteLine(
            angle=90, pen=pg.mkPen("#d08000", width=1.5, style=Qt.PenStyle.DashLine)
        )
        self.marker.setZValue(50)
        self.marker.hide()
        window.loss_plot.addItem(self.marker, ignoreBounds=True)
        # above the plots, in the centre column
        centre = window.main_splitter.widget(1)
        centre.layout().insertWidget(1, self)
        window.session.connect(self._on_session_event)
        window.runStateChanged.connect(lambda _s: self.sync())
        window.loss_plot.scene().sigMouseClicked.connect(self._on_loss_clicked)
        self.sync()

    # ------------------------------------------------------------------ state
    def shown_run(self) -> Run | None:
        run = self.w.session.current_run
        return run if run is not None and run in self.w.session.runs else None

    def sync(self) -> None:
        """Follow the run on screen and its checkpoints."""
        run = self.shown_run()
        busy = self.w.runs.busy()
        cps = list(run.checkpoints.all()) if run is not None else []
        if run is not self.run:
            self.at = None
            self.marker.hide()
        self.run, self.checkpoints = run, cps
        self.setVisible(bool(cps))
        self.slider.blockSignals(True)
        try:
            self.slider.setRange(0, len(cps))
            index = len(cps) if self.at is None else self._index_of(self.at)
            self.slider.setValue(index)
        finally:
            self.slider.blockSignals(False)
        self.slider.setEnabled(not busy)
        self.end_button.setEnabled(not busy and self.at is not None)
        self.branch_button.setEnabled(not busy and self.at is not None)
        self._update_label()

    def _index_of(self, ckpt: Checkpoint) -> int:
        for i, c in enumerate(self.checkpoints):
            if c is ckpt or (c.step == ckpt.step and c.epoch == ckpt.epoch):
                return i
        return len(self.checkpoints)

    def _update_label(self) -> None:
        run = self.run
        if run is None:
            self.where.setText("")
        elif self.at is None:
            self.where.setText(
                f"{run.name}: end (step {run.steps:,}, {len(self.checkpoints)} checkpoints)"
            )
        else:
            c = self.at
            self.where.setText(f"{run.name} at step {c.step:,} (epoch {c.epoch})")

    def _on_session_event(self, event: Any) -> None:
        if event.kind in (
            SessionEventKind.CURRENT_RUN,
            SessionEventKind.RUN_FINISHED,
            SessionEventKind.RUN_ADDED,
            SessionEventKind.RUN_REMOVED,
            SessionEventKind.LOADED,
        ):
            self.sync()

    # ------------------------------------------------------------------ rewinding
    def _on_slider(self, index: int) -> None:
        if self.run is None or self.w.runs.busy():
            return
        if index >= len(self.checkpoints):
            self.back_to_end()
        else:
            self.show_checkpoint(self.checkpoints[index])

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        """Every view shows the run on screen as it was at ``ckpt``."""
        run, w = self.run, self.w
        if run is None or w.runs.busy():
            return
        w._net = Network.from_config(run.net_config, ckpt.params)
        w.book.weights_of = None  # training now would not extend the run from its end
        self.at = ckpt
        self._mark(ckpt.step, ckpt.epoch)
        w.step_label.setText(f"step {ckpt.step}")
        w.epoch_label.setText(f"epoch {ckpt.epoch}")
        w._params_changed(now=True)
        self.sync()
        w.statusBar().showMessage(
            f"{run.name} as at step {ckpt.step:,} (epoch {ckpt.epoch}): every view shows these "
            "weights; Continue from here trains a branch",
            6000,
        )

    def back_to_end(self) -> None:
        run, w = self.run, self.w
        if run is None or w.runs.busy():
            return
        self.at = None
        self.marker.hide()
        if run.params is not None:
            w._net = run.network()
            w.book.weights_of = run
            w.step_label.setText(f"step {run.steps}")
            w.epoch_label.setText(f"epoch {run.epochs}")
            w._params_changed(now=True)
        self.sync()

    def _mark(self, step: int, epoch: int) -> None:
        plot = self.w.loss_plot
        self.marker.setValue(float(epoch) if plot.x_mode() == "epoch" else float(step))
        self.marker.show()

    def _on_loss_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.checkpoints:
            return
        plot = self.w.loss_plot
        vb = plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        self.rewind_to_step(plot._to_native(x))

    def rewind_to_step(self, step: float) -> Checkpoint | None:
        """Show the checkpoint nearest ``step`` (a click on the loss curve)."""
        if not self.checkpoints:
            return None
        ckpt = min(self.checkpoints, key=lambda c: abs(c.step - step))
        self.slider.setValue(self._index_of(ckpt))  # → show_checkpoint
        if self.at is not ckpt:
            self.show_checkpoint(ckpt)
        return ckpt

    # ------------------------------------------------------------------ branching
    def continue_from_here(self, train: bool = True) -> Run | None:
        """A branch from the checkpoint on screen with the training panel's settings; it trains
        at once (``train``) and is the run on screen."""
        run, ckpt, w = self.run, self.at, self.w
        if run is None or ckpt is None or w.runs.busy():
            return None
        try:
            cfg = FitConfig.from_dict(w.training_panel.fit_config())
        except ValueError as exc:
            w.statusBar().showMessage(f"Settings not valid: {exc}", 6000)
            return None
        branch = w.session.branch(run.id, ckpt.step)
        branch.fit = cfg
        branch.steps, branch.epochs = int(ckpt.step), int(ckpt.epoch)  # its curves start here
        self.at = None
        self.marker.hide()
        w.book.show_run(branch)
        w.book.weights_of = branch
        self.sync()
        if train:
            w.toggle_training()
        return branch


__all__ = ["RewindBar"]
