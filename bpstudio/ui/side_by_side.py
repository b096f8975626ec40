"""Side by side: the decision surface and the network diagram of two runs next to each other.

:class:`SideBySide` is a window (not modal) with one column per run: its name and what differs
from the other (the settings diff), its decision surface (or prediction curve) on the window's
data, and its diagram with the weights as colours and widths. It shows the runs' final weights,
or for the run the window is rewound to, the weights on screen. Opened from the Compare dock
(Side by side) with the two runs selected first there or in the Runs panel.

Leaves out: the trace and the weight heatmaps (one run's tabs show them), a run whose network
does not fit the current data (its column says so).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from bpstudio.session import Run
from bpstudio.session.diff import diff_text
from bpstudio.ui.network_view import NetworkDiagramView
from bpstudio.ui.surface_view import DecisionSurfaceView


class RunColumn(QWidget):
    """One run: title, surface, diagram."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("sideTitle")
        self.title.setWordWrap(True)
        self.surface = DecisionSurfaceView()
        self.diagram = NetworkDiagramView()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.surface)
        split.addWidget(self.diagram)
        split.setSizes([420, 300])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.title)
        lay.addWidget(split, 1)
        self.net: Any = None

    def show_run(self, run: Run, ds: Any, net: Any, note: str) -> None:
        self.title.setText(f"<b>{run.name}</b> ({run.network_label}){note}")
        fits = ds is not None and run.sizes[0] == ds.n_inputs and run.sizes[-1] == ds.n_outputs
        self.net = net if fits else None
        if ds is not None:
            self.surface.set_dataset(ds)
            outputs = ds.classes if ds.task == "classification" else ds.target_names
            self.diagram.set_names(list(ds.feature_names), list(outputs or []))
        self.surface.set_network(self.net)
        self.diagram.set_network(net)
        if not fits:
            self.title.setText(self.title.text() + " — does not fit the current data")


class SideBySide(QWidget):
    """Two runs' surfaces and diagrams next to each other (see the module docstring)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window, Qt.WindowType.Window)
        self.setObjectName("sideBySide")
        self.setWindowTitle("Side by side — Backprop Studio")
        self.w = window
        self.columns = (RunColumn(), RunColumn())
        lay = QHBoxLayout(self)
        for c in self.columns:
            lay.addWidget(c, 1)
        self.runs: tuple[Run, Run] | None = None
        self.resize(1200, 760)

    def network_of(self, run: Run) -> Any:
        """The weights on screen for the run the window shows (it may be rewound), else the
        run's final weights."""
        rewind = getattr(getattr(self.w, "comparison", None), "rewind", None)
        if rewind is not None and rewind.run is run and rewind.at is not None:
            return self.w.network
        return run.network() if run.params is not None else None

    def set_runs(self, a: Run, b: Run) -> None:
        self.runs = (a, b)
        ds = self.w.dataset
        for col, run, other in ((self.columns[0], a, b), (self.columns[1], b, a)):
            diff = diff_text(other, run)
            note = "" if run is a else f"<br>vs {other.name}: {diff}"
            col.show_run(run, ds, self.network_of(run), note)


__all__ = ["RunColumn", "SideBySide"]
