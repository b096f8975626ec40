"""The repaint scheduler: what has new data is repainted from one timer, one view per tick.

Training messages arrive at ≤ 20 a second and only mark views as having pending data; a
``QTimer`` (≤ 30 Hz) repaints them. One view is repainted per tick, round robin, so that no
event-loop iteration pays for several plot paints (each costs several ms in software rendering).
Each repaint is painted at once so its cost is measured, and the ticks are spaced so that
repainting takes at most ~1/4 of the GUI thread; the rest stays free for input and timers. The
timer stops itself once nothing is pending and the run is idle.

A *source* is ``(pending, paint)``: ``pending(everything=False)`` says whether it has something
new on screen (or anywhere, with ``everything``), and
``paint(everything)`` refreshes it and returns the widget to repaint (or None when nothing on
screen changed, e.g. a hidden tab).

Also :class:`ParamViews`: the views that draw the current weights (surface, diagram, trace,
heatmaps), of which only the visible ones are redrawn; the hidden ones catch up when shown. And
:class:`Throttled`: a costly view (the inspector, the diagnostics) among them that is handed the
weights at most every ``interval`` seconds, the latest weights always arriving in the end.

Leaves out: what each view draws (the views), and when data arrives (the run controller).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer

REFRESH_MS = 33  # ≤ 30 Hz repaint
MAX_INTERVAL = 0.25  # s: never slower than 4 repaints a second
PAINT_SHARE = 4  # interval ≥ this many times one repaint's cost (≤ 1/4 of the GUI thread)

Source = tuple[Callable[[], bool], Callable[[bool], Any]]


@contextlib.contextmanager
def plain_lines() -> Iterator[None]:
    """Create curves without antialiasing.

    A noisy curve drawn with a pen wider than 1 px *and* antialiasing goes through Qt's path
    stroker: measured here, one repaint of the loss and gradient-norm plots then took up to 2 s
    during a fast run. Without antialiasing pyqtgraph draws wide pens as line segments, ~30× faster.
    """
    old = pg.getConfigOption("antialias")
    pg.setConfigOptions(antialias=False)
    try:
        yield
    finally:
        pg.setConfigOptions(antialias=old)


def plot_source(plot: Any) -> Source:
    """A buffered plot as a source: pending and repainted when on screen (or when
    ``everything``); a hidden plot catches up when shown (``BufferedPlot.showEvent``)."""

    def pending(everything: bool = False) -> bool:
        return (everything or plot.isVisible()) and plot.has_pending()

    def paint(everything: bool) -> Any:
        if plot.isVisible() or everything:
            plot.refresh()
            return plot
        return None

    return pending, paint


class ParamViews:
    """The weight-driven views: which are stale, and giving them the network when on screen."""

    def __init__(self, views: list[Any], network: Callable[[], Any]) -> None:
        self.views = list(views)
        self._network = network
        self.stale: list[Any] = []

    def mark_stale(self) -> None:
        self.stale = list(self.views)

    def pending(self, everything: bool = False) -> bool:
        return any(v.isVisible() for v in self.stale)

    def update(self, limit: int | None = 1) -> Any:
        """Give the network to (at most ``limit``) stale views on screen; returns the last one
        updated, or None."""
        done = None
        net = self._network()
        for view in list(self.stale):
            if not view.isVisible():
                continue
            self.stale.remove(view)
            if net is not None:
                view.set_network(net)
            done = view
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    break
        return done

    def source(self) -> Source:
        return self.pending, lambda everything: self.update(limit=None if everything else 1)


class Throttled(QObject):
    """A param view fed at most every ``interval`` s: a call that comes too soon is delivered
    later (with the weights of the latest call), never dropped. :meth:`stop` ends the timer."""

    def __init__(self, view: Any, interval: float) -> None:
        super().__init__(view)
        self.view = view
        self.interval = float(interval)
        self._last = -float("inf")
        self._net: Any = None
        self.timer = QTimer(self)
        self.timer.setObjectName("throttleTimer")
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._deliver)
        self.delivered = 0  # how many set_network calls reached the view (tests count them)

    def isVisible(self) -> bool:  # noqa: N802 - the ParamViews protocol
        return self.view.isVisible()

    def repaint(self) -> None:
        self.view.repaint()

    def set_network(self, net: Any) -> None:
        self._net = net
        wait = self._last + self.interval - time.monotonic()
        if wait <= 0:
            self.timer.stop()
            self._deliver()
        elif not self.timer.isActive():
            self.timer.start(int(1000 * wait) + 1)

    def _deliver(self) -> None:
        self._last = time.monotonic()
        self.delivered += 1
        self.view.set_network(self._net)

    def flush(self) -> None:
        """Deliver a waiting call now (a hand edit must show at once, not in 0.26 s)."""
        if self.timer.isActive():
            self.timer.stop()
            self._deliver()

    def stop(self) -> None:
        self.timer.stop()


class RefreshScheduler(QObject):
    """Round-robin repaint of sources from one timer whose interval follows the paint cost."""

    def __init__(self, parent: QObject, is_idle: Callable[[], bool]) -> None:
        super().__init__(parent)
        self.timer = QTimer(parent)
        self.timer.setObjectName("plotRefreshTimer")
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.tick)
        self._is_idle = is_idle
        self.sources: list[Source] = []
        self._next = 0  # round-robin position
        self.paint_cost = 0.0  # s, running mean of one view's refresh + paint
        self.dirty = False
        self.closed = False

    def add(self, source: Source) -> None:
        self.sources.append(source)

    def kick(self) -> None:
        """New data somewhere: make sure the timer runs."""
        self.dirty = True
        if not self.timer.isActive() and not self.closed:
            self.timer.start()

    def stop(self) -> None:
        self.closed = True
        self.timer.stop()

    def tick(self, everything: bool = False) -> None:
        """Repaint what has new data: one source per tick, or all of them with ``everything``."""
        n = len(self.sources)
        for i in range(n):
            pending, paint = self.sources[(self._next + i) % n]
            if not pending(everything):
                continue
            t0 = time.perf_counter()
            view = paint(everything)
            if view is None or everything:
                continue
            # paint now, so the cost is measured, then space the ticks
            (view.viewport() if hasattr(view, "viewport") else view).repaint()
            cost = time.perf_counter() - t0
            self.paint_cost = 0.8 * self.paint_cost + 0.2 * cost
            interval = int(
                1000 * min(MAX_INTERVAL, max(REFRESH_MS / 1000, PAINT_SHARE * self.paint_cost))
            )
            if abs(interval - self.timer.interval()) > 5:
                self.timer.setInterval(interval)
            self._next = (self._next + i + 1) % n
            break
        self.dirty = any(p() for p, _ in self.sources)
        if self._is_idle() and not self.dirty:
            self.timer.stop()

    def flush(self) -> None:
        """Paint now everything on screen that has new data (the end of a run). What is hidden
        waits until it is shown: catching up a hidden plot means reading its whole history, and
        at the end of a ten-minute run that made Stop take half a second."""
        for pending, paint in self.sources:
            for _ in range(64):  # a source paints one view per call (param views: several)
                if not pending():
                    break
                view = paint(False)
                if view is None:
                    break
                (view.viewport() if hasattr(view, "viewport") else view).repaint()
        self.dirty = any(p() for p, _ in self.sources)
        if self._is_idle() and not self.dirty:
            self.timer.stop()


__all__ = [
    "REFRESH_MS",
    "ParamViews",
    "RefreshScheduler",
    "Throttled",
    "plain_lines",
    "plot_source",
]
