"""One sample's forward and backward pass as ordered stages, for teaching (the inspector's model).

`walk(net, x, y, config)` runs the seed's equations for ONE sample in float64, keeping every
intermediate a student may ask about, and lists the stages in the order they happen:

1. forward, l = 2 … L:  z^l = W^l a^{l−1} + b^l,  a^l = σ(z^l);
2. the loss J of this sample and ∂J/∂a^L;
3. BP1: δ^L = ∇_a J ⊙ σ'(z^L) for an elementwise output; for softmax σ' is a full Jacobian and
   BP1 is δ^L = (∂a^L/∂z^L)ᵀ ∇_a J (which the matched cross-entropy pair simplifies to a^L − y);
4. BP2 for l = L−1 down to 2: δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l);
5. BP3 + BP4 for l = L down to 2: ∂J/∂b^l = δ^l, ∂J/∂W^l = δ^l (a^{l−1})ᵀ;
6. the update with the selected optimiser (`FitConfig`: sgd, momentum, Nesterov, adam, L2) and the
   sample's loss after it.

Every number comes from the engine's own functions (`backprop.py` for the equations, `losses.py`,
`activations.py`, `optimizers.py` for the update), so the stages equal `Network.trace` and the
training step; this module only keeps the pieces and says which stage produced which.

`gradient_origin` answers "where does this gradient come from?" for a weight, a bias or a δ: the
two (or three) factors and the stage that produced each. `minibatch_gradient` shows, for one
weight or bias, each sample's ∂J/∂w and their mean (what training actually uses).

Where it departs from training: the update is one step on this sample alone, from a fresh
optimiser (velocity, m and v start at zero, t = 1) unless `state`/`t` are given: the window gives
the paused run's live state (`FitControl.optimizer_state`, sent by the training child when it
pauses), so the step is the one training takes next (up to the mini-batch). Indices j, k are
0-based here; the views print them from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bpstudio.engine import backprop as bp
from bpstudio.engine.activations import ACTIVATIONS
from bpstudio.engine.errors import EngineError
from bpstudio.engine.losses import LOSS_TABLE
from bpstudio.engine.network import Network
from bpstudio.engine.optimizers import make_optimizer
from bpstudio.engine.training import FitConfig

FORWARD, LOSS, BP1, BP2, BP34, UPDATE = "forward", "loss", "BP1", "BP2", "BP3+BP4", "update"


@dataclass(frozen=True)
class Highlight:
    """What a stage reads and writes on the network diagram.

    Layers are 1-based. `read_layers`/`write_layers`: neuron columns whose values the stage reads
    or writes; `link_layers`: l where the links of W^l are used; `direction`: "forward" (values
    flow left to right), "backward" (right to left) or "" (none)."""

    read_layers: frozenset[int] = frozenset()
    write_layers: frozenset[int] = frozenset()
    link_layers: frozenset[int] = frozenset()
    direction: str = ""


@dataclass(frozen=True)
class Stage:
    kind: str  # FORWARD, LOSS, BP1, BP2, BP34 or UPDATE
    layer: int  # the l the stage computes (L for the loss and BP1, 0 for the update)
    title: str  # "BP2, layer 3": the inspector's stage label
    highlight: Highlight


@dataclass
class UpdateStep:
    """One optimiser step on this sample: θ_new = step(θ, ∂J/∂θ), state after the step."""

    optimizer: str
    nesterov: bool
    lr: float
    weight_decay: float
    momentum: float
    beta1: float
    beta2: float
    eps: float
    t: int
    grad: dict[str, np.ndarray]  # ∂J/∂θ + λθ (weights only) per array name: what the step uses
    delta: dict[str, np.ndarray]  # Δθ = θ_new − θ
    new: dict[str, np.ndarray]  # θ_new
    state: dict[str, dict[str, np.ndarray]]  # "v" (momentum) or "m", "v" (adam) per array name
    state_before: dict[str, dict[str, np.ndarray]]  # the same before the step (0 when fresh)
    loss_before: float
    loss_after: float
    source: str = ""  # where the state came from ("the paused run"), "" for a fresh optimiser


@dataclass
class SampleWalk:
    """Every intermediate of one sample; dicts are keyed by the layer l (1-based)."""

    x: np.ndarray
    y: np.ndarray
    sizes: list[int]
    activation: dict[int, str]  # σ of layer l (l ≥ 2)
    loss_name: str
    W: dict[int, np.ndarray]
    b: dict[int, np.ndarray]
    z: dict[int, np.ndarray]
    a: dict[int, np.ndarray]  # a[1] = x
    sigma_prime: dict[int, np.ndarray | None]  # σ'(z^l); None for a softmax output
    J: float
    grad_a: np.ndarray  # ∂J/∂a^L
    jacobian: np.ndarray | None  # ∂a^L/∂z^L (k×k) for a softmax output, else None
    backsum: dict[int, np.ndarray]  # (W^{l+1})ᵀ δ^{l+1}, for l = 2 … L−1
    delta: dict[int, np.ndarray]
    db: dict[int, np.ndarray]
    dW: dict[int, np.ndarray]
    shortcut: np.ndarray | None  # the matched-pair BP1 (a^L − y, or (a^L − y)/k), if any
    update: UpdateStep
    stages: list[Stage] = field(default_factory=list)

    @property
    def L(self) -> int:
        return len(self.sizes)

    def stage_index(self, kind: str, layer: int = 0) -> int:
        for i, s in enumerate(self.stages):
            if s.kind == kind and (layer == 0 or s.layer == layer):
                return i
        raise KeyError((kind, layer))

    def delta_stage(self, layer: int) -> int:
        """The stage that produced δ^l: BP1 for the output layer, BP2 for a hidden one."""
        return self.stage_index(BP1 if layer == self.L else BP2, layer)


def build_stages(sizes: list[int], optimizer: str = "sgd") -> list[Stage]:
    """The ordered stages for a network of these layer sizes (see the module docstring)."""
    L = len(sizes)
    out: list[Stage] = []
    for l in range(2, L + 1):
        hl = Highlight(frozenset({l - 1}), frozenset({l}), frozenset({l}), "forward")
        out.append(Stage(FORWARD, l, f"Forward, layer {l}", hl))
    out.append(Stage(LOSS, L, "Loss J", Highlight(frozenset({L}), frozenset({L}))))
    out.append(Stage(BP1, L, f"BP1, layer {L}", Highlight(frozenset({L}), frozenset({L}))))
    for l in range(L - 1, 1, -1):
        hl = Highlight(frozenset({l + 1, l}), frozenset({l}), frozenset({l + 1}), "backward")
        out.append(Stage(BP2, l, f"BP2, layer {l}", hl))
    for l in range(L, 1, -1):
        hl = Highlight(frozenset({l - 1, l}), frozenset(), frozenset({l}), "backward")
        out.append(Stage(BP34, l, f"BP3 + BP4, layer {l}", hl))
    every = frozenset(range(2, L + 1))
    out.append(Stage(UPDATE, 0, f"Update ({optimizer})", Highlight(every, every, every)))
    return out


def walk(
    net: Network,
    x: np.ndarray,
    y: np.ndarray,
    config: FitConfig | None = None,
    *,
    t: int = 1,
    state: dict[str, np.ndarray] | None = None,
    source: str = "",
) -> SampleWalk:
    """Run one sample through every stage; see the module docstring.

    `state` (optional) holds the optimiser's flat state arrays laid out like `Network._theta`
    ("v" for momentum, "m" and "v" for adam) and `t` the step number, to show a step that is not
    the first (``OptimizerState``: ``t = state.t + 1``, ``state = state.arrays``, α = its
    ``lr``); ``source`` says where it came from. By default the optimiser is fresh."""
    cfg = config if config is not None else FitConfig()
    cfg.validate()
    work = net.astype("float64")
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    X, Y = work._check_xy(x.reshape(1, -1), y.reshape(1, -1), dtype=np.float64)
    layers = work.layers()
    acts = work.all_activations
    L = work.n_layers
    loss = LOSS_TABLE[work.loss_name]
    output = work.output

    with np.errstate(all="ignore"):
        zs, As = bp.forward(layers, acts, X)  # forward: z^l = W^l a^{l−1} + b^l, a^l = σ(z^l)
        J = loss.value(As[-1], Y, output)
        grad_a = loss.gradient(As[-1], Y, output)  # ∂J/∂a^L
        delta = bp.output_delta(zs[-1], As[-1], Y, output, work.loss_name)  # BP1 (general form)
        deltas = {L: delta[0]}
        backsum: dict[int, np.ndarray] = {}
        for l in range(L - 1, 1, -1):
            W_next = layers[l - 1][0]  # W^{l+1} is layers[l − 1] (layers[0] is W^2)
            backsum[l] = (deltas[l + 1][None, :] @ W_next)[0]  # (W^{l+1})ᵀ δ^{l+1}
            deltas[l] = bp.hidden_delta(deltas[l + 1][None, :], W_next, zs[l - 2], acts[l - 2])[
                0
            ]  # BP2
        db = {l: bp.bias_gradient(deltas[l][None, :]) for l in deltas}  # BP3
        dW = {l: bp.weight_gradient(deltas[l][None, :], As[l - 2]) for l in deltas}  # BP4

    sigma_prime: dict[int, np.ndarray | None] = {}
    for l in range(2, L + 1):
        act = ACTIVATIONS[acts[l - 2]]
        sigma_prime[l] = None if not act.elementwise else act.derivative(zs[l - 2])[0]
    jac = None
    if output == "softmax":
        aL = As[-1][0]
        jac = np.diag(aL) - np.outer(aL, aL)  # ∂a_i/∂z_j = a_i(δ_ij − a_j)
    shortcut = None
    if loss.matched_delta is not None and output in loss.matched_outputs:
        shortcut = bp.matched_output_delta(As[-1], Y, output, work.loss_name)[0]

    out = SampleWalk(
        x=x,
        y=y,
        sizes=list(work.sizes),
        activation={l: acts[l - 2] for l in range(2, L + 1)},
        loss_name=work.loss_name,
        W={l: layers[l - 2][0].copy() for l in range(2, L + 1)},
        b={l: layers[l - 2][1].copy() for l in range(2, L + 1)},
        z={l: zs[l - 2][0] for l in range(2, L + 1)},
        a={1: x, **{l: As[l - 1][0] for l in range(2, L + 1)}},
        sigma_prime=sigma_prime,
        J=float(J),
        grad_a=grad_a[0],
        jacobian=jac,
        backsum=backsum,
        delta=deltas,
        db=db,
        dW=dW,
        shortcut=shortcut,
        update=_update(work, X, Y, db, dW, float(J), cfg, t, state),
    )
    out.update.source = source if state is not None else ""
    label = cfg.optimizer + (" + Nesterov" if cfg.optimizer == "momentum" and cfg.nesterov else "")
    out.stages = build_stages(out.sizes, label)
    return out


def _update(
    work: Network,
    X: np.ndarray,
    Y: np.ndarray,
    db: dict[int, np.ndarray],
    dW: dict[int, np.ndarray],
    J: float,
    cfg: FitConfig,
    t: int,
    state: dict[str, np.ndarray] | None,
) -> UpdateStep:
    """One step of the selected optimiser, the way `fit` takes it (see `optimizers.py`)."""
    theta = work._theta.copy()
    g = np.zeros_like(theta)
    gWT, gb = work.block_views(g)
    for i, l in enumerate(range(2, work.n_layers + 1)):
        gWT[i][...] = dW[l].T
        gb[i][...] = db[l]
    lr = float(cfg.lr)
    opt = make_optimizer(cfg.optimizer, theta.size, np.dtype(np.float64), cfg)
    for key, arr in (state or {}).items():
        if not hasattr(opt, key):
            raise EngineError(f"The {cfg.optimizer} optimiser has no state {key!r}.")
        getattr(opt, key)[...] = arr
    wd = float(cfg.weight_decay)
    if wd:
        g += wd * work.weight_mask() * theta  # L2: ∂/∂W (λ/2)‖W‖² = λW, weights only
    fold = opt.grad_scale(lr)
    grad_flat = g.copy()
    g *= fold  # the optimisers take a pre-scaled gradient (see optimizers.py)
    new = theta.copy()
    before = {
        key: getattr(opt, key).copy()
        for key in ("m", "v")
        if isinstance(getattr(opt, key, None), np.ndarray)
    }
    opt.step(new, g, lr, int(t))
    names = list(work.params)

    def per_array(flat: np.ndarray) -> dict[str, np.ndarray]:
        WT, b = work.block_views(flat)
        res: dict[str, np.ndarray] = {}
        for i, l in enumerate(range(2, work.n_layers + 1)):
            res[f"W{l}"] = WT[i].T.copy()
            res[f"b{l}"] = b[i].copy()
        return {k: res[k] for k in names}

    opt_state = {key: per_array(getattr(opt, key)) for key in before}
    opt_before = {key: per_array(arr) for key, arr in before.items()}
    after = work.copy()
    after._theta[...] = new
    with np.errstate(all="ignore"):
        loss_after = after.loss(X, Y)
    return UpdateStep(
        optimizer=cfg.optimizer,
        nesterov=bool(cfg.nesterov),
        lr=lr,
        weight_decay=wd,
        momentum=float(cfg.momentum),
        beta1=float(cfg.beta1),
        beta2=float(cfg.beta2),
        eps=float(cfg.eps),
        t=int(t),
        grad=per_array(grad_flat),
        delta=per_array(new - theta),
        new=per_array(new),
        state=opt_state,
        state_before=opt_before,
        loss_before=J,
        loss_after=float(loss_after),
    )


# ---- where does this gradient come from? -------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    symbol: str  # in the seed's notation, plain text: "a^2_1", "δ^3_2", "σ'(z^2_1)"
    value: float
    stage: int | None  # index into SampleWalk.stages of the stage that produced it (None: input)


@dataclass(frozen=True)
class Origin:
    target: str  # "∂J/∂w^3_21", "∂J/∂b^2_4", "δ^3_2"
    equation: str  # "BP4", "BP3", "BP1", "BP2"
    value: float
    factors: tuple[Factor, ...]  # the target is the product of these

    @property
    def product(self) -> float:
        return float(np.prod([f.value for f in self.factors]))


def entry(sym: str, layer: int, *idx: int) -> str:
    """Plain seed notation for an entry: entry("w", 3, 1, 0) → "w^3_21" (indices printed from 1;
    separated by a comma when one of them has two digits)."""
    parts = [str(i + 1) for i in idx]
    sep = "," if any(len(p) > 1 for p in parts) else ""
    return f"{sym}^{layer}_{sep.join(parts)}"


def gradient_origin(w: SampleWalk, kind: str, layer: int, j: int, k: int = 0) -> Origin:
    """`kind` is "w" (∂J/∂w^l_jk), "b" (∂J/∂b^l_j) or "delta" (δ^l_j); j, k 0-based."""
    L = w.L
    if not 2 <= layer <= L or not 0 <= j < w.sizes[layer - 1]:
        raise EngineError(f"There is no unit {j + 1} in layer {layer} of this {w.sizes} network.")
    d = Factor(entry("δ", layer, j), float(w.delta[layer][j]), w.delta_stage(layer))
    if kind == "w":
        if not 0 <= k < w.sizes[layer - 2]:
            raise EngineError(f"Layer {layer - 1} has no unit {k + 1}.")
        src = None if layer == 2 else w.stage_index(FORWARD, layer - 1)
        a = Factor(entry("a", layer - 1, k), float(w.a[layer - 1][k]), src)
        return Origin(
            "∂J/∂" + entry("w", layer, j, k), "BP4", float(w.dW[layer][j, k]), (a, d)
        )  # BP4: ∂J/∂w^l_jk = a^{l−1}_k δ^l_j
    if kind == "b":
        return Origin("∂J/∂" + entry("b", layer, j), "BP3", float(w.db[layer][j]), (d,))
    if kind != "delta":
        raise EngineError(f"gradient_origin: kind must be 'w', 'b' or 'delta', not {kind!r}.")
    fwd = w.stage_index(FORWARD, layer)
    if layer < L:
        s = Factor(
            f"Σ_k w^{layer + 1}_k{',' if j >= 9 else ''}{j + 1} δ^{layer + 1}_k",
            float(w.backsum[layer][j]),
            w.delta_stage(layer + 1),
        )
        sp = Factor(f"σ'(z^{layer}_{j + 1})", float(w.sigma_prime[layer][j]), fwd)
        return Origin(entry("δ", layer, j), "BP2", float(w.delta[layer][j]), (s, sp))
    loss_stage = w.stage_index(LOSS)
    if w.sigma_prime[L] is None:  # softmax: the Jacobian row, not a product of two numbers
        col = w.jacobian[:, j] * w.grad_a
        return Origin(
            entry("δ", L, j),
            "BP1",
            float(w.delta[L][j]),
            (Factor(f"Σ_i (∂a^{L}_i/∂z^{L}_{j + 1}) ∂J/∂a^{L}_i", float(col.sum()), loss_stage),),
        )
    ga = Factor(f"∂J/∂a^{L}_{j + 1}", float(w.grad_a[j]), loss_stage)
    sp = Factor(f"σ'(z^{L}_{j + 1})", float(w.sigma_prime[L][j]), w.stage_index(FORWARD, L))
    return Origin(entry("δ", L, j), "BP1", float(w.delta[L][j]), (ga, sp))


# ---- this mini-batch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MiniBatchGradient:
    name: str  # "∂J/∂w^3_21" or "∂J/∂b^2_4"
    layer: int
    j: int
    k: int  # 0 for a bias
    per_sample: np.ndarray  # each sample's ∂J/∂w: a^{l−1}_k δ^l_j (or δ^l_j for a bias)
    a_prev: np.ndarray | None  # each sample's a^{l−1}_k (None for a bias)
    delta: np.ndarray  # each sample's δ^l_j
    mean: float  # what training uses: the mean over the batch (BP3/BP4 in batch form)


def minibatch_gradient(
    net: Network, X: np.ndarray, Y: np.ndarray, kind: str, layer: int, j: int, k: int = 0
) -> MiniBatchGradient:
    """For one weight (kind "w") or bias ("b"): each sample's gradient and their mean."""
    work = net.astype("float64")
    X, Y = work._check_xy(X, Y, dtype=np.float64)
    if not 2 <= layer <= work.n_layers:
        raise EngineError(f"Layer {layer} has no weights; choose 2 … {work.n_layers}.")
    with np.errstate(all="ignore"):
        res = bp.backprop(work.layers(), work.all_activations, work.loss_name, X, Y)
    i = layer - 2
    d = res["delta"][i][:, j]
    if kind == "b":
        name = "∂J/∂" + entry("b", layer, j)
        return MiniBatchGradient(name, layer, j, 0, d.copy(), None, d, float(res["db"][i][j]))
    a_prev = res["a"][i][:, k]  # res["a"][0] is the input A^1 = A^{l−1} for l = 2
    name = "∂J/∂" + entry("w", layer, j, k)
    return MiniBatchGradient(name, layer, j, k, a_prev * d, a_prev, d, float(res["dW"][i][j, k]))


__all__ = [
    "BP1",
    "BP2",
    "BP34",
    "FORWARD",
    "LOSS",
    "UPDATE",
    "Factor",
    "Highlight",
    "MiniBatchGradient",
    "Origin",
    "SampleWalk",
    "Stage",
    "UpdateStep",
    "build_stages",
    "entry",
    "gradient_origin",
    "minibatch_gradient",
    "walk",
]
