"""Heatmaps of the weight matrices W^l, one at a time, with a hover read-out of W[i, j].

Colours follow the one sign convention of every weight view (``weight_colormap``): blue for
positive, orange for negative, fading into the background at 0, as the network diagram's edges
and the backprop trace's cells.

A click on a cell emits ``weightClicked(l, i, j)`` (0-based units: what
``BackpropInspector.click_weight`` takes); Shift+click emits ``editRequested("w", l, i, j, pos)``
to type the weight's value (``param_edit``). For image-like inputs (64 = 8×8, 784 = 28×28) the
``weightsModeCombo`` also offers the first hidden layer's tiles (:mod:`bpstudio.ui.weight_tiles`:
each unit's incoming weights as an image), whose pixels click through the same way.

Leaves out: bias vectors and several matrices side by side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bpstudio.ui import theme
from bpstudio.ui.plots import format_value, unshadow_clear
from bpstudio.ui.trace_view import NEGATIVE, NEGATIVE_DARK, POSITIVE, POSITIVE_DARK
from bpstudio.ui.weight_tiles import IMAGE_SIDES, WeightTilesView


def weight_colors() -> tuple[str, str]:
    """(positive, negative) colours of the current theme: the diagram's and the trace's."""
    return (POSITIVE_DARK, NEGATIVE_DARK) if theme.is_dark() else (POSITIVE, NEGATIVE)


def weight_colormap() -> pg.ColorMap:
    """−max … 0 … +max: orange, the plot background, blue (the sign convention everywhere)."""
    pos, neg = weight_colors()
    return pg.ColorMap([0.0, 0.5, 1.0], [neg, theme.plot_theme().background, pos])


class WeightsView(QWidget):
    """Heatmap of one weight matrix W^l (rows: units of layer l, columns: units of layer l−1)."""

    weightClicked = Signal(int, int, int)  # layer l, unit i of l, unit j of l − 1 (0-based)
    editRequested = Signal(str, int, int, int, QPoint)  # "w", l, i, j, where (global)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightsView")
        self._net: Any = None
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("weightsModeCombo")
        self.mode_combo.addItem("Heatmap of Wˡ", "heatmap")
        self.mode_combo.addItem("Image tiles: each layer-2 unit's incoming weights", "tiles")
        self.mode_combo.setToolTip(
            "Image-like inputs (8×8, 28×28): each first-hidden-layer unit's weights as a picture"
        )
        self.mode_combo.setVisible(False)
        self.tiles = WeightTilesView()
        self.tiles.weightClicked.connect(self.weightClicked)
        self.tiles_scroll = QScrollArea()
        self.tiles_scroll.setWidgetResizable(True)
        self.tiles_scroll.setWidget(self.tiles)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightsLayerCombo")
        self.layer_combo.setToolTip("Which W^l to show; shape (n_l, n_{l−1})")
        self.layer_combo.currentIndexChanged.connect(self._show)
        self.plot = pg.PlotWidget(background=theme.plot_theme().background)
        unshadow_clear(self.plot)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "unit j of layer l−1")
        item.setLabel("left", "unit i of layer l")
        item.vb.invertY(True)  # row 0 at the top, like the matrix
        item.vb.setAspectLocked(False)
        self.image = pg.ImageItem()
        item.addItem(self.image)
        self.cmap = weight_colormap()
        self.bar = pg.ColorBarItem(values=(-1, 1), colorMap=self.cmap, interactive=False, width=14)
        self.bar.setImageItem(self.image, insert_in=item)
        self.readout = QLabel("")
        self.readout.setObjectName("weightsReadout")
        self.params: dict[str, np.ndarray] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.mode_combo)
        self.layer_label = QLabel("Layer:")
        top.addWidget(self.layer_label)
        top.addWidget(self.layer_combo, 1)
        lay.addLayout(top)
        heat = QWidget()
        hl = QVBoxLayout(heat)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.plot, 1)
        hl.addWidget(self.readout)
        self.stack = QStackedWidget()
        self.stack.addWidget(heat)
        self.stack.addWidget(self.tiles_scroll)
        lay.addWidget(self.stack, 1)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        # a bound method, not a lambda: Qt drops the connection when this widget is deleted
        theme.notifier().themeChanged.connect(self._restyle)
        theme.style_plot(self.plot)

    def _restyle(self, *_: Any) -> None:
        if self.plot.getPlotItem() is None:  # closed: pyqtgraph drops the plot item on close()
            return
        theme.style_plot(self.plot)
        self.bar.setColorMap(weight_colormap())
        self._show()

    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_mode(self, mode: str) -> None:
        i = self.mode_combo.findData(mode)
        if i >= 0 and self.mode_combo.isVisibleTo(self):
            self.mode_combo.setCurrentIndex(i)

    def _on_mode(self, *_: Any) -> None:
        tiles = self.mode() == "tiles"
        self.stack.setCurrentIndex(1 if tiles else 0)
        self.layer_label.setVisible(not tiles)
        self.layer_combo.setVisible(not tiles)
        if tiles and self._net is not None:
            self.tiles.set_network(self._net)

    def set_network(self, net: Any) -> None:
        """Copy the weight matrices of ``net`` and redraw the selected one."""
        self._net = net
        image_like = net is not None and int(net.sizes[0]) in IMAGE_SIDES and len(net.sizes) > 1
        self.mode_combo.setVisible(image_like)
        if not image_like and self.mode() == "tiles":
            self.mode_combo.setCurrentIndex(0)
        if image_like and self.mode() == "tiles":
            self.tiles.set_network(net)
        if net is None:
            self.clear()
            return
        params = net.get_params() if hasattr(net, "get_params") else dict(net.params)
        params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items() if k[0] == "W"}
        if {k: v.shape for k, v in params.items()} != {k: v.shape for k, v in self.params.items()}:
            self.readout.setText("")  # another network: the value read out is not in it
            self._hover = (None, -1, -1)
        self.params = params
        keys = sorted(self.params, key=lambda k: int(k[1:]))
        labels = [f"{k} {self.params[k].shape}" for k in keys]
        current = self.layer_combo.currentData()
        if [self.layer_combo.itemData(i) for i in range(self.layer_combo.count())] != keys:
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            for k, label in zip(keys, labels, strict=True):
                self.layer_combo.addItem(label, k)
            i = self.layer_combo.findData(current)
            self.layer_combo.setCurrentIndex(i if i >= 0 else 0)
            self.layer_combo.blockSignals(False)
        self._show()
        if self.readout.text():  # the same cell, its new value
            self._update_readout()

    def set_layer(self, key: str) -> None:
        i = self.layer_combo.findData(key)
        if i >= 0:
            self.layer_combo.setCurrentIndex(i)

    def current_layer(self) -> str | None:
        return self.layer_combo.currentData()

    def clear(self) -> None:
        self._hover = (None, -1, -1)
        self.params = {}
        self.layer_combo.clear()
        self.image.clear()
        self.readout.setText("")

    def _show(self, *_: Any) -> None:
        key = self.layer_combo.currentData()
        if key not in self.params:
            return
        W = self.params[key]
        m = float(np.nanmax(np.abs(W))) if W.size else 1.0
        m = m if np.isfinite(m) and m > 0 else 1.0
        self.image.setImage(W.T, autoLevels=False)  # image axis 0 = x = column j
        self.image.setRect(-0.5, -0.5, W.shape[1], W.shape[0])  # cell (i, j) centred on its ticks
        self.bar.setLevels((-m, m))
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks([_unit_ticks(W.shape[1])])
        item.getAxis("left").setTicks([_unit_ticks(W.shape[0])])
        pos, neg = weight_colors()
        self.plot.getPlotItem().setTitle(
            f"{key}: shape {W.shape}, max |w| = {m:.3g} — "
            f"<span style='color:{pos}'>positive</span> / "
            f"<span style='color:{neg}'>negative</span>",
            color=theme.plot_theme().foreground,
        )

    def _on_mouse_moved(self, pos: QPointF) -> None:
        key = self.layer_combo.currentData()
        if key not in self.params:
            return
        p = self.image.mapFromScene(pos)
        j, i = int(np.floor(p.x())), int(np.floor(p.y()))
        self._hover = (key, i, j)
        self._update_readout()

    def _on_mouse_clicked(self, event: Any) -> None:
        key = self.layer_combo.currentData()
        W = self.params.get(key)
        if W is None or event.button() != Qt.MouseButton.LeftButton:
            return
        p = self.image.mapFromScene(event.scenePos())
        j, i = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= i < W.shape[0] and 0 <= j < W.shape[1]:
            mods = event.modifiers() if hasattr(event, "modifiers") else Qt.KeyboardModifier(0)
            if mods & Qt.KeyboardModifier.ShiftModifier:
                where = event.screenPos().toPoint() if hasattr(event, "screenPos") else QPoint()
                self.editRequested.emit("w", int(key[1:]), i, j, where)
                return
            self.weightClicked.emit(int(key[1:]), i, j)

    def _update_readout(self) -> None:
        key, i, j = getattr(self, "_hover", (None, -1, -1))
        W = self.params.get(key)
        if W is None or key != self.layer_combo.currentData():
            self.readout.setText("")
            return
        if 0 <= i < W.shape[0] and 0 <= j < W.shape[1]:
            self.readout.setText(
                f"{key}[{i}, {j}] = {format_value(float(W[i, j]))}"
                f"  (unit {i + 1} of layer {key[1:]} "
                f"← unit {j + 1} of layer {int(key[1:]) - 1})"
            )


def _unit_ticks(n: int, most: int = 12) -> list[tuple[int, str]]:
    """Whole-unit ticks numbered from 1 (cell k is centred on k − 1), at most ``most`` of them."""
    step = max(1, -(-n // most))
    return [(k - 1, str(k)) for k in range(1, n + 1, step)]
