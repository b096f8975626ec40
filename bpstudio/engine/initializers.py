"""Weight initialisers, seeded, in one table keyed by the UI name.

Each takes `(rng, n_out, n_in)` and returns W^l of shape (n_l, n_{l-1}) in float64; biases always
start at zero. "xavier" is accepted as an alias of "xavier_uniform". "zeros" exists to show the
symmetry problem (every hidden unit stays identical). Left out: orthogonal / LSUV schemes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpstudio.engine.errors import EngineError

Init = Callable[[np.random.Generator, int, int], np.ndarray]


def xavier_uniform(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_out, n_in))


def xavier_normal(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_out, n_in))


def he(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))


def normal(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    return rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in))


def zeros(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    return np.zeros((n_out, n_in))


INITIALIZER_TABLE: dict[str, Init] = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he,
    "normal": normal,
    "zeros": zeros,
}
INITIALIZERS: tuple[str, ...] = tuple(INITIALIZER_TABLE)
ALIASES = {"xavier": "xavier_uniform"}


def resolve_init(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in INITIALIZER_TABLE:
        raise EngineError(f"Unknown initializer {name!r}; choose one of {', '.join(INITIALIZERS)}.")
    return name
