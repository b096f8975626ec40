"""Checks on what ``fit`` is given, before it allocates or trains anything.

Bad inputs must be named as what they are, not surface later as "training diverged": NaN or
infinite values in ``X`` / ``Y`` (with the row and column), values whose squares overflow the
training dtype (a regression target of 1e308, or 1e30 in float32), cross-entropy with targets
outside [0, 1] (a regression column given to a sigmoid + cross-entropy head trains to a
negative "loss"), and a network plus data that can't fit in memory (estimated from the layer
sizes, batch and rows, refused with the figure instead of a ``MemoryError`` midway).

Leaves out: anything about the data's meaning (that is ``bpstudio.data``); shape checks
(``Network._check_xy``); optimiser settings (``FitConfig.validate``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from bpstudio.engine.errors import EngineError

#: Share of the available memory a fit may plan to use.
MEMORY_SHARE = 0.8


def available_memory() -> int | None:
    """Bytes of memory available to this process now (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def network_params(sizes: Sequence[int]) -> int:
    """Weights and biases of a fully connected network: Σ n_l·n_{l-1} + n_l."""
    return sum(int(a) * int(b) + int(b) for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def estimate_fit_bytes(
    sizes: Sequence[int], n_rows: int, batch_size: int, dtype: Any = "float64"
) -> int:
    """Peak bytes of a fit, roughly: θ, its gradient, optimiser moments, the start-of-epoch and
    best-weights copies (7 × θ), per-batch z, a and δ of every layer, and the permuted data."""
    item = np.dtype(dtype).itemsize
    P = network_params(sizes)
    B = max(1, min(int(batch_size), max(1, int(n_rows))))
    units = sum(int(n) for n in sizes)
    data = int(n_rows) * (int(sizes[0]) + 1 + 2 * int(sizes[-1]))
    return item * (7 * P + 3 * B * units + data)


def check_memory(
    sizes: Sequence[int], n_rows: int, batch_size: int, dtype: Any = "float64"
) -> None:
    """Refuse a network + data that would not fit in the memory available now."""
    need = estimate_fit_bytes(sizes, n_rows, batch_size, dtype)
    have = available_memory()
    if have is None or need <= MEMORY_SHARE * have:
        return
    widest = max(range(1, len(sizes)), key=lambda i: int(sizes[i]) * int(sizes[i - 1]))
    raise EngineError(
        f"This network and data need about {_gib(need)} of memory to train "
        f"({network_params(sizes):,} parameters; W{widest + 1} alone is "
        f"{int(sizes[widest]):,} × {int(sizes[widest - 1]):,}), but {_gib(have)} is available; "
        "use smaller layers, a smaller batch or fewer rows."
    )


def _numbers(name: str, A: Any) -> np.ndarray:
    a = np.asarray(A)
    if a.dtype.kind not in "fiub":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise EngineError(f"{name} must hold numbers; got {a.dtype} values.") from None
    return a


def _check_finite(name: str, a: np.ndarray, dtype: np.dtype) -> None:
    if a.dtype.kind != "f" or a.size == 0:
        return
    finite = np.isfinite(a)
    if not finite.all():
        r, c = np.argwhere(~finite)[0] if a.ndim == 2 else (int(np.argmin(finite)), 0)
        v = a[r, c] if a.ndim == 2 else a.reshape(-1)[r]
        what = "NaN" if np.isnan(v) else "infinite"
        raise EngineError(
            f"{name} holds {what} values (first at row {r + 1}, column {c + 1}); remove or fill "
            "them before training — this is the data, not the learning rate."
        )
    # Squares of values beyond √max overflow the training dtype (MSE, gradients, variances).
    limit = float(np.sqrt(np.finfo(dtype).max))
    with np.errstate(over="ignore"):
        peak = np.max(np.abs(a), axis=0) if a.ndim == 2 else np.abs(a).max(keepdims=True)
    if (peak > limit).any():
        c = int(np.argmax(peak > limit))
        raise EngineError(
            f"{name} column {c + 1} has values up to {float(peak[c]):.3g}, too large for "
            f"{dtype.name} training (their squares overflow beyond {limit:.2g}); rescale that "
            "column (e.g. standardize it)"
            + (" or train in float64." if dtype == np.float32 else ".")
        )


def check_fit_inputs(
    net: Any,
    X: Any,
    Y: Any,
    X_val: Any = None,
    Y_val: Any = None,
    *,
    batch_size: int = 32,
    dtype: Any = None,
) -> None:
    """Raise ``EngineError`` naming what is wrong with the data ``fit`` was given (see above)."""
    dt = np.dtype(dtype or net.dtype)
    parts = [("X", X), ("Y", Y)]
    if X_val is not None and Y_val is not None:
        parts += [("X_val", X_val), ("Y_val", Y_val)]
    arrays = {}
    for name, A in parts:
        a = _numbers(name, A)
        _check_finite(name, a, dt)
        arrays[name] = a
    if net.loss_name == "cross_entropy":
        for name in ("Y", "Y_val"):
            a = arrays.get(name)
            if a is None or a.size == 0:
                continue
            lo, hi = float(a.min()), float(a.max())
            if lo < 0.0 or hi > 1.0:
                raise EngineError(
                    f"Cross-entropy needs targets in [0, 1] (one-hot classes or 0/1 labels), but "
                    f"{name} runs from {lo:.4g} to {hi:.4g}; for values use the mse loss with a "
                    "linear output, or encode the target as classes."
                )
    n_rows = int(arrays["X"].shape[0]) if arrays["X"].ndim else 1
    check_memory(net.sizes, n_rows, batch_size, dt)


__all__ = [
    "available_memory",
    "check_fit_inputs",
    "check_memory",
    "estimate_fit_bytes",
    "network_params",
]
