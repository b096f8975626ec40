"""The network editor: hidden layers, output activation and loss, initialiser and seed.

``NetworkEditor`` edits a ``NetworkSpec`` (a plain dataclass in ``bpstudio.engine.spec``, persisted
through ``to_dict``). The input and output sizes come from the data (``set_io``); the person edits
the hidden layers (size and activation per row; add / remove / move), the output activation
(softmax is greyed out for a single output unit), the loss (only the ones
``bpstudio.engine.compatible_losses`` allows for that output), the initialiser and the seed. A
schematic such as ``2 → 8 → 8 → 1`` and the shapes of every ``W^l`` (n_l, n_{l-1}) and ``b^l``
(n_l,) follow each edit; ``specChanged`` fires after each.

Leaves out: per-layer initialisers, dropout/batch-norm (the engine has none), a drawn graph.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.engine import (
    HIDDEN_ACTIVATIONS,
    INITIALIZERS,
    OUTPUT_ACTIVATIONS,
    Network,
    compatible_losses,
)
from bpstudio.engine.spec import NetworkSpec
from bpstudio.heads import default_head, head_fits

MAX_UNITS = 4096
MAX_HIDDEN_LAYERS = 32

_LOSS_LABELS = {"mse": "mse (mean squared error)", "cross_entropy": "cross_entropy"}
_ACT_TIPS = {
    "sigmoid": "σ(z) = 1 / (1 + e^−z); saturates, gradients vanish in deep stacks",
    "tanh": "tanh(z); zero-centred, saturates at ±1",
    "relu": "max(0, z); fast, can 'die' at z < 0",
    "leaky_relu": "max(0.01 z, z)",
    "elu": "z for z > 0, e^z − 1 otherwise",
    "softplus": "log(1 + e^z), a smooth ReLU",
    "linear": "identity: the layer adds no non-linearity",
    "softmax": "probabilities over k classes (sum to 1)",
}


def _names(table: Any) -> list[str]:
    return [str(n) for n in table]


def _shape_text(sizes: list[int]) -> str:
    parts = []
    for l in range(2, len(sizes) + 1):
        n_l, n_prev = sizes[l - 1], sizes[l - 2]
        parts.append(f"W{l} ({n_l}, {n_prev}) · b{l} ({n_l},)")
    return "\n".join(parts)


def n_parameters(sizes: list[int]) -> int:
    return sum(sizes[i] * sizes[i - 1] + sizes[i] for i in range(1, len(sizes)))


class NetworkEditor(QWidget):
    """Edits the hidden layers, output activation, loss, initialiser and seed of the network."""

    specChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkEditor")
        self._n_inputs, self._n_outputs, self._task = 2, 2, "classification"
        self._hidden: list[int] = []
        self._acts: list[str] = []
        self._locked = False
        self._quiet = 0  # >0 while the editor updates its own widgets

        # Schematic.
        self.schematic = QLabel()
        self.schematic.setObjectName("networkSchematic")
        self.schematic.setTextFormat(Qt.TextFormat.RichText)
        self.schematic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.schematic.setWordWrap(True)
        font = self.schematic.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.schematic.setFont(font)
        # room for two lines from the start: a long net that wraps does not move what is below
        self.schematic.setMinimumHeight(2 * QFontMetrics(font).lineSpacing() + 4)
        self.shapes = QLabel()
        self.shapes.setObjectName("networkShapes")
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shapes.setToolTip(
            "W^l joins layer l−1 to layer l and has shape (n_l, n_{l−1}); layer 1 is the input.\n"
            "Z^l = A^{l−1} (W^l)ᵀ + b^l for a batch A^{l−1} of shape (N, n_{l−1})."
        )

        # Hidden-layer table.
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("hiddenLayersEditor")
        self.table.setHorizontalHeaderLabels(["Units", "Activation"])
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setToolTip("Hidden layers, input side first. Row label = layer number l.")
        self.table.setMinimumHeight(110)
        self.table.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        def button(text: str, name: str, tip: str, slot: Any) -> QToolButton:
            b = QToolButton()
            b.setText(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.setAutoRaise(False)
            b.clicked.connect(slot)
            return b

        self.add_button = button(
            "Add", "addLayerButton", "Add a hidden layer after the selected one", self._on_add
        )
        self.remove_button = button(
            "Remove", "removeLayerButton", "Remove the selected hidden layer", self._on_remove
        )
        self.up_button = button(
            "▲",
            "moveLayerUpButton",
            "Move the selected layer towards the input",
            lambda: self._on_move(-1),
        )
        self.down_button = button(
            "▼",
            "moveLayerDownButton",
            "Move the selected layer towards the output",
            lambda: self._on_move(1),
        )
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        # Output, loss, initialiser, seed.
        self.output_combo = QComboBox()
        self.output_combo.setObjectName("outputActivationCombo")
        for name in _names(OUTPUT_ACTIVATIONS):
            self.output_combo.addItem(name, name)
            self.output_combo.setItemData(
                self.output_combo.count() - 1, _ACT_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole
            )
        self.output_combo.currentIndexChanged.connect(self._on_output_changed)
        self.loss_combo = QComboBox()
        self.loss_combo.setObjectName("lossCombo")
        self.loss_combo.currentIndexChanged.connect(self._on_changed)
        self.init_combo = QComboBox()
        self.init_combo.setObjectName("initCombo")
        for name in _names(INITIALIZERS):
            self.init_combo.addItem(name, name)
        self.init_combo.setToolTip("How W^l is drawn before training (biases start at 0)")
        self.init_combo.currentIndexChanged.connect(self._on_changed)
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed of the initial weights (same seed, same start)")
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.valueChanged.connect(self._on_changed)
        self.output_size = QLabel()
        form = QFormLayout()
        form.addRow("Output layer:", self.output_size)
        form.addRow("Output activation:", self.output_combo)
        form.addRow("Loss:", self.loss_combo)
        form.addRow("Initialiser:", self.init_combo)
        form.addRow("Seed:", self.seed_spin)

        # The buttons sit above the table, and the shapes (one line per layer) below the box:
        # nothing above the buttons grows when a layer is added, so they stay under the mouse.
        hidden_box = QGroupBox("Hidden layers")
        hl = QVBoxLayout(hidden_box)
        hl.addLayout(buttons)
        hl.addWidget(self.table)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.schematic)
        lay.addWidget(hidden_box, 1)
        lay.addWidget(self.shapes)
        lay.addLayout(form)

        self.set_spec(NetworkSpec())
        self._update_io_labels()

    # --- public API ---------------------------------------------------------------------------
    def set_io(self, n_inputs: int, n_outputs: int, task: str) -> None:
        """Fix the input/output sizes from the data; pick a fitting output/loss if needed."""
        self._n_inputs, self._n_outputs, self._task = int(n_inputs), int(n_outputs), str(task)
        self._quiet += 1
        try:
            self._update_output_items()
            output = self.output_combo.currentData()
            loss = self.loss_combo.currentData()
            if not head_fits(self._task, self._n_outputs, output, loss):
                out, loss = default_head(self._task, self._n_outputs)
                self._select(self.output_combo, out)
                self._fill_losses(prefer=loss)
        finally:
            self._quiet -= 1
        self._update_io_labels()
        self._emit()

    def spec(self) -> NetworkSpec:
        return NetworkSpec(
            hidden=list(self._hidden),
            activations=list(self._acts),
            output=str(self.output_combo.currentData()),
            loss=str(self.loss_combo.currentData()),
            init=str(self.init_combo.currentData()),
            seed=int(self.seed_spin.value()),
        )

    def set_spec(self, spec: NetworkSpec | dict[str, Any]) -> None:
        if isinstance(spec, dict):
            spec = NetworkSpec.from_dict(spec)
        hidden_names = _names(HIDDEN_ACTIVATIONS)
        self._quiet += 1
        try:
            self._hidden = [max(1, min(MAX_UNITS, int(h))) for h in spec.hidden]
            self._acts = [a if a in hidden_names else "tanh" for a in spec.activations]
            self._acts += ["tanh"] * (len(self._hidden) - len(self._acts))
            self._acts = self._acts[: len(self._hidden)]
            self._update_output_items()
            self._select(self.output_combo, spec.output)
            self._fill_losses(prefer=spec.loss)
            init = "xavier_uniform" if spec.init == "xavier" else spec.init
            self._select(self.init_combo, init)
            self.seed_spin.setValue(int(spec.seed))
            self._rebuild_table()
        finally:
            self._quiet -= 1
        self._emit()

    def sizes(self) -> list[int]:
        return [self._n_inputs, *self._hidden, self._n_outputs]

    def n_inputs(self) -> int:
        return self._n_inputs

    def n_outputs(self) -> int:
        return self._n_outputs

    def task(self) -> str:
        return self._task

    def build_network(self, dtype: str = "float64") -> Network:
        s = self.spec()
        return Network(
            self.sizes(),
            activation=list(s.activations),
            output=s.output,
            loss=s.loss,
            init=s.init,
            seed=s.seed,
            dtype=dtype,
        )

    def add_layer(
        self, size: int = 8, activation: str | None = None, index: int | None = None
    ) -> None:
        """Insert a hidden layer at ``index`` (default: the end), activation as its neighbour's."""
        if len(self._hidden) >= MAX_HIDDEN_LAYERS:
            return
        index = len(self._hidden) if index is None else max(0, min(int(index), len(self._hidden)))
        if activation is None:
            activation = self._acts[index - 1] if index > 0 and self._acts else "tanh"
        self._hidden.insert(index, max(1, min(MAX_UNITS, int(size))))
        self._acts.insert(index, activation)
        self._rebuild_table(select=index)
        self._emit()

    def remove_layer(self, index: int) -> None:
        if not 0 <= index < len(self._hidden):
            return
        del self._hidden[index]
        del self._acts[index]
        self._rebuild_table(select=min(index, len(self._hidden) - 1))
        self._emit()

    def move_layer(self, index: int, delta: int) -> None:
        j = index + delta
        if not (0 <= index < len(self._hidden) and 0 <= j < len(self._hidden)) or delta == 0:
            return
        for lst in (self._hidden, self._acts):
            lst.insert(j, lst.pop(index))
        self._rebuild_table(select=j)
        self._emit()

    def set_layer(self, index: int, size: int | None = None, activation: str | None = None) -> None:
        if not 0 <= index < len(self._hidden):
            raise IndexError(f"no hidden layer {index} (there are {len(self._hidden)})")
        if size is not None:
            self._hidden[index] = max(1, min(MAX_UNITS, int(size)))
        if activation is not None:
            if activation not in _names(HIDDEN_ACTIVATIONS):
                raise ValueError(f"unknown activation {activation!r}")
            self._acts[index] = activation
        self._quiet += 1
        try:
            self._row_spin(index).setValue(self._hidden[index])
            self._select(self._row_combo(index), self._acts[index])
        finally:
            self._quiet -= 1
        self._emit()

    def set_locked(self, locked: bool) -> None:
        """While training: no structural edits (layers, output, loss, initialiser, seed)."""
        self._locked = bool(locked)
        for w in (self.table, self.output_combo, self.loss_combo, self.init_combo, self.seed_spin):
            w.setEnabled(not self._locked)
        self._update_buttons()

    def is_locked(self) -> bool:
        return self._locked

    def schematic_text(self) -> str:
        return " → ".join(str(n) for n in self.sizes())

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _select(combo: QComboBox, value: str) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def _row_spin(self, row: int) -> QSpinBox:
        return self.table.cellWidget(row, 0)  # type: ignore[return-value]

    def _row_combo(self, row: int) -> QComboBox:
        return self.table.cellWidget(row, 1)  # type: ignore[return-value]

    def _rebuild_table(self, select: int | None = None) -> None:
        self._quiet += 1
        try:
            self.table.setRowCount(len(self._hidden))
            names = _names(HIDDEN_ACTIVATIONS)
            for r, (n, act) in enumerate(zip(self._hidden, self._acts, strict=True)):
                self.table.setVerticalHeaderItem(r, QTableWidgetItem(f"layer {r + 2}"))
                spin = QSpinBox()
                spin.setRange(1, MAX_UNITS)
                spin.setValue(n)
                spin.setKeyboardTracking(False)
                spin.setToolTip(f"n_{r + 2}: units in layer {r + 2}")
                spin.valueChanged.connect(lambda v, s=spin: self._on_row_edit(s, size=v))
                combo = QComboBox()
                for name in names:
                    combo.addItem(name, name)
                    combo.setItemData(
                        combo.count() - 1, _ACT_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole
                    )
                self._select(combo, act)
                combo.currentIndexChanged.connect(
                    lambda _i, c=combo: self._on_row_edit(c, activation=c.currentData())
                )
                self.table.setCellWidget(r, 0, spin)
                self.table.setCellWidget(r, 1, combo)
            if select is not None and 0 <= select < len(self._hidden):
                self.table.selectRow(select)
        finally:
            self._quiet -= 1
        self._update_buttons()

    def _row_of(self, widget: QWidget) -> int:
        for r in range(self.table.rowCount()):
            if widget in (self.table.cellWidget(r, 0), self.table.cellWidget(r, 1)):
                return r
        return -1

    def _on_row_edit(
        self, widget: QWidget, *, size: int | None = None, activation: str | None = None
    ) -> None:
        if self._quiet:
            return
        r = self._row_of(widget)
        if r < 0:
            return
        if size is not None:
            self._hidden[r] = int(size)
        if activation is not None:
            self._acts[r] = str(activation)
        self.table.selectRow(r)
        self._emit()

    def _current_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _on_add(self) -> None:
        r = self._current_row()
        index = r + 1 if r >= 0 else len(self._hidden)
        size = self._hidden[r] if r >= 0 else (self._hidden[-1] if self._hidden else 8)
        self.add_layer(size, None, index=index)

    def _on_remove(self) -> None:
        r = self._current_row()
        self.remove_layer(r if r >= 0 else len(self._hidden) - 1)

    def _on_move(self, delta: int) -> None:
        r = self._current_row()
        if r >= 0:
            self.move_layer(r, delta)

    def _update_buttons(self) -> None:
        r = self._current_row()
        n = len(self._hidden)
        free = not self._locked
        self.add_button.setEnabled(free and n < MAX_HIDDEN_LAYERS)
        self.remove_button.setEnabled(free and n > 0)
        self.up_button.setEnabled(free and r > 0)
        self.down_button.setEnabled(free and 0 <= r < n - 1)

    def _update_output_items(self) -> None:
        model = self.output_combo.model()
        if not isinstance(model, QStandardItemModel):
            return
        for i in range(self.output_combo.count()):
            item = model.item(i)
            if self.output_combo.itemData(i) == "softmax":
                single = self._n_outputs == 1
                item.setEnabled(not single)
                item.setToolTip(
                    "softmax needs ≥ 2 output units (one per class)"
                    if single
                    else _ACT_TIPS["softmax"]
                )
        if self.output_combo.currentData() == "softmax" and self._n_outputs == 1:
            self._select(self.output_combo, "sigmoid")

    def _fill_losses(self, prefer: str | None = None) -> None:
        output = str(self.output_combo.currentData())
        allowed = list(compatible_losses(output))
        current = prefer if prefer is not None else self.loss_combo.currentData()
        self._quiet += 1
        try:
            self.loss_combo.clear()
            for name in allowed:
                self.loss_combo.addItem(_LOSS_LABELS.get(name, name), name)
            if current in allowed:
                self._select(self.loss_combo, current)
        finally:
            self._quiet -= 1
        missing = [n for n in ("mse", "cross_entropy") if n not in allowed]
        tip = f"Losses that fit a {output} output."
        if missing:
            tip += f" {', '.join(missing)} needs a sigmoid or softmax output (probabilities)."
        self.loss_combo.setToolTip(tip)

    def _on_output_changed(self) -> None:
        self._fill_losses()
        self._on_changed()

    def _on_changed(self, *_: Any) -> None:
        if not self._quiet:
            self._emit()

    def _update_io_labels(self) -> None:
        what = "classes" if self._task == "classification" else "targets"
        self.output_size.setText(f"{self._n_outputs} unit(s), fixed by the {what}")

    def _emit(self) -> None:
        if self._quiet:
            return
        sizes = self.sizes()
        inner = " → ".join(str(n) for n in sizes[1:-1])
        arrow = " → " if inner else ""
        self.schematic.setText(
            f"<b>{sizes[0]}</b> → {inner}{arrow}<b>{sizes[-1]}</b>"
            if inner
            else f"<b>{sizes[0]}</b> → <b>{sizes[-1]}</b>"
        )
        self.schematic.setToolTip(
            "Layer sizes n_1 … n_L (input, hidden layers, output). "
            f"Hidden activations: {', '.join(self._acts) or 'none'}; output: "
            f"{self.output_combo.currentData()}."
        )
        self.shapes.setText(f"{_shape_text(sizes)}\n{n_parameters(sizes):,} parameters")
        self._update_buttons()
        self.specChanged.emit()
