"""The gradient check panel: is backprop right for this network? And what if it were not?

``GradientCheckPanel`` (objectName ``gradientCheckPanel``) runs
:func:`bpstudio.engine.gradcheck_report.gradient_check_report` — central finite differences
against backprop, float64 — on a chosen batch (the current sample, the current mini-batch, or N
random training rows) when ``gradientCheckButton`` is pressed, and shows a table per parameter
array (W2, b2, …: relative error, max and mean per-entry error, the worst entries by name) and a
plain verdict in ``gradientCheckVerdict``.

Below it, clearly boxed and labelled as a demonstration, "Break backprop on purpose": off until
its box is ticked (and off again whenever the network changes), with its own buttons. It runs
the check on backprop with one deliberate mistake (forget σ′ in BP2, drop the 1/k of the MSE, W
instead of Wᵀ) and shows what the check reports and how plain SGD then trains (correct against
broken, on a copy of the network). The correct check never uses the broken code.

API: ``set_network(net)``, ``set_dataset(ds)``, ``set_sample(x, y)``, ``set_batch(X, Y)``,
``run_check()``, ``run_broken_check()``, ``run_broken_training()``; signal ``checked(report)``.
Runs in the GUI thread (the check costs two forward passes per parameter); networks with more
than ``MAX_PARAMS`` parameters are refused with a message saying what to do.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpstudio.engine.errors import EngineError
from bpstudio.engine.gradcheck_report import (
    BREAKS,
    GradCheckReport,
    broken_gradient_check_report,
    demo_descent,
    gradient_check_report,
)
from bpstudio.ui import theme

MAX_PARAMS = 60_000
DEMO_EPOCHS, DEMO_LR, DEMO_SEED = 30, 0.5, 0
BATCHES = (("sample", "current sample"), ("batch", "current mini-batch"), ("random", "random rows"))
EPSILONS = (1e-4, 1e-5, 1e-6, 1e-7)
OK_COLOR, BAD_COLOR = "#1B7F3B", "#C0392B"
BREAK_LABELS = {
    "forget_sigma_prime": "Forget σ′(z) in BP2",
    "mse_without_1_over_k": "Drop the 1/k of the MSE",
    "w_instead_of_wt": "Use W instead of Wᵀ in BP2",
}


def _pretty(name: str) -> str:
    """ "∂J/∂w^3_21" → "∂J/∂w³₂₁" for table cells."""
    sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
    sub = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
    head, _, rest = name.partition("^")
    layer, _, idx = rest.partition("_")
    return head + layer.translate(sup) + idx.translate(sub)


class GradientCheckPanel(QWidget):
    """Finite differences against backprop, per array; see the module docstring."""

    checked = Signal(object)  # GradCheckReport

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientCheckPanel")
        self.net: Any = None
        self.dataset: Any = None
        self._sample: tuple[np.ndarray, np.ndarray] | None = None
        self._batch: tuple[np.ndarray, np.ndarray] | None = None
        self.report: GradCheckReport | None = None
        self.broken_report: GradCheckReport | None = None
        self._rng = np.random.default_rng(0)

        self.batch_combo = QComboBox()
        self.batch_combo.setObjectName("gradientCheckBatchCombo")
        for key, label in BATCHES:
            self.batch_combo.addItem(label, key)
        self.rows_spin = QSpinBox()
        self.rows_spin.setObjectName("gradientCheckRowsSpin")
        self.rows_spin.setRange(1, 1000)
        self.rows_spin.setValue(16)
        self.rows_spin.setSuffix(" rows")
        self.eps_combo = QComboBox()
        self.eps_combo.setObjectName("gradientCheckEpsCombo")
        for e in EPSILONS:
            self.eps_combo.addItem(f"ε = {e:g}", e)
        self.eps_combo.setCurrentIndex(EPSILONS.index(1e-6))
        self.button = QPushButton("Check the gradients")
        self.button.setObjectName("gradientCheckButton")
        self.button.setToolTip(
            "Compare backprop's ∂J/∂θ with central differences (J(θ+ε) − J(θ−ε))/2ε, float64"
        )
        self.verdict = QLabel(
            "Press “Check the gradients” to compare backprop with finite differences."
        )
        self.verdict.setObjectName("gradientCheckVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("gradientCheckTable")
        self.table.setHorizontalHeaderLabels(
            [
                "array",
                "shape",
                "relative error",
                "max entry error",
                "mean entry error",
                "worst entries",
            ]
        )
        tips = [
            "The parameter array, named as in the seed (W2 joins layer 1 to layer 2)",
            "(n_l, n_(l−1)) for a weight matrix, n_l for a bias",
            "‖g_bp − g_fd‖ / (‖g_bp‖ + ‖g_fd‖): the verdict uses this (≤ 1e-6 agrees)",
            "The largest |g_bp − g_fd| / (|g_bp| + |g_fd|) of one entry; entries that are "
            "themselves tiny carry the finite differences' round-off, so this may exceed 1e-6 "
            "for a correct backprop",
            "The mean of the per-entry relative errors",
            "The entries with the largest per-entry error: backprop vs finite difference",
        ]
        for c, tip in enumerate(tips):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Batch:"))
        row.addWidget(self.batch_combo)
        row.addWidget(self.rows_spin)
        row.addWidget(self.eps_combo)
        row.addWidget(self.button)
        row.addStretch(1)

        # the demonstration, boxed apart
        self.demo_box = QGroupBox("Demonstration: break backprop on purpose")
        self.demo_box.setObjectName("gradientCheckDemo")
        self.demo_box.setCheckable(True)
        self.demo_box.setChecked(False)
        self.demo_box.setToolTip(
            "For teaching: a copy of backprop with one deliberate mistake. It never touches "
            "training or the check above."
        )
        self.break_combo = QComboBox()
        self.break_combo.setObjectName("gradientCheckBreakCombo")
        for key in BREAKS:
            self.break_combo.addItem(BREAK_LABELS[key], key)
            self.break_combo.setItemData(
                self.break_combo.count() - 1, BREAKS[key], Qt.ItemDataRole.ToolTipRole
            )
        self.broken_button = QPushButton("Check the broken backprop")
        self.broken_button.setObjectName("gradientCheckBrokenButton")
        self.train_button = QPushButton("Train with it")
        self.train_button.setObjectName("gradientCheckTrainButton")
        self.train_button.setToolTip(
            "Plain SGD on a copy of the network, with the correct and with the broken gradients"
        )
        self.demo_verdict = QLabel("")
        self.demo_verdict.setObjectName("gradientCheckDemoVerdict")
        self.demo_verdict.setWordWrap(True)
        self.demo_train = QLabel("")
        self.demo_train.setObjectName("gradientCheckDemoTraining")
        self.demo_train.setWordWrap(True)
        self.demo_plot = pg.PlotWidget(background=theme.plot_theme().background)
        self.demo_plot.setObjectName("gradientCheckDemoPlot")
        self.demo_plot.setMinimumHeight(150)
        self.demo_plot.setLabel("bottom", "epoch")
        self.demo_plot.setLabel("left", "training loss J")
        self.demo_plot.getAxis("left").enableAutoSIPrefix(False)
        self.demo_plot.addLegend(offset=(-10, 10))
        self.demo_plot.setVisible(False)
        self._demo_widgets = QWidget()
        dl = QVBoxLayout(self._demo_widgets)
        dl.setContentsMargins(0, 0, 0, 0)
        banner = QLabel(
            "<b>DEMONSTRATION</b> — these buttons run a deliberately wrong backprop, only here. "
            "Training and the check above always use the correct one."
        )
        banner.setTextFormat(Qt.TextFormat.RichText)
        banner.setWordWrap(True)
        banner.setStyleSheet(f"color: {BAD_COLOR};")
        drow = QHBoxLayout()
        drow.addWidget(QLabel("Mistake:"))
        drow.addWidget(self.break_combo)
        drow.addWidget(self.broken_button)
        drow.addWidget(self.train_button)
        drow.addStretch(1)
        dl.addWidget(banner)
        dl.addLayout(drow)
        dl.addWidget(self.demo_verdict)
        dl.addWidget(self.demo_train)
        dl.addWidget(self.demo_plot, 1)
        bl = QVBoxLayout(self.demo_box)
        bl.addWidget(self._demo_widgets)
        self._demo_widgets.setVisible(False)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.verdict)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.demo_box)

        self.batch_combo.currentIndexChanged.connect(self._on_batch_kind)
        self.button.clicked.connect(self.run_check)
        self.demo_box.toggled.connect(self._demo_widgets.setVisible)
        self.broken_button.clicked.connect(self.run_broken_check)
        self.train_button.clicked.connect(self.run_broken_training)
        self._on_batch_kind()

    # ------------------------------------------------------------------ inputs
    def set_network(self, net: Any) -> None:
        if net is not self.net:
            self.demo_box.setChecked(False)  # a demonstration never carries over to a new net
        self.net = net
        self.report = None
        self.table.setRowCount(0)
        self.verdict.setText(
            "Press “Check the gradients” to compare backprop with finite differences."
        )
        self.verdict.setStyleSheet("")

    def set_dataset(self, ds: Any) -> None:
        self.dataset = ds

    def set_sample(self, x: np.ndarray, y: np.ndarray) -> None:
        self._sample = (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))

    def set_batch(self, X: np.ndarray, Y: np.ndarray) -> None:
        self._batch = (np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64))

    def set_batch_kind(self, key: str) -> None:
        i = self.batch_combo.findData(key)
        if i >= 0:
            self.batch_combo.setCurrentIndex(i)

    def _on_batch_kind(self, *_: Any) -> None:
        self.rows_spin.setVisible(self.batch_combo.currentData() == "random")

    def chosen_batch(self) -> tuple[np.ndarray, np.ndarray, str] | None:
        """(X, Y, description) of the rows the check will use, or None with no data."""
        kind = self.batch_combo.currentData()
        ds = self.dataset
        if kind == "sample":
            if self._sample is not None:
                x, y = self._sample
            elif ds is not None and len(ds.X_train):
                x, y = ds.X_train[0], ds.Y_train[0]
            else:
                return None
            return x[None, :], y[None, :], "the current sample"
        if kind == "batch":
            if self._batch is not None:
                X, Y = self._batch
            elif ds is not None and len(ds.X_train):
                X, Y = ds.X_train[:32], ds.Y_train[:32]
            else:
                return None
            return X, Y, f"the current mini-batch ({len(X)} rows)"
        if ds is None or not len(ds.X_train):
            return None
        n = min(self.rows_spin.value(), len(ds.X_train))
        rows = self._rng.choice(len(ds.X_train), size=n, replace=False)
        return ds.X_train[rows], ds.Y_train[rows], f"{n} random training rows"

    def _precheck(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.net is None:
            self._say(self.verdict, "No network yet.", None)
            return None
        n_params = int(self.net._theta.size)
        if n_params > MAX_PARAMS:
            self._say(
                self.verdict,
                f"This network has {n_params:,} parameters: the check needs two forward passes "
                f"per parameter, too slow here. Check a smaller network (≤ {MAX_PARAMS:,} "
                f"parameters, e.g. fewer hidden units); the equations are the same.",
                False,
            )
            return None
        batch = self.chosen_batch()
        if batch is None:
            self._say(self.verdict, "No data to check on: load a dataset first.", None)
            return None
        return batch[0], batch[1]

    # ------------------------------------------------------------------ the check
    def run_check(self) -> GradCheckReport | None:
        batch = self._precheck()
        if batch is None:
            return None
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            rep = gradient_check_report(self.net, *batch, eps=float(self.eps_combo.currentData()))
        except EngineError as exc:
            self._say(self.verdict, str(exc), False)
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.report = rep
        self._fill_table(rep)
        self._say(self.verdict, f"{rep.verdict}  ({rep.seconds:.2f} s)", rep.passed)
        self.checked.emit(rep)
        return rep

    def _fill_table(self, rep: GradCheckReport) -> None:
        self.table.setRowCount(len(rep.arrays))
        for r, a in enumerate(rep.arrays):
            worst = "; ".join(
                f"{_pretty(e.name)}: {e.backprop:.4g} vs {e.numeric:.4g}" for e in a.worst[:2]
            )
            cells = [
                a.name,
                "×".join(str(n) for n in a.shape),
                f"{a.error:.1e}",
                f"{a.max_rel:.1e}",
                f"{a.mean_rel:.1e}",
                worst,
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setForeground(QColor(OK_COLOR if a.ok else BAD_COLOR))
                    item.setToolTip("≤ 1e-6: agrees" if a.ok else "> 1e-6: backprop is wrong here")
                self.table.setItem(r, c, item)

    @staticmethod
    def _say(label: QLabel, text: str, ok: bool | None) -> None:
        label.setText(re.sub(r"∂J/∂[wb]\^\d+_[\d,]+", lambda m: _pretty(m.group(0)), text))
        color = "" if ok is None else (OK_COLOR if ok else BAD_COLOR)
        label.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")

    # ------------------------------------------------------------------ the demonstration
    @property
    def break_choice(self) -> str:
        return str(self.break_combo.currentData())

    def set_break(self, key: str) -> None:
        i = self.break_combo.findData(key)
        if i >= 0:
            self.break_combo.setCurrentIndex(i)

    def run_broken_check(self) -> GradCheckReport | None:
        """The check on deliberately broken backprop (only with the demonstration box ticked)."""
        if not self.demo_box.isChecked():
            return None
        batch = self._precheck()
        if batch is None:
            return None
        try:
            rep = broken_gradient_check_report(
                self.net, *batch, broken=self.break_choice, eps=float(self.eps_combo.currentData())
            )
        except EngineError as exc:
            self._say(self.demo_verdict, str(exc), None)
            return None
        self.broken_report = rep
        self._fill_table(rep)
        notes = (" " + " ".join(rep.notes)) if rep.notes else ""
        self._say(self.demo_verdict, rep.verdict + notes, rep.passed)
        self._say(
            self.verdict,
            "The table shows the DEMONSTRATION (broken backprop). Press “Check the gradients” "
            "for the real one.",
            None,
        )
        return rep

    def run_broken_training(self) -> tuple[list[float], list[float]] | None:
        """Plain SGD from a fresh initialisation of this architecture, with the correct and
        with the broken gradients (the network itself is not touched)."""
        if not self.demo_box.isChecked() or self.net is None or self.dataset is None:
            return None
        ds = self.dataset
        X, Y = ds.X_train[:512], ds.Y_train[:512]
        fresh = self.net.copy()
        fresh.reinitialize(DEMO_SEED)
        try:
            good = demo_descent(fresh, X, Y, broken=None, epochs=DEMO_EPOCHS, lr=DEMO_LR)
            bad = demo_descent(
                fresh, X, Y, broken=self.break_choice, epochs=DEMO_EPOCHS, lr=DEMO_LR
            )
        except EngineError as exc:
            self._say(self.demo_train, str(exc), None)
            return None
        self.demo_plot.clear()
        self.demo_plot.setVisible(True)
        self.demo_plot.plot(good, pen=pg.mkPen(OK_COLOR, width=2), name="correct backprop")
        self.demo_plot.plot(
            bad, pen=pg.mkPen(BAD_COLOR, width=2), name=f"broken: {BREAK_LABELS[self.break_choice]}"
        )
        self._say(
            self.demo_train,
            f"{DEMO_EPOCHS} epochs of plain SGD (α = {DEMO_LR:g}, batches of 32) from a fresh "
            f"initialisation (seed {DEMO_SEED}) of this architecture: correct backprop J "
            f"{good[0]:.3g} → {good[-1]:.3g}; broken J {bad[0]:.3g} → {bad[-1]:.3g}.",
            None,
        )
        return good, bad


__all__ = ["MAX_PARAMS", "GradientCheckPanel"]
