"""Training controls: optimizer and its settings, batch size, epochs, L2, schedule, early stopping,
and the Train/Pause, Step, Step epoch, Stop and Reset buttons (``run_controls``: inside the box by
default; ``embed_controls=False`` leaves them for the window to place, e.g. in a bar that never
scrolls out of view).

The panel only describes a run: :meth:`TrainingPanel.fit_config` returns ``FitConfig`` fields by
name, and its signals say which button was pressed. The window decides what a press means in the
current state and calls :meth:`set_state` ("idle", "running", "paused"); settings a run cannot
change are disabled while one exists, the learning rate stays live (``learningRateChanged``).

Speed (``speedSlider``, in the run controls so it never scrolls away): steps per second on a log
scale, 1 … 1000 in the R10 series (1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8 per decade), then
"full speed" at the right end. :meth:`TrainingPanel.pace` is the value for ``RunRequest.pace``
(``None`` = full speed); ``paceChanged`` carries it live. It is saved with the other settings; the
default (:data:`DEFAULT_PACE`, 100 steps/s) lets the surface be seen to bend over some seconds.

Leaves out: the seed of the shuffling (fixed at the FitConfig default) and the training dtype.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpstudio.engine import FitConfig

#: Smallest and largest learning rate the spin box accepts.
LR_RANGE = (1e-6, 1000.0)
_OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "adam": "Adam"}
_SCHEDULE_LABELS = {"constant": "Constant", "step": "Step decay", "exponential": "Exponential"}

#: Steps per second at the slider's positions (R10 series, 1 … 1000); one more is full speed.
_R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)
PACES: tuple[float, ...] = tuple(round(m * 10.0**d, 6) for d in range(3) for m in _R10) + (1000.0,)
FULL_SPEED = len(PACES)  # the slider position past the last pace
#: The app opens at this pace: on circles (32 steps an epoch) the boundary visibly forms over
#: about 1–6 s (looked at under Xvfb); the default 200 epochs take about a minute.
DEFAULT_PACE = 100.0


def pace_label(pace: float | None) -> str:
    """The speed as the slider's label says it: "12.5 steps/s", "1 step/s", "full speed"."""
    if pace is None:
        return "full speed"
    return "1 step/s" if pace == 1 else f"{pace:.3g} steps/s"


def pace_position(pace: float | None) -> int:
    """The slider position nearest to ``pace`` on the log scale (None → full speed)."""
    if pace is None or pace == math.inf:
        return FULL_SPEED
    if not pace > 0:  # NaN, zero or negative (a hand-edited settings file)
        raise ValueError(f"a pace is a positive number of steps per second, not {pace}")
    logs = [abs(math.log(p) - math.log(pace)) for p in PACES]
    return int(min(range(len(PACES)), key=logs.__getitem__))


# Training defaults, one home each: the optimiser and schedule hyperparameters are the engine's
# (FitConfig). The window departs from it in two places, on purpose, and decides them here: it
# teaches on small 2-D sets, so batches of 10 make the loss curve and the surface move visibly
# step by step, and 200 epochs give plain SGD time to separate the playground datasets.
_FIT = FitConfig()
DEFAULTS: dict[str, Any] = {
    "optimizer": _FIT.optimizer,
    "lr": _FIT.lr,
    "momentum": _FIT.momentum,
    "nesterov": _FIT.nesterov,
    "beta1": _FIT.beta1,
    "beta2": _FIT.beta2,
    "batch_size": 10,
    "epochs": 200,
    "until_stopped": False,
    "weight_decay": _FIT.weight_decay,
    "schedule": _FIT.schedule,
    "step_size": _FIT.step_size,
    "gamma": _FIT.gamma,
    "early_stopping": False,
    "patience": 10,  # offered when early stopping is ticked (FitConfig's None means "off")
    "pace": DEFAULT_PACE,  # steps per second; None = full speed
}


class CompactDoubleSpinBox(QDoubleSpinBox):
    """Shows 0.1 rather than 0.100000 (up to ``decimals`` significant places are kept)."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        text = f"{value:.{self.decimals()}f}".rstrip("0")
        return text + "0" if text.endswith(".") else text


def _double(lo: float, hi: float, decimals: int, value: float, name: str) -> QDoubleSpinBox:
    box = CompactDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    box.setValue(value)
    box.setObjectName(name)
    box.setKeyboardTracking(False)
    return box


def _int(lo: int, hi: int, value: int, name: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setObjectName(name)
    box.setKeyboardTracking(False)
    return box


class TrainingPanel(QGroupBox):
    """Settings of the next run and the buttons that drive it."""

    trainClicked = Signal()  # Train / Pause / Resume toggle
    stepClicked = Signal()
    stepEpochClicked = Signal()
    stopClicked = Signal()
    resetClicked = Signal()
    learningRateChanged = Signal(float)
    paceChanged = Signal(object)  # steps per second (float) or None for full speed
    settingsChanged = Signal()

    def __init__(self, parent: QWidget | None = None, *, embed_controls: bool = True) -> None:
        super().__init__("Training", parent)
        self.setObjectName("trainingPanel")
        self._state = "idle"

        self.optimizer_combo = QComboBox()
        self.optimizer_combo.setObjectName("optimizerCombo")
        for key, label in _OPTIMIZER_LABELS.items():
            self.optimizer_combo.addItem(label, key)
        # Up to 1000 on purpose: watching a too-large α diverge is a lesson of its own (the run
        # stops with a "diverged" notice); the range is in the tooltip, not a silent clamp at 10.
        self.lr_spin = _double(LR_RANGE[0], LR_RANGE[1], 6, DEFAULTS["lr"], "learningRateSpin")
        self.lr_spin.setToolTip(
            "Learning rate α (0.000001 … 1000); it can change while training.\n"
            "The arrows step by about a tenth of the value's order of magnitude.\n"
            "Too large an α makes the loss blow up: training stops and says so — try it."
        )
        self.momentum_spin = _double(0.0, 0.9999, 4, DEFAULTS["momentum"], "momentumSpin")
        self.nesterov_check = QCheckBox("Nesterov")
        self.nesterov_check.setObjectName("nesterovCheck")
        self.beta1_spin = _double(0.0, 0.9999, 4, DEFAULTS["beta1"], "beta1Spin")
        self.beta2_spin = _double(0.0, 0.99999, 5, DEFAULTS["beta2"], "beta2Spin")
        self.batch_spin = _int(1, 1_000_000, DEFAULTS["batch_size"], "batchSizeSpin")
        self.epochs_spin = _int(1, 1_000_000, DEFAULTS["epochs"], "epochsSpin")
        self.until_stopped_check = QCheckBox("until stopped")
        self.until_stopped_check.setObjectName("untilStoppedCheck")
        self.l2_spin = _double(0.0, 10.0, 6, DEFAULTS["weight_decay"], "weightDecaySpin")
        self.l2_spin.setToolTip("L2 weight decay λ (0 = off)")
        self.schedule_combo = QComboBox()
        self.schedule_combo.setObjectName("scheduleCombo")
        for key, label in _SCHEDULE_LABELS.items():
            self.schedule_combo.addItem(label, key)
        self.step_size_spin = _int(1, 100_000, DEFAULTS["step_size"], "stepSizeSpin")
        self.step_size_spin.setSuffix(" epochs")
        self.gamma_spin = _double(0.001, 1.0, 4, DEFAULTS["gamma"], "gammaSpin")
        self.gamma_spin.setToolTip("Factor α is multiplied by (per step / per epoch)")
        self.early_check = QCheckBox("Early stopping")
        self.early_check.setObjectName("earlyStoppingCheck")
        self.early_check.setToolTip(
            "Stop when the validation loss has not improved for this many "
            "epochs, and keep the best weights"
        )
        self.patience_spin = _int(1, 100_000, DEFAULTS["patience"], "patienceSpin")
        self.patience_spin.setSuffix(" epochs")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Optimizer", self.optimizer_combo)
        # under a schedule α moves during the run: "now α = …" beside the value that was set
        self.current_lr_label = QLabel("")
        self.current_lr_label.setObjectName("currentLearningRateLabel")
        self.current_lr_label.setToolTip(
            "The learning rate in use now: the set value times the schedule's factor so far"
        )
        lr_row = QHBoxLayout()
        lr_row.addWidget(self.lr_spin, 1)
        lr_row.addWidget(self.current_lr_label)
        form.addRow("Learning rate α", lr_row)
        mom = QHBoxLayout()
        mom.addWidget(self.momentum_spin, 1)
        mom.addWidget(self.nesterov_check)
        self._momentum_row = QWidget()
        self._momentum_row.setLayout(mom)
        mom.setContentsMargins(0, 0, 0, 0)
        form.addRow("Momentum μ", self._momentum_row)
        betas = QHBoxLayout()
        betas.setContentsMargins(0, 0, 0, 0)
        betas.addWidget(QLabel("β₁"))
        betas.addWidget(self.beta1_spin, 1)
        betas.addWidget(QLabel("β₂"))
        betas.addWidget(self.beta2_spin, 1)
        self._betas_row = QWidget()
        self._betas_row.setLayout(betas)
        form.addRow("Adam", self._betas_row)
        form.addRow("Batch size", self.batch_spin)
        ep = QHBoxLayout()
        ep.setContentsMargins(0, 0, 0, 0)
        ep.addWidget(self.epochs_spin, 1)
        ep.addWidget(self.until_stopped_check)
        epochs_row = QWidget()
        epochs_row.setLayout(ep)
        form.addRow("Epochs", epochs_row)
        form.addRow("L2 λ", self.l2_spin)
        form.addRow("α schedule", self.schedule_combo)
        sched = QHBoxLayout()
        sched.setContentsMargins(0, 0, 0, 0)
        sched.addWidget(QLabel("every"))
        sched.addWidget(self.step_size_spin, 1)
        sched.addWidget(QLabel("× γ"))
        sched.addWidget(self.gamma_spin, 1)
        self._schedule_row = QWidget()
        self._schedule_row.setLayout(sched)
        form.addRow("", self._schedule_row)
        early = QHBoxLayout()
        early.setContentsMargins(0, 0, 0, 0)
        early.addWidget(self.early_check)
        early.addWidget(self.patience_spin, 1)
        early_row = QWidget()
        early_row.setLayout(early)
        form.addRow("", early_row)
        self._form = form

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Train / pause (Space, F5)")
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("Train one mini-batch, then pause")
        self.step_epoch_button = QPushButton("Step epoch")
        self.step_epoch_button.setObjectName("stepEpochButton")
        self.step_epoch_button.setToolTip("Train to the end of the epoch, then pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("End the run, keep the weights (Ctrl+.)")
        self.reset_button = QPushButton("Reset weights")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Re-initialise the network and clear the plots (Ctrl+R)")
        self.train_button.setDefault(False)
        buttons = QGridLayout()
        buttons.addWidget(self.train_button, 0, 0, 1, 2)
        buttons.addWidget(self.step_button, 1, 0)
        buttons.addWidget(self.step_epoch_button, 1, 1)
        buttons.addWidget(self.stop_button, 2, 0)
        buttons.addWidget(self.reset_button, 2, 1)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, FULL_SPEED)
        self.speed_slider.setPageStep(10)  # a decade
        self.speed_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.speed_slider.setTickInterval(10)
        self.speed_slider.setToolTip(
            "Training speed in mini-batch steps per second (log scale: 1 … 1000), or full speed\n"
            "at the right end. Every view follows at this pace; it can change while training."
        )
        self.speed_label = QLabel()
        self.speed_label.setObjectName("speedLabel")
        # wide enough for "6.3 steps/s" / "full speed", so the slider does not jump
        width = self.speed_label.fontMetrics().horizontalAdvance("0000 steps/s")
        self.speed_label.setMinimumWidth(width)
        speed = QHBoxLayout()
        speed.setContentsMargins(0, 0, 0, 0)
        speed_title = QLabel("Speed")
        speed_title.setBuddy(self.speed_slider)
        speed.addWidget(speed_title)
        speed.addWidget(self.speed_slider, 1)
        speed.addWidget(self.speed_label)
        buttons.addLayout(speed, 3, 0, 1, 2)
        self.speed_slider.setValue(pace_position(DEFAULT_PACE))
        self._show_pace()

        # The buttons live in their own widget so the window can keep them in view (a bar below
        # the scrolling side column) while the settings scroll; standalone, they sit in the box.
        self.run_controls = QFrame()
        self.run_controls.setObjectName("runControls")
        self.run_controls.setLayout(buttons)
        buttons.setContentsMargins(6, 6, 6, 6)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if embed_controls:
            layout.addWidget(self.run_controls)

        # the widgets a run cannot change (everything but α and the buttons)
        self._locked_widgets: list[QWidget] = [
            self.optimizer_combo,
            self._momentum_row,
            self._betas_row,
            self.batch_spin,
            epochs_row,
            self.l2_spin,
            self.schedule_combo,
            self._schedule_row,
            early_row,
        ]

        self.train_button.clicked.connect(self.trainClicked)
        self.step_button.clicked.connect(self.stepClicked)
        self.step_epoch_button.clicked.connect(self.stepEpochClicked)
        self.stop_button.clicked.connect(self.stopClicked)
        self.reset_button.clicked.connect(self.resetClicked)
        self.lr_spin.valueChanged.connect(self.learningRateChanged)
        self.speed_slider.valueChanged.connect(self._on_speed_moved)
        for box in (
            self.lr_spin,
            self.momentum_spin,
            self.beta1_spin,
            self.beta2_spin,
            self.batch_spin,
            self.epochs_spin,
            self.l2_spin,
            self.step_size_spin,
            self.gamma_spin,
            self.patience_spin,
        ):
            box.valueChanged.connect(self.settingsChanged)
        for combo in (self.optimizer_combo, self.schedule_combo):
            combo.currentIndexChanged.connect(self._update_visibility)
            combo.currentIndexChanged.connect(self.settingsChanged)
        for check in (self.nesterov_check, self.until_stopped_check, self.early_check):
            check.toggled.connect(self._update_visibility)
            check.toggled.connect(self.settingsChanged)
        self._update_visibility()
        self.set_state("idle")

    # ----------------------------------------------------------------- state
    @property
    def state(self) -> str:
        return self._state

    def set_state(self, state: str) -> None:
        """ "idle": everything editable; "running"/"paused": a run exists, only α is live."""
        self._state = state
        idle = state == "idle"
        for w in self._locked_widgets:
            w.setEnabled(idle)
        if idle:
            self._update_visibility()
        self.train_button.setText({"running": "Pause", "paused": "Resume"}.get(state, "Train"))
        self.step_button.setEnabled(state != "running")
        self.step_epoch_button.setEnabled(state != "running")
        self.stop_button.setEnabled(not idle)
        self.reset_button.setEnabled(idle)

    def _update_visibility(self) -> None:
        opt = self.optimizer_combo.currentData()
        self._set_row_visible(self._momentum_row, opt == "momentum")
        self._set_row_visible(self._betas_row, opt == "adam")
        self._set_row_visible(self._schedule_row, self.schedule_combo.currentData() != "constant")
        self.epochs_spin.setEnabled(
            self._state == "idle" and not self.until_stopped_check.isChecked()
        )
        self.patience_spin.setEnabled(self._state == "idle" and self.early_check.isChecked())

    def _set_row_visible(self, field: QWidget, visible: bool) -> None:
        self._form.setRowVisible(field, visible)

    def set_current_lr(self, lr: float | None) -> None:
        """Show α as it is now in the run (None, or a constant schedule: nothing to add)."""
        if lr is None or self.schedule_combo.currentData() == "constant":
            self.current_lr_label.setText("")
            return
        self.current_lr_label.setText(f"now {lr:.4g}")

    # ----------------------------------------------------------------- values
    def pace(self) -> float | None:
        """Steps per second for ``RunRequest.pace``; None at full speed."""
        pos = self.speed_slider.value()
        return None if pos >= FULL_SPEED else PACES[pos]

    def set_pace(self, pace: float | None) -> None:
        self.speed_slider.setValue(pace_position(pace))

    def _show_pace(self) -> None:
        self.speed_label.setText(pace_label(self.pace()))

    def _on_speed_moved(self, _pos: int) -> None:
        self._show_pace()
        self.paceChanged.emit(self.pace())
        self.settingsChanged.emit()

    def learning_rate(self) -> float:
        return float(self.lr_spin.value())

    def epochs(self) -> int | None:
        return None if self.until_stopped_check.isChecked() else int(self.epochs_spin.value())

    def fit_config(self) -> dict[str, Any]:
        """``FitConfig`` fields by name for the next run."""
        opt = self.optimizer_combo.currentData()
        cfg: dict[str, Any] = {
            "optimizer": opt,
            "lr": self.learning_rate(),
            "batch_size": int(self.batch_spin.value()),
            "epochs": self.epochs(),
            "weight_decay": float(self.l2_spin.value()),
            "schedule": self.schedule_combo.currentData(),
            "step_size": int(self.step_size_spin.value()),
            "gamma": float(self.gamma_spin.value()),
            "patience": int(self.patience_spin.value()) if self.early_check.isChecked() else None,
        }
        if opt == "momentum":
            cfg["momentum"] = float(self.momentum_spin.value())
            cfg["nesterov"] = self.nesterov_check.isChecked()
        elif opt == "adam":
            cfg["beta1"] = float(self.beta1_spin.value())
            cfg["beta2"] = float(self.beta2_spin.value())
        return cfg

    def settings(self) -> dict[str, Any]:
        """Every setting, JSON-safe, for QSettings."""
        return {
            "optimizer": self.optimizer_combo.currentData(),
            "lr": self.lr_spin.value(),
            "momentum": self.momentum_spin.value(),
            "nesterov": self.nesterov_check.isChecked(),
            "beta1": self.beta1_spin.value(),
            "beta2": self.beta2_spin.value(),
            "batch_size": self.batch_spin.value(),
            "epochs": self.epochs_spin.value(),
            "until_stopped": self.until_stopped_check.isChecked(),
            "weight_decay": self.l2_spin.value(),
            "schedule": self.schedule_combo.currentData(),
            "step_size": self.step_size_spin.value(),
            "gamma": self.gamma_spin.value(),
            "early_stopping": self.early_check.isChecked(),
            "patience": self.patience_spin.value(),
            "pace": self.pace(),
        }

    def apply_settings(self, values: dict[str, Any]) -> None:
        """Restore :meth:`settings` output; unknown keys and bad values are ignored."""
        v = {**DEFAULTS, **{k: values[k] for k in values if k in DEFAULTS}}

        def combo(box: QComboBox, key: str) -> None:
            i = box.findData(v[key])
            if i >= 0:
                box.setCurrentIndex(i)

        try:
            combo(self.optimizer_combo, "optimizer")
            combo(self.schedule_combo, "schedule")
            self.lr_spin.setValue(float(v["lr"]))
            self.momentum_spin.setValue(float(v["momentum"]))
            self.nesterov_check.setChecked(bool(v["nesterov"]))
            self.beta1_spin.setValue(float(v["beta1"]))
            self.beta2_spin.setValue(float(v["beta2"]))
            self.batch_spin.setValue(int(v["batch_size"]))
            self.epochs_spin.setValue(int(v["epochs"]))
            self.until_stopped_check.setChecked(bool(v["until_stopped"]))
            self.l2_spin.setValue(float(v["weight_decay"]))
            self.step_size_spin.setValue(int(v["step_size"]))
            self.gamma_spin.setValue(float(v["gamma"]))
            self.early_check.setChecked(bool(v["early_stopping"]))
            self.patience_spin.setValue(int(v["patience"]))
        except (TypeError, ValueError):
            pass
        try:
            self.set_pace(None if v["pace"] is None else float(v["pace"]))
        except (TypeError, ValueError):
            self.set_pace(DEFAULT_PACE)
        self._update_visibility()


__all__ = ["DEFAULTS", "TrainingPanel"]
