"""A run's checkpoints: weights every few epochs and at the best validation loss, bounded in memory.

``CheckpointStore.offer(epoch, step, params, monitored)`` is called at the end of an epoch (or
whenever the caller has fresh weights). A *regular* checkpoint is kept when ``epoch`` is a multiple
of ``every``; when more than ``max_kept`` regular checkpoints (or more than ``max_bytes`` of
weights) would be kept, ``every`` doubles and the checkpoints off the new grid go, so what is kept
stays spread evenly over the whole run (epochs 4, 8, 12 … become 8, 16, 24 …), just as
``BinnedSeries`` thins a per-step series. The checkpoint at the lowest monitored loss (validation
loss, else training loss) is kept apart and always survives thinning.

Weights are copied on the way in (the caller's arrays keep changing) and kept in their own dtype.
Leaves out: optimiser state (a branch from a checkpoint starts with fresh moments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_EVERY = 5  # epochs between regular checkpoints, before any thinning
DEFAULT_MAX_KEPT = 8  # regular checkpoints kept per run at most
DEFAULT_MAX_BYTES = 16 * 2**20  # weights kept per run at most (the best checkpoint aside)


@dataclass
class Checkpoint:
    epoch: int
    step: int
    params: dict[str, np.ndarray]
    monitored: float | None = None  # the loss it was judged by (val loss, else train loss)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.params.values())


class CheckpointStore:
    """Regular checkpoints on an even grid of epochs, plus the best one (see the docstring)."""

    def __init__(
        self,
        every: int = DEFAULT_EVERY,
        max_kept: int = DEFAULT_MAX_KEPT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if every < 1 or max_kept < 1:
            raise ValueError("every and max_kept must be at least 1")
        self.every = int(every)
        self.max_kept = int(max_kept)
        self.max_bytes = int(max_bytes)
        self.regular: list[Checkpoint] = []
        self.best: Checkpoint | None = None

    # --- adding --------------------------------------------------------------------------------
    def offer(
        self,
        epoch: int,
        step: int,
        params: dict[str, np.ndarray],
        monitored: float | None = None,
    ) -> bool:
        """Keep these weights if ``epoch`` is on the grid or the best so far; True if kept."""
        kept = False
        better = (
            monitored is not None
            and math.isfinite(monitored)
            and (
                self.best is None or self.best.monitored is None or monitored < self.best.monitored
            )
        )
        on_grid = epoch > 0 and epoch % self.every == 0
        if not (better or on_grid):
            return False
        ckpt = Checkpoint(int(epoch), int(step), _copy(params), monitored)
        if better:
            self.best = ckpt
            kept = True
        if on_grid:
            if self.regular and self.regular[-1].epoch >= epoch:  # offered twice: keep the newest
                self.regular.pop()
            self.regular.append(ckpt)
            kept = True
            self._thin()
        return kept

    def _thin(self) -> None:
        while len(self.regular) > 1 and (
            len(self.regular) > self.max_kept or self._regular_bytes() > self.max_bytes
        ):
            self.every *= 2
            self.regular = [c for c in self.regular if c.epoch % self.every == 0]

    def limit(self, max_kept: int | None = None, max_bytes: int | None = None) -> None:
        """Tighten the bounds (e.g. for an old run) and thin to them."""
        if max_kept is not None:
            self.max_kept = max(1, int(max_kept))
        if max_bytes is not None:
            self.max_bytes = int(max_bytes)
        self._thin()

    # --- reading -------------------------------------------------------------------------------
    def _regular_bytes(self) -> int:
        return sum(c.nbytes for c in self.regular)

    @property
    def nbytes(self) -> int:
        best = self.best
        shared = best is not None and any(c is best for c in self.regular)
        return self._regular_bytes() + (0 if best is None or shared else best.nbytes)

    def all(self) -> list[Checkpoint]:
        """Every kept checkpoint once, by epoch (the best one included)."""
        out = {id(c): c for c in self.regular}
        if self.best is not None:
            out[id(self.best)] = self.best
        return sorted(out.values(), key=lambda c: (c.epoch, c.step))

    def at(self, step: int) -> Checkpoint | None:
        """The kept checkpoint at ``step`` (for a branch's parent), or None."""
        return next((c for c in self.all() if c.step == step), None)

    def __len__(self) -> int:
        return len(self.all())

    # --- files ---------------------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """A JSON-safe description plus the arrays (keys ``<i>/<param name>``)."""
        items = self.all()
        arrays: dict[str, np.ndarray] = {}
        doc_items = []
        for i, c in enumerate(items):
            for name, a in c.params.items():
                arrays[f"{i}/{name}"] = a
            doc_items.append(
                {
                    "epoch": c.epoch,
                    "step": c.step,
                    "monitored": c.monitored,
                    "params": sorted(c.params),
                    "regular": any(c is r for r in self.regular),
                    "best": c is self.best,
                }
            )
        doc = {
            "every": self.every,
            "max_kept": self.max_kept,
            "max_bytes": self.max_bytes,
            "items": doc_items,
        }
        return doc, arrays

    @classmethod
    def from_state(cls, doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> CheckpointStore:
        store = cls(int(doc["every"]), int(doc["max_kept"]), int(doc["max_bytes"]))
        for i, item in enumerate(doc["items"]):
            params = {str(name): arrays[f"{i}/{name}"] for name in item["params"]}
            monitored = item.get("monitored")
            ckpt = Checkpoint(
                int(item["epoch"]),
                int(item["step"]),
                params,
                None if monitored is None else float(monitored),
            )
            if item.get("regular"):
                store.regular.append(ckpt)
            if item.get("best"):
                store.best = ckpt
        return store


def _copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {str(k): np.array(v, copy=True, order="C") for k, v in params.items()}


__all__ = [
    "DEFAULT_EVERY",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_KEPT",
    "Checkpoint",
    "CheckpointStore",
]
