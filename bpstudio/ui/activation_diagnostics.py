"""Saturation and dead units: why a deep network stops learning, layer by layer.

``ActivationDiagnostics`` (objectName ``activationDiagnostics``) draws, for the current network
on the training or validation batch, per layer l = 2 … L a histogram of z^l and of a^l (pyqtgraph,
one column per layer), the share of saturated activations (sigmoid a < 0.01 or > 0.99, tanh
|a| > 0.99) and of dead ReLUs (0 on every sample of the batch), ‖δ^l‖ per layer on a log scale,
and a notice when a layer is mostly saturated or dead or its δ has vanished, saying what to try.
All numbers come from :func:`bpstudio.engine.diagnostics.activation_diagnostics`.

Live: call ``set_network(net)`` as often as the other views (≤ 5 Hz); the diagnostics are
recomputed only while the widget is visible (at most ``MAX_RATE`` times a second, on the first
``MAX_ROWS`` rows; a network that comes sooner is drawn when the interval is over, never
dropped), and once more when it is shown again. API: ``set_network``, ``set_dataset``,
``set_split("train" | "val")``, ``refresh()``; ``diagnostics`` holds the last result.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from bpstudio.engine.diagnostics import Diagnostics, activation_diagnostics
from bpstudio.ui import theme

MAX_ROWS = 512
MAX_RATE = 4.0  # recomputations per second while training
Z_COLOR, A_COLOR, BAD = "#0072B2", "#009E73", "#C0392B"


class ActivationDiagnostics(QWidget):
    """Per-layer z/a histograms, saturated and dead shares, ‖δ^l‖ and a notice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activationDiagnostics")
        self.net: Any = None
        self.dataset: Any = None
        self.diagnostics: Diagnostics | None = None
        self._dirty = True
        self._last = 0.0
        self._n_layers = 0
        self._later = QTimer(self)  # a refresh that came too soon, done when the interval ends
        self._later.setObjectName("diagnosticsLaterTimer")
        self._later.setSingleShot(True)
        self._later.timeout.connect(lambda: self._maybe_refresh(force=True))

        self.split_combo = QComboBox()
        self.split_combo.setObjectName("diagnosticsSplitCombo")
        self.refresh_button = QPushButton("Refresh")
        self.summary = QLabel("")
        self.summary.setObjectName("diagnosticsSummary")
        self.notice = QLabel("")
        self.notice.setObjectName("diagnosticsNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(f"color: {BAD}; font-weight: bold;")
        self.graphs = pg.GraphicsLayoutWidget()
        self.graphs.setObjectName("diagnosticsHistograms")
        self.graphs.setBackground(theme.plot_theme().background)
        self.delta_plot = pg.PlotWidget(background=theme.plot_theme().background)
        self.delta_plot.setObjectName("diagnosticsDeltaPlot")
        self.delta_plot.setLogMode(y=True)
        self.delta_plot.setLabel("left", "‖δˡ‖ (RMS over the batch)")
        self.delta_plot.setLabel("bottom", "layer l")
        self.delta_plot.setMaximumWidth(300)
        self.delta_curve = self.delta_plot.plot(
            [], [], pen=pg.mkPen(Z_COLOR, width=2), symbol="o", symbolBrush=Z_COLOR
        )

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Batch:"))
        top.addWidget(self.split_combo)
        top.addWidget(self.refresh_button)
        top.addWidget(self.summary, 1)
        body = QHBoxLayout()
        body.addWidget(self.graphs, 1)
        body.addWidget(self.delta_plot)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.notice)
        lay.addLayout(body, 1)

        self.refresh_button.clicked.connect(self.refresh)
        self.split_combo.currentIndexChanged.connect(lambda *_: self.refresh())
        self._z_curves: list[pg.PlotDataItem] = []
        self._a_curves: list[pg.PlotDataItem] = []
        self._titles: list[pg.LabelItem] = []

    # ------------------------------------------------------------------ inputs
    def set_dataset(self, ds: Any) -> None:
        self.dataset = ds
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        if ds is not None:
            self.split_combo.addItem("training", "train")
            if getattr(ds, "X_val", None) is not None and len(ds.X_val):
                self.split_combo.addItem("validation", "val")
        self.split_combo.blockSignals(False)
        self._dirty = True
        self._maybe_refresh(force=True)

    def set_split(self, key: str) -> None:
        i = self.split_combo.findData(key)
        if i >= 0:
            self.split_combo.setCurrentIndex(i)

    def set_network(self, net: Any) -> None:
        self.net = net
        self._dirty = True
        self._maybe_refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self._maybe_refresh(force=True)

    def _maybe_refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.isVisible() and not force:
            return
        if not force and now - self._last < 1.0 / MAX_RATE:
            if not self._later.isActive():
                self._later.start(int(1000 * (self._last + 1.0 / MAX_RATE - now)) + 1)
            return
        self._later.stop()
        self.refresh()

    # ------------------------------------------------------------------ compute and draw
    def _batch(self) -> tuple[np.ndarray, np.ndarray] | None:
        ds = self.dataset
        if ds is None:
            return None
        key = self.split_combo.currentData() or "train"
        X, Y = getattr(ds, f"X_{key}", None), getattr(ds, f"Y_{key}", None)
        if X is None or not len(X):
            return None
        return X[:MAX_ROWS], Y[:MAX_ROWS]

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._later.stop()  # shown again, it refreshes if anything is pending
        super().hideEvent(event)

    def stop(self) -> None:
        """No refresh pending (the window closes)."""
        self._later.stop()

    def refresh(self) -> Diagnostics | None:
        self._last = time.monotonic()
        batch = self._batch()
        net = self.net
        if (
            net is None
            or batch is None
            or batch[0].shape[1] != net.sizes[0]
            or batch[1].shape[1] != net.sizes[-1]
        ):
            self.diagnostics = None
            self.summary.setText("No network or data yet.")
            return None
        self._dirty = False
        d = activation_diagnostics(net, *batch)
        self.diagnostics = d
        self._draw(d)
        return d

    def _ensure_plots(self, n: int) -> None:
        if n == self._n_layers:
            return
        self.graphs.clear()
        self._z_curves, self._a_curves, self._titles = [], [], []
        fg = theme.plot_theme().foreground
        for c in range(n):
            title = self.graphs.addLabel("", row=0, col=c, color=fg)
            pz = self.graphs.addPlot(row=1, col=c)
            pa = self.graphs.addPlot(row=2, col=c)
            for p, name, color in ((pz, "z", Z_COLOR), (pa, "a", A_COLOR)):
                p.setMenuEnabled(False)
                p.hideAxis("left")
                p.setLabel("bottom", name)
                p.setMouseEnabled(x=False, y=False)
                curve = pg.PlotDataItem(
                    [0.0, 1.0], [0.0], stepMode="center", fillLevel=0, brush=color, pen=color
                )
                p.addItem(curve)
                (self._z_curves if name == "z" else self._a_curves).append(curve)
            self._titles.append(title)
        self._n_layers = n

    def _draw(self, d: Diagnostics) -> None:
        self._ensure_plots(len(d.layers))
        for c, ld in enumerate(d.layers):
            self._z_curves[c].setData(ld.z_hist.edges, ld.z_hist.counts)
            self._a_curves[c].setData(ld.a_hist.edges, ld.a_hist.counts)
            parts = [f"<b>layer {ld.layer}</b> ({ld.activation})"]
            if ld.activation in ("sigmoid", "tanh"):
                parts.append(f"saturated {ld.saturated:.0%}")
            if ld.dead is not None:
                parts.append(f"dead {ld.dead:.0%}")
            parts.append(f"‖δ‖ {ld.delta_norm:.1e}")
            bad = (ld.saturated > 0.5 or (ld.dead or 0) > 0.5) and c < len(d.layers) - 1
            color = BAD if bad else theme.plot_theme().foreground
            self._titles[c].setText("<br>".join(parts), color=color, size="9pt")
        layers = np.array([ld.layer for ld in d.layers], dtype=float)
        norms = np.array([max(ld.delta_norm, 1e-300) for ld in d.layers])
        self.delta_curve.setData(layers, norms)
        self.delta_plot.getAxis("bottom").setTicks([[(v, str(int(v))) for v in layers]])
        self.notice.setText(d.notice)
        self.notice.setVisible(bool(d.notice))
        self.summary.setText(
            f"{d.n_samples} rows; histograms over every (sample, unit) value of each layer."
        )

    def sat_text(self) -> str:
        """A one-line summary per layer (also for tests and the status bar)."""
        if self.diagnostics is None:
            return ""
        return "; ".join(
            f"layer {ld.layer}: saturated {ld.saturated:.0%}"
            + (f", dead {ld.dead:.0%}" if ld.dead is not None else "")
            for ld in self.diagnostics.layers
        )


__all__ = ["ActivationDiagnostics"]
