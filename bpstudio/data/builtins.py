"""Built-in toy datasets, generated with NumPy from a seed: the app works with no file at all.

Each generator returns feature columns ``x1, x2`` (``x`` for the 1-D sine) and a target column:
``label`` with class names "A", "B", … for classification, ``y`` for regression.
``make_builtin`` wraps the arrays in a :class:`RawTable`, so ``builtin:NAME`` works wherever a CSV
path does. Leaves out: anything read from disk, and scikit-learn (the shapes follow its ``make_*``
helpers, written afresh).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bpstudio.data.errors import DataError
from bpstudio.data.table import RawTable, default_target_of, describe_columns

_MAX_SAMPLES = 1_000_000


@dataclass(frozen=True)
class BuiltinSpec:
    """A built-in dataset and its defaults; ``extra`` holds further parameters with defaults."""

    name: str
    description: str
    task: str  # "classification" | "regression"
    n_samples: int
    noise: float
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line for `bpstudio datasets` and tooltips."""
        params = f"n_samples={self.n_samples}, noise={self.noise:g}"
        for key, value in self.extra.items():
            params += f", {key}={value}"
        return f"{self.name:<14}{self.task:<16}{self.description} ({params})"


def _class_names(k: int) -> np.ndarray:
    return np.array(list(string.ascii_uppercase[:k]), dtype=object)


def _xor(n, noise, rng):
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # same sign -> class B
    return x + noise * rng.standard_normal((n, 2)), y


def _circles(n, noise, rng, factor=0.5):
    n_out = n // 2
    t = rng.uniform(0.0, 2.0 * np.pi, size=n)
    r = np.where(np.arange(n) < n_out, 1.0, factor)
    x = np.column_stack([r * np.cos(t), r * np.sin(t)])
    y = (np.arange(n) >= n_out).astype(int)  # outer ring A, inner disc B
    return x + noise * rng.standard_normal((n, 2)), y


def _moons(n, noise, rng):
    n_a = n // 2
    t = rng.uniform(0.0, np.pi, size=n)
    upper = np.arange(n) < n_a
    x1 = np.where(upper, np.cos(t), 1.0 - np.cos(t))
    x2 = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    x = np.column_stack([x1, x2])
    return x + noise * rng.standard_normal((n, 2)), (~upper).astype(int)


def _spirals(n, noise, rng, turns=1.75):
    n_a = n // 2
    y = (np.arange(n) >= n_a).astype(int)
    t = np.sqrt(rng.uniform(0.0, 1.0, size=n)) * turns * 2.0 * np.pi  # sqrt: even density along arm
    r = t / (turns * 2.0 * np.pi)
    angle = t + np.pi * y  # second arm is the first turned by half a circle
    x = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return x + noise * rng.standard_normal((n, 2)), y


def _blobs(n, noise, rng, k=3):
    if not isinstance(k, (int, np.integer)) or not 2 <= k <= 26:
        raise DataError(
            f"builtin:blobs: k={k!r} is not a whole number from 2 to 26; choose another k"
        )
    y = np.arange(n) % k
    angles = 2.0 * np.pi * np.arange(k) / k
    centres = 1.5 * np.column_stack([np.cos(angles), np.sin(angles)])
    return centres[y] + noise * rng.standard_normal((n, 2)), y


def _checkerboard(n, noise, rng, cells=4):
    if not isinstance(cells, (int, np.integer)) or not 2 <= cells <= 20:
        raise DataError(f"builtin:checkerboard: cells={cells!r} is not a whole number from 2 to 20")
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    idx = np.floor((x + 1.0) * cells / 2.0).clip(0, cells - 1).astype(int)
    y = (idx[:, 0] + idx[:, 1]) % 2
    return x + noise * rng.standard_normal((n, 2)), y


def _sine(n, noise, rng, frequency=1.0):
    x = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(frequency * x[:, 0]) + noise * rng.standard_normal(n)
    return x, y


def _plane(n, noise, rng):
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = 2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5 + noise * rng.standard_normal(n)
    return x, y


def _gaussian_bump(n, noise, rng):
    x = rng.uniform(-2.0, 2.0, size=(n, 2))
    y = np.exp(-(x[:, 0] ** 2 + x[:, 1] ** 2)) + noise * rng.standard_normal(n)
    return x, y


_GENERATORS: dict[str, Callable] = {
    "xor": _xor,
    "circles": _circles,
    "moons": _moons,
    "spirals": _spirals,
    "blobs": _blobs,
    "checkerboard": _checkerboard,
    "sine": _sine,
    "plane": _plane,
    "gaussian_bump": _gaussian_bump,
}

BUILTIN_DATASETS: dict[str, BuiltinSpec] = {
    s.name: s
    for s in [
        BuiltinSpec("xor", "two classes in opposite quadrants", "classification", 400, 0.05),
        BuiltinSpec("circles", "a disc inside a ring", "classification", 400, 0.05),
        BuiltinSpec("moons", "two interleaving half moons", "classification", 400, 0.1),
        BuiltinSpec("spirals", "two interleaved spirals", "classification", 600, 0.02),
        BuiltinSpec("blobs", "k gaussian clusters", "classification", 300, 0.4, {"k": 3}),
        BuiltinSpec(
            "checkerboard", "alternating squares", "classification", 800, 0.0, {"cells": 4}
        ),
        BuiltinSpec("sine", "y = sin(f·x) on [-π, π]", "regression", 200, 0.05, {"frequency": 1.0}),
        BuiltinSpec("plane", "y = 2·x1 − x2 + 0.5", "regression", 300, 0.1),
        BuiltinSpec("gaussian_bump", "y = exp(−(x1² + x2²))", "regression", 400, 0.02),
    ]
}


def list_builtins() -> list[BuiltinSpec]:
    """The built-in datasets in display order (for `bpstudio datasets` and the GUI's combo box)."""
    return list(BUILTIN_DATASETS.values())


def make_builtin(
    name: str, *, n_samples: int | None = None, noise: float | None = None, seed: int = 0, **extra
) -> RawTable:
    """Generate a built-in dataset as a RawTable; the same arguments always give the same table."""
    key = str(name).removeprefix("builtin:").strip().lower().replace("-", "_")
    if key not in BUILTIN_DATASETS:
        raise DataError(
            f"builtin:{name}: no such built-in dataset; choose one of {', '.join(BUILTIN_DATASETS)}"
        )
    spec = BUILTIN_DATASETS[key]
    unknown = sorted(set(extra) - set(spec.extra))
    if unknown:
        takes = ", ".join(spec.extra) or "only n_samples, noise and seed"
        raise DataError(f"builtin:{key}: unknown parameter {unknown[0]!r}; it takes {takes}")
    n = spec.n_samples if n_samples is None else n_samples
    sigma = spec.noise if noise is None else noise
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= _MAX_SAMPLES:
        raise DataError(f"builtin:{key}: n_samples={n!r}; choose a whole number from 2 to 1000000")
    try:
        sigma = float(sigma)
    except (TypeError, ValueError):
        raise DataError(
            f"builtin:{key}: noise={sigma!r} is not a number; choose e.g. 0.1"
        ) from None
    if not (np.isfinite(sigma) and sigma >= 0):
        raise DataError(f"builtin:{key}: noise={sigma!r}; choose a number ≥ 0")
    params = {**spec.extra, **extra}
    rng = np.random.default_rng(seed)
    x, y = _GENERATORS[key](int(n), sigma, rng, **params)
    names = ["x"] if x.shape[1] == 1 else [f"x{j + 1}" for j in range(x.shape[1])]
    frame = pd.DataFrame({c: x[:, j].astype("float64") for j, c in enumerate(names)})
    if spec.task == "classification":
        frame["label"] = pd.Series(_class_names(int(y.max()) + 1)[y], dtype="str")
    else:
        frame["y"] = y.astype("float64")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="line")
    columns = describe_columns(frame)
    note = f"built-in '{key}': {spec.description}; n_samples={n}, noise={sigma:g}, seed={seed}"
    if params:
        note += ", " + ", ".join(f"{k}={v}" for k, v in params.items())
    return RawTable(
        frame=frame,
        name=key,
        source=f"builtin:{key}",
        columns=columns,
        default_target=default_target_of(columns),
        notes=[note],
        delimiter=None,
        encoding=None,
        has_header=True,
    )
