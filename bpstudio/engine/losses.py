"""Loss functions J, each with its gradient ∇_A J and the outputs it may follow, in one table.

Per sample (row), with k outputs:
- `mse`: J = 1/(2k) Σ_j (a_j − y_j)²  (the seed's), any output;
- `cross_entropy`: softmax output J = −Σ_j y_j ln a_j; sigmoid output
  J = −(1/k) Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]. Not allowed with linear/tanh outputs.
A batch's loss is the mean over its rows. `value` and `gradient` take the output activation name
because cross-entropy's formula depends on it. Logs are clipped at `LOG_FLOOR` so a saturated output
gives a large finite loss instead of inf.

`matched_delta` is the matched-pair shortcut for BP1: softmax + cross-entropy gives Δ^L = A − Y
(when every row of Y sums to 1), sigmoid + cross-entropy gives Δ^L = (A − Y)/k. It must equal the
general form ∇_A J ⊙ σ'(Z^L), which the tests check. Left out: class weights, label smoothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpstudio.engine.errors import EngineError

LOG_FLOOR = 1e-12


def _clip_log(a: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(a, LOG_FLOOR))


def mse_value(a: np.ndarray, y: np.ndarray, output: str) -> float:
    d = a - y
    return float(np.vdot(d, d) / (2.0 * d.size)) if d.size else 0.0


def mse_gradient(a: np.ndarray, y: np.ndarray, output: str) -> np.ndarray:
    return (a - y) / a.shape[-1]  # ∂J/∂a_j = (a_j − y_j)/k


def ce_value(a: np.ndarray, y: np.ndarray, output: str) -> float:
    n = a.shape[0] if a.ndim > 1 else 1
    if output == "softmax":
        return float(-np.vdot(y, _clip_log(a)) / n)
    k = a.shape[-1]
    total = np.vdot(y, _clip_log(a)) + np.vdot(1.0 - y, _clip_log(1.0 - a))
    return float(-total / (n * k))


def ce_gradient(a: np.ndarray, y: np.ndarray, output: str) -> np.ndarray:
    a = np.maximum(a, LOG_FLOOR)
    if output == "softmax":
        return -y / a  # ∂J/∂a_j = −y_j / a_j
    one_minus = np.maximum(1.0 - a, LOG_FLOOR)
    return (-(y / a) + (1.0 - y) / one_minus) / a.shape[-1]


def ce_matched_delta(a: np.ndarray, y: np.ndarray, output: str) -> np.ndarray:
    if output == "softmax":
        # Δ^L = A·(Σ_j y_j) − Y; equals A − Y for one-hot (or any row summing to 1) targets.
        return a * y.sum(axis=-1, keepdims=True) - y
    return (a - y) / a.shape[-1]  # sigmoid: the σ'(z) = a(1−a) cancels the denominator


@dataclass(frozen=True)
class Loss:
    name: str
    value: Callable[[np.ndarray, np.ndarray, str], float]
    gradient: Callable[[np.ndarray, np.ndarray, str], np.ndarray]
    outputs: tuple[str, ...]
    matched_delta: Callable[[np.ndarray, np.ndarray, str], np.ndarray] | None = None
    matched_outputs: tuple[str, ...] = ()


LOSS_TABLE: dict[str, Loss] = {
    "mse": Loss("mse", mse_value, mse_gradient, ("sigmoid", "softmax", "linear", "tanh")),
    "cross_entropy": Loss(
        "cross_entropy",
        ce_value,
        ce_gradient,
        ("sigmoid", "softmax"),
        ce_matched_delta,
        ("sigmoid", "softmax"),
    ),
}

LOSSES: tuple[str, ...] = tuple(LOSS_TABLE)


def compatible_losses(output: str) -> tuple[str, ...]:
    """Loss names that may follow the output activation `output`."""
    return tuple(name for name, loss in LOSS_TABLE.items() if output in loss.outputs)


def check_pair(output: str, loss: str) -> None:
    if loss not in LOSS_TABLE:
        raise EngineError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
    if output not in LOSS_TABLE[loss].outputs:
        raise EngineError(
            f"Loss {loss!r} does not fit a {output!r} output (it needs outputs in (0, 1)); "
            f"use {' or '.join(LOSS_TABLE[loss].outputs)} output, or the 'mse' loss."
        )
