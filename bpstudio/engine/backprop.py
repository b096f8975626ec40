"""Backpropagation as the seed writes it, in batch (matrix) form, one function per equation.

Rows are samples, so the seed's column vectors become rows and the matrix products swap sides:
`Z^l = A^{l-1} (W^l)ᵀ + b^l`, `A^l = σ(Z^l)`. With N rows:

- BP1 `Δ^L = ∇_A J ⊙ σ'(Z^L)`                 (`output_delta`)
- BP2 `Δ^l = (Δ^{l+1} W^{l+1}) ⊙ σ'(Z^l)`      (`hidden_delta`)
- BP3 `∂J/∂b^l = mean over rows of Δ^l`        (`bias_gradient`)
- BP4 `∂J/∂W^l = (Δ^l)ᵀ A^{l-1} / N`           (`weight_gradient`)

Here Δ holds per-sample deltas (row i is the seed's δ for sample i); averaging happens in BP3/BP4.
This is the readable reference used by `Network.forward/gradients/trace` and the gradient check;
`fit` runs the same equations through preallocated buffers (see `kernels.py`).
"""

from __future__ import annotations

import numpy as np

from bpstudio.engine.activations import ACTIVATIONS
from bpstudio.engine.losses import LOSS_TABLE

Layer = tuple[np.ndarray, np.ndarray]  # (W^l of shape (n_l, n_{l-1}), b^l of shape (n_l,))


def weighted_input(a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a_prev @ W.T + b  # z^l = W^l a^{l-1} + b^l, one row per sample


def forward(
    layers: list[Layer], activations: list[str], X: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (zs, as): zs[i] = Z^{i+2}, as[0] = X = A^1, as[i] = A^{i+1}."""
    zs: list[np.ndarray] = []
    acts = [X]
    # Huge (diverged) weights may overflow to inf/NaN here: callers see it in the loss, which is
    # how the engine reports it, so NumPy's overflow warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for (W, b), name in zip(layers, activations, strict=True):
            z = weighted_input(acts[-1], W, b)
            zs.append(z)
            acts.append(ACTIVATIONS[name].fn(z))
    return zs, acts


def output_delta(z: np.ndarray, a: np.ndarray, y: np.ndarray, output: str, loss: str) -> np.ndarray:
    # BP1: Δ^L = ∇_A J ⊙ σ'(Z^L)  (softmax: the Jacobian product, see activations._Softmax.vjp)
    grad_a = LOSS_TABLE[loss].gradient(a, y, output)
    return ACTIVATIONS[output].vjp(z, a, grad_a)


def matched_output_delta(a: np.ndarray, y: np.ndarray, output: str, loss: str) -> np.ndarray:
    # BP1, matched pair: σ'(Z^L) cancels against ∇_A J (softmax/sigmoid + cross-entropy)
    return LOSS_TABLE[loss].matched_delta(a, y, output)


def hidden_delta(
    delta_next: np.ndarray, W_next: np.ndarray, z: np.ndarray, activation: str
) -> np.ndarray:
    # BP2: Δ^l = (Δ^{l+1} W^{l+1}) ⊙ σ'(Z^l)
    return (delta_next @ W_next) * ACTIVATIONS[activation].derivative(z)


def bias_gradient(delta: np.ndarray) -> np.ndarray:
    # BP3: ∂J/∂b^l = mean over the batch of Δ^l
    return delta.mean(axis=0)


def weight_gradient(delta: np.ndarray, a_prev: np.ndarray) -> np.ndarray:
    # BP4: ∂J/∂W^l = (Δ^l)ᵀ A^{l-1} / N
    return delta.T @ a_prev / delta.shape[0]


def backprop(
    layers: list[Layer],
    activations: list[str],
    loss: str,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    shortcut: bool = False,
) -> dict[str, list[np.ndarray]]:
    """All of BP1–BP4 for a batch. `activations` lists hidden layers then the output.

    Returns {"z": zs, "a": as, "delta": deltas, "db": …, "dW": …}; list index i is layer i + 2
    (for "a", index 0 is the input layer A^1).
    """
    zs, acts = forward(layers, activations, X)
    output = activations[-1]
    if (
        shortcut
        and LOSS_TABLE[loss].matched_delta is not None
        and output in (LOSS_TABLE[loss].matched_outputs)
    ):
        delta = matched_output_delta(acts[-1], Y, output, loss)
    else:
        delta = output_delta(zs[-1], acts[-1], Y, output, loss)
    deltas = [delta]
    for i in range(len(layers) - 2, -1, -1):
        delta = hidden_delta(delta, layers[i + 1][0], zs[i], activations[i])
        deltas.append(delta)
    deltas.reverse()
    db = [bias_gradient(d) for d in deltas]
    dW = [weight_gradient(d, a_prev) for d, a_prev in zip(deltas, acts[:-1], strict=True)]
    return {"z": zs, "a": acts, "delta": deltas, "db": db, "dW": dW}
