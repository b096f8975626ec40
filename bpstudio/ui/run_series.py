"""The series the plots draw for one run, read from the run's history.

A run's :class:`~bpstudio.session.run.RunHistory` is the record; the plots are views of it. The
per-step loss and the per-layer gradient norms are the history's own ``BinnedSeries`` (handed to
the plots as they are). The per-epoch curves need another x: the loss plot draws an epoch's train
and validation loss at the step the epoch ended (the history keys them by epoch number), the
accuracy plot in per cent, and the x axis in epochs needs the (step, epoch) boundaries. Those
three are kept here as ``FullSeries`` derived from the history and brought up to date by
:meth:`PlotSeries.sync` (only the epochs added since the last call are appended), so a run shown
after a project is reopened draws exactly what it drew while training.

Leaves out: drawing (``bpstudio.ui.plots``), and any state of its own (all of it can be rebuilt
from the run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpstudio.session.series import FullSeries


class PlotSeries:
    """``{plot key: series}`` for the loss, gradient-norm and accuracy plots of one run."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.train_loss = FullSeries()  # x: step at the epoch's end
        self.val_loss = FullSeries()
        self.train_acc = FullSeries()  # x: epoch, y: per cent
        self.val_acc = FullSeries()
        self.boundaries = FullSeries()  # (step at the end of an epoch, epoch)
        self._done = 0  # epochs copied so far
        self.sync()

    def sync(self) -> bool:
        """Append the epochs recorded since the last call; True if there were any."""
        h = self.run.history
        n = len(h)
        if n <= self._done:
            return False
        sl = slice(self._done, n)
        epochs = h.epoch_numbers[sl]
        steps = h.epochs["step"].y[sl]
        for target, name in ((self.train_loss, "train_loss"), (self.val_loss, "val_loss")):
            y = h.epochs[name].y[sl]
            ok = np.isfinite(y)
            if ok.any():
                target.append(steps[ok], y[ok])
        for target, name in ((self.train_acc, "train_accuracy"), (self.val_acc, "val_accuracy")):
            y = h.epochs[name].y[sl]
            ok = np.isfinite(y)
            if ok.any():
                target.append(epochs[ok], 100.0 * y[ok])
        last = self.boundaries.last()
        keep = steps > (last[0] if last is not None else -np.inf)
        if keep.any():
            self.boundaries.append(steps[keep], epochs[keep])
        self._done = n
        return True

    def loss(self) -> dict[str, Any]:
        return {"step": self.run.history.loss, "epoch": self.train_loss, "val": self.val_loss}

    def grad_norms(self) -> dict[str, Any]:
        return dict(self.run.history.grad_norms)

    def accuracy(self) -> dict[str, Any]:
        return {"train": self.train_acc, "val": self.val_acc}


__all__ = ["PlotSeries"]
