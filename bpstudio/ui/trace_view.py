"""The backprop trace: one training sample pushed forward and its error pushed back, layer by layer.

``BackpropTraceView`` (objectName ``traceView``) shows, for the CURRENT weights and one sample
chosen by the user (spin box, *Random*, or a click on the decision surface via
:meth:`BackpropTraceView.set_sample_index`), one column per layer l = 1 … L:

- forward: ``a¹ = x``, then ``z^l = W^l a^{l−1} + b^l`` and ``a^l = σ(z^l)`` as column vectors;
- backward: ``δ^L`` (BP1) at the output, ``δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ′(z^l)`` (BP2) below it,
  ``∂J/∂b^l = δ^l`` (BP3) and ``∂J/∂W^l = δ^l (a^{l−1})ᵀ`` (BP4) as a small heatmap;
- the sample's loss J, and what one SGD step ``θ ← θ − α ∂J/∂θ`` on this sample alone does to J.

Every number comes from :meth:`bpstudio.engine.Network.trace` (float64) — the view draws, it
never recomputes backprop. Vectors are painted cells coloured by sign and size (blue positive,
orange negative, scaled to the vector's largest |value|) with the value printed inside and a
tooltip with the full precision; wide layers show their first units and a "⋮ n more" cell, big
matrices their top-left block, both with a note.

Leaves out: validation/test samples (the training set only), mini-batch traces (the batch mean is
BP3/BP4 averaged over samples), and the momentum/Adam form of the update (the SGD step is shown).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from bpstudio.heads import predicted_class_one
from bpstudio.ui import theme

POSITIVE = "#0072B2"  # Okabe–Ito blue
NEGATIVE = "#D55E00"  # Okabe–Ito vermillion
POSITIVE_DARK = "#3DA5F4"
NEGATIVE_DARK = "#F26B1D"
MAX_CELLS = 12  # vector cells drawn before "⋮ n more"
MAX_MATRIX = 24  # rows / columns of a heatmap drawn before truncating
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sup(n: int | str) -> str:
    return str(n).translate(_SUP)


def sub(n: int | str) -> str:
    return str(n).translate(_SUB)


def fmt(v: float) -> str:
    """A compact number: ≤ 4 significant characters of mantissa (0.532, −1.27, 12.3, 3.1e−5)."""
    v = float(v)
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    a = abs(v)
    if a == 0:
        text = "0"
    elif 1e-3 <= a < 1e4:
        text = f"{v:.3g}" if a >= 1 else f"{v:.3f}".rstrip("0").rstrip(".")
        if text in ("0", "-0"):
            text = f"{v:.1e}"
    else:
        m, e = f"{v:.1e}".split("e")
        text = f"{m}e{int(e)}"
        if len(text) > 7:  # e.g. −2.6e−11 would not fit a cell: one digit is enough there
            m, e = f"{v:.0e}".split("e")
            text = f"{m}e{int(e)}"
    return text.replace("-", "−")


def fmt_vector(v: np.ndarray, limit: int = 6) -> str:
    v = np.asarray(v).ravel()
    body = ", ".join(fmt(x) for x in v[:limit])
    if v.size > limit:
        body += f", … ({v.size} values)"
    return f"({body})"


def value_color(v: float, scale: float) -> QColor:
    """Blue for positive, orange for negative, blended into the background by |v| / scale."""
    dark = theme.is_dark()
    bg = QColor(theme.plot_theme().background)
    if not math.isfinite(v):
        return QColor("#888888")
    base = QColor(
        (POSITIVE_DARK if dark else POSITIVE) if v >= 0 else (NEGATIVE_DARK if dark else NEGATIVE)
    )
    t = min(1.0, abs(v) / scale) if scale > 0 else 0.0
    t = 0.12 + 0.88 * t if v != 0 else 0.0
    return QColor(
        round(bg.red() + t * (base.red() - bg.red())),
        round(bg.green() + t * (base.green() - bg.green())),
        round(bg.blue() + t * (base.blue() - bg.blue())),
    )


def more_label(hidden: int, metrics: QFontMetrics, width: int) -> str:
    """The "⋮ n more" cell's text, shortened until it fits ``width`` pixels (never cut off
    mid-word as "⋮ 773 mor"): "⋮ 773 more", "⋮ +773", "⋮"."""
    for text in (f"⋮ {hidden} more", f"⋮ +{hidden}", "⋮"):
        if metrics.horizontalAdvance(text) <= width:
            return text
    return "⋮"


def text_color_on(fill: QColor) -> QColor:
    return QColor("#000000") if fill.lightnessF() > 0.55 else QColor("#FFFFFF")


def shown_indices(n: int, cap: int) -> tuple[list[int], int]:
    """Which of n entries to draw when at most ``cap`` cells fit: (indices, hidden count).
    The first cap−1 entries, then the ellipsis cell; the last entry is not special."""
    if n <= cap:
        return list(range(n)), 0
    return list(range(cap - 1)), n - (cap - 1)


def _scale(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)] if values.size else values
    m = float(np.max(np.abs(finite))) if finite.size else 0.0
    return m if m > 0 else 1.0


class VectorStrip(QWidget):
    """A column vector drawn as stacked cells with the value inside; hover for the exact value."""

    def __init__(
        self,
        symbol: str,
        layer: int,
        parent: QWidget | None = None,
        *,
        cap: int = MAX_CELLS,
        cell_w: int = 50,
        cell_h: int = 18,
    ) -> None:
        super().__init__(parent)
        self.symbol = symbol  # "z", "a", "δ"
        self.layer = layer
        self.cap = cap
        self.cell_w, self.cell_h = cell_w, cell_h
        self.values = np.zeros(0)
        self.scale = 1.0
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() - 1))
        self._cell_font = f

    def set_values(self, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.float64).ravel()
        resized = v.size != self.values.size
        self.values = v
        self.scale = _scale(v)
        if resized:
            self.updateGeometry()
        self.update()

    def n_cells(self) -> int:
        idx, hidden = shown_indices(self.values.size, self.cap)
        return len(idx) + (1 if hidden else 0)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.cell_w + 2, max(1, self.n_cells()) * self.cell_h + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setFont(self._cell_font)
        grid = QPen(self.palette().color(QPalette.ColorRole.Mid))
        idx, hidden = shown_indices(self.values.size, self.cap)
        for row, i in enumerate(idx):
            r = QRect(1, 1 + row * self.cell_h, self.cell_w, self.cell_h)
            fill = value_color(self.values[i], self.scale)
            p.fillRect(r, fill)
            p.setPen(grid)
            p.drawRect(r)
            p.setPen(text_color_on(fill))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, fmt(self.values[i]))
        if hidden:
            r = QRect(1, 1 + len(idx) * self.cell_h, self.cell_w, self.cell_h)
            p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            text = more_label(hidden, QFontMetrics(self._cell_font), self.cell_w - 4)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def index_at(self, pos: QPoint) -> int | None:
        row = (pos.y() - 1) // self.cell_h
        idx, _ = shown_indices(self.values.size, self.cap)
        return idx[row] if 0 <= row < len(idx) and 0 <= pos.x() <= self.cell_w else None

    def tooltip_at(self, pos: QPoint) -> str:
        i = self.index_at(pos)
        if i is None:
            if self.values.size > self.cap:
                v = self.values
                return (
                    f"{self.symbol}{sup(self.layer)}: {v.size} values, min {fmt(v.min())}, "
                    f"max {fmt(v.max())}, ‖·‖ = {fmt(float(np.linalg.norm(v)))}"
                )
            return ""
        return (
            f"{self.symbol}{sup(self.layer)}{sub(i + 1)} = {self.values[i]:.6g}"
            f"   (unit {i + 1} of layer {self.layer})"
        )

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position().toPoint()
        text = self.tooltip_at(pos)
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)


class MatrixHeat(QWidget):
    """A small heatmap of ∂J/∂W^l (rows: units of layer l, columns: units of layer l−1)."""

    def __init__(
        self,
        layer: int,
        parent: QWidget | None = None,
        *,
        cap: int = MAX_MATRIX,
        row_cap: int = MAX_CELLS,
        cell_h: int = 18,
    ) -> None:
        super().__init__(parent)
        self.layer = layer
        self.cap = cap
        self.row_cap = row_cap
        self.cell_h = cell_h
        self.matrix = np.zeros((0, 0))
        self.scale = 1.0
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_matrix(self, M: np.ndarray) -> None:
        M = np.asarray(M, dtype=np.float64)
        resized = M.shape != self.matrix.shape
        self.matrix = M
        self.scale = _scale(M)
        if resized:
            self.updateGeometry()
        self.update()

    def _rows(self) -> tuple[list[int], int]:
        # the same rows as the δ strip beside it, so row i lines up with δ_i
        return shown_indices(self.matrix.shape[0], self.row_cap)

    def _shown(self) -> tuple[int, int]:
        rows, _ = self._rows()
        return len(rows), min(self.matrix.shape[1], self.cap)

    def _cell_w(self) -> int:
        _, c = self._shown()
        return max(3, min(11, 96 // max(1, c)))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        r, c = self._shown()
        _, hidden = self._rows()
        return QSize(c * self._cell_w() + 2, (r + (1 if hidden else 0)) * self.cell_h + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        rows, hidden = self._rows()
        _, c = self._shown()
        w, h = self._cell_w(), self.cell_h
        M = self.matrix
        for row, i in enumerate(rows):
            for j in range(c):
                p.fillRect(QRect(1 + j * w, 1 + row * h, w, h), value_color(M[i, j], self.scale))
        p.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid)))
        p.drawRect(QRect(0, 0, c * w + 1, len(rows) * h + 1))
        if hidden:
            p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            p.drawText(QRect(1, 1 + len(rows) * h, c * w, h), Qt.AlignmentFlag.AlignCenter, "⋮")
        p.end()

    def tooltip_at(self, pos: QPoint) -> str:
        rows, _ = self._rows()
        _, c = self._shown()
        row, j = (pos.y() - 1) // self.cell_h, (pos.x() - 1) // self._cell_w()
        if not (0 <= row < len(rows) and 0 <= j < c):
            return ""
        i = rows[row]
        ell = self.layer
        return (
            f"∂J/∂w{sup(ell)}{sub(i + 1)},{sub(j + 1)} = {self.matrix[i, j]:.6g}\n"
            f"(unit {i + 1} of layer {ell} ← unit {j + 1} of layer {ell - 1})"
        )

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        text = self.tooltip_at(event.position().toPoint())
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)


def _eq(text: str, tag: str = "") -> QLabel:
    """An equation line; ``tag`` (e.g. "BP2") is set in bold after it."""
    lab = QLabel(text + (f"&nbsp;&nbsp;<b>{tag}</b>" if tag else ""))
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.setWordWrap(True)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


def _h(sym: str, layer: int | str) -> str:
    return f"{sym}<sup>{layer}</sup>"


def output_delta_equation(output: str, loss: str, L: int) -> str:
    """BP1 as it applies to this output activation and loss (HTML)."""
    d, a, z = _h("δ", L), _h("a", L), _h("z", L)
    if loss == "cross_entropy" and output == "softmax":
        return f"{d} = ∇<sub>a</sub>J ⊙ σ′({z}) = {a} − y"
    if loss == "cross_entropy" and output == "sigmoid":
        return f"{d} = ∇<sub>a</sub>J ⊙ σ′({z}) = ({a} − y)/k"
    if output == "softmax":
        return f"{d} = (∂{a}/∂{z})<sup>T</sup> ∇<sub>a</sub>J,&nbsp; ∇<sub>a</sub>J = ({a} − y)/k"
    return f"{d} = ∇<sub>a</sub>J ⊙ σ′({z}),&nbsp; ∇<sub>a</sub>J = ({a} − y)/k"


class LayerColumn(QFrame):
    """One layer's quantities: forward vectors, backward vector, ∂J/∂W heatmap, equations."""

    def __init__(
        self,
        layer: int,
        n_layers: int,
        size: int,
        prev_size: int,
        activation: str | None,
        output: str,
        loss: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"traceLayer{layer}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.layer = ell = layer
        L = n_layers
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(3)
        if ell == 1:
            role = "input"
        elif ell == L:
            role = f"output, {activation}"
        else:
            role = f"hidden, {activation}"
        head = QLabel(f"<b>layer {ell}</b> ({role}) · {size} unit{'s' if size != 1 else ''}")
        head.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(head)
        self.z: VectorStrip | None = None
        self.delta: VectorStrip | None = None
        self.dW: MatrixHeat | None = None
        self.a = VectorStrip("a", ell)
        vectors = QHBoxLayout()
        vectors.setSpacing(4)
        if ell > 1:
            self.z = VectorStrip("z", ell)
            self.delta = VectorStrip("δ", ell)
            self.dW = MatrixHeat(ell)
            for title, strip in (
                (f"z{sup(ell)}", self.z),
                (f"a{sup(ell)}", self.a),
                (f"δ{sup(ell)}", self.delta),
                (f"∂J/∂W{sup(ell)}", self.dW),
            ):
                vectors.addLayout(self._titled(title, strip))
        else:
            vectors.addLayout(self._titled("a¹ = x", self.a))
        vectors.addStretch(1)
        lay.addLayout(vectors)
        sigma = activation or ""
        self.dW_note = QLabel("")
        self.step_label = QLabel("")
        if ell == 1:
            lay.addWidget(_eq("the sample's<br>features<br>(scaled)"))
        else:
            lay.addWidget(
                _eq(f"{_h('z', ell)} = {_h('W', ell)} {_h('a', ell - 1)} + {_h('b', ell)}")
            )
            lay.addWidget(_eq(f"{_h('a', ell)} = {sigma}({_h('z', ell)})"))
            if ell == L:
                lay.addWidget(_eq(output_delta_equation(output, loss, L), "BP1"))
            else:
                lay.addWidget(
                    _eq(
                        f"{_h('δ', ell)} = (({_h('W', ell + 1)})<sup>T</sup> {_h('δ', ell + 1)})"
                        f" ⊙ {sigma}′({_h('z', ell)})",
                        "BP2",
                    )
                )
            lay.addWidget(_eq(f"∂J/∂{_h('b', ell)} = {_h('δ', ell)}", "BP3"))
            lay.addWidget(
                _eq(
                    f"∂J/∂{_h('W', ell)} = {_h('δ', ell)} ({_h('a', ell - 1)})<sup>T</sup>"
                    f" &nbsp;({size}×{prev_size})",
                    "BP4",
                )
            )
            if size >= MAX_CELLS or prev_size > MAX_MATRIX:
                rows = size if size <= MAX_CELLS else MAX_CELLS - 1
                self.dW_note.setText(
                    f"heatmap: the first {rows}×{min(prev_size, MAX_MATRIX)} entries; hover "
                    "a cell for its value"
                )
                self.dW_note.setWordWrap(True)
                lay.addWidget(self.dW_note)
            self.step_label.setObjectName(f"traceStep{ell}")
            self.step_label.setWordWrap(True)
            lay.addWidget(self.step_label)
        lay.addStretch(1)

    @staticmethod
    def _titled(title: str, strip: VectorStrip) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(1)
        lab = QLabel(title)
        lab.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(lab)
        box.addWidget(strip, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(1)
        return box


class BackpropTraceView(QWidget):
    """Forward and backward pass of one training sample, with BP1–BP4 beside each quantity."""

    sampleChanged = Signal(int)  # index into the training set

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("traceView")
        self.dataset: Any = None
        self.net: Any = None
        self.trace: dict[int, Any] | None = None
        self.loss_value: float | None = None
        self.loss_after_step: float | None = None
        self.lr = 0.1
        self._structure: tuple | None = None
        self.columns: dict[int, LayerColumn] = {}
        self.tracer: Any = None  # a shared TracedSample: the trace is computed once for all views
        self._rng = np.random.default_rng()

        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("traceSampleSpin")
        self.sample_spin.setToolTip("Which training sample to trace (1 = the first row)")
        self.sample_spin.setRange(1, 1)
        self.sample_spin.setKeyboardTracking(False)
        self.count_label = QLabel("")
        self.random_button = QPushButton("Random")
        self.random_button.setObjectName("traceRandomButton")
        self.random_button.setToolTip("Trace a random training sample")
        self.summary = QLabel("")
        self.summary.setObjectName("traceSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.step_summary = QLabel("")
        self.step_summary.setObjectName("traceStepSummary")
        self.step_summary.setTextFormat(Qt.TextFormat.RichText)
        self.step_summary.setWordWrap(True)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Training sample"))
        top.addWidget(self.sample_spin)
        top.addWidget(self.count_label)
        top.addWidget(self.random_button)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)

        self.body = QWidget()
        self.body.setObjectName("traceBody")
        self.body_layout = QHBoxLayout(self.body)
        self.body_layout.setContentsMargins(2, 2, 2, 2)
        self.body_layout.setSpacing(6)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("traceScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.body)
        self.placeholder = QLabel("No dataset or network yet.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body_layout.addWidget(self.placeholder)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.scroll, 1)
        lay.addWidget(self.step_summary)

        self.sample_spin.valueChanged.connect(self._on_spin)
        self.random_button.clicked.connect(self.pick_random)
        theme.notifier().themeChanged.connect(self._on_theme_changed)

    def _on_theme_changed(self, _dark: bool) -> None:
        # a bound method: Qt drops the connection when this widget is destroyed
        for w in self.body.findChildren(QWidget):
            w.update()

    # ------------------------------------------------------------------ inputs
    @property
    def sample_index(self) -> int:
        return int(self.sample_spin.value()) - 1

    def set_dataset(self, ds: Any) -> None:
        """Use ``ds.X_train`` / ``ds.Y_train``; keeps the sample number when it still exists."""
        self.dataset = ds
        n = 0 if ds is None else len(ds.X_train)
        self.sample_spin.blockSignals(True)
        self.sample_spin.setRange(1, max(1, n))
        self.sample_spin.blockSignals(False)
        self.count_label.setText(f"of {n}")
        self.refresh()

    def set_network(self, net: Any) -> None:
        """Trace the sample through ``net``'s current weights (call at ≤ 5 Hz while training)."""
        self.net = net
        self.refresh()

    def set_learning_rate(self, lr: float) -> None:
        self.lr = float(lr)
        self.refresh()

    def set_sample_index(self, index: int) -> None:
        self.sample_spin.setValue(int(index) + 1)  # → _on_spin → refresh + sampleChanged

    def pick_random(self) -> None:
        if self.dataset is not None and len(self.dataset.X_train):
            self.set_sample_index(int(self._rng.integers(len(self.dataset.X_train))))

    def sample(self) -> tuple[np.ndarray, np.ndarray] | None:
        ds = self.dataset
        if ds is None or len(ds.X_train) == 0:
            return None
        i = min(self.sample_index, len(ds.X_train) - 1)
        return np.asarray(ds.X_train[i], dtype=np.float64), np.asarray(
            ds.Y_train[i], dtype=np.float64
        )

    def _on_spin(self, _value: int) -> None:
        self.refresh()
        self.sampleChanged.emit(self.sample_index)

    # ------------------------------------------------------------------ drawing
    def _ensure_columns(self, net: Any) -> None:
        key = (tuple(net.sizes), tuple(net.activations), net.output, net.loss_name)
        if key == self._structure:
            return
        self._structure = key
        for col in self.columns.values():
            self.body_layout.removeWidget(col)
            col.deleteLater()
        self.columns.clear()
        self.placeholder.hide()
        # the stretch from an earlier structure
        while self.body_layout.count() > 1:
            item = self.body_layout.takeAt(1)
            if item.widget() is not None and item.widget() is not self.placeholder:
                item.widget().deleteLater()
        sizes, L = list(net.sizes), len(net.sizes)
        acts = [None, *net.activations, net.output]
        for ell in range(1, L + 1):
            col = LayerColumn(
                ell,
                L,
                sizes[ell - 1],
                sizes[ell - 2] if ell > 1 else 0,
                acts[ell - 1],
                net.output,
                net.loss_name,
            )
            self.columns[ell] = col
            self.body_layout.addWidget(col, 0, Qt.AlignmentFlag.AlignTop)
        self.body_layout.addStretch(1)

    def refresh(self) -> None:
        """Recompute the trace with the current weights and sample, and redraw."""
        net, s = self.net, self.sample()
        if net is None or s is None or len(s[0]) != net.sizes[0] or len(s[1]) != net.sizes[-1]:
            self.trace = None
            self.summary.setText("")
            self.step_summary.setText("")
            return
        x, y = s
        from bpstudio.engine.losses import LOSS_TABLE

        with np.errstate(all="ignore"):
            tr = self.tracer.trace(net, x, y) if self.tracer is not None else net.trace(x, y)
            L = net.n_layers
            aL = tr[L].a
            loss = LOSS_TABLE[net.loss_name]
            J = float(loss.value(aL[None, :], y[None, :], net.output))
            J_after = self._loss_after_step(net, x, y, tr, loss)
        self.trace, self.loss_value, self.loss_after_step = tr, J, J_after
        self._ensure_columns(net)
        self.columns[1].a.set_values(x)
        for ell in range(2, L + 1):
            col, t = self.columns[ell], tr[ell]
            col.z.set_values(t.z)
            col.a.set_values(t.a)
            col.delta.set_values(t.delta)
            col.dW.set_matrix(t.dW)
            gn = float(np.linalg.norm(t.dW))
            col.step_label.setText(
                f"‖∂J/∂W{sup(ell)}‖ = {fmt(gn)}; largest change of a weight in one step: "
                f"{fmt(self.lr * float(np.max(np.abs(t.dW))) if t.dW.size else 0.0)}"
            )
        self.summary.setText(self._summary_html(x, y, aL, J))
        if J_after is not None:
            change = J_after - J
            self.step_summary.setText(
                f"One SGD step on this sample, θ ← θ − α ∂J/∂θ with α = {fmt(self.lr)}: "
                f"J = {fmt(J)} → <b>{fmt(J_after)}</b> ({'+' if change >= 0 else '−'}"
                f"{fmt(abs(change))}). Training averages ∂J/∂θ over a mini-batch instead."
            )

    def _summary_html(self, x: np.ndarray, y: np.ndarray, aL: np.ndarray, J: float) -> str:
        ds = self.dataset
        L = self.net.n_layers
        text = f"x = {fmt_vector(x)} &nbsp; y = {fmt_vector(y)} &nbsp; a<sup>{L}</sup> = "
        text += f"{fmt_vector(aL)}"
        classes = list(getattr(ds, "classes", None) or [])
        if getattr(ds, "task", "") == "classification" and classes:
            ti, pi = predicted_class_one(y), predicted_class_one(aL)
            names = [*classes, *(str(i) for i in range(len(classes), max(ti, pi) + 1))]
            mark = "✓" if ti == pi else "✗"
            text += f" &nbsp; class {names[ti]}, predicted {names[pi]} {mark}"
        text += f" &nbsp; <b>J = {fmt(J)}</b>"
        return text

    def _loss_after_step(
        self, net: Any, x: np.ndarray, y: np.ndarray, tr: dict, loss: Any
    ) -> float | None:
        """J on this sample after θ ← θ − α ∂J/∂θ with this sample's gradient (float64 copy)."""
        from bpstudio.engine import Network

        try:
            cfg = {**net.config(), "dtype": "float64"}
            params = {k: np.asarray(v, dtype=np.float64) for k, v in net.get_params().items()}
            for ell, t in tr.items():
                params[f"W{ell}"] = params[f"W{ell}"] - self.lr * t.dW
                params[f"b{ell}"] = params[f"b{ell}"] - self.lr * t.db
            stepped = Network.from_config(cfg, params)
            a = stepped.forward(x[None, :])
            value = float(loss.value(a, y[None, :], net.output))
        except Exception:  # noqa: BLE001 - the optional line just stays empty
            return None
        return value if math.isfinite(value) else None


__all__ = ["BackpropTraceView", "MatrixHeat", "VectorStrip", "fmt"]
