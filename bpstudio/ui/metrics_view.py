"""The Accuracy tab: accuracy curves beside the confusion matrix, per-class precision and recall.

``MetricsView`` (objectName ``metricsView``) puts the window's existing
:class:`~bpstudio.ui.plots.AccuracyPlot` and a
:class:`~bpstudio.ui.confusion_view.ConfusionMatrixView` (``confusionMatrix``; split chosen in its
own combo: training, validation, test, with the dataset's class names) side by side in a splitter.
The window calls ``set_dataset(ds)`` and ``set_network(net)``; the accuracy plot keeps being fed
as before (``append_epoch``).

A confusion matrix is a forward pass over a whole split (48 000 × 784 rows: about a second on one
core), so while training it is refreshed at most every ``DUTY``⁻¹ × its own cost (and at least
every ``MIN_INTERVAL`` s); the last weights are always shown, by a single-shot timer that runs
only while the view is on screen.

Leaves out: a regression counterpart (the tab is hidden for regression).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from bpstudio.ui.confusion_view import ConfusionMatrixView
from bpstudio.ui.plots import AccuracyPlot

DUTY = 0.1  # at most this share of the GUI thread goes to refreshing the matrix
MIN_INTERVAL = 0.2  # s


class MetricsView(QWidget):
    """Accuracy plot + confusion matrix; ``set_network`` / ``set_dataset`` as the other views."""

    def __init__(self, accuracy_plot: AccuracyPlot | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("metricsView")
        self.accuracy_plot = accuracy_plot if accuracy_plot is not None else AccuracyPlot()
        self.confusion = ConfusionMatrixView()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("metricsSplitter")
        self.splitter.addWidget(self.accuracy_plot)
        self.splitter.addWidget(self.confusion)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)
        self.net: Any = None
        self.refresh_seconds = 0.0  # cost of the last matrix
        self._last = -1e9  # time of the last matrix
        self._stale = False
        self._timer = QTimer(self)
        self._timer.setObjectName("confusionRefreshTimer")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh_now)

    def set_dataset(self, ds: Any) -> None:
        self.confusion.net = None  # the old net does not fit the new data
        self.confusion.set_dataset(ds)
        if self.net is not None:
            self._refresh_now()

    def set_network(self, net: Any) -> None:
        """New weights: the matrix follows, throttled to its own cost (see the module doc)."""
        self.net = net
        wait = self._last + max(MIN_INTERVAL, self.refresh_seconds / DUTY) - time.perf_counter()
        if wait <= 0:
            self._refresh_now()
        else:
            self._stale = True
            if self.isVisible() and not self._timer.isActive():
                self._timer.start(int(1000 * wait) + 1)

    def _refresh_now(self) -> None:
        self._timer.stop()
        self._stale = False
        t0 = time.perf_counter()
        self.confusion.set_network(self.net)
        self._last = time.perf_counter()
        self.refresh_seconds = self._last - t0

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._refresh_now()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._timer.stop()
        super().hideEvent(event)


__all__ = ["MetricsView"]
