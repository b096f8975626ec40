"""The network as a diagram: layers of neurons in columns, one line per weight.

``NetworkDiagramView`` (objectName ``networkDiagram``) draws, TensorFlow-Playground-like, one
column of circles per layer (``layer 1 (input)``, ``layer 2``, …) and one line per weight w^l_jk
between unit k of layer l−1 and unit j of layer l. What the edges show is chosen in
``networkEdgeCombo``: the weight w (default), the gradient ∂J/∂w (of the traced sample, or of the
last mini-batch when :meth:`set_gradients` gave one) or the last update Δw (the change since the
previous :meth:`set_network`, or what :meth:`set_last_update` gave). Blue is positive, orange
negative; width and opacity grow with |value| relative to the largest |value| of that layer (so
every layer stays readable; the label above each gap gives the shape, e.g. ``W2 (8×2)``, and the
max). Neuron fill (``networkFillCombo``): the bias b, or the traced sample's a, z or δ.
Hover names each element in the seed's notation (w³₂₁, b²₄, δ³₂) with its values.

Teaching highlight: :meth:`set_highlight` takes what ``BackpropInspector.highlightChanged``
emits (layers read and written, the W^l whose links are used, the focused neurons and links,
the direction): the rest of the diagram dims, read neurons get a blue ring, written ones an
amber ring, focused links are drawn thick, and an arrow says which way values flow.

Wide layers are condensed: the first ``MAX_NODES − 1`` units, an ellipsis and "+n more" (the
legend says so), so a 784-input or 512-unit layer paints as fast as a small one (measured in
the tests: well under 50 ms). Painting is a single ``paintEvent`` over arrays prepared in
:meth:`set_network` (no scene items per update).

A click on a link emits ``weightClicked(l, j, k)`` (0-based units: what
``BackpropInspector.click_weight`` takes).

Hand edits (when the window sets ``editable``: training paused or idle): Shift+click or
right-click a link or a neuron of layer ≥ 2 emits ``editRequested(kind, l, j, k, global pos)``
("w" or "b"); Shift+drag up/down emits ``paramDragged(kind, l, j, k, value, token)`` as it goes
(``token`` tells one drag from the next; the value follows ``param_edit.drag_value``).
:mod:`bpstudio.ui.param_edit` does the editing.

Leaves out: animating values along the links.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from bpstudio.ui import theme
from bpstudio.ui.param_edit import drag_value
from bpstudio.ui.stage_text import idx_text, plain_name
from bpstudio.ui.trace_view import (
    NEGATIVE,
    NEGATIVE_DARK,
    POSITIVE,
    POSITIVE_DARK,
    fmt,
    shown_indices,
    text_color_on,
    value_color,
)

MAX_NODES = 16  # neurons drawn per layer before the ellipsis
READ_RING = "#5B7DB1"  # neurons a stage reads
WRITE_RING = "#E6A700"  # neurons a stage writes, and focused links
EDGE_MODES = (
    ("weight", "weight w"),
    ("gradient", "gradient ∂J/∂w"),
    ("update", "last update Δw"),
)
FILL_MODES = (
    ("bias", "bias bˡ"),
    ("activation", "activation aˡ of the traced sample"),
    ("z", "weighted input zˡ of the traced sample"),
    ("delta", "error δˡ of the traced sample"),
)


SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


def seed_name(sym: str, layer: int, *idx: int) -> str:
    """Rich text in the seed's notation: seed_name("w", 3, 1, 0) → w<sup>3</sup><sub>21</sub>."""
    return f"<i>{sym}</i><sup>{layer}</sup><sub>{idx_text(*idx)}</sub>"


class _Canvas(QWidget):
    def __init__(self, view: NetworkDiagramView) -> None:
        super().__init__(view)
        self.view = view
        self.setMouseTracking(True)
        self.setMinimumSize(320, 220)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(700, 420)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        self.view._paint(self)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._drag_move(event):
            event.accept()
            return
        text = self.view.tooltip_at(event.position())
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), f"<p>{text}</p>", self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    def _drag_move(self, event: QMouseEvent) -> bool:
        drag = self.view._drag
        if drag is None:
            return False
        kind, ell, j, k, v0, y0, token = drag
        dy = y0 - event.position().y()
        if abs(dy) >= 2 or self.view._dragged:
            self.view._dragged = True
            self.view.paramDragged.emit(kind, ell, j, k, drag_value(v0, dy), token)
        return True

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        view = self.view
        left = event.button() == Qt.MouseButton.LeftButton
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if left and shift and view.editable:
            target = view.param_at(event.position())
            if target is not None:
                view._drag_count += 1
                view._drag = (
                    *target,
                    view.param_value(*target),
                    event.position().y(),
                    view._drag_count,
                )
                view._dragged = False
                event.accept()
                return
        hit = view.edge_at(event.position())
        if hit is not None and left:
            view.weightClicked.emit(*hit)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        view = self.view
        drag, view._drag = view._drag, None
        if drag is not None:
            if not view._dragged:  # Shift+click: type the value
                kind, ell, j, k = drag[:4]
                view.editRequested.emit(kind, ell, j, k, event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        target = self.view.param_at(QPointF(event.pos()))
        if target is None:
            super().contextMenuEvent(event)
            return
        kind, ell, j, k = target
        name = plain_name(kind, ell, *((j, k) if kind == "w" else (j,)))
        menu = QMenu(self)
        act = menu.addAction(f"Edit {name} = {self.view.param_value(*target):.5g}…")
        act.setEnabled(self.view.editable)
        if not self.view.editable:
            menu.addAction("(pause training to edit)").setEnabled(False)
        if menu.exec(event.globalPos()) is act:
            self.view.editRequested.emit(kind, ell, j, k, event.globalPos())


class NetworkDiagramView(QWidget):
    """Layers as columns of neurons, weights as coloured lines; see the module docstring."""

    weightClicked = Signal(int, int, int)  # layer l, unit j of l, unit k of l − 1 (0-based)
    editRequested = Signal(str, int, int, int, QPoint)  # "w"/"b", l, j, k, where (global)
    paramDragged = Signal(str, int, int, int, float, int)  # …, the new value, the drag's token

    def __init__(self, parent: QWidget | None = None, *, max_nodes: int = MAX_NODES) -> None:
        super().__init__(parent)
        self.setObjectName("networkDiagram")
        self.editable = False  # hand edits allowed (the window: paused or idle)
        self._drag: tuple | None = None  # (kind, l, j, k, value at the press, y, token)
        self._dragged = False
        self._drag_count = 0
        self.max_nodes = max_nodes
        self.sizes: list[int] = []
        self.activations: list[str] = []
        self.output = ""
        self.weights: dict[int, np.ndarray] = {}  # l -> W^l (float64 copy)
        self.biases: dict[int, np.ndarray] = {}
        self.sample_acts: dict[int, np.ndarray] | None = None  # l -> a^l of the chosen sample
        self.sample_z: dict[int, np.ndarray] | None = None
        self.sample_delta: dict[int, np.ndarray] | None = None
        self.sample_grads: dict[int, np.ndarray] | None = None  # l -> ∂J/∂W^l of the sample
        self.batch_grads: dict[int, np.ndarray] | None = None  # l -> ∂J/∂W^l of a mini-batch
        self.updates: dict[int, np.ndarray] | None = None  # l -> ΔW^l
        self._explicit_update = False
        self.sample_index: int | None = None
        self.sample_split = "train"  # the split sample_index counts in
        self.highlight: dict | None = None
        self._net: Any = None
        self._sample: tuple[np.ndarray, np.ndarray] | None = None
        self.tracer: Any = None  # a shared TracedSample: the trace is computed once for all views
        self._shown: list[tuple[list[int], int]] = []  # per layer: (unit indices, hidden)
        self._pos: list[dict[int, QPointF]] = []  # per layer: unit -> centre
        self._radius = 8.0
        self._side = 84.0
        self.input_names: list[str] = []  # layer 1's units: the dataset's features
        self.output_names: list[str] = []  # layer L's units: its classes (or targets)
        self.last_paint_ms = 0.0

        self.fill_combo = QComboBox()
        self.fill_combo.setObjectName("networkFillCombo")
        for key, label in FILL_MODES:
            self.fill_combo.addItem(label, key)
        self.fill_combo.setToolTip(
            "What the colour inside each neuron shows; pick the sample in the Backprop "
            "inspector tab"
        )
        self.fill_combo.currentIndexChanged.connect(self._on_fill_changed)
        self.edge_combo = QComboBox()
        self.edge_combo.setObjectName("networkEdgeCombo")
        for key, label in EDGE_MODES:
            self.edge_combo.addItem(label, key)
        self.edge_combo.setToolTip("What the colour and width of each link show")
        self.edge_combo.currentIndexChanged.connect(self._on_fill_changed)
        self.legend = QLabel("")
        self.legend.setObjectName("networkLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.canvas = _Canvas(self)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Links:"))
        top.addWidget(self.edge_combo)
        top.addWidget(QLabel("Neurons:"))
        top.addWidget(self.fill_combo)
        top.addSpacing(12)
        top.addWidget(self.legend, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.canvas, 1)
        self._update_legend()
        theme.notifier().themeChanged.connect(self._on_theme_changed)

    # ------------------------------------------------------------------ data
    @property
    def fill_mode(self) -> str:
        return str(self.fill_combo.currentData())

    @property
    def edge_mode(self) -> str:
        return str(self.edge_combo.currentData())

    def set_fill_mode(self, mode: str) -> None:
        i = self.fill_combo.findData(mode)
        if i >= 0:
            self.fill_combo.setCurrentIndex(i)

    def set_edge_mode(self, mode: str) -> None:
        i = self.edge_combo.findData(mode)
        if i >= 0:
            self.edge_combo.setCurrentIndex(i)

    def set_network(self, net: Any) -> None:
        """Copy ``net``'s weights and biases (≤ 5 Hz while training) and repaint.

        Δw for the "last update" links is the change since the previous call (unless
        :meth:`set_last_update` gave it)."""
        self._net = net
        if net is None:
            self.sizes, self.weights, self.biases = [], {}, {}
            self.sample_acts = self.sample_z = self.sample_delta = self.sample_grads = None
            self.updates = None
            self.canvas.update()
            return
        sizes = [int(n) for n in net.sizes]
        old = self.weights if sizes == self.sizes else {}
        if sizes != self.sizes:
            self.sizes = sizes
            self._shown = [shown_indices(n, self.max_nodes) for n in sizes]
            self._pos = []
            self.batch_grads = None
            self.highlight = None
        self.activations = list(net.activations)
        self.output = str(net.output)
        params = net.params
        L = len(sizes)
        self.weights = {
            ell: np.array(params[f"W{ell}"], dtype=np.float64) for ell in range(2, L + 1)
        }
        self.biases = {
            ell: np.array(params[f"b{ell}"], dtype=np.float64) for ell in range(2, L + 1)
        }
        if self._explicit_update:
            self._explicit_update = False
        else:
            self.updates = (
                {ell: self.weights[ell] - old[ell] for ell in self.weights} if old else None
            )
        self._recompute_sample()
        self._update_legend()
        self.canvas.update()

    def set_names(self, inputs: list[str] | None, outputs: list[str] | None) -> None:
        """Name the input units (features) and output units (classes or regression targets);
        names are drawn beside the outer columns and given in the tooltips."""
        self.input_names = [str(n) for n in inputs or []]
        self.output_names = [str(n) for n in outputs or []]
        self.canvas.update()

    def unit_name(self, layer: int, unit: int) -> str | None:
        """The feature or class a unit of the input or output layer stands for, if known."""
        if not self.sizes:
            return None
        names = (
            self.input_names
            if layer == 1
            else self.output_names
            if layer == len(self.sizes)
            else []
        )
        return names[unit] if len(names) == self.sizes[layer - 1] and unit < len(names) else None

    def set_gradients(self, grads: dict[str, np.ndarray] | None) -> None:
        """∂J/∂W^l of the last mini-batch ({"W2": …}), for the "gradient" links; None: use the
        traced sample's."""
        self.batch_grads = (
            None
            if grads is None
            else {
                int(k[1:]): np.asarray(v, dtype=np.float64)
                for k, v in grads.items()
                if k.startswith("W")
            }
        )
        self._update_legend()
        self.canvas.update()

    def set_last_update(self, deltas: dict[str, np.ndarray] | None) -> None:
        """ΔW^l of the last step ({"W2": …}) for the "last update" links (kept through the next
        :meth:`set_network`)."""
        self.updates = (
            None
            if deltas is None
            else {
                int(k[1:]): np.asarray(v, dtype=np.float64)
                for k, v in deltas.items()
                if k.startswith("W")
            }
        )
        self._explicit_update = deltas is not None
        self.canvas.update()

    def set_sample(
        self,
        x: np.ndarray | None,
        y: np.ndarray | None,
        index: int | None = None,
        split: str = "train",
    ) -> None:
        """The sample whose a, z, δ fill the neurons and whose ∂J/∂w the links can show
        (``index`` in ``split``: "train", "val" or "test", named in the legend)."""
        self._sample = None if x is None or y is None else (np.asarray(x), np.asarray(y))
        self.sample_index = index
        self.sample_split = split
        self._recompute_sample()
        self._update_legend()
        self.canvas.update()

    def set_highlight(self, highlight: dict | None) -> None:
        """What a teaching stage reads and writes (see ``BackpropInspector.highlight``); None
        clears it. Keys: "read", "write", "links" (sets of layers), "direction", and the sets
        "focus_neurons" {(layer, j)} and "focus_links" {(layer, j, k)} (0-based units)."""
        self.highlight = dict(highlight) if highlight else None
        self.canvas.update()

    def _needs_trace(self) -> bool:
        return self.fill_mode in ("activation", "z", "delta") or (
            self.edge_mode == "gradient" and self.batch_grads is None
        )

    def _recompute_sample(self) -> None:
        net, s = self._net, self._sample
        self.sample_acts = self.sample_z = self.sample_delta = self.sample_grads = None
        if net is None or s is None or not self._needs_trace():
            return
        x, y = s
        if len(x) != self.sizes[0] or len(y) != self.sizes[-1]:
            return
        if self.tracer is not None:
            tr = self.tracer.trace(
                net, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            )
        else:
            with np.errstate(all="ignore"):
                tr = net.trace(x, y)
        self.sample_acts = {1: np.asarray(x, dtype=np.float64)}
        self.sample_acts.update({ell: t.a for ell, t in tr.items()})
        self.sample_z = {ell: t.z for ell, t in tr.items()}
        self.sample_delta = {ell: t.delta for ell, t in tr.items()}
        self.sample_grads = {ell: t.dW for ell, t in tr.items()}

    def _on_fill_changed(self, *_: Any) -> None:
        self._recompute_sample()
        self._update_legend()
        self.canvas.update()

    def node_value(self, layer: int, unit: int) -> float | None:
        """The number the neuron's fill shows (None: no fill, e.g. input units in bias mode)."""
        mode = self.fill_mode
        if mode == "activation":
            acts = self.sample_acts
            return None if acts is None else float(acts[layer][unit])
        if mode in ("z", "delta"):
            src = self.sample_z if mode == "z" else self.sample_delta
            if src is None or layer not in src:
                return None
            return float(src[layer][unit])
        b = self.biases.get(layer)
        return None if b is None else float(b[unit])

    def edge_matrix(self, layer: int) -> np.ndarray | None:
        """The (n_l, n_{l−1}) array the links of W^l show in the current edge mode."""
        mode = self.edge_mode
        if mode == "gradient":
            src = self.batch_grads if self.batch_grads is not None else self.sample_grads
            return None if src is None else src.get(layer)
        if mode == "update":
            return None if self.updates is None else self.updates.get(layer)
        return self.weights.get(layer)

    def edge_weight(self, layer: int, unit: int, prev_unit: int) -> float:
        """w^l_jk: unit ``unit`` (0-based j) of ``layer`` ← unit ``prev_unit`` (k) of layer−1."""
        return float(self.weights[layer][unit, prev_unit])

    def edge_value(self, layer: int, unit: int, prev_unit: int) -> float | None:
        M = self.edge_matrix(layer)
        return None if M is None else float(M[unit, prev_unit])

    def edge_color(self, layer: int, unit: int, prev_unit: int) -> QColor:
        """The colour the edge is drawn with (sign: blue positive, orange negative; alpha |v|)."""
        v = self.edge_value(layer, unit, prev_unit)
        v = 0.0 if v is None else v
        m = self._max_abs(layer)
        dark = theme.is_dark()
        c = QColor(
            (POSITIVE_DARK if dark else POSITIVE)
            if v >= 0
            else (NEGATIVE_DARK if dark else NEGATIVE)
        )
        t = min(1.0, abs(v) / m) if m > 0 else 0.0
        c.setAlphaF(0.15 + 0.85 * t)
        return c

    def edge_width(self, layer: int, unit: int, prev_unit: int) -> float:
        m = self._max_abs(layer)
        v = self.edge_value(layer, unit, prev_unit)
        v = 0.0 if v is None else abs(v)
        return 0.5 + 3.5 * (min(1.0, v / m) if m > 0 else 0.0)

    def _max_abs(self, layer: int) -> float:
        W = self.edge_matrix(layer)
        if W is None or W.size == 0:
            return 0.0
        m = float(np.nanmax(np.abs(W)))
        return m if math.isfinite(m) else 0.0

    def layer_label(self, layer: int) -> str:
        L = len(self.sizes)
        n = self.sizes[layer - 1]
        if layer == 1:
            role = "input"
        elif layer == L:
            role = f"output, {self.output}"
        else:
            role = self.activations[layer - 2] if layer - 2 < len(self.activations) else ""
        hidden = self._shown[layer - 1][1] if layer - 1 < len(self._shown) else 0
        shown = f", {n - hidden} drawn" if hidden else ""
        return f"layer {layer} ({role})\n{n} unit{'s' if n != 1 else ''}{shown}"

    def weight_label(self, layer: int) -> str:
        n_l, n_prev = self.sizes[layer - 1], self.sizes[layer - 2]
        sym = {"weight": "|w|", "gradient": "|∂J/∂w|", "update": "|Δw|"}[self.edge_mode]
        return f"W{layer} ({n_l}×{n_prev})\nmax {sym} {fmt(self._max_abs(layer))}"

    def _on_theme_changed(self, _dark: bool) -> None:
        # a bound method: Qt drops the connection when this widget is destroyed
        self._update_legend()
        self.canvas.update()

    def _update_legend(self) -> None:
        dark = theme.is_dark()
        pos, neg = (POSITIVE_DARK, NEGATIVE_DARK) if dark else (POSITIVE, NEGATIVE)
        mode = self.fill_mode
        sym = {"bias": "b", "activation": "a", "z": "z", "delta": "δ"}[mode]
        name = {"bias": "bias", "activation": "activation", "z": "weighted input", "delta": "error"}
        if mode == "bias":
            fill = "bias b<sup>l</sup><sub>j</sub>"
        elif self.sample_index is not None:
            fill = (
                f"{name[mode]} {sym}<sup>l</sup><sub>j</sub> of "
                f"{SPLIT_NAMES.get(self.sample_split, 'training')} sample {self.sample_index + 1}"
            )
        else:
            fill = f"{name[mode]} {sym}<sup>l</sup><sub>j</sub> (no sample chosen)"
        edge = {
            "weight": "weight",
            "gradient": "∂J/∂w ("
            + ("last mini-batch" if self.batch_grads is not None else "traced sample")
            + ")",
            "update": "last update Δw",
        }[self.edge_mode]
        wide = any(hidden for _, hidden in self._shown)
        cond = f" Wide layers: first {self.max_nodes - 1} units drawn." if wide else ""
        self.legend.setText(
            f"Links: <span style='color:{pos}'><b>positive</b></span> / "
            f"<span style='color:{neg}'><b>negative</b></span> {edge}, thicker = larger "
            f"(relative to the layer's max). Fill: {fill}.{cond} Hover for values."
        )

    # ------------------------------------------------------------------ geometry & painting
    def _layout(self, w: float, h: float) -> None:
        L = len(self.sizes)
        top, bottom = 36.0, 44.0
        side = 104.0 if (self.input_names or self.output_names) else 84.0  # room for names
        self._side = side
        max_rows = max(len(idx) + (1 if hidden else 0) for idx, hidden in self._shown)
        step_y = (h - top - bottom) / max(1, max_rows)
        self._radius = max(4.0, min(16.0, step_y * 0.36, (w - 2 * side) / max(1, L) * 0.12))
        self._pos = []
        for li, (idx, hidden) in enumerate(self._shown):
            x = side + (w - 2 * side) * (li / (L - 1) if L > 1 else 0.5)
            rows = len(idx) + (1 if hidden else 0)
            y0 = top + (h - top - bottom - rows * step_y) / 2 + step_y / 2
            pos = {}
            for r, unit in enumerate(idx):
                pos[unit] = QPointF(x, y0 + r * step_y)
            if hidden:
                pos[-1] = QPointF(x, y0 + len(idx) * step_y)  # the ellipsis
            self._pos.append(pos)

    def _paint(self, canvas: QWidget) -> None:
        t0 = time.perf_counter()
        p = QPainter(canvas)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = theme.plot_theme()
        p.fillRect(canvas.rect(), QColor(t.background))
        fg = QColor(t.foreground)
        if not self.sizes:
            p.setPen(fg)
            p.drawText(canvas.rect(), Qt.AlignmentFlag.AlignCenter, "No network yet.")
            p.end()
            return
        w, h = float(canvas.width()), float(canvas.height())
        self._layout(w, h)
        L = len(self.sizes)
        hl = self.highlight
        link_layers = hl.get("links", set()) if hl else set()
        focus_links = hl.get("focus_links", set()) if hl else set()
        # edges
        for ell in range(2, L + 1):
            prev, cur = self._pos[ell - 2], self._pos[ell - 1]
            M = self.edge_matrix(ell)
            dim = 0.2 if hl and ell not in link_layers else 1.0
            if M is not None:
                m = self._max_abs(ell)
                pos_c = QColor(POSITIVE_DARK if t.dark else POSITIVE)
                neg_c = QColor(NEGATIVE_DARK if t.dark else NEGATIVE)
                for j, pj in cur.items():
                    if j < 0:
                        continue
                    for k, pk in prev.items():
                        if k < 0:
                            continue
                        wv = M[j, k]
                        if not math.isfinite(wv):
                            continue
                        frac = min(1.0, abs(wv) / m) if m > 0 else 0.0
                        c = QColor(pos_c if wv >= 0 else neg_c)
                        c.setAlphaF((0.15 + 0.85 * frac) * dim)
                        p.setPen(QPen(c, 0.5 + 3.5 * frac))
                        p.drawLine(pk, pj)
            # weight label above the gap
            x0 = self._pos[ell - 2][next(iter(prev))].x()
            x1 = self._pos[ell - 1][next(iter(cur))].x()
            p.setPen(fg)
            gap = min(140.0, abs(x1 - x0) - 4)  # many layers: labels elide, never overlap
            p.drawText(
                QRectF((x0 + x1) / 2 - gap / 2, 0, gap, 32),
                Qt.AlignmentFlag.AlignCenter,
                _elide_lines(
                    p,
                    self._short_weight_label(p, ell, gap)
                    if M is not None
                    else f"W{ell}\n(no {self.edge_mode} yet)",
                    gap,
                ),
            )
        if focus_links:
            pen = QPen(QColor(WRITE_RING), 3.0)
            p.setPen(pen)
            for ell, j, k in focus_links:
                if ell - 2 < 0 or ell - 1 >= len(self._pos):
                    continue
                pj, pk = self._pos[ell - 1].get(j), self._pos[ell - 2].get(k)
                if pj is not None and pk is not None:
                    p.drawLine(pk, pj)
        # nodes
        r = self._radius
        mid = canvas.palette().color(QPalette.ColorRole.Mid)
        read = hl.get("read", set()) if hl else set()
        write = hl.get("write", set()) if hl else set()
        focus_n = hl.get("focus_neurons", set()) if hl else set()
        for li, pos in enumerate(self._pos):
            ell = li + 1
            vals = [self.node_value(ell, u) for u in pos if u >= 0]
            finite = [abs(v) for v in vals if v is not None and math.isfinite(v)]
            scale = max(finite) if finite else 1.0
            for unit, c in pos.items():
                if unit < 0:
                    hidden = self._shown[li][1]
                    p.setPen(fg)
                    p.drawText(
                        QRectF(c.x() - 50, c.y() - r, 100, 2 * r + 4),
                        Qt.AlignmentFlag.AlignCenter,
                        f"⋮ +{hidden} more",
                    )
                    continue
                v = self.node_value(ell, unit)
                fill = QColor(t.background) if v is None else value_color(v, scale)
                p.setBrush(QBrush(fill))
                pen = QPen(fg if v is not None else mid, 1.2)
                if ell in write:
                    pen = QPen(QColor(WRITE_RING), 2.5)
                elif ell in read:
                    pen = QPen(QColor(READ_RING), 2.5)
                if (ell, unit) in focus_n:
                    pen = QPen(QColor(WRITE_RING), 4.0)
                p.setPen(pen)
                p.drawEllipse(c, r, r)
                if v is not None and r >= 10:
                    self._node_text(p, c, r, v, text_color_on(fill))
                    p.setFont(canvas.font())
                name = self.unit_name(ell, unit) if li in (0, L - 1) and L > 1 else None
                if name and r >= 5:  # beside the column, outside: features left, classes right
                    self._unit_name_text(p, c, r, name, fg, left=li == 0, side=self._side)
            # layer label under the column
            x = next(iter(pos.values())).x()
            p.setPen(fg)
            col = 168.0 if L < 2 else min(168.0, (w - 2 * self._side) / (L - 1) - 4)
            p.drawText(
                QRectF(x - col / 2, h - 38, col, 36),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                _elide_lines(p, self.layer_label(ell), col),
            )
        direction = hl.get("direction", "") if hl else ""
        if direction:
            p.setPen(QColor(WRITE_RING))
            f = QFont(canvas.font())
            f.setBold(True)
            p.setFont(f)
            text = "forward: values flow →" if direction == "forward" else "← backward: δ flows"
            p.drawText(QRectF(6, 2, 220, 20), Qt.AlignmentFlag.AlignLeft, text)
        p.end()
        self.last_paint_ms = 1000 * (time.perf_counter() - t0)

    def _short_weight_label(self, p: QPainter, ell: int, width: float) -> str:
        """The weight label, its "max |w| 0.83" line as "|w| ≤ 0.83" when the gap is narrow."""
        text = self.weight_label(ell)
        metrics = QFontMetricsF(p.font())
        if max(metrics.horizontalAdvance(line) for line in text.split("\n")) <= width:
            return text
        return text.replace("max |w| ", "|w| ≤ ")

    @staticmethod
    def _unit_name_text(
        p: QPainter, c: QPointF, r: float, name: str, color: QColor, *, left: bool, side: float
    ) -> None:
        width = max(30.0, side - r - 8)
        text = QFontMetricsF(p.font()).elidedText(name, Qt.TextElideMode.ElideRight, width)
        p.setPen(color)
        if left:
            rect = QRectF(c.x() - r - 4 - width, c.y() - 9, width, 18)
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        else:
            rect = QRectF(c.x() + r + 4, c.y() - 9, width, 18)
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        p.drawText(rect, align, text)

    @staticmethod
    def _node_text(p: QPainter, c: QPointF, r: float, v: float, color: QColor) -> None:
        """The value inside a neuron, in the largest font (≤ 8 pt) that fits the circle."""
        text = fmt(float(f"{v:.2g}")) if math.isfinite(v) else fmt(v)
        f = QFont(p.font())
        size = 8.0
        while size > 5.0:
            f.setPointSizeF(size)
            if QFontMetricsF(f).horizontalAdvance(text) <= 2 * r - 3:
                break
            size -= 0.5
        p.setFont(f)
        p.setPen(color)
        p.drawText(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), Qt.AlignmentFlag.AlignCenter, text)

    # ------------------------------------------------------------------ hover
    def tooltip_at(self, pos: QPointF) -> str:
        """Rich text naming the element under ``pos`` in the seed's notation, with its values."""
        if not self._pos:
            return ""
        r = self._radius
        for li, layer_pos in enumerate(self._pos):
            ell = li + 1
            for unit, c in layer_pos.items():
                if unit >= 0 and (c.x() - pos.x()) ** 2 + (c.y() - pos.y()) ** 2 <= (r + 2) ** 2:
                    parts = [f"unit {unit + 1} of layer {ell}"]
                    name = self.unit_name(ell, unit)
                    if name is not None:
                        what = "feature" if ell == 1 else "output"
                        parts[0] += f" ({what} “{name}”)"
                    if ell > 1 and ell in self.biases:
                        parts.append(f"{seed_name('b', ell, unit)} = {self.biases[ell][unit]:.5g}")
                    if self.sample_z is not None and ell in self.sample_z:
                        parts.append(
                            f"{seed_name('z', ell, unit)} = {self.sample_z[ell][unit]:.5g}"
                        )
                    if self.sample_acts is not None:
                        parts.append(
                            f"{seed_name('a', ell, unit)} = {self.sample_acts[ell][unit]:.5g}"
                        )
                    if self.sample_delta is not None and ell in self.sample_delta:
                        parts.append(
                            f"{seed_name('δ', ell, unit)} = {self.sample_delta[ell][unit]:.5g}"
                        )
                    return ", ".join(parts)
        hit = self.edge_at(pos)
        return self._edge_text(*hit) if hit is not None else ""

    def node_at(self, pos: QPointF) -> tuple[int, int] | None:
        """The neuron (l, unit) under ``pos`` (shown units only), or None."""
        r = self._radius
        for li, layer_pos in enumerate(self._pos):
            for unit, c in layer_pos.items():
                if unit >= 0 and (c.x() - pos.x()) ** 2 + (c.y() - pos.y()) ** 2 <= (r + 2) ** 2:
                    return li + 1, unit
        return None

    def param_at(self, pos: QPointF) -> tuple[str, int, int, int] | None:
        """The parameter under ``pos``: ("b", l, j, 0) on a neuron of layer ≥ 2, ("w", l, j, k)
        on a link, else None."""
        if not self._pos:
            return None
        node = self.node_at(pos)
        if node is not None:
            return ("b", node[0], node[1], 0) if node[0] >= 2 else None
        hit = self.edge_at(pos)
        return ("w", *hit) if hit is not None else None

    def param_value(self, kind: str, layer: int, j: int, k: int = 0) -> float:
        """The shown value of w^l_jk or b^l_j."""
        return float(self.weights[layer][j, k] if kind == "w" else self.biases[layer][j])

    def edge_at(self, pos: QPointF) -> tuple[int, int, int] | None:
        """The link (l, j, k) within 3 px of ``pos`` (the nearest), or None."""
        if not self._pos:
            return None
        r = self._radius
        best: tuple[float, tuple[int, int, int]] | None = None
        for ell in range(2, len(self._pos) + 1):
            prev, cur = self._pos[ell - 2], self._pos[ell - 1]
            x0 = next(iter(prev.values())).x()
            x1 = next(iter(cur.values())).x()
            if not (x0 + r < pos.x() < x1 - r):
                continue
            f = (pos.x() - x0) / (x1 - x0)
            for j, pj in cur.items():
                for k, pk in prev.items():
                    if j < 0 or k < 0:
                        continue
                    y = pk.y() + f * (pj.y() - pk.y())
                    d = abs(y - pos.y())
                    if d <= 3 and (best is None or d < best[0]):
                        best = (d, (ell, j, k))
        return best[1] if best else None

    def _edge_text(self, ell: int, j: int, k: int) -> str:
        name = seed_name("w", ell, j, k)
        parts = [f"{name} = {self.weights[ell][j, k]:.5g}"]
        grads = self.batch_grads if self.batch_grads is not None else self.sample_grads
        if grads is not None and ell in grads:
            parts.append(f"∂J/∂{name} = {grads[ell][j, k]:.5g}")
        if self.updates is not None and ell in self.updates:
            parts.append(f"Δ{name} = {self.updates[ell][j, k]:.3g}")
        return (
            ", ".join(parts) + f"  (unit {j + 1} of layer {ell} ← unit {k + 1} of layer {ell - 1})"
        )


def _elide_lines(p: QPainter, text: str, width: float) -> str:
    """Each line of ``text`` cut with "…" to ``width`` pixels (labels of neighbouring layers
    must not run into each other when there are many layers)."""
    metrics = QFontMetricsF(p.font())
    return "\n".join(
        metrics.elidedText(line, Qt.TextElideMode.ElideRight, max(8.0, width))
        for line in text.split("\n")
    )


__all__ = ["EDGE_MODES", "FILL_MODES", "MAX_NODES", "NetworkDiagramView", "seed_name"]
