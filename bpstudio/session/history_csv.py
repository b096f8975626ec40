"""The per-epoch history of runs as one CSV in long format: one row per (run, epoch).

Columns: ``run`` (its number, from 1), ``name``, ``epoch``, ``step``, ``seconds``, ``train_loss``,
``val_loss``, ``train_accuracy``, ``val_accuracy`` (classes), ``train_rmse``, ``val_rmse``
(values, in the target's own units), ``lr`` (α), then ``grad_norm_W2``, ``grad_norm_b2``, … (each
layer's mean gradient norm over the epoch) for every layer any of the runs has. A missing value is
an empty cell, which pandas reads as NaN and spreadsheets as blank. Written atomically; used by
``bpstudio runs --csv`` and the window's File → Export history. Leaves out: per-step rows (the
per-step series are binned; the per-epoch record is the complete one).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bpstudio.io.atomic import atomic_open
from bpstudio.session.run import EPOCH_FIELDS, Run

BASE_COLUMNS = ("run", "name", "epoch", *EPOCH_FIELDS)


def _layer_key(name: str) -> tuple[int, str]:
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    return (int(m.group(2)), m.group(1)[::-1]) if m else (10**9, name)  # W2 before b2


def _cell(value: float) -> Any:
    if not math.isfinite(value):
        return ""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


def history_rows(
    runs: Sequence[Run], numbers: Iterable[int] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) for ``runs``; ``numbers`` are their run numbers (default 1, 2, …)."""
    nums = list(numbers) if numbers is not None else list(range(1, len(runs) + 1))
    layers = sorted({n for r in runs for n in r.history.epoch_grad_norms}, key=_layer_key)
    header = [*BASE_COLUMNS, *(f"grad_norm_{n}" for n in layers)]
    rows: list[list[Any]] = []
    for number, run in zip(nums, runs, strict=True):
        h = run.history
        epochs = h.epoch_numbers
        columns = [h.epoch_values(name) for name in EPOCH_FIELDS]
        grads = [h.epoch_grad_norms.get(n) for n in layers]
        for i in range(len(h)):
            row: list[Any] = [number, run.name, int(epochs[i])]
            row += [_cell(float(col[i])) for col in columns]
            row += ["" if g is None else _cell(float(g.y[i])) for g in grads]
            rows.append(row)
    return header, rows


def write_history_csv(
    path: str | os.PathLike[str], runs: Sequence[Run], numbers: Iterable[int] | None = None
) -> Path:
    """Write the runs' per-epoch history to ``path`` (atomically); returns the path."""
    header, rows = history_rows(runs, numbers)
    with atomic_open(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return Path(path)


__all__ = ["BASE_COLUMNS", "history_rows", "write_history_csv"]
