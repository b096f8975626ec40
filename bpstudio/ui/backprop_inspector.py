"""The backprop inspector: one sample's forward and backward pass, one stage at a time.

``BackpropInspector`` (objectName ``backpropInspector``) steps through the stages of
:func:`bpstudio.engine.stages.walk` — forward per layer, the loss, BP1, BP2 for l = L−1 … 2,
BP3 + BP4 per layer, the update with the selected optimiser — with Back / Next
(``inspectorBackButton`` / ``inspectorNextButton``, keys ← →, Home, End), Play (a timer, Space;
stopped when the widget hides or closes) and Show all. The label ``inspectorStage`` names the
stage ("BP2, layer 3"). Each stage shows its equation in the seed's notation, the same equation
for one chosen entry with this sample's numbers (click a cell, or use the entry spin boxes), and
the arrays it reads and writes as clickable cells.

"Where does this gradient come from?" (right): click a weight, bias or δ cell (or call
:meth:`show_origin` from the diagram or the weights heatmap) to see it as the product of its
factors, each a link to the stage that produced it. "This mini-batch": the chosen weight's
∂J/∂w for each sample of a mini-batch and their mean.

API for the integrator: ``set_network(net)``, ``set_dataset(ds)`` (``X_train``/``Y_train``,
optional ``X_val``/``Y_val``/``X_test``/``Y_test``), ``set_sample_index(i, split)``,
``set_sample(x, y, index)`` (a sample from anywhere, e.g. a click on the decision surface),
``set_fit_config(cfg)``, ``set_batch(X, Y, rows)``; signals ``stageChanged(index, title)``,
``highlightChanged(dict)`` (what :meth:`NetworkDiagramView.set_highlight` takes),
``weightClicked(layer, j, k)``, ``sampleChanged(index)``. Indices j, k are 0-based. What it
inspects: ``sample()`` (x, y or None), ``sample_index`` and ``split()``.

Leaves out: animating values along the links (the diagram's highlight shows the direction), and
the optimiser state of the running training (the update starts from a fresh state).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from bpstudio.engine.errors import EngineError
from bpstudio.engine.stages import (
    BP1,
    BP2,
    BP34,
    FORWARD,
    LOSS,
    UPDATE,
    SampleWalk,
    Stage,
    minibatch_gradient,
    walk,
)
from bpstudio.engine.training import FitConfig
from bpstudio.ui import theme
from bpstudio.ui.stage_text import (
    Focus,
    minibatch_html,
    origin_for,
    plain_name,
    stage_parts,
    sym,
)
from bpstudio.ui.trace_view import fmt, shown_indices, text_color_on, value_color

PLAY_MS = 1500  # one stage per 1.5 s when playing
CELL_CAP = 12  # rows / columns drawn before the ellipsis
AUTO_UNITS = CELL_CAP - 1  # the automatic entry is among the units every view draws
IMAGE_SIDES = {64: 8, 784: 28}  # inputs that are square images
MATH_CSS = "font-family:'DejaVu Serif','Times New Roman',serif;"


class CellGrid(QWidget):
    """A vector (one column) or matrix as coloured cells; click a cell → ``cellClicked(r, c)``.

    Wide arrays show their first rows/columns and an ellipsis. ``name(r, c)`` gives the tooltip
    name in the seed's notation; the focused cell gets a frame."""

    cellClicked = Signal(int, int)

    def __init__(self, values: np.ndarray, name, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        v = np.asarray(values, dtype=np.float64)
        self.values = v.reshape(-1, 1) if v.ndim == 1 else v
        self.name = name
        self.focus: tuple[int, int] | None = None
        self.rows, self.hidden_rows = shown_indices(self.values.shape[0], CELL_CAP)
        self.cols, self.hidden_cols = shown_indices(self.values.shape[1], CELL_CAP)
        finite = self.values[np.isfinite(self.values)]
        self.scale = float(np.max(np.abs(finite))) if finite.size else 1.0
        self.scale = self.scale or 1.0
        self.vector = self.values.shape[1] == 1
        self.cw = 62 if self.vector else 16
        self.ch = 18
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() - 1))
        self._font = f

    def set_focus(self, focus: tuple[int, int] | None) -> None:
        """Frame this cell; one beyond the drawn rows/columns takes the last drawn place."""
        self.focus = focus
        if focus is None:
            return
        r, c = focus
        if self.hidden_rows and r not in self.rows and 0 <= r < self.values.shape[0]:
            self.rows = [*self.rows[:-1], r]
        if self.hidden_cols and c not in self.cols and 0 <= c < self.values.shape[1]:
            self.cols = [*self.cols[:-1], c]
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        nr = len(self.rows) + (1 if self.hidden_rows else 0)
        extra = 42 if self.hidden_cols else 0
        return QSize(len(self.cols) * self.cw + extra + 2, nr * self.ch + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setFont(self._font)
        grid = QPen(self.palette().color(QPalette.ColorRole.Mid))
        fg = self.palette().color(QPalette.ColorRole.WindowText)
        for ri, r in enumerate(self.rows):
            for ci, c in enumerate(self.cols):
                rect = QRect(1 + ci * self.cw, 1 + ri * self.ch, self.cw, self.ch)
                fill = value_color(self.values[r, c], self.scale)
                p.fillRect(rect, fill)
                p.setPen(grid)
                p.drawRect(rect)
                if self.vector:
                    p.setPen(text_color_on(fill))
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, fmt(self.values[r, c]))
                if self.focus == (r, c):
                    p.setPen(QPen(QColor("#E6A700"), 2.5))
                    p.drawRect(rect.adjusted(1, 1, -1, -1))
        p.setPen(fg)
        if self.hidden_rows:
            y = 1 + len(self.rows) * self.ch
            p.drawText(
                QRect(1, y, max(self.cw, len(self.cols) * self.cw), self.ch),
                Qt.AlignmentFlag.AlignCenter,
                f"⋮ +{self.hidden_rows}",
            )
        if self.hidden_cols:
            x = 1 + len(self.cols) * self.cw
            p.drawText(
                QRect(x, 1, 40, self.ch), Qt.AlignmentFlag.AlignLeft, f"…+{self.hidden_cols}"
            )
        p.end()

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        ri, ci = (pos.y() - 1) // self.ch, (pos.x() - 1) // self.cw
        if 0 <= ri < len(self.rows) and 0 <= ci < len(self.cols):
            return self.rows[ri], self.cols[ci]
        return None

    def cell_center(self, r: int, c: int) -> QPoint:
        ri, ci = self.rows.index(r), self.cols.index(c)
        return QPoint(1 + ci * self.cw + self.cw // 2, 1 + ri * self.ch + self.ch // 2)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        cell = self.cell_at(event.position().toPoint())
        if cell is not None:
            self.cellClicked.emit(*cell)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        cell = self.cell_at(event.position().toPoint())
        if cell is not None:
            r, c = cell
            QToolTip.showText(
                event.globalPosition().toPoint(),
                f"{self.name(r, c)} = {self.values[r, c]:.6g}",
                self,
            )
        super().mouseMoveEvent(event)


def _label(html: str = "", *, size: float | None = None, selectable: bool = True) -> QLabel:
    lab = QLabel(html)
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.setWordWrap(True)
    if selectable:
        lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if size:
        f = QFont(lab.font())
        f.setPointSizeF(size)
        lab.setFont(f)
    return lab


class BackpropInspector(QWidget):
    """One sample's backprop, stage by stage; see the module docstring."""

    stageChanged = Signal(int, str)
    highlightChanged = Signal(object)  # dict for NetworkDiagramView.set_highlight
    weightClicked = Signal(int, int, int)  # layer, j, k (0-based units)
    sampleChanged = Signal(int)
    # the user typed a value for the weight or bias the origin panel explains
    paramEditRequested = Signal(str, int, int, int, str)  # "w"/"b", l, j, k, the text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backpropInspector")
        self.net: Any = None
        self.dataset: Any = None
        self.cfg = FitConfig()
        # the paused run's optimiser (engine.optimizers.OptimizerState) and where it is from
        self.opt_state: Any = None
        self.opt_source = ""
        self.walk: SampleWalk | None = None
        self.stage = 0
        self.focus = Focus()
        self.auto_focus = True  # follow the largest δ until the user picks an entry
        self._stale = False  # a set_network arrived while hidden
        self._problem = ""  # why there is nothing to show, in words
        self._sample: tuple[np.ndarray, np.ndarray] | None = None
        self._sample_index: int | None = None
        self._batch: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._origin: tuple[str, int, int, int] | None = None
        self._grids: list[CellGrid] = []
        self._rng = np.random.default_rng()

        # sample row
        self.split_combo = QComboBox()
        self.split_combo.setObjectName("inspectorSplitCombo")
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("inspectorSampleSpin")
        self.sample_spin.setRange(1, 1)
        self.sample_spin.setKeyboardTracking(False)
        self.count_label = QLabel("")
        self.random_button = QPushButton("Random")
        self.random_button.setObjectName("inspectorRandomButton")
        self.image_label = QLabel()
        self.image_label.setObjectName("inspectorImage")
        self.image_label.setVisible(False)
        self.sample_label = _label("")
        self.sample_label.setObjectName("inspectorSampleSummary")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Sample from"))
        top.addWidget(self.split_combo)
        top.addWidget(self.sample_spin)
        top.addWidget(self.count_label)
        top.addWidget(self.random_button)
        top.addWidget(self.image_label)
        top.addWidget(self.sample_label, 1)

        # stage navigation
        self.back_button = QPushButton("◀ Back")
        self.back_button.setObjectName("inspectorBackButton")
        self.back_button.setToolTip("Previous stage (←)")
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("inspectorNextButton")
        self.next_button.setToolTip("Next stage (→)")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("inspectorPlayButton")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(f"Step through the stages, one every {PLAY_MS / 1000:g} s")
        self.all_check = QCheckBox("Show all")
        self.all_check.setObjectName("inspectorShowAll")
        self.stage_label = QLabel("")
        self.stage_label.setObjectName("inspectorStage")
        f = QFont(self.stage_label.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() + 2)
        self.stage_label.setFont(f)
        self.position_label = QLabel("")
        nav = QHBoxLayout()
        nav.setContentsMargins(0, 0, 0, 0)
        for w in (self.back_button, self.next_button, self.play_button, self.all_check):
            nav.addWidget(w)
        nav.addSpacing(16)
        nav.addWidget(self.stage_label)
        nav.addWidget(self.position_label)
        nav.addStretch(1)

        # chosen entry
        self.layer_spin = QSpinBox()
        self.layer_spin.setObjectName("inspectorLayerSpin")
        self.j_spin = QSpinBox()
        self.j_spin.setObjectName("inspectorUnitSpin")
        self.k_spin = QSpinBox()
        self.k_spin.setObjectName("inspectorInputSpin")
        for s in (self.layer_spin, self.j_spin, self.k_spin):
            s.setRange(1, 1)
            s.setKeyboardTracking(False)
        self.layer_spin.setToolTip("The layer l of the weight w^l_jk (used by the update stage)")
        self.j_spin.setToolTip("Unit j of the stage's layer whose numbers are written out")
        self.k_spin.setToolTip("Unit k of the layer before (the weight w^l_jk)")
        ent = QHBoxLayout()
        ent.setContentsMargins(0, 0, 0, 0)
        ent.addWidget(QLabel("Numbers for: layer l"))
        ent.addWidget(self.layer_spin)
        ent.addWidget(QLabel("unit j"))
        ent.addWidget(self.j_spin)
        ent.addWidget(QLabel("input k"))
        ent.addWidget(self.k_spin)
        ent.addWidget(_label("<span style='color:gray'>or click a cell below</span>"))
        ent.addStretch(1)

        # the stage card
        self.heading = _label("", size=self.font().pointSizeF() + 3)
        self.heading.setObjectName("inspectorHeading")
        self.equation = _label("", size=self.font().pointSizeF() + 5)
        self.equation.setObjectName("inspectorEquation")
        self.entry = _label("", size=self.font().pointSizeF() + 3)
        self.entry.setObjectName("inspectorEntry")
        self.note = _label("")
        self.note.setObjectName("inspectorNote")
        self.grid_row = QHBoxLayout()
        self.grid_row.setContentsMargins(0, 6, 0, 0)
        self.grid_row.setSpacing(14)
        card = QWidget()
        card.setObjectName("inspectorCard")
        cl = QVBoxLayout(card)
        cl.setContentsMargins(8, 8, 8, 8)
        for w in (self.heading, self.equation, self.entry, self.note):
            cl.addWidget(w)
        cl.addLayout(self.grid_row)
        cl.addStretch(1)
        self.card_scroll = QScrollArea()
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.card_scroll.setWidget(card)
        self.all_view = QTextBrowser()
        self.all_view.setObjectName("inspectorAllStages")
        self.all_view.setOpenLinks(False)
        self.all_view.setVisible(False)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.card_scroll)
        ll.addWidget(self.all_view)

        # right: origin and mini-batch
        self.origin_view = QTextBrowser()
        self.origin_view.setObjectName("inspectorOrigin")
        self.origin_view.setOpenLinks(False)
        self.batch_view = QTextBrowser()
        self.batch_view.setObjectName("inspectorMiniBatch")
        # the entry explained can be set by hand (paused or idle): the window does the edit
        self.param_name = QLabel("")
        self.param_name.setObjectName("inspectorParamName")
        self.param_edit = QLineEdit()
        self.param_edit.setObjectName("inspectorParamEdit")
        self.param_edit.setToolTip(
            "Type a new value and press Enter: the loss, the surface and every stage follow "
            "(Ctrl+Z undoes). Only while training is paused or idle."
        )
        self.param_set = QPushButton("Set")
        self.param_set.setObjectName("inspectorParamSet")
        self.param_message = QLabel("")
        self.param_message.setObjectName("inspectorParamMessage")
        self.param_message.setWordWrap(True)
        prow = QHBoxLayout()
        prow.setContentsMargins(0, 0, 0, 0)
        prow.addWidget(self.param_name)
        prow.addWidget(self.param_edit, 1)
        prow.addWidget(self.param_set)
        self.param_row = QWidget()
        self.param_row.setObjectName("inspectorParamRow")
        pl = QVBoxLayout(self.param_row)
        pl.setContentsMargins(4, 2, 4, 2)
        pl.addLayout(prow)
        pl.addWidget(self.param_message)
        self.param_row.setVisible(False)
        origin_page = QWidget()
        ol = QVBoxLayout(origin_page)
        ol.setContentsMargins(0, 0, 0, 0)
        ol.setSpacing(2)
        ol.addWidget(self.origin_view, 1)
        ol.addWidget(self.param_row)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(origin_page, "Where does this gradient come from?")
        self.side_tabs.addTab(self.batch_view, "This mini-batch")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.side_tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([660, 440])
        self.splitter = split

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(nav)
        lay.addLayout(ent)
        lay.addWidget(split, 1)

        self.timer = QTimer(self)
        self.timer.setObjectName("inspectorPlayTimer")
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._on_tick)

        self.back_button.clicked.connect(self.prev_stage)
        self.next_button.clicked.connect(self.next_stage)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.all_check.toggled.connect(self.set_show_all)
        self.random_button.clicked.connect(self.pick_random)
        self.sample_spin.valueChanged.connect(self._on_sample_spin)
        self.split_combo.currentIndexChanged.connect(self._on_split)
        self.layer_spin.valueChanged.connect(self._on_focus_spin)
        self.j_spin.valueChanged.connect(self._on_focus_spin)
        self.k_spin.valueChanged.connect(self._on_focus_spin)
        self.origin_view.anchorClicked.connect(self._on_link)
        self.param_edit.returnPressed.connect(self._on_param_edit)
        self.param_set.clicked.connect(self._on_param_edit)
        self.all_view.anchorClicked.connect(self._on_link)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        theme.notifier().themeChanged.connect(self._on_theme_changed)
        self._render()

    # ------------------------------------------------------------------ inputs
    def set_network(self, net: Any) -> None:
        """Inspect ``net``'s current weights (call at ≤ 5 Hz while training). While the
        inspector sits hidden in a shown window (another tab), the work waits until it shows."""
        self.net = net
        if self.window().isVisible() and not self.isVisible():
            self._stale = True
            return
        self._recompute()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._recompute()

    def set_fit_config(self, cfg: FitConfig) -> None:
        """The optimiser, α, L2 and batch size the update stage and the mini-batch use."""
        self.cfg = cfg
        self._recompute()

    def set_optimizer_state(self, state: Any, source: str = "the paused run") -> None:
        """The update stage starts from this ``OptimizerState`` (the step training takes next),
        or from a fresh optimiser with None (a new run starts fresh)."""
        if state is None and self.opt_state is None:
            return
        self.opt_state, self.opt_source = state, source
        self._recompute()

    def _walk(self, net: Any, x: np.ndarray, y: np.ndarray) -> SampleWalk:
        st, cfg = self.opt_state, self.cfg
        if st is None or st.optimizer != cfg.optimizer:  # another optimiser: a new run, fresh
            return walk(net, x, y, cfg)
        cfg = dataclasses.replace(cfg, lr=float(st.lr))  # α as the run has it now
        return walk(net, x, y, cfg, t=st.t + 1, state=st.arrays, source=self.opt_source)

    def set_dataset(self, ds: Any) -> None:
        self.dataset = ds
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        if ds is not None:
            for key, label in (("train", "training"), ("val", "validation"), ("test", "test")):
                X = getattr(ds, f"X_{key}", None)
                if X is not None and len(X):
                    self.split_combo.addItem(label, key)
        self.split_combo.blockSignals(False)
        self._sample = None
        self._update_spin_range()
        self._recompute()

    def set_sample_index(self, index: int, split: str = "train") -> None:
        i = self.split_combo.findData(split)
        if i >= 0 and i != self.split_combo.currentIndex():
            self.split_combo.setCurrentIndex(i)
        self._sample = None
        self.sample_spin.setValue(int(index) + 1)
        self._recompute()

    def set_sample(self, x: np.ndarray, y: np.ndarray, index: int | None = None) -> None:
        """A sample from anywhere (e.g. a point clicked on the decision surface)."""
        self._sample = (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        self._sample_index = index
        self._recompute()

    def sample(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The sample inspected now (x, y), or None without data."""
        return self._current_sample()

    @property
    def sample_index(self) -> int:
        """The inspected row of :meth:`split` (0-based; a sample given by :meth:`set_sample`
        keeps the index it came with)."""
        if self._sample is not None:
            return int(self._sample_index or 0)
        return int(self.sample_spin.value()) - 1

    def split(self) -> str:
        """Which split the sample comes from: "train", "val" or "test"."""
        return self._split()

    def set_batch(self, X: np.ndarray, Y: np.ndarray, rows: np.ndarray | None = None) -> None:
        """The mini-batch "This mini-batch" shows (default: the sample's block of the training
        set, batch_size rows)."""
        rows = np.arange(len(X)) if rows is None else np.asarray(rows)
        self._batch = (np.asarray(X), np.asarray(Y), rows)
        self._render_batch()

    def pick_random(self) -> None:
        X, _ = self._split_arrays()
        if X is not None and len(X):
            self._sample = None
            self.sample_spin.setValue(int(self._rng.integers(len(X))) + 1)

    # ------------------------------------------------------------------ stage navigation
    @property
    def n_stages(self) -> int:
        return len(self.walk.stages) if self.walk is not None else 0

    @property
    def current(self) -> Stage | None:
        return self.walk.stages[self.stage] if self.walk is not None else None

    def set_stage(self, index: int) -> None:
        if self.walk is None:
            return
        index = max(0, min(int(index), self.n_stages - 1))
        changed = index != self.stage
        self.stage = index
        self._render()
        if changed:
            self.stageChanged.emit(index, self.current.title)
        self.highlightChanged.emit(self.highlight())

    def set_focus(self, layer: int, j: int, k: int = 0) -> None:
        """Write the numbers out for unit j of each stage's layer, input k, and (update stage)
        the weight w^layer_jk; stops following the largest δ."""
        self.auto_focus = False
        self.focus = Focus(int(layer), int(j), int(k))
        self._render()
        self.highlightChanged.emit(self.highlight())

    def _auto_focus(self) -> None:
        """The entry worth reading: in each layer the unit with the largest |δ^l_j|, the input k
        with the largest |a^{l−1}_k|; for the update, the largest |∂J/∂w^L_jk|."""
        w, st = self.walk, self.current
        if w is None or st is None:
            return
        n = AUTO_UNITS  # only units drawn in the grids and on the diagram
        if st.kind == UPDATE:
            layer = w.L
            G = np.abs(w.dW[layer][:n, :n])
            j, k = np.unravel_index(int(np.argmax(G)), G.shape)
        else:
            layer = w.L if st.kind in (LOSS, BP1) else st.layer
            j = int(np.argmax(np.abs(w.delta[layer][:n])))
            k = int(np.argmax(np.abs(w.a[layer - 1][:n])))
        self.focus = Focus(int(layer), int(j), int(k))

    def next_stage(self) -> None:
        self.set_stage(self.stage + 1)

    def prev_stage(self) -> None:
        self.set_stage(self.stage - 1)

    def play(self) -> None:
        self.play_button.setChecked(True)

    def stop(self) -> None:
        self.play_button.setChecked(False)

    def _on_play_toggled(self, on: bool) -> None:
        if on and self.walk is not None:
            if self.stage >= self.n_stages - 1:
                self.set_stage(0)
            self.timer.start()
            self.play_button.setText("Pause")
        else:
            self.timer.stop()
            self.play_button.setText("Play")
            if self.play_button.isChecked():
                self.play_button.setChecked(False)

    def _on_tick(self) -> None:
        if self.walk is None or self.stage >= self.n_stages - 1:
            self.stop()
            return
        self.next_stage()
        if self.stage >= self.n_stages - 1:
            self.stop()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        """← → step, Home / End jump, Space plays (keys a focused spin box uses stay its own)."""
        key = event.key()
        if key == Qt.Key.Key_Right:
            self.next_stage()
        elif key == Qt.Key.Key_Left:
            self.prev_stage()
        elif key == Qt.Key.Key_Home:
            self.set_stage(0)
        elif key == Qt.Key.Key_End:
            self.set_stage(self.n_stages - 1)
        elif key == Qt.Key.Key_Space:
            self.play_button.toggle()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().hideEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)

    def set_show_all(self, on: bool) -> None:
        if self.all_check.isChecked() != bool(on):
            self.all_check.setChecked(bool(on))
            return
        self.all_view.setVisible(bool(on))
        self.card_scroll.setVisible(not on)
        self._render()

    def state(self) -> tuple:
        """What the inspector shows now (for tests: Next then Back gives the same state)."""
        return (
            self.stage,
            self.stage_label.text(),
            self.heading.text(),
            self.equation.text(),
            self.entry.text(),
            (self.focus.layer, self.focus.j, self.focus.k),
            self.auto_focus,
        )

    # ------------------------------------------------------------------ highlight
    def highlight(self) -> dict:
        """Which neurons and links the current stage reads and writes, for the diagram."""
        st = self.current
        if st is None or self.walk is None:
            return {}
        h = st.highlight
        w = self.walk
        neurons: set[tuple[int, int]] = set()
        links: set[tuple[int, int, int]] = set()
        l = st.layer
        if st.kind == FORWARD:
            j, _ = self.focus.clamp(w, l)
            neurons.add((l, j))
            links.update((l, j, k) for k in range(w.sizes[l - 2]))
        elif st.kind in (LOSS, BP1):
            neurons.add((w.L, self.focus.clamp(w, w.L)[0]))
        elif st.kind == BP2:
            j, _ = self.focus.clamp(w, l)
            neurons.add((l, j))
            links.update((l + 1, k, j) for k in range(w.sizes[l]))
        elif st.kind == BP34:
            j, k = self.focus.clamp(w, l)
            neurons.update({(l, j), (l - 1, k)})
            links.add((l, j, k))
        else:
            layer = min(max(self.focus.layer, 2), w.L)
            j, k = self.focus.clamp(w, layer)
            links.add((layer, j, k))
        return {
            "read": set(h.read_layers),
            "write": set(h.write_layers),
            "links": set(h.link_layers),
            "direction": h.direction,
            "focus_neurons": neurons,
            "focus_links": links,
        }

    # ------------------------------------------------------------------ where does it come from
    def show_origin(self, kind: str, layer: int, j: int, k: int = 0) -> None:
        """Explain ∂J/∂w^l_jk ("w"), ∂J/∂b^l_j ("b") or δ^l_j ("delta") in the side panel."""
        self._origin = (kind, int(layer), int(j), int(k))
        self.auto_focus = False
        self.focus = Focus(int(layer), int(j), int(k))
        self._sync_focus_spins()
        self.side_tabs.setCurrentIndex(0)
        self._render_origin()
        self._render_batch()
        self._render()

    def click_weight(self, layer: int, j: int, k: int) -> None:
        """What a click on w^l_jk does anywhere: the origin panel explains ∂J/∂w^l_jk."""
        self.show_origin("w", layer, j, k)
        self.weightClicked.emit(int(layer), int(j), int(k))

    def _render_origin(self) -> None:
        self._render_param_row()
        w = self.walk
        if w is not None and self._origin is None:
            self._render_stage_origin()
            return
        if w is None:
            self.origin_view.setHtml(
                "<p>Click a weight, bias or δ cell (here, on the network diagram or in the "
                "weights heatmap) to see it as the product of the numbers it comes from.</p>"
            )
            return
        kind, layer, j, k = self._origin
        layer = min(max(layer, 2), w.L)
        j = min(j, w.sizes[layer - 1] - 1)
        k = min(k, w.sizes[layer - 2] - 1)
        if kind == "delta" or kind == "b":
            head = ""
        else:
            head = (
                f"<p><b>BP4</b>: {sym('∂J/∂w', layer, j, k)} = {sym('a', layer - 1, k)} · "
                f"{sym('δ', layer, j)}: the input the weight multiplies, times the error at "
                f"its end.</p>"
            )
        self.origin_view.setHtml(
            f'<div style="{MATH_CSS}">{head}{origin_for(w, kind, layer, j, k)}</div>'
        )

    def origin_param(self) -> tuple[str, int, int, int] | None:
        """The weight or bias the origin panel explains ("w"/"b", l, j, k), clamped to the
        network, or None (a δ, or nothing clicked)."""
        w = self.walk
        if w is None or self._origin is None or self._origin[0] not in ("w", "b"):
            return None
        kind, layer, j, k = self._origin
        layer = min(max(layer, 2), w.L)
        j = min(j, w.sizes[layer - 1] - 1)
        k = 0 if kind == "b" else min(k, w.sizes[layer - 2] - 1)
        return kind, layer, j, k

    def set_param_message(self, text: str, error: bool = False) -> None:
        color = "#c0392b" if error else "gray"
        self.param_message.setText(f"<span style='color:{color}'>{text}</span>" if text else "")

    def _render_param_row(self) -> None:
        p = self.origin_param()
        self.param_row.setVisible(p is not None)
        if p is None:
            return
        kind, layer, j, k = p
        idx = (j, k) if kind == "w" else (j,)
        self.param_name.setText(f"Set {sym(kind, layer, *idx)} =")
        if not self.param_edit.hasFocus():
            value = self.walk.W[layer][j, k] if kind == "w" else self.walk.b[layer][j]
            self.param_edit.setText(f"{value:.6g}")

    def _on_param_edit(self) -> None:
        p = self.origin_param()
        if p is not None:
            self.paramEditRequested.emit(*p, self.param_edit.text())

    def _render_stage_origin(self) -> None:
        """No entry clicked yet: explain the entry the current stage writes out."""
        w, st = self.walk, self.current
        if st.kind in (FORWARD, LOSS):
            self.origin_view.setHtml(
                "<p>The forward pass and the loss come first: nothing to trace back yet. "
                "From BP1 on, this panel shows where each number comes from. Click a weight, "
                "bias or δ cell (here, on the network diagram or in the weights heatmap) to see "
                "it as the product of the numbers it comes from.</p>"
            )
            return
        if st.kind in (BP1, BP2):
            layer = w.L if st.kind == BP1 else st.layer
            kind, (j, k) = "delta", self.focus.clamp(w, layer)
        else:
            layer = st.layer if st.kind == BP34 else min(max(self.focus.layer, 2), w.L)
            kind, (j, k) = "w", self.focus.clamp(w, layer)
        self.origin_view.setHtml(
            f"<div style=\"{MATH_CSS}\"><p style='color:gray'>This stage's entry (click any "
            f"cell for another):</p>{origin_for(w, kind, layer, j, k)}</div>"
        )

    def _on_link(self, url) -> None:
        text = url.toString()
        if text.startswith("stage:"):
            self.set_show_all(False)
            self.set_stage(int(text.split(":", 1)[1]))

    # ------------------------------------------------------------------ mini-batch
    def _default_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        ds = self.dataset
        if ds is None or not len(ds.X_train):
            return None
        B = max(1, int(self.cfg.batch_size))
        i = self._sample_index if self._split() == "train" and self._sample is None else 0
        i = i or 0
        start = (i // B) * B
        rows = np.arange(start, min(len(ds.X_train), start + B))
        return ds.X_train[rows], ds.Y_train[rows], rows

    def _render_batch(self) -> None:
        batch = self._batch or self._default_batch()
        w = self.walk
        if batch is None or w is None or self.net is None:
            self.batch_view.setHtml("<p>No mini-batch: set a dataset.</p>")
            return
        X, Y, rows = batch
        kind, layer, j, k = self._origin or ("w", self.focus.layer, self.focus.j, self.focus.k)
        kind = "b" if kind == "b" else "w"
        layer = min(max(layer, 2), w.L)
        j = min(j, w.sizes[layer - 1] - 1)
        k = min(k, w.sizes[layer - 2] - 1)
        try:
            mb = minibatch_gradient(self.net, X, Y, kind, layer, j, k)
        except Exception as exc:  # a dataset that does not fit the network (mid-change)
            self.batch_view.setHtml(f"<p>{exc}</p>")
            return
        source = (
            f"rows {rows[0] + 1}–{rows[-1] + 1} of the training set (batch size "
            f"B = {len(rows)}; training shuffles every epoch, so its batches differ)"
            if self._batch is None
            else f"{len(rows)} rows"
        )
        self.batch_view.setHtml(
            f'<div style="{MATH_CSS}"><p>Training does not step on one sample\'s gradient: '
            f"it averages ∂J/∂θ over a mini-batch, here {source}.</p>"
            f"{minibatch_html(mb, rows)}</div>"
        )

    # ------------------------------------------------------------------ internals
    def _split(self) -> str:
        return str(self.split_combo.currentData() or "train")

    def _split_arrays(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        ds = self.dataset
        if ds is None:
            return None, None
        key = self._split()
        return getattr(ds, f"X_{key}", None), getattr(ds, f"Y_{key}", None)

    def _update_spin_range(self) -> None:
        X, _ = self._split_arrays()
        n = 0 if X is None else len(X)
        self.sample_spin.blockSignals(True)
        self.sample_spin.setRange(1, max(1, n))
        self.sample_spin.blockSignals(False)
        self.count_label.setText(f"of {n}")

    def _on_split(self, *_: Any) -> None:
        self._sample = None
        self._update_spin_range()
        self._recompute()

    def _on_sample_spin(self, _v: int) -> None:
        self._sample = None
        self._recompute()
        self.sampleChanged.emit(int(self.sample_spin.value()) - 1)

    def _current_sample(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._sample is not None:
            return self._sample
        X, Y = self._split_arrays()
        if X is None or not len(X):
            return None
        i = min(int(self.sample_spin.value()) - 1, len(X) - 1)
        self._sample_index = i
        return np.asarray(X[i], dtype=np.float64), np.asarray(Y[i], dtype=np.float64)

    def _recompute(self) -> None:
        self._stale = False
        s = self._current_sample()
        net = self.net
        old = self.walk
        self.walk = None
        self._problem = ""
        if net is not None and s is not None:
            x, y = s
            if len(x) == net.sizes[0] and len(y) == net.sizes[-1]:
                try:
                    with np.errstate(all="ignore"):
                        self.walk = self._walk(net, x, y)
                except EngineError as exc:  # e.g. a training setting out of range
                    self._problem = str(exc)
            else:
                self._problem = (
                    f"This sample has {len(x)} inputs and {len(y)} targets, but the network "
                    f"takes {net.sizes[0]} inputs and gives {net.sizes[-1]} outputs."
                )
        if self.walk is not None:
            if old is None or old.sizes != self.walk.sizes:
                self.stage = min(self.stage, self.n_stages - 1)
                self._set_focus_ranges()
            self._render_sample(*s)
        self._render()
        self._render_origin()
        self._render_batch()

    def _set_focus_ranges(self) -> None:
        w = self.walk
        for s in (self.layer_spin, self.j_spin, self.k_spin):
            s.blockSignals(True)
        self.layer_spin.setRange(2, w.L)
        self.focus.layer = min(max(self.focus.layer, 2), w.L)
        self._sync_focus_spins()
        for s in (self.layer_spin, self.j_spin, self.k_spin):
            s.blockSignals(False)

    def _stage_layer(self) -> int:
        st = self.current
        if st is None or self.walk is None:
            return 2
        if st.kind in (LOSS, BP1):
            return self.walk.L
        if st.kind == UPDATE:
            return min(max(self.focus.layer, 2), self.walk.L)
        return st.layer

    def _sync_focus_spins(self) -> None:
        w = self.walk
        if w is None:
            return
        layer = self._stage_layer()
        j, k = self.focus.clamp(w, layer)
        for s in (self.layer_spin, self.j_spin, self.k_spin):
            s.blockSignals(True)
        self.layer_spin.setValue(min(max(self.focus.layer, 2), w.L))
        self.j_spin.setRange(1, w.sizes[layer - 1])
        self.k_spin.setRange(1, w.sizes[layer - 2])
        self.j_spin.setValue(j + 1)
        self.k_spin.setValue(k + 1)
        for s in (self.layer_spin, self.j_spin, self.k_spin):
            s.blockSignals(False)

    def _on_focus_spin(self, *_: Any) -> None:
        self.focus = Focus(
            self.layer_spin.value(), self.j_spin.value() - 1, self.k_spin.value() - 1
        )
        self._render()
        self.highlightChanged.emit(self.highlight())

    def _render_sample(self, x: np.ndarray, y: np.ndarray) -> None:
        w = self.walk
        side = IMAGE_SIDES.get(x.size)
        if side is not None:
            img = x.reshape(side, side)
            lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
            g = np.zeros_like(img) if hi <= lo else (img - lo) / (hi - lo)
            data = np.ascontiguousarray((255 * (1 - g)).astype(np.uint8))
            qimg = QImage(data.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
            self.image_label.setPixmap(
                QPixmap.fromImage(qimg).scaled(84, 84, Qt.AspectRatioMode.KeepAspectRatio)
            )
            self.image_label.setToolTip(f"The sample's {x.size} inputs as a {side}×{side} image")
        self.image_label.setVisible(side is not None)
        xs = ", ".join(fmt(v) for v in x[:4]) + (", …" if x.size > 4 else "")
        ys = ", ".join(fmt(v) for v in y[:6]) + (", …" if y.size > 6 else "")
        idx = "" if self._sample_index is None else f"sample {self._sample_index + 1}: "
        self.sample_label.setText(
            f"{idx}x = ({xs}), y = ({ys}), J = {fmt(w.J)}; after one step J = "
            f"{fmt(w.update.loss_after)}"
        )

    def _render(self) -> None:
        w = self.walk
        self._clear_grids()
        enabled = w is not None
        for b in (self.back_button, self.next_button, self.play_button):
            b.setEnabled(enabled)
        if w is None:
            self.stage_label.setText("No sample")
            self.position_label.setText("")
            self.heading.setText("")
            self.equation.setText(
                self._problem or "Choose a dataset and a network to step through backprop."
            )
            self.entry.setText("")
            self.note.setText("")
            return
        self.stage = max(0, min(self.stage, self.n_stages - 1))
        st = self.current
        if self.auto_focus:
            self._auto_focus()
        self._sync_focus_spins()
        self.back_button.setEnabled(self.stage > 0)
        self.next_button.setEnabled(self.stage < self.n_stages - 1)
        self.stage_label.setText(st.title)
        self.position_label.setText(f"stage {self.stage + 1} of {self.n_stages}")
        self.k_spin.setEnabled(st.kind in (FORWARD, BP34, UPDATE))
        self.layer_spin.setEnabled(st.kind == UPDATE)
        heading, vec, ent, note = stage_parts(w, st, self.focus)
        self.heading.setText(f"<b>{heading}</b>")
        self.equation.setText(f'<span style="{MATH_CSS}">{vec}</span>')
        self.entry.setText(f'<span style="{MATH_CSS}">{ent}</span>')
        self.note.setText(note)
        if self.all_check.isChecked():
            self._render_all()
        else:
            self._build_grids(st)
        if self._origin is None:
            self._render_stage_origin()

    def _render_all(self) -> None:
        w = self.walk
        parts = []
        for i, st in enumerate(w.stages):
            heading, vec, ent, _ = stage_parts(w, st, self.focus)
            tint = "#4a4020" if theme.is_dark() else "#fff3c4"
            mark = f" style='background:{tint}'" if i == self.stage else ""
            parts.append(
                f"<div{mark}><p><a href='stage:{i}'><b>{i + 1}. {st.title}</b></a> — {heading}</p>"
                f'<p style="{MATH_CSS} font-size:13pt">{vec}</p>'
                f'<p style="{MATH_CSS}">{ent}</p></div><hr>'
            )
        self.all_view.setHtml("".join(parts))

    def _clear_grids(self) -> None:
        while self.grid_row.count():
            item = self.grid_row.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()  # deleteLater alone would paint it under the new grids
                widget.setParent(None)
                widget.deleteLater()
        self._grids = []

    def _add_grid(self, title: str, values: np.ndarray, name, on_click=None, focus=None) -> None:
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(_label(f'<span style="{MATH_CSS}">{title}</span>', selectable=False))
        g = CellGrid(values, name)
        g.set_focus(focus)
        if on_click is not None:
            g.cellClicked.connect(on_click)
            g.setCursor(Qt.CursorShape.PointingHandCursor)
        box.addWidget(g)
        box.addStretch(1)
        holder = QWidget()
        holder.setLayout(box)
        self.grid_row.addWidget(holder)
        self._grids.append(g)

    def _build_grids(self, st: Stage) -> None:
        w = self.walk
        l = st.layer
        L = w.L

        def vec_name(s: str, layer: int):
            return lambda r, c: plain_name(s, layer, r)

        def w_name(layer: int, prefix: str = ""):
            return lambda r, c: prefix + plain_name("w", layer, r, c)

        def set_j(r: int, _c: int = 0) -> None:
            self.auto_focus = False
            self.focus.j = r
            self._render()
            self.highlightChanged.emit(self.highlight())

        def set_k(r: int, _c: int = 0) -> None:
            self.auto_focus = False
            self.focus.k = r
            self._render()
            self.highlightChanged.emit(self.highlight())

        def click_w(layer: int):
            return lambda r, c: self.click_weight(layer, r, c)

        def click_delta(layer: int):
            return lambda r, _c: self.show_origin("delta", layer, r)

        def click_b(layer: int):
            return lambda r, _c: self.show_origin("b", layer, r)

        if st.kind in (FORWARD, BP2, BP34):
            j, k = self.focus.clamp(w, l)
        else:
            j, k = self.focus.clamp(w, L)
        a_sym = "x" if l == 2 else "a"
        if st.kind == FORWARD:
            self._add_grid(
                sym("a", l - 1) + (" = x" if l == 2 else ""),
                w.a[l - 1],
                vec_name(a_sym, l - 1),
                set_k,
                (k, 0),
            )
            self._add_grid(sym("W", l), w.W[l], w_name(l), click_w(l), (j, k))
            self._add_grid(sym("b", l), w.b[l], vec_name("b", l), click_b(l), (j, 0))
            self._add_grid(sym("z", l), w.z[l], vec_name("z", l), set_j, (j, 0))
            self._add_grid(sym("a", l), w.a[l], vec_name("a", l), set_j, (j, 0))
        elif st.kind == LOSS:
            self._add_grid(sym("a", L), w.a[L], vec_name("a", L), set_j, (j, 0))
            self._add_grid("<i>y</i>", w.y, lambda r, c: f"y{r + 1}", set_j, (j, 0))
            self._add_grid(
                "∂<i>J</i>/∂" + sym("a", L), w.grad_a, vec_name("∂J/∂a", L), set_j, (j, 0)
            )
        elif st.kind == BP1:
            self._add_grid(
                "∂<i>J</i>/∂" + sym("a", L), w.grad_a, vec_name("∂J/∂a", L), set_j, (j, 0)
            )
            if w.jacobian is not None:
                self._add_grid(
                    f"∂{sym('a', L)}/∂{sym('z', L)}",
                    w.jacobian,
                    lambda r, c: f"∂a{r + 1}/∂z{c + 1}",
                    None,
                    None,
                )
            else:
                self._add_grid(
                    f"σ′({sym('z', L)})", w.sigma_prime[L], vec_name("σ'z", L), set_j, (j, 0)
                )
            self._add_grid(sym("δ", L), w.delta[L], vec_name("δ", L), click_delta(L), (j, 0))
        elif st.kind == BP2:
            self._add_grid(
                sym("δ", l + 1), w.delta[l + 1], vec_name("δ", l + 1), click_delta(l + 1), None
            )
            self._add_grid(sym("W", l + 1), w.W[l + 1], w_name(l + 1), click_w(l + 1), None)
            self._add_grid(
                f"σ′({sym('z', l)})", w.sigma_prime[l], vec_name("σ'z", l), set_j, (j, 0)
            )
            self._add_grid(sym("δ", l), w.delta[l], vec_name("δ", l), click_delta(l), (j, 0))
        elif st.kind == BP34:
            self._add_grid(sym("δ", l), w.delta[l], vec_name("δ", l), click_delta(l), (j, 0))
            self._add_grid(sym("a", l - 1), w.a[l - 1], vec_name(a_sym, l - 1), set_k, (k, 0))
            self._add_grid(
                "∂<i>J</i>/∂" + sym("b", l), w.db[l], vec_name("∂J/∂b", l), click_b(l), (j, 0)
            )
            self._add_grid(
                "∂<i>J</i>/∂" + sym("W", l), w.dW[l], w_name(l, "∂J/∂"), click_w(l), (j, k)
            )
        else:
            layer = min(max(self.focus.layer, 2), L)
            j, k = self.focus.clamp(w, layer)
            name = f"W{layer}"
            u = w.update
            self._add_grid(
                "<i>g</i> for " + sym("W", layer),
                u.grad[name],
                w_name(layer, "g "),
                click_w(layer),
                (j, k),
            )
            self._add_grid(
                "Δ" + sym("W", layer), u.delta[name], w_name(layer, "Δ"), click_w(layer), (j, k)
            )
            self._add_grid(
                sym("W", layer) + " after", u.new[name], w_name(layer), click_w(layer), (j, k)
            )
        self.grid_row.addStretch(1)

    def _on_theme_changed(self, _dark: bool) -> None:
        for g in self._grids:
            g.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(1100, 640)


__all__ = ["BackpropInspector", "CellGrid"]
