"""A gradient check a person can read, and a "break backprop" demonstration that must be asked for.

`gradient_check_report(net, X, Y)` runs `gradcheck.gradient_check` (central differences against
backprop, float64) and turns it into a per-array table: for W2, b2, W3, … the array's relative
error (the one `gradient_check` tests), the max and mean per-entry relative error, the worst
entries located in the seed's notation (∂J/∂w^3_21), the ε used and a plain verdict.

The demonstration lives apart, in functions whose names say "broken" and whose `broken=` argument
is required (there is no default and no flag on the correct path): `broken_gradients` runs backprop
with ONE deliberate mistake from `BREAKS`, `broken_gradient_check_report` shows what the check then
reports, and `demo_descent` what training then does. These are for teaching only; `fit` never
calls them. Per-entry relative error: |g_bp − g_fd| / max(|g_bp| + |g_fd|, floor) with the
per-entry round-off floor of `gradcheck.error_floor`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from bpstudio.engine import backprop as bp
from bpstudio.engine.activations import ACTIVATIONS
from bpstudio.engine.errors import EngineError
from bpstudio.engine.gradcheck import error_floor, gradient_check, relative_error
from bpstudio.engine.losses import LOSS_TABLE
from bpstudio.engine.network import Network
from bpstudio.engine.stages import entry

TOLERANCE = 1e-6

BREAKS: dict[str, str] = {
    "forget_sigma_prime": "BP2 without ⊙ σ′(zˡ): δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹",
    "mse_without_1_over_k": "MSE gradient without its 1/k: ∂J/∂aᴸ = aᴸ − y",
    "w_instead_of_wt": "BP2 with Wˡ⁺¹ instead of (Wˡ⁺¹)ᵀ",
}


@dataclass(frozen=True)
class WorstEntry:
    name: str  # "∂J/∂w^3_21"
    index: tuple[int, ...]  # 0-based, into the array
    backprop: float
    numeric: float
    rel_error: float


@dataclass(frozen=True)
class ArrayCheck:
    name: str  # "W2", "b2", …
    shape: tuple[int, ...]
    error: float  # the array's relative error ‖g_bp − g_fd‖ / (‖g_bp‖ + ‖g_fd‖), floored
    max_rel: float
    mean_rel: float
    worst: tuple[WorstEntry, ...]
    ok: bool


@dataclass
class GradCheckReport:
    arrays: list[ArrayCheck]
    eps: float
    tol: float
    n_samples: int
    max_error: float
    passed: bool
    verdict: str
    seconds: float
    broken: str | None = None  # the deliberate mistake of a demonstration, else None
    notes: list[str] = field(default_factory=list)


def _entry_name(array: str, idx: tuple[int, ...]) -> str:
    layer = int(array[1:])
    if array[0] == "W":
        return "∂J/∂" + entry("w", layer, idx[0], idx[1])
    return "∂J/∂" + entry("b", layer, idx[0])


def _report(
    analytic: dict[str, np.ndarray],
    numeric: dict[str, np.ndarray],
    loss: float,
    eps: float,
    tol: float,
    n: int,
    seconds: float,
    broken: str | None,
    worst_n: int = 3,
) -> GradCheckReport:
    floor = error_floor(loss, eps)
    arrays: list[ArrayCheck] = []
    for name, g in analytic.items():
        fd = numeric[name]
        err = relative_error(g, fd, floor * np.sqrt(g.size))
        rel = np.abs(g - fd) / np.maximum(np.abs(g) + np.abs(fd), floor)
        flat = np.argsort(rel, axis=None)[::-1][:worst_n]
        worst = tuple(
            WorstEntry(
                _entry_name(name, idx),
                idx,
                float(g[idx]),
                float(fd[idx]),
                float(rel[idx]),
            )
            for idx in (tuple(int(i) for i in np.unravel_index(f, g.shape)) for f in flat)
        )
        arrays.append(
            ArrayCheck(
                name,
                tuple(g.shape),
                float(err),
                float(rel.max()) if rel.size else 0.0,
                float(rel.mean()) if rel.size else 0.0,
                worst,
                bool(err <= tol),
            )
        )
    max_error = max(a.error for a in arrays)
    passed = max_error <= tol
    rows = f"{n} sample{'s' if n != 1 else ''}"
    if passed:
        verdict = (
            f"Backprop agrees with central finite differences on {rows}: largest relative error "
            f"{max_error:.1e} ≤ {tol:.0e} (ε = {eps:g})."
        )
    else:
        bad = [a for a in arrays if not a.ok]
        w = max((e for a in bad for e in a.worst), key=lambda e: e.rel_error)
        verdict = (
            f"Backprop is WRONG in {', '.join(a.name for a in bad)} on {rows}: relative error "
            f"up to {max_error:.2g} (> {tol:.0e}). Worst entry {w.name}: backprop {w.backprop:.4g}"
            f", finite difference {w.numeric:.4g}."
        )
    if broken is not None:
        verdict = f"Demonstration with a deliberate bug ({BREAKS[broken]}). {verdict}"
    return GradCheckReport(arrays, eps, tol, n, max_error, passed, verdict, seconds, broken)


def gradient_check_report(
    net: Network, X: np.ndarray, Y: np.ndarray, eps: float = 1e-6, tol: float = TOLERANCE
) -> GradCheckReport:
    """The correct network's backprop against finite differences, per array (see the docstring)."""
    t0 = time.perf_counter()
    res = gradient_check(net, X, Y, eps=eps)
    work = net.astype("float64")
    Xf, Yf = work._check_xy(X, Y, dtype=np.float64)
    return _report(
        res.backprop,
        res.numeric,
        work.loss(Xf, Yf),
        eps,
        tol,
        Xf.shape[0],
        time.perf_counter() - t0,
        None,
    )


# ---- the demonstration: backprop with ONE deliberate mistake -----------------------------------


def _check_break(net: Network, broken: str) -> None:
    if broken not in BREAKS:
        raise EngineError(f"Unknown break {broken!r}; choose one of {', '.join(BREAKS)}.")
    if broken in ("forget_sigma_prime", "w_instead_of_wt") and net.n_layers < 3:
        raise EngineError("This mistake is in BP2, which needs at least one hidden layer.")
    if broken == "mse_without_1_over_k" and net.loss_name != "mse":
        raise EngineError("This mistake is in the MSE's gradient: choose the mse loss to see it.")
    if broken == "w_instead_of_wt" and not any(
        net.sizes[l] == net.sizes[l + 1] for l in range(1, net.n_layers - 1)
    ):
        raise EngineError(
            "W^{l+1} untransposed only fits δ^{l+1} when layers l and l+1 have the same width; "
            "in this network NumPy would stop it with a shape error (which is how a shape check "
            "catches this bug). Give two neighbouring layers after the input the same width "
            "to see what the gradient check reports."
        )


def broken_gradients(
    net: Network, X: np.ndarray, Y: np.ndarray, *, broken: str
) -> dict[str, np.ndarray]:
    """Backprop with the deliberate mistake `broken` (a key of `BREAKS`), batch mean like
    `Network.gradients`. For teaching only."""
    _check_break(net, broken)
    work = net.astype("float64")
    X, Y = work._check_xy(X, Y, dtype=np.float64)
    layers, acts, out = work.layers(), work.all_activations, work.output
    with np.errstate(all="ignore"):
        zs, As = bp.forward(layers, acts, X)
        grad_a = LOSS_TABLE[work.loss_name].gradient(As[-1], Y, out)
        if broken == "mse_without_1_over_k":
            grad_a = grad_a * Y.shape[1]  # the mistake: ∂J/∂a^L = a^L − y, without the 1/k
        delta = ACTIVATIONS[out].vjp(zs[-1], As[-1], grad_a)  # BP1
        deltas = [delta]
        for i in range(len(layers) - 2, -1, -1):
            W_next = layers[i + 1][0]
            if broken == "forget_sigma_prime":
                delta = delta @ W_next  # the mistake: no ⊙ σ'(z^l)
            elif broken == "w_instead_of_wt" and W_next.shape[0] == W_next.shape[1]:
                delta = (delta @ W_next.T) * ACTIVATIONS[acts[i]].derivative(zs[i])  # mistake
            else:
                delta = bp.hidden_delta(delta, W_next, zs[i], acts[i])  # BP2, correct
            deltas.append(delta)
        deltas.reverse()
    out_grads: dict[str, np.ndarray] = {}
    for l, (d, a_prev) in enumerate(zip(deltas, As[:-1], strict=True), start=2):
        out_grads[f"W{l}"] = bp.weight_gradient(d, a_prev)
        out_grads[f"b{l}"] = bp.bias_gradient(d)
    return out_grads


def broken_gradient_check_report(
    net: Network,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    broken: str,
    eps: float = 1e-6,
    tol: float = TOLERANCE,
) -> GradCheckReport:
    """What the gradient check says about backprop with the mistake `broken` (a demonstration)."""
    _check_break(net, broken)
    t0 = time.perf_counter()
    res = gradient_check(net, X, Y, eps=eps)  # its finite differences do not depend on backprop
    wrong = broken_gradients(net, X, Y, broken=broken)
    work = net.astype("float64")
    Xf, Yf = work._check_xy(X, Y, dtype=np.float64)
    rep = _report(
        wrong,
        res.numeric,
        work.loss(Xf, Yf),
        eps,
        tol,
        Xf.shape[0],
        time.perf_counter() - t0,
        broken,
    )
    if broken == "mse_without_1_over_k" and Yf.shape[1] == 1:
        rep.notes.append("With one output unit k = 1, so dropping 1/k changes nothing here.")
    return rep


def demo_descent(
    net: Network,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    broken: str | None,
    epochs: int = 30,
    lr: float = 0.5,
    batch_size: int = 32,
    seed: int = 0,
) -> list[float]:
    """Training loss per epoch of plain mini-batch SGD on a copy of `net`, with the correct
    gradients (`broken=None`) or the broken ones: how training behaves with the bug.

    Deliberately not `fit` (which never takes broken gradients): a minimal loop for the
    demonstration only. The network passed in is not modified."""
    work = net.astype("float64")
    X, Y = work._check_xy(X, Y, dtype=np.float64)
    rng = np.random.default_rng(seed)
    losses = [work.loss(X, Y)]
    params = work.params
    for _ in range(int(epochs)):
        perm = rng.permutation(X.shape[0])
        for s in range(0, X.shape[0], batch_size):
            rows = perm[s : s + batch_size]
            if broken is None:
                grads = work.gradients(X[rows], Y[rows])
            else:
                grads = broken_gradients(work, X[rows], Y[rows], broken=broken)
            for name, g in grads.items():
                params[name] -= lr * g  # θ ← θ − α ∂J/∂θ
        with np.errstate(all="ignore"):
            losses.append(work.loss(X, Y))
    return [float(v) for v in losses]


__all__ = [
    "BREAKS",
    "TOLERANCE",
    "ArrayCheck",
    "GradCheckReport",
    "WorstEntry",
    "broken_gradient_check_report",
    "broken_gradients",
    "demo_descent",
    "gradient_check_report",
]
