"""Compare…: the dialog that chooses a sweep — one setting, its 2–12 values, the epochs.

The values are typed as a list (``0.001, 0.01, 0.1``; names for activation, initialiser,
optimiser) or, for α and L2, a log range ``log:1e-4:1e-1:6``; a width sweep picks the hidden
layer. :meth:`SweepDialog.spec` reads the choice (ValueError with a message when it does not
parse); OK stays disabled while it does not. Opened through ``bpstudio.ui.dialogs.ask_sweep``
(tests patch that).

Leaves out: sweeping two settings at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from bpstudio.ui.sweep import LOG_OK, SETTINGS, SweepSpec, parse_values

EXAMPLES = {
    "lr": "log:0.001:1:6",
    "batch_size": "1, 10, 32, 100",
    "width": "2, 4, 8, 16",
    "activation": "tanh, relu, sigmoid",
    "init": "xavier_uniform, he_normal",
    "optimizer": "sgd, momentum, adam",
    "weight_decay": "0, 0.0001, 0.001, 0.01",
    "seed": "0, 1, 2, 3",
}


class SweepDialog(QDialog):
    def __init__(self, parent: QWidget | None, net_config: dict[str, Any], epochs: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare: sweep one setting")
        self.setObjectName("sweepDialog")
        self.sizes = list(net_config.get("sizes", []))
        self.setting = QComboBox()
        self.setting.setObjectName("sweepSetting")
        for key, (label, _kind) in SETTINGS.items():
            if key == "width" and len(self.sizes) < 3:
                continue
            self.setting.addItem(label, key)
        self.layer = QSpinBox()
        self.layer.setObjectName("sweepLayer")
        self.layer.setRange(2, max(2, len(self.sizes) - 1))
        self.values = QLineEdit()
        self.values.setObjectName("sweepValues")
        self.epochs = QSpinBox()
        self.epochs.setObjectName("sweepEpochs")
        self.epochs.setRange(1, 100000)
        self.epochs.setValue(int(epochs))
        self.error = QLabel()
        self.error.setObjectName("sweepError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Train the variants")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Setting", self.setting)
        form.addRow("Hidden layer", self.layer)
        form.addRow("Values (2–12)", self.values)
        form.addRow("Epochs", self.epochs)
        form.addRow(
            QLabel(
                "Everything else as in the training panel; same data split, and the same "
                "initial weights wherever the shapes allow."
            )
        )
        form.addRow(self.error)
        form.addRow(self.buttons)
        self.setting.currentIndexChanged.connect(self._on_setting)
        self.values.textChanged.connect(self._check)
        self._on_setting()

    def _on_setting(self, *_: Any) -> None:
        key = self.setting.currentData()
        self.layer.setEnabled(key == "width")
        self.values.setText(EXAMPLES.get(key, ""))
        hint = "a list, or log:LOW:HIGH:COUNT" if key in LOG_OK else "a comma-separated list"
        self.values.setPlaceholderText(hint)
        self._check()

    def spec(self) -> SweepSpec:
        key = self.setting.currentData()
        values = parse_values(key, self.values.text())
        return SweepSpec(
            key,
            values,
            layer=self.layer.value() if key == "width" else None,
            epochs=self.epochs.value(),
        )

    def _check(self, *_: Any) -> None:
        try:
            self.spec()
        except ValueError as exc:
            self.error.setText(str(exc))
            ok = False
        else:
            self.error.setText("")
            ok = True
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


__all__ = ["SweepDialog"]
