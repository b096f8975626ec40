"""The traced sample: one training sample's forward and backward pass, computed once for all views.

The Network tab's diagram and the inspector's small diagram both show the same sample passing
through the same weights. :class:`TracedSample` holds which sample it is and computes
``net.trace(x, y)`` once per change of weights or sample; each view asks it instead of tracing
again. The window calls :meth:`invalidate` whenever the weights change.

Leaves out: drawing (the views), and choosing the sample (the inspector's sample row, a click on the
decision surface).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class TracedSample:
    """A cache of ``net.trace(x, y)`` keyed by the weights' generation and the sample."""

    def __init__(self) -> None:
        self.generation = 0
        self._key: tuple | None = None
        self._trace: dict[int, Any] | None = None
        self.computed = 0  # how many traces were computed (tests count them)

    def invalidate(self) -> None:
        """The weights changed."""
        self.generation += 1

    def trace(self, net: Any, x: np.ndarray, y: np.ndarray) -> dict[int, Any]:
        # the weights' sums guard against a change nobody announced (a view handed a network
        # directly); they cost far less than the trace itself
        sums = tuple(float(np.sum(v)) for v in net.params.values())
        key = (self.generation, id(net), sums, x.tobytes(), y.tobytes())
        if key != self._key or self._trace is None:
            with np.errstate(all="ignore"):
                self._trace = net.trace(x, y)
            self._key = key
            self.computed += 1
        return self._trace


__all__ = ["TracedSample"]
