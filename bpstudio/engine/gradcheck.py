"""Finite-difference gradient check: backprop's ∂J/∂θ against central differences, in float64.

For every entry θ_i of every parameter array, (J(θ_i + ε) − J(θ_i − ε)) / 2ε is compared with
`Network.gradients`. The error per array is the relative distance ‖g_bp − g_fd‖ / (‖g_bp‖ + ‖g_fd‖).
Where code departs from that: central differences carry a round-off of a few u·|J|/ε per entry
(u = 2.2e-16 machine epsilon), so for a gradient that is itself tiny the plain ratio measures that
round-off, not backprop. The denominator therefore has a floor of 10⁶ × (10·u·max(|J|, 0.01)/ε)·√m
for an array of m entries (≈ 2e-3·|J|·√m at ε = 1e-6): round-off alone stays below 1e-6, and any
real error of the size of the gradient still shows. Cost: two forward passes per parameter, so it
is for small nets and batches. The network passed in is not modified (it works on a float64 copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpstudio.engine.network import Network

_TINY = 1e-12


@dataclass
class GradCheckResult:
    errors: dict[str, float]
    max_error: float
    backprop: dict[str, np.ndarray] | None = None
    numeric: dict[str, np.ndarray] | None = None

    def ok(self, tol: float = 1e-6) -> bool:
        return self.max_error <= tol


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = _TINY) -> float:
    num = float(np.linalg.norm(a - b))
    den = max(float(np.linalg.norm(a) + np.linalg.norm(b)), floor)
    return num / den


def error_floor(loss: float, eps: float) -> float:
    """The per-entry denominator floor 10⁶ × (10·u·max(|J|, 0.01)/ε) (see the module docstring);
    an array of m entries uses it times √m."""
    roundoff = 10 * np.finfo(np.float64).eps * max(abs(loss), 1e-2) / eps
    return 1e6 * roundoff


def gradient_check(
    net: Network, X: np.ndarray, Y: np.ndarray, eps: float = 1e-6
) -> GradCheckResult:
    work = net.astype("float64")
    X, Y = work._check_xy(X, Y, dtype=np.float64)
    analytic = work.gradients(X, Y)
    numeric: dict[str, np.ndarray] = {}
    for name, P in work.params.items():
        G = np.zeros(P.shape)
        for idx in np.ndindex(*P.shape):
            old = P[idx]
            P[idx] = old + eps
            plus = work.loss(X, Y)
            P[idx] = old - eps
            minus = work.loss(X, Y)
            P[idx] = old
            G[idx] = (plus - minus) / (2.0 * eps)
        numeric[name] = G
    scale = error_floor(work.loss(X, Y), eps)
    errors = {
        k: relative_error(analytic[k], numeric[k], scale * np.sqrt(analytic[k].size))
        for k in analytic
    }
    return GradCheckResult(errors, max(errors.values()), analytic, numeric)
