"""The network as a diagram: layers of neurons in columns, edges coloured by the sign of w.

``NetworkDiagramView`` (objectName ``networkDiagram``) draws, TensorFlow-Playground-like, one
column of circles per layer (``layer 1 (input)``, ``layer 2``, …) and one line per weight w^l_jk
between unit k of layer l−1 and unit j of layer l: blue for positive, orange for negative, width
and opacity growing with |w| relative to the largest |w| of that W^l (so every layer stays
readable; the label above each gap gives the shape, e.g. ``W2 (8×2)``, and max |w|). Neuron fill
shows the bias b^l_j, or the activation a^l_j of the sample chosen in the backprop trace.
Wide layers are capped (the first units, an ellipsis, and "+n more"). Hover a neuron for its
values, an edge for its weight.

Painting is a single ``paintEvent`` over arrays prepared in :meth:`set_network` (no scene items
are created per update), so calling it at 5 Hz is cheap even for 784 inputs.

Leaves out: editing weights by dragging, animating the forward pass, and per-edge gradients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolTip, QVBoxLayout, QWidget

from bpstudio.ui import theme
from bpstudio.ui.trace_view import (
    NEGATIVE,
    NEGATIVE_DARK,
    POSITIVE,
    POSITIVE_DARK,
    fmt,
    shown_indices,
    sub,
    sup,
    text_color_on,
    value_color,
)

MAX_NODES = 16  # neurons drawn per layer before the ellipsis


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
        text = self.view.tooltip_at(event.position())
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)


class NetworkDiagramView(QWidget):
    """Layers as columns of neurons, weights as coloured lines; see the module docstring."""

    def __init__(self, parent: QWidget | None = None, *, max_nodes: int = MAX_NODES) -> None:
        super().__init__(parent)
        self.setObjectName("networkDiagram")
        self.max_nodes = max_nodes
        self.sizes: list[int] = []
        self.activations: list[str] = []
        self.output = ""
        self.weights: dict[int, np.ndarray] = {}  # l -> W^l (float64 copy)
        self.biases: dict[int, np.ndarray] = {}
        self.sample_acts: dict[int, np.ndarray] | None = None  # l -> a^l of the chosen sample
        self.sample_index: int | None = None
        self._net: Any = None
        self._sample: tuple[np.ndarray, np.ndarray] | None = None
        self.tracer: Any = None  # a shared TracedSample: the trace is computed once for all views
        self._shown: list[tuple[list[int], int]] = []  # per layer: (unit indices, hidden)
        self._pos: list[dict[int, QPointF]] = []  # per layer: unit -> centre
        self._radius = 8.0
        self._side = 84.0
        self.input_names: list[str] = []  # layer 1's units: the dataset's features
        self.output_names: list[str] = []  # layer L's units: its classes (or targets)

        self.fill_combo = QComboBox()
        self.fill_combo.setObjectName("networkFillCombo")
        self.fill_combo.addItem("bias bˡ", "bias")
        self.fill_combo.addItem("activation aˡ of the traced sample", "activation")
        self.fill_combo.setToolTip(
            "What the colour inside each neuron shows; pick the sample in the Backprop trace tab"
        )
        self.fill_combo.currentIndexChanged.connect(self._on_fill_changed)
        self.legend = QLabel("")
        self.legend.setObjectName("networkLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.canvas = _Canvas(self)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Neuron colour:"))
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

    def set_fill_mode(self, mode: str) -> None:
        i = self.fill_combo.findData(mode)
        if i >= 0:
            self.fill_combo.setCurrentIndex(i)

    def set_network(self, net: Any) -> None:
        """Copy ``net``'s weights and biases (≤ 5 Hz while training) and repaint."""
        self._net = net
        if net is None:
            self.sizes, self.weights, self.biases = [], {}, {}
            self.sample_acts = None
            self.canvas.update()
            return
        sizes = [int(n) for n in net.sizes]
        if sizes != self.sizes:
            self.sizes = sizes
            self._shown = [shown_indices(n, self.max_nodes) for n in sizes]
            self._pos = []
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

    def set_sample(
        self, x: np.ndarray | None, y: np.ndarray | None, index: int | None = None
    ) -> None:
        """The sample whose activations fill the neurons in "activation" mode."""
        self._sample = None if x is None or y is None else (np.asarray(x), np.asarray(y))
        self.sample_index = index
        self._recompute_sample()
        self._update_legend()
        self.canvas.update()

    def _recompute_sample(self) -> None:
        net, s = self._net, self._sample
        self.sample_acts = None
        if net is None or s is None or self.fill_mode != "activation":
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

    def _on_fill_changed(self, *_: Any) -> None:
        self._recompute_sample()
        self._update_legend()
        self.canvas.update()

    def node_value(self, layer: int, unit: int) -> float | None:
        """The number the neuron's fill shows (None: no fill, e.g. input units in bias mode)."""
        if self.fill_mode == "activation":
            acts = self.sample_acts
            return None if acts is None else float(acts[layer][unit])
        b = self.biases.get(layer)
        return None if b is None else float(b[unit])

    def edge_weight(self, layer: int, unit: int, prev_unit: int) -> float:
        """w^l_jk: unit ``unit`` (0-based j) of ``layer`` ← unit ``prev_unit`` (k) of layer−1."""
        return float(self.weights[layer][unit, prev_unit])

    def edge_color(self, layer: int, unit: int, prev_unit: int) -> QColor:
        """The colour the edge is drawn with (sign: blue positive, orange negative; alpha |w|)."""
        W = self.weights[layer]
        w = float(W[unit, prev_unit])
        m = self._max_abs(layer)
        dark = theme.is_dark()
        c = QColor(
            (POSITIVE_DARK if dark else POSITIVE)
            if w >= 0
            else (NEGATIVE_DARK if dark else NEGATIVE)
        )
        t = min(1.0, abs(w) / m) if m > 0 else 0.0
        c.setAlphaF(0.15 + 0.85 * t)
        return c

    def edge_width(self, layer: int, unit: int, prev_unit: int) -> float:
        m = self._max_abs(layer)
        w = abs(float(self.weights[layer][unit, prev_unit]))
        return 0.5 + 3.5 * (min(1.0, w / m) if m > 0 else 0.0)

    def _max_abs(self, layer: int) -> float:
        W = self.weights.get(layer)
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
        return f"layer {layer} ({role})\n{n} unit{'s' if n != 1 else ''}"

    def weight_label(self, layer: int) -> str:
        n_l, n_prev = self.sizes[layer - 1], self.sizes[layer - 2]
        return f"W{layer} ({n_l}×{n_prev})\nmax |w| {fmt(self._max_abs(layer))}"

    def _on_theme_changed(self, _dark: bool) -> None:
        # a bound method: Qt drops the connection when this widget is destroyed
        self._update_legend()
        self.canvas.update()

    def _update_legend(self) -> None:
        dark = theme.is_dark()
        pos, neg = (POSITIVE_DARK, NEGATIVE_DARK) if dark else (POSITIVE, NEGATIVE)
        fill = (
            "bias b<sup>l</sup><sub>j</sub>"
            if self.fill_mode == "bias"
            else (
                f"activation a<sup>l</sup><sub>j</sub> of training sample {self.sample_index + 1}"
                if self.sample_index is not None
                else "activation a<sup>l</sup><sub>j</sub> (no sample chosen)"
            )
        )
        self.legend.setText(
            f"Edges: <span style='color:{pos}'><b>positive</b></span> / "
            f"<span style='color:{neg}'><b>negative</b></span> weight, thicker = larger |w| "
            f"(relative to the layer's max). Fill: {fill}. Hover for values."
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
        # edges
        for ell in range(2, L + 1):
            if ell not in self.weights:
                continue
            prev, cur = self._pos[ell - 2], self._pos[ell - 1]
            W = self.weights[ell]
            m = self._max_abs(ell)
            pos_c = QColor(POSITIVE_DARK if t.dark else POSITIVE)
            neg_c = QColor(NEGATIVE_DARK if t.dark else NEGATIVE)
            for j, pj in cur.items():
                if j < 0:
                    continue
                for k, pk in prev.items():
                    if k < 0:
                        continue
                    wv = W[j, k]
                    if not math.isfinite(wv):
                        continue
                    frac = min(1.0, abs(wv) / m) if m > 0 else 0.0
                    c = QColor(pos_c if wv >= 0 else neg_c)
                    c.setAlphaF(0.15 + 0.85 * frac)
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
                _elide_lines(p, self._short_weight_label(p, ell, gap), gap),
            )
        # nodes
        r = self._radius
        mid = canvas.palette().color(QPalette.ColorRole.Mid)
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
                p.setPen(QPen(fg if v is not None else mid, 1.2))
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
        p.end()

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
                        parts.append(f"b = {self.biases[ell][unit]:.5g}")
                    if self.sample_acts is not None:
                        parts.append(f"a = {self.sample_acts[ell][unit]:.5g}")
                    return ", ".join(parts)
        # nearest edge within 3 px
        best: tuple[float, str] | None = None
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
                        best = (
                            d,
                            f"w{sup(ell)}{sub(j + 1)},{sub(k + 1)} = "
                            f"{self.weights[ell][j, k]:.5g}  "
                            f"(unit {j + 1} of layer {ell} ← unit {k + 1} of layer {ell - 1})",
                        )
        return best[1] if best else ""


def _elide_lines(p: QPainter, text: str, width: float) -> str:
    """Each line of ``text`` cut with "…" to ``width`` pixels (labels of neighbouring layers
    must not run into each other when there are many layers)."""
    metrics = QFontMetricsF(p.font())
    return "\n".join(
        metrics.elidedText(line, Qt.TextElideMode.ElideRight, max(8.0, width))
        for line in text.split("\n")
    )


__all__ = ["MAX_NODES", "NetworkDiagramView"]
