"""Why a network does not learn: saturated and dead units, δ norms per layer, and class metrics.

`activation_diagnostics(net, X, Y)` runs the batch forward and backward (`backprop.backprop`) and
reports per layer l = 2 … L:
- histogram data of z^l and a^l over every (sample, unit) of the batch;
- the share of saturated activations: sigmoid a < 0.01 or a > 0.99, tanh |a| > 0.99 (share of
  the batch's (sample, unit) values; other activations do not saturate: None);
- the share of dead ReLUs: units whose a is 0 on every sample of the batch (relu only, else None);
- ‖δ^l‖: the root mean square over the batch of each sample's ‖δ^l‖₂, and ‖∂J/∂W^l‖ (batch mean);
and a notice, per layer that is mostly (> 50 %) saturated or dead, or whose ‖δ^l‖ is tiny next to
the output's, saying what to try.

`confusion(net_or_outputs, Y)` counts (true class, predicted class) with the one rule for the
predicted class, `bpstudio.heads.predicted_class`, and gives per-class precision and recall.
Left out: per-unit time series (the views keep those), leaky ReLU "almost dead" units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpstudio.engine import backprop as bp
from bpstudio.engine.errors import EngineError
from bpstudio.engine.network import Network
from bpstudio.heads import predicted_class, target_class

SATURATION = {"sigmoid": 0.99, "tanh": 0.99}  # |a| (tanh) or max(a, 1 − a) (sigmoid) beyond this
MOSTLY = 0.5  # a layer is "mostly" saturated/dead above this share
VANISHING = 1e-3  # ‖δ^l‖ / ‖δ^L‖ below this: the gradient has vanished on the way back
BINS = 40


@dataclass(frozen=True)
class Histogram:
    counts: np.ndarray  # (BINS,)
    edges: np.ndarray  # (BINS + 1,)


@dataclass(frozen=True)
class LayerDiagnostics:
    layer: int
    activation: str
    z_hist: Histogram
    a_hist: Histogram
    saturated: float  # share of (sample, unit) values in saturation (0 where σ has no flat tail)
    dead: float | None  # share of units that are 0 on every sample; None: not a ReLU
    dead_units: tuple[int, ...]  # 0-based indices of the dead units
    delta_norm: float  # RMS over samples of ‖δ^l‖₂
    grad_norm: float  # ‖∂J/∂W^l‖ of the batch mean


@dataclass
class Diagnostics:
    layers: list[LayerDiagnostics]
    n_samples: int
    notice: str  # "" when nothing looks wrong


def _hist(v: np.ndarray) -> Histogram:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return Histogram(np.zeros(BINS), np.linspace(-1.0, 1.0, BINS + 1))
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=BINS, range=(lo, hi))
    return Histogram(counts.astype(np.float64), edges)


def saturated_share(activation: str, a: np.ndarray) -> float:
    """Share of values of a = σ(z) in σ's flat tails (see the module docstring)."""
    if activation == "sigmoid":
        return float(np.mean((a < 1 - SATURATION["sigmoid"]) | (a > SATURATION["sigmoid"])))
    if activation == "tanh":
        return float(np.mean(np.abs(a) > SATURATION["tanh"]))
    return 0.0  # no flat tails (ReLU's flat side is "dead", counted apart)


def dead_units(activation: str, a: np.ndarray) -> np.ndarray | None:
    """Indices of ReLU units that are 0 on every row of a (N, n_l); None for other σ."""
    if activation != "relu":
        return None
    return np.flatnonzero(np.all(a <= 0.0, axis=0))


def activation_diagnostics(net: Network, X: np.ndarray, Y: np.ndarray) -> Diagnostics:
    work = net.astype("float64")
    X, Y = work._check_xy(X, Y, dtype=np.float64)
    if X.shape[0] == 0:
        raise EngineError("The batch is empty: there are no rows to diagnose.")
    with np.errstate(all="ignore"):
        res = bp.backprop(work.layers(), work.all_activations, work.loss_name, X, Y)
    layers: list[LayerDiagnostics] = []
    for i, name in enumerate(work.all_activations):
        l = i + 2
        z, a, d = res["z"][i], res["a"][i + 1], res["delta"][i]
        dead = dead_units(name, a)
        layers.append(
            LayerDiagnostics(
                layer=l,
                activation=name,
                z_hist=_hist(z.ravel()),
                a_hist=_hist(a.ravel()),
                saturated=saturated_share(name, a),
                dead=None if dead is None else dead.size / a.shape[1],
                dead_units=() if dead is None else tuple(int(u) for u in dead),
                delta_norm=float(np.sqrt(np.mean(np.sum(d * d, axis=1)))),
                grad_norm=float(np.linalg.norm(res["dW"][i])),
            )
        )
    return Diagnostics(layers, X.shape[0], _notice(layers))


def _layers_text(ls: list[LayerDiagnostics]) -> str:
    return ("Layer " if len(ls) == 1 else "Layers ") + ", ".join(str(d.layer) for d in ls)


def _notice(layers: list[LayerDiagnostics]) -> str:
    hidden = layers[:-1]  # the output layer's σ is chosen by the task, not a hidden-layer fix
    out = layers[-1].delta_norm
    lines: list[str] = []
    sat = [d for d in hidden if d.saturated > MOSTLY]
    if sat:
        shares = ", ".join(f"{d.saturated:.0%}" for d in sat)
        lines.append(
            f"{_layers_text(sat)}: mostly saturated ({shares} of the activations in σ's flat "
            f"tails, where σ'(z) ≈ 0), so BP2 multiplies δ by almost nothing and the layers "
            f"before barely learn. Try ReLU, a smaller initial scale, or standardized inputs."
        )
    dead = [d for d in hidden if d.dead is not None and d.dead > MOSTLY]
    if dead:
        shares = ", ".join(f"{d.dead:.0%}" for d in dead)
        lines.append(
            f"{_layers_text(dead)}: mostly dead ReLUs ({shares} of the units are 0 on every "
            f"sample, so σ' = 0 and they never learn again). Try a lower learning rate α, "
            f"leaky ReLU, or He initialisation."
        )
    tiny = [d for d in hidden if out > 0 and d.delta_norm < VANISHING * out]
    if tiny:
        lines.append(
            f"{_layers_text(tiny)}: ‖δ^l‖ down to {min(d.delta_norm for d in tiny):.1e}, under "
            f"{VANISHING:g} × the output's {out:.1e}: the gradient vanishes on its way back. "
            f"Try ReLU, fewer layers, or an initialiser matched to σ (Xavier for sigmoid/tanh, "
            f"He for ReLU)."
        )
    return "\n".join(lines)


# ---- confusion matrix --------------------------------------------------------------------------


@dataclass(frozen=True)
class Confusion:
    matrix: np.ndarray  # (n_classes, n_classes): rows = true class, columns = predicted class
    precision: np.ndarray  # per class; NaN where nothing was predicted as that class
    recall: np.ndarray  # per class; NaN where the class does not occur
    accuracy: float

    @property
    def total(self) -> int:
        return int(self.matrix.sum())


def confusion(A: np.ndarray, Y: np.ndarray) -> Confusion:
    """Confusion matrix of outputs A (N, k) against targets Y (N, k), one-hot or 0/1 for k = 1."""
    A = np.asarray(A, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if A.ndim != 2 or A.shape != Y.shape:
        raise EngineError(f"Outputs {A.shape} and targets {Y.shape} must have the same shape.")
    n = 2 if A.shape[1] == 1 else A.shape[1]
    M = np.zeros((n, n), dtype=np.int64)
    if A.shape[0]:
        np.add.at(M, (target_class(Y), predicted_class(A)), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        diag = np.diag(M).astype(np.float64)
        precision = diag / M.sum(axis=0)
        recall = diag / M.sum(axis=1)
        acc = float(diag.sum() / M.sum()) if M.sum() else float("nan")
    return Confusion(M, precision, recall, acc)


__all__ = [
    "BINS",
    "Confusion",
    "Diagnostics",
    "Histogram",
    "LayerDiagnostics",
    "activation_diagnostics",
    "confusion",
    "dead_units",
    "saturated_share",
]
