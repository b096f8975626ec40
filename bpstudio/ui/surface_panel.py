"""The Decision surface tab: the surface, its controls above it, the hidden units' maps beside it.

``SurfacePanel`` holds a :class:`~bpstudio.ui.surface_view.DecisionSurfaceView` (``surface``) and,
for 2-input data with hidden layers, a :class:`~bpstudio.ui.neuron_maps.NeuronMapsView` (``maps``).
Above the plot: for more than two inputs a ``surfacePlaneCombo`` (first two principal components,
or two features with the others at their mean) and, for features, ``surfaceFeatureXCombo`` /
``surfaceFeatureYCombo``; always a ``discretiseCheck`` ("Discretise output"). The window calls
``set_dataset(ds)`` and ``set_network(net)`` as it did the surface's; ``project(X)`` gives the
plot coordinates of input rows (to pick the sample nearest a click).

Leaves out: saving the plane choice across sessions (it depends on the dataset).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bpstudio.ui.neuron_maps import NeuronMapsView
from bpstudio.ui.surface_view import DecisionSurfaceView


class SurfacePanel(QWidget):
    """Decision surface + plane choice + "Discretise output" + per-unit maps."""

    def __init__(self, parent: QWidget | None = None, *, grid: int = DecisionSurfaceView.GRID):
        super().__init__(parent)
        self.setObjectName("surfacePanel")
        self.surface = DecisionSurfaceView(grid=grid)
        self.maps = NeuronMapsView()
        self.net: Any = None
        self.plane_combo = QComboBox()
        self.plane_combo.setObjectName("surfacePlaneCombo")
        self.plane_combo.addItem("Principal components 1 and 2", "pca")
        self.plane_combo.addItem("Two features (others at their mean)", "features")
        self.plane_combo.setToolTip(
            "More than two inputs: the surface is a plane through the data.\n"
            "Principal components: the plane of greatest spread (NumPy SVD of the training\n"
            "inputs), points projected onto it. Two features: those two vary, every other\n"
            "input is held at its training mean (in the standardised space the model sees)."
        )
        self.x_combo = QComboBox()
        self.x_combo.setObjectName("surfaceFeatureXCombo")
        self.y_combo = QComboBox()
        self.y_combo.setObjectName("surfaceFeatureYCombo")
        self.discrete_check = QCheckBox("Discretise output")
        self.discrete_check.setObjectName("discretiseCheck")
        self.discrete_check.setToolTip(
            "Colour each point of the plane by its predicted class (or by one of ten value\n"
            "bands for regression) instead of a shade of the network's confidence"
        )
        self._plane_label = QLabel("Plane:")
        self._x_label, self._y_label = QLabel("x:"), QLabel("y:")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        for w in (self._plane_label, self.plane_combo, self._x_label, self.x_combo):
            bar.addWidget(w)
        bar.addWidget(self._y_label)
        bar.addWidget(self.y_combo)
        bar.addStretch(1)
        bar.addWidget(self.discrete_check)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.surface, 1)
        body.addWidget(self.maps)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addLayout(body, 1)
        self.plane_combo.currentIndexChanged.connect(self._on_plane_changed)
        self.x_combo.currentIndexChanged.connect(self._on_plane_changed)
        self.y_combo.currentIndexChanged.connect(self._on_plane_changed)
        self.discrete_check.toggled.connect(self.surface.set_discrete)
        self.set_dataset(None)

    # ----------------------------------------------------------------- window API
    def set_dataset(self, ds: Any) -> None:
        n = getattr(ds, "n_inputs", 0) if ds is not None else 0
        many = n > 2
        for w in (self._plane_label, self.plane_combo):
            w.setVisible(many)
        self.discrete_check.setVisible(n >= 2)  # a 1-input curve has nothing to discretise
        names = list(getattr(ds, "feature_names", []) or []) if ds is not None else []
        names = names if len(names) == n else [f"x{i + 1}" for i in range(n)]
        for combo, first in ((self.x_combo, 0), (self.y_combo, 1)):
            combo.blockSignals(True)
            combo.clear()
            for i, name in enumerate(names):
                combo.addItem(name, i)
            combo.setCurrentIndex(min(first, max(n - 1, 0)))
            combo.blockSignals(False)
        self.plane_combo.blockSignals(True)
        self.plane_combo.setCurrentIndex(0)
        self.plane_combo.blockSignals(False)
        self._show_feature_combos()
        self.surface.set_dataset(ds)
        self.maps.set_dataset(ds)
        self.maps.set_bounds(self.surface.bounds)
        self.maps.setVisible(self.maps.applies_to(ds))
        if self.net is not None:
            self.set_network(self.net)

    def set_network(self, net: Any) -> None:
        self.net = net
        self.surface.set_network(net)
        if self.maps.isVisibleTo(self) and net is not None:
            self.maps.set_network(net)

    def clear(self) -> None:
        self.surface.clear()

    def project(self, X: np.ndarray) -> np.ndarray:
        return self.surface.project(X)

    def set_plane(self, kind: str, i: int = 0, j: int = 1) -> None:
        """Choose the plane as the combos would (``"pca"`` or ``"features"``, i, j)."""
        for combo, v in ((self.x_combo, i), (self.y_combo, j)):
            combo.blockSignals(True)
            combo.setCurrentIndex(v)
            combo.blockSignals(False)
        self.plane_combo.setCurrentIndex(self.plane_combo.findData(kind))
        self._on_plane_changed()

    # ----------------------------------------------------------------- internals
    def _show_feature_combos(self) -> None:
        ds = self.surface.dataset if self.surface.dataset is not None else None
        many = ds is not None and ds.n_inputs > 2
        features = many and self.plane_combo.currentData() == "features"
        for w in (self._x_label, self.x_combo, self._y_label, self.y_combo):
            w.setVisible(features)

    def _on_plane_changed(self, *_: Any) -> None:
        ds = self.surface.dataset
        self._show_feature_combos()
        if ds is None or ds.n_inputs <= 2:
            return
        kind = self.plane_combo.currentData()
        i, j = int(self.x_combo.currentData() or 0), int(self.y_combo.currentData() or 0)
        if kind == "features" and i == j:  # keep two different features
            j = (i + 1) % ds.n_inputs
            self.y_combo.blockSignals(True)
            self.y_combo.setCurrentIndex(j)
            self.y_combo.blockSignals(False)
        self.surface.set_plane(kind, i, j)
        if self.net is not None:
            self.surface.set_network(self.net)


__all__ = ["SurfacePanel"]
