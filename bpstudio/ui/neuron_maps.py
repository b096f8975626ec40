"""What each hidden unit computes over the input plane: one small map per unit (2-D data).

``NeuronMapsView`` (objectName ``neuronMaps``) shows, for every hidden layer l = 2 … L−1, a
thumbnail per unit j: the activation ``a^l_j`` over the same plane as the decision surface, as the
TensorFlow Playground draws its neurons. Hover a thumbnail to see it enlarged above the grid with
its name and range; click one to keep it there. Fed by ``set_dataset(ds)`` (2 inputs; the view is
empty otherwise) and ``set_network(net)``; ``set_bounds`` follows the surface's plot range.

Colours: a diverging map centred on 0, at a fixed ±1 for bounded activations (tanh: −1…1,
sigmoid: 0…1 drawn on the same scale) so saturation reads the same in every unit, and at ±max|a|
over the plane for unbounded ones (ReLU, ELU, …), which the caption states. One forward pass on a
``LARGE``² grid per update feeds the enlarged map and, every other point, all thumbnails; colours
come from a 256-entry lookup table, a layer at a time.

Leaves out: output-layer maps (the decision surface is that), layers wider than ``MAX_UNITS``
(the first ones are shown and the caption says so), and maps for more than two inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from bpstudio.engine import backprop as bp
from bpstudio.ui import theme

THUMB_PX = 36  # its size on screen
LARGE = 64  # the enlarged map's grid; thumbnails take every other point
LARGE_PX = 150
PER_ROW = 8
MAX_UNITS = 48  # per layer
_BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (-1.0, 1.0), "softsign": (-1.0, 1.0)}
_CMAP = "CET-D1"


def unit_maps(net: Any, bounds: tuple[float, float, float, float], n: int) -> list[np.ndarray]:
    """Hidden activations on an n×n grid over ``bounds``: per hidden layer, shape (n, n, units),
    axis 0 = x (as the surface's image)."""
    x0, x1, y0, y1 = bounds
    xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n), indexing="ij")
    X = np.column_stack([xx.ravel(), yy.ravel()])
    with np.errstate(all="ignore"):
        _, acts = bp.forward(net.layers(), net.all_activations, X)
    return [np.asarray(a, dtype=np.float64).reshape(n, n, -1) for a in acts[1:-1]]


_lut: list[np.ndarray] = []


def _rgba(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(nx, ny, units) values → (units, ny, nx, 4) bytes; image rows = y from the top (a QImage's
    orientation)."""
    if not _lut:
        _lut.append(pg.colormap.get(_CMAP).getLookupTable(nPts=256, alpha=True, mode="byte"))
    t = (np.nan_to_num(values) - lo) * (255.0 / ((hi - lo) or 1.0))
    idx = np.clip(t, 0, 255).astype(np.uint8)
    return _lut[0][idx.transpose(2, 1, 0)[:, ::-1, :]]


def _pixmap(rgba: np.ndarray, px: int) -> QPixmap:
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QPixmap.fromImage(img).scaled(
        px, px, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class _Thumb(QLabel):
    def __init__(self, layer: int, unit: int) -> None:
        super().__init__()
        self.layer, self.unit = layer, unit
        self.setObjectName(f"neuronMap_{layer}_{unit}")
        self.setFixedSize(THUMB_PX + 4, THUMB_PX + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)


class NeuronMapsView(QWidget):
    """A thumbnail per hidden unit; hover or click to enlarge."""

    unitShown = Signal(int, int)  # layer, unit now in the enlarged view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("neuronMaps")
        self.net: Any = None
        self.dataset: Any = None
        self.bounds: tuple[float, float, float, float] | None = None
        self.maps: list[np.ndarray] = []  # last thumbnails' values, per hidden layer
        self.levels: list[tuple[float, float]] = []
        self.pinned: tuple[int, int] | None = None  # clicked unit
        self.shown: tuple[int, int] | None = None  # unit in the enlarged view
        self._thumbs: dict[tuple[int, int], _Thumb] = {}
        self.title = QLabel("Hidden units")
        self.title.setObjectName("neuronMapsTitle")
        self.title.setWordWrap(True)
        self.large = QLabel()
        self.large.setObjectName("neuronMapLarge")
        self.large.setFixedSize(LARGE_PX, LARGE_PX)
        self.large.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.large.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel("")
        self.caption.setObjectName("neuronMapCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._grid_host)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addWidget(self.title)
        lay.addWidget(self.large, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.caption)
        lay.addWidget(scroll, 1)
        self.setFixedWidth(PER_ROW * (THUMB_PX + 6) + 24)

    # ----------------------------------------------------------------- inputs
    def applies_to(self, ds: Any) -> bool:
        return ds is not None and getattr(ds, "n_inputs", 0) == 2

    def set_dataset(self, ds: Any) -> None:
        self.dataset = ds
        self.net = None
        self.pinned = self.shown = None
        self._rebuild([])

    def set_bounds(self, bounds: tuple[float, float, float, float] | None) -> None:
        """The plane's (x0, x1, y0, y1), the same as the decision surface's image."""
        self.bounds = bounds

    def set_network(self, net: Any) -> None:
        """Recompute every unit's map with ``net``'s weights (hidden layers only)."""
        self.net = net
        if net is None or not self.applies_to(self.dataset) or self.bounds is None:
            return
        if list(net.sizes)[0] != 2:
            return
        hidden = list(net.sizes[1:-1])
        if [len(m) for m in self._layer_units()] != [min(h, MAX_UNITS) for h in hidden]:
            self._rebuild(hidden)
        self.maps = unit_maps(net, self.bounds, LARGE)
        self.levels = [self._levels(li, m) for li, m in enumerate(self.maps)]
        for i, m in enumerate(self.maps):
            rgba = _rgba(m[::2, ::2, :MAX_UNITS], *self.levels[i])
            for unit in range(rgba.shape[0]):
                self._thumbs[(i + 2, unit)].setPixmap(_pixmap(rgba[unit], THUMB_PX))
        self._show_large(*(self.pinned or self.shown or (2, 0)))

    def _levels(self, i: int, m: np.ndarray) -> tuple[float, float]:
        act = self.net.activations[i] if i < len(self.net.activations) else ""
        if act in _BOUNDED:
            return _BOUNDED[act]
        lim = float(np.nanmax(np.abs(m))) if m.size else 1.0
        lim = lim if np.isfinite(lim) and lim > 0 else 1.0
        return (-lim, lim)

    def _layer_units(self) -> list[list[int]]:
        by: dict[int, list[int]] = {}
        for layer, unit in self._thumbs:
            by.setdefault(layer, []).append(unit)
        return [by[k] for k in sorted(by)]

    def _rebuild(self, hidden: list[int]) -> None:
        while self._grid.count():
            w = self._grid.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self._thumbs.clear()
        self.maps, self.levels = [], []
        if not hidden:
            self.large.clear()
            self.caption.setText("")
            self.title.setText(
                "Hidden units: maps need 2 inputs and a hidden layer."
                if self.applies_to(self.dataset)
                else ""
            )
            return
        self.title.setText("Hidden units: each one's activation over the plane (hover, click)")
        row = 0
        for i, n in enumerate(hidden):
            layer = i + 2
            shown = min(n, MAX_UNITS)
            more = f" (first {shown} of {n})" if n > shown else ""
            head = QLabel(f"Layer {layer}: {n} units{more}")
            self._grid.addWidget(head, row, 0, 1, PER_ROW)
            row += 1
            for j in range(shown):
                t = _Thumb(layer, j)
                t.setToolTip(f"a<sup>{layer}</sup><sub>{j + 1}</sub>")
                t.installEventFilter(self)
                self._thumbs[(layer, j)] = t
                self._grid.addWidget(t, row + j // PER_ROW, j % PER_ROW)
            row += (shown + PER_ROW - 1) // PER_ROW
        self._grid.setRowStretch(row, 1)
        self._restyle_thumbs()

    # ----------------------------------------------------------------- enlarge
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if isinstance(obj, _Thumb):
            kind = event.type()
            if kind == QEvent.Type.Enter:
                self._show_large(obj.layer, obj.unit)
            elif kind == QEvent.Type.Leave and self.pinned is not None:
                self._show_large(*self.pinned)
            elif kind == QEvent.Type.MouseButtonPress:
                self.pin(obj.layer, obj.unit)
                return True
        return super().eventFilter(obj, event)

    def pin(self, layer: int, unit: int) -> None:
        """Keep unit ``unit`` (from 0) of ``layer`` in the enlarged view."""
        self.pinned = (layer, unit)
        self._show_large(layer, unit)
        self._restyle_thumbs()

    def _show_large(self, layer: int, unit: int) -> None:
        if (layer, unit) not in self._thumbs or not self.maps:
            return
        self.shown = (layer, unit)
        values = self.maps[layer - 2][:, :, unit]
        lo, hi = self.levels[layer - 2]
        self.large.setPixmap(_pixmap(_rgba(values[:, :, None], lo, hi)[0], LARGE_PX - 4))
        act = self.net.activations[layer - 2]
        scale = "fixed scale −1 … 1" if act in _BOUNDED else f"scale ±{hi:.3g}"
        self.caption.setText(
            f"<b>a<sup>{layer}</sup><sub>{unit + 1}</sub></b> ({act}): "
            f"{np.nanmin(values):.3g} … {np.nanmax(values):.3g} over the plane; {scale}. "
            "Blue low, red high."
        )
        self.unitShown.emit(layer, unit)

    def _restyle_thumbs(self) -> None:
        accent = theme.series_color(0)
        for key, t in self._thumbs.items():
            border = accent if key == self.pinned else "transparent"
            t.setStyleSheet(f"border: 2px solid {border};")


__all__ = ["NeuronMapsView", "unit_maps"]
