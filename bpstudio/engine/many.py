"""`fit_many`: train several networks at once, each as `fit` would train it alone.

`fit_many(nets, X, Y, configs=[{"lr": 0.01}, {"lr": 0.1}], **shared)` returns one `History` per
net, each as `fit(net, X, Y, **shared, **config)` would (same random order per seed, same early
stopping, divergence handling, schedules, L2, callbacks and control), and trains every net in place.

Runs that share the layer sizes, activations, loss, training dtype, batch size and optimiser (with
its momentum / β / ε) form a group and train in lockstep through ONE kernel over a leading run axis:
θ of the group is a (K, P) array (row k = run k's flat θ, laid out as `Network._theta`), layer l is
the (K, n_{l-1} + 1, n_l) view [(W^l)ᵀ; b^l] of it, and every product of BP1–BP4 is one batched
`np.matmul`. What differs per run is carried by arrays with a leading run axis: α (folded into Δ^L
as in `kernels.py`), L2 strength, optimiser state, the shuffle order and, when seeds differ, the
permuted data. A group of one, or a run nothing else can share a kernel with, goes to plain `fit`.

Where it departs from `kernels.Kernel` (read that first; the equations are the same, and the
block views, hot activations, BP1 mode, constants, the hidden layers' forward pass and BP2–BP4 are
`kernels.KernelBase`'s for both, as is the binding of σ and σ' to whole buffers with full-array
operands for `maximum`/`minimum` (`kernels.bind_hidden`)):
- each run keeps its own row order, so X and Y are (K, N, n) unless every run shuffles alike (same
  seed, or no shuffling), in which case one copy is shared and broadcast by `matmul`;
- softmax subtracts each run's own batch maximum (as `fit` does for its one run);
- hidden layers of one width take turns with two Δ buffers and share one scratch buffer (K runs'
  buffers fill the caches);
- a mini-batch's losses are written raw (Σ (a − y)², Σ y ln a, …) into one row of a per-epoch
  table and divided by the batch's normaliser once per epoch;
- a run that stops (epoch limit, early stopping, divergence, a stop request) leaves the group: its
  row is written back to its net and the group's arrays are compacted, so the others go on at the
  cost of K − 1 runs. A diverging run leaves before the update of the step whose loss was not
  finite, exactly where `fit` stops.
The 'general' BP1 form (e.g. softmax + MSE) loops over the runs with the readable loss functions.
Callbacks see each run's events as `fit` would send them, run after run at each step; a callback or
control shared by several runs sees them all. While a group trains, each net's parameters are a
view of its row of the group's θ (when the net is stored in the training dtype), so a callback
reads, and may change, live weights as with `fit`; every net owns its θ again when it leaves.
Groups train one after another; a run's `History.seconds` is its group's wall time until the run
left. `on_finish(index, history)`, if given, is called for each run as soon as it is done: when it
leaves its group (its epoch limit, early stopping, divergence, a stop request), its net already
holding its final weights, or when its plain `fit` returns; so a caller can report a run that
stopped early while the others train on. Numbers equal `fit`'s up to the order of floating-point
sums (the tests find them identical in float64). What stacking saves is per-call overhead, never
GEMM work: a batched `np.matmul` calls BLAS once per run (K GEMMs of the same shapes fit would do),
so when GEMMs are most of fit's time the gain is capped by the rest (W3 of `benchmarks/sweep.py`:
the GEMMs are ~2/3 to ~3/4 of fit's time with AVX2 kernels, so 4 runs can be at most ~1.4×
(float64) to ~1.5× (float32) faster than 4 fits). Left out: one group's runs on several cores,
mixing optimisers or activations in one kernel, merging the runs' first-layer GEMMs when they
share the input batch (one (n, n_1+1) × (n_1+1, K·n_2) product instead of K, and one for BP4):
measured on W3, the merged GEMMs cost what the K do, and copying W^2 into that layout and
∂J/∂W^2 back adds ~3 µs a step, so it is slower.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from bpstudio.engine import backprop as bp
from bpstudio.engine.activations import ACTIVATIONS
from bpstudio.engine.errors import EngineError
from bpstudio.engine.kernels import KernelBase, bind_hidden, layer_tuples, use_augmented
from bpstudio.engine.losses import LOG_FLOOR, LOSS_TABLE
from bpstudio.engine.network import Network, check_dtype
from bpstudio.engine.optimizers import make_optimizer, schedule_factor
from bpstudio.engine.training import (
    _PERMUTE_BYTES,
    EpochEvent,
    FitConfig,
    FitControl,
    History,
    StepEvent,
    accuracy,
    class_labels,
    fit,
    looks_like_classes,
    runaway_weights,
)

_FIT_FIELDS = frozenset(f.name for f in fields(FitConfig))
_RUN_KEYS = _FIT_FIELDS | {"callback", "control"}
_SHARED_KEYS = _RUN_KEYS | {"X_val", "Y_val", "config"}


def _fmt(x: float) -> str:
    return f"{x:.4g}"


# ---------------------------------------------------------------------------------- the kernel


def _stack_blocks(flat: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Per-layer views (K, n_{l-1} + 1, n_l) of a (K, P) array whose rows are laid out like
    `Network._theta` (see `Network.blocks`)."""
    out, off = [], 0
    K = flat.shape[0]
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        blk = flat[:, off : off + (n_in + 1) * n_out].reshape(K, n_in + 1, n_out)
        assert np.may_share_memory(blk, flat)  # a view, never a copy (a copy is new memory)
        out.append(blk)
        off += (n_in + 1) * n_out
    return out


class _Plan:
    """Buffers of `_StackKernel` for one batch length n (as `kernels.Plan`, with a run axis)."""

    def __init__(self, n: int, kr: _StackKernel) -> None:
        K, dt, aug = kr.K, kr.dtype, kr.augment
        self.n = n
        widths = kr.sizes[1:-1]
        # Augmented, hidden A^l, Δ^l and T^l get a trailing column ([A^l, 1] for the GEMMs);
        # σ and σ' run over the whole buffers (see `kernels.bind_hidden`).
        extra = 1 if aug else 0
        self.A_in = [np.ones((K, n, w + extra), dtype=dt) for w in widths]
        # Δ^l is dead once Δ^{l-1} is made and T^l is scratch inside σ', so hidden layers of one
        # width take turns with two Δ buffers and share one T (K runs' buffers fill the caches).
        pool: dict[int, list[np.ndarray]] = {}
        for w in set(widths):
            pool[w] = [np.zeros((K, n, w + extra), dtype=dt) for _ in range(3)]
        self.D_full = [pool[w][i % 2] for i, w in enumerate(widths)]
        self.T_full = [pool[w][2] for w in widths]
        cut = slice(None, -1) if aug else slice(None)
        self.A = [a[..., cut] for a in self.A_in]
        self.D = [d[..., cut] for d in self.D_full] + [np.empty((K, n, kr.k), dtype=dt)]
        self.T = [t[..., cut] for t in self.T_full] + [np.empty((K, n, kr.k), dtype=dt)]
        # σ, σ' of each hidden layer bound to its whole buffers, as in kernels.Plan
        bound = bind_hidden(kr, self.A_in, self.D_full, self.T_full)
        self.apply, self.bprime, self.ones_col = bound
        k = kr.k
        self.floor = np.full((K, n, k), LOG_FLOOR, dtype=dt)
        self.rowsum = np.empty((K, n, 1), dtype=dt)
        self.runmax = np.empty((K, 1, 1), dtype=dt)
        self.ones_row = np.ones((1, n), dtype=dt)  # BP3 as a GEMV: 1ᵀΔ sums the rows
        self.ones_nk = np.ones((1, 1, n * k), dtype=dt)
        # Δ^L and T^L flattened per run, for per-run sums as batched dot products
        self.d_row = self.D[-1].reshape(K, 1, n * k)
        self.d_col = self.D[-1].reshape(K, n * k, 1)
        self.t_col = self.T[-1].reshape(K, n * k, 1)
        self.c1 = np.empty((K, 1, 1), dtype=dt)
        self.c2 = np.empty((K, 1, 1), dtype=dt)
        self.s = np.zeros((K, 1, 1), dtype=dt)  # s = fold / n, per run
        self.s_k = np.zeros((K, 1, 1), dtype=dt)  # s / k (MSE and sigmoid-CE carry 1/k)
        layer_tuples(kr, self, lambda a: a.swapaxes(1, 2))

    def set_scale(self, fold: np.ndarray, k: int) -> None:
        self.s[:, 0, 0] = fold / self.n
        self.s_k[:, 0, 0] = fold / (self.n * k)


class _StackKernel(KernelBase):
    """`kernels.Kernel` over a leading run axis: one mini-batch of forward + BP1–BP4 for K runs.

    `Theta`/`G` are (K, P); X may be (n, n_1) (shared by every run) or (K, n, n_1), likewise Y.
    The raw loss of each run goes into `loss_out` (K, 1, 1); divide it by `loss_divisor(n)`.
    The views, constants, plans and fold are `KernelBase`'s (the fold is one factor per run).
    """

    plan_type = _Plan

    def __init__(
        self,
        sizes: list[int],
        activations: list[str],
        loss: str,
        Theta: np.ndarray,
        G: np.ndarray,
        rows_sum_to_one: bool,
        augment: bool,
    ) -> None:
        super().__init__(
            sizes, activations, loss, _stack_blocks(Theta, sizes), _stack_blocks(G, sizes),
            rows_sum_to_one, augment,
        )  # fmt: skip
        self.K = Theta.shape[0]
        self.fold = np.ones(self.K)

    def loss_divisor(self, n: int) -> float:
        """loss = raw / divisor for a batch of n rows (see `step`)."""
        return {
            "mse": 2.0 * n * self.k,
            "softmax_ce": -float(n),
            "sigmoid_ce": -float(n * self.k),
        }.get(self.mode, 1.0)

    def step(
        self,
        X: np.ndarray,
        X_T: np.ndarray,
        Y: np.ndarray,
        Y_row: np.ndarray,
        AL: np.ndarray,
        p: _Plan,
        loss_out: np.ndarray,
    ) -> None:
        """Forward + backward for every run; A^L to `AL` (K, n, k); gradients ×(n·s) into G.
        `X_T` is `X.swapaxes(-1, -2)` (made once per batch, not per step)."""
        matmul = np.matmul
        self.hidden_forward(X, p)
        a_last = p.A_in[-1] if p.hidden else X
        if self.augment:  # Z^L = A^{L-1} (W^L)ᵀ + b^L
            matmul(a_last, self.blocks[-1], AL)
        else:
            self._output_z(a_last, AL)

        # BP1 (raw loss alongside): Δ^L, scaled by each run's s
        d, t = p.D[-1], p.T[-1]
        mode = self.mode
        if mode == "softmax_ce":
            # softmax, shifted by each run's batch max (fit's shift); see kernels.Kernel.step
            m = p.rowsum
            # (the ufuncs' own reduce: np.max/np.min add a Python wrapper's microsecond)
            np.maximum.reduce(AL, axis=(1, 2), keepdims=True, out=p.runmax)
            np.subtract(AL, p.runmax, AL)
            np.exp(AL, AL)
            matmul(AL, self.ones_k, m)  # row sums as a GEMV
            if not np.minimum.reduce(m, axis=None) >= self.tiny_sum:  # rare: recompute Z^L,
                self._output_z(a_last, AL)  # shift by each row's max
                np.max(AL, axis=2, keepdims=True, out=m)
                np.subtract(AL, m, AL)
                np.exp(AL, AL)
                np.add.reduce(AL, axis=2, keepdims=True, out=m)
            np.divide(AL, m, AL)
            np.maximum(AL, p.floor, out=t)  # logs clipped
            np.log(t, t)
            matmul(Y_row, p.t_col, loss_out)  # Σ y ln a; loss = −raw / n
            np.subtract(AL, Y, d)  # BP1, matched pair: Δ^L = A^L − Y
            np.multiply(d, p.s, d)
        elif mode == "general":
            self._general_delta(AL, Y, p, loss_out)
        else:
            if self.apply[-1] is not None:
                self.apply[-1](AL)
            if mode == "mse":
                # BP1: Δ^L = ∇_A J ⊙ σ'(Z^L) with ∇_A J = (A − Y)/k
                np.subtract(AL, Y, d)
                matmul(p.d_row, p.d_col, loss_out)  # Σ (a − y)²; loss = raw / (2nk)
                np.multiply(d, p.s_k, d)
                if self.bprime[-1] is not None:
                    self.bprime[-1](AL, d, t)
            else:  # sigmoid_ce
                np.maximum(AL, p.floor, out=t)
                np.log(t, t)
                matmul(Y_row, p.t_col, p.c1)  # Σ y ln a
                np.subtract(self.one, AL, t)
                np.maximum(t, p.floor, out=t)
                np.log(t, t)
                matmul(p.ones_nk, p.t_col, loss_out)
                matmul(Y_row, p.t_col, p.c2)
                np.subtract(loss_out, p.c2, loss_out)  # Σ (1 − y) ln(1 − a)
                np.add(p.c1, loss_out, loss_out)  # loss = −raw / (nk)
                np.subtract(AL, Y, d)  # BP1, matched pair: Δ^L = (A^L − Y)/k
                np.multiply(d, p.s_k, d)

        self.backward(X_T, p)

    def _general_delta(self, AL: np.ndarray, Y: np.ndarray, p: _Plan, loss_out: np.ndarray) -> None:
        lo = LOSS_TABLE[self.loss]
        act = ACTIVATIONS[self.output]
        d = p.D[-1]
        for r in range(self.K):
            a, y = AL[r], (Y[r] if Y.ndim == 3 else Y)
            if self.apply[-1] is not None:
                self.apply[-1](a)
            loss_out[r] = lo.value(a, y, self.output)
            d[r] = act.vjp(None, a, lo.gradient(a, y, self.output))  # BP1 general form
        np.multiply(d, p.s, out=d)

    def forward(self, X: np.ndarray, activations: list[str]) -> list[np.ndarray]:
        """A^L of every run on X (readable activations, as `backprop.forward`): (K, N, k)."""
        a = X
        with np.errstate(over="ignore", invalid="ignore"):
            for WT, b, name in zip(self.WT, self.b, activations, strict=True):
                a = ACTIVATIONS[name].fn(a @ WT + b)  # z^l = W^l a^{l-1} + b^l, rows = samples
        return a


# ------------------------------------------------------------------------------------- one run


@dataclass(eq=False)
class _Run:
    """What one run of a group carries besides its row of the stacked arrays."""

    index: int
    net: Network
    cfg: FitConfig
    control: FitControl
    callback: Callable[[StepEvent | EpochEvent], Any] | None
    rng: np.random.Generator
    lr: float
    hist: History = field(default_factory=History)
    best: float = math.inf
    wait: int = 0
    best_theta: np.ndarray | None = None
    reason: str = "finished"
    message: str = ""
    epochs: int = 0  # completed epochs when it leaves at the end of an epoch
    user_control: bool = False
    start_peak: float = 1.0  # max |θ| at the start (runaway weights, as fit)
    first_loss: float | None = None  # its first mini-batch's loss: the untrained net's
    own_theta: np.ndarray | None = None  # the net's own θ while it points into the group's
    batch_losses: list[float] = field(default_factory=list)


def _split_kwargs(shared: dict[str, Any], configs: Sequence[dict[str, Any]], n: int):
    unknown = sorted(set(shared) - _SHARED_KEYS)
    if unknown:
        raise EngineError(
            f"Unknown fit option(s) {', '.join(unknown)}; known: {', '.join(sorted(_SHARED_KEYS))}."
        )
    if len(configs) != n:
        raise EngineError(f"Give one config per network: {n} network(s), {len(configs)} config(s).")
    base = shared.get("config") or FitConfig()
    common = {k: v for k, v in shared.items() if k in _FIT_FIELDS}
    runs = []
    for i, conf in enumerate(configs):
        bad = sorted(set(conf) - _RUN_KEYS)
        if bad:
            raise EngineError(
                f"Run {i + 1}: unknown fit option(s) {', '.join(bad)}; known: "
                f"{', '.join(sorted(_RUN_KEYS))}."
            )
        over = {**common, **{k: v for k, v in conf.items() if k in _FIT_FIELDS}}
        cfg = replace(base, **over)
        try:
            cfg.validate()
        except EngineError as exc:
            raise EngineError(f"Run {i + 1}: {exc}") from None
        control = conf.get("control", shared.get("control"))
        callback = conf.get("callback", shared.get("callback"))
        runs.append((cfg, control, callback))
    return runs


def _group_key(net: Network, cfg: FitConfig, n_rows: int) -> tuple:
    opt = {
        "momentum": (float(cfg.momentum), bool(cfg.nesterov)),
        "adam": (float(cfg.beta1), float(cfg.beta2), float(cfg.eps)),
    }.get(cfg.optimizer, ())
    return (
        tuple(net.sizes),
        tuple(net.all_activations),
        net.loss_name,
        check_dtype(cfg.dtype or net.dtype),
        min(int(cfg.batch_size), max(n_rows, 1)),
        cfg.optimizer,
        opt,
    )


def stack_groups(
    nets: Sequence[Network],
    n_rows: int,
    configs: Sequence[dict[str, Any]] | None = None,
    **shared: Any,
) -> list[list[int]]:
    """How `fit_many` would train these runs: lists of run indices that share one kernel (a list
    of one trains through plain `fit`), in the order the groups train."""
    configs = [dict(c) for c in configs] if configs is not None else [{}] * len(nets)
    runs = _split_kwargs(shared, configs, len(nets))
    groups: dict[tuple, list[int]] = {}
    for i, (net, (cfg, _, _)) in enumerate(zip(nets, runs, strict=True)):
        groups.setdefault(_group_key(net, cfg, n_rows), []).append(i)
    return list(groups.values())


def fit_many(
    nets: Sequence[Network],
    X: np.ndarray,
    Y: np.ndarray,
    configs: Sequence[dict[str, Any]] | None = None,
    *,
    on_finish: Callable[[int, History], Any] | None = None,
    **shared: Any,
) -> list[History]:
    """Train every net in place, run i as `fit(nets[i], X, Y, **shared, **configs[i])` would.

    `shared` takes `fit`'s keywords (X_val, Y_val, config, control, callback and FitConfig
    fields); a config may hold FitConfig fields, `callback` and `control` (it wins over `shared`).
    `on_finish(i, history)` is called once per run as soon as run i is done (its net holds its
    final weights). Returns the histories in the order of `nets`. See the module docstring.
    """
    nets = list(nets)
    if not nets:
        return []
    for i, net in enumerate(nets):
        if not isinstance(net, Network):
            raise EngineError(f"Run {i + 1}: expected a Network, got {type(net).__name__}.")
    if len({id(net) for net in nets}) != len(nets):
        raise EngineError("The same Network is listed twice; give each run its own (net.copy()).")
    configs = [dict(c) for c in configs] if configs is not None else [{}] * len(nets)
    runs = _split_kwargs(shared, configs, len(nets))
    X_val, Y_val = shared.get("X_val"), shared.get("Y_val")
    histories: list[History | None] = [None] * len(nets)
    for members in stack_groups(nets, len(X), configs, **shared):
        if len(members) == 1:
            i = members[0]
            cfg, control, callback = runs[i]
            histories[i] = fit(
                nets[i], X, Y, X_val=X_val, Y_val=Y_val, config=cfg, control=control,
                callback=callback,
            )  # fmt: skip
            if on_finish is not None:
                on_finish(i, histories[i])
            continue
        group = [
            _Run(
                index=i,
                net=nets[i],
                cfg=runs[i][0],
                control=runs[i][1] if runs[i][1] is not None else FitControl(),
                user_control=runs[i][1] is not None,
                callback=runs[i][2],
                rng=np.random.default_rng(runs[i][0].seed),
                lr=float(runs[i][0].lr),
            )
            for i in members
        ]
        trainer = _Group(group, X, Y, X_val, Y_val)
        trainer.on_finish = on_finish
        try:
            for run in trainer.train():
                histories[run.index] = run.hist
        finally:
            trainer.detach_all()  # after an error too: every net gets its own θ back
    return histories  # type: ignore[return-value]


# ------------------------------------------------------------------------------------ a group


class _Group:
    """One kernel over K runs of the same shape and batch size: the loop of `fit`, per run."""

    def __init__(self, runs: list[_Run], X, Y, X_val, Y_val) -> None:
        net0 = runs[0].net
        cfg0 = runs[0].cfg
        dtype = np.dtype(check_dtype(cfg0.dtype or net0.dtype))
        self.dtype = dtype
        self.runs = runs
        for run in runs:
            if run.control.grad_norm_every is None:
                run.control.grad_norm_every = int(run.cfg.grad_norm_every)
        Xw, Yw = net0._check_xy(X, Y, dtype=dtype)
        self.Xw = np.ascontiguousarray(Xw)
        self.Yw = np.ascontiguousarray(Yw)
        self.has_val = X_val is not None and Y_val is not None and len(X_val) > 0
        if self.has_val:
            self.Xv, self.Yv = net0._check_xy(X_val, Y_val, dtype=dtype)
        N = self.Xw.shape[0]
        if N == 0:
            raise EngineError("The training set is empty: there are no rows to learn from.")
        self.N = N
        self.B = B = min(int(cfg0.batch_size), N)
        self.n_batches = -(-N // B)
        self.classes = looks_like_classes(self.Yw)
        self.labels = class_labels(self.Yw) if self.classes else None
        self.val_classes = self.has_val and self.classes and looks_like_classes(self.Yv)
        self.loss_obj = LOSS_TABLE[net0.loss_name]
        self.acts = net0.all_activations
        self.names = net0.layer_names
        self.sizes = net0.sizes
        self.rows_one = (
            self.Yw.shape[1] > 1 and float(np.abs(self.Yw.sum(axis=1) - 1.0).max()) <= 1e-6
        )
        self.aug = use_augmented(net0.sizes, B)
        # Every run shuffles alike (same seed, or none shuffles): one copy of the data serves all.
        orders = {(r.cfg.shuffle, r.cfg.seed if r.cfg.shuffle else 0) for r in runs}
        self.shared_data = len(orders) == 1
        copies = 1 if self.shared_data else len(runs)
        self.permute = copies * (self.Xw.nbytes + self.Yw.nbytes) <= _PERMUTE_BYTES
        self.wd_mask = net0.weight_mask().astype(dtype)
        self.live = any(r.callback is not None for r in runs)
        # Controls only the caller holds can change between steps; without any, skip the checks.
        self.controlled = any(r.user_control for r in runs)
        self.any_norms = self.controlled or any(r.cfg.grad_norm_every for r in runs)
        self.perms = np.zeros((len(runs), 0), dtype=np.intp)
        # Same seed and shuffling everywhere: one generator stands for every run's own (the
        # runs' orders are identical, and their generators draw nothing else).
        self.shared_rng = np.random.default_rng(runs[0].cfg.seed)
        K = len(runs)
        Theta = np.empty((K, net0._theta.size), dtype=dtype)
        for k, r in enumerate(runs):
            Theta[k] = r.net._theta
            r.start_peak = max(1.0, float(np.max(np.abs(Theta[k])))) if Theta[k].size else 1.0
        self.hard_limit = float(np.sqrt(np.finfo(dtype).max))  # runaway weights (see fit)
        self.opt = make_optimizer(cfg0.optimizer, Theta.shape, dtype, cfg0)
        self._build(Theta, np.zeros_like(Theta), np.empty_like(Theta))
        self.t0 = time.perf_counter()
        self.on_finish: Callable[[int, History], Any] | None = None  # see fit_many

    # ---- stacked arrays ----------------------------------------------------------------------

    def _build(self, Theta: np.ndarray, G: np.ndarray, snapshot: np.ndarray) -> None:
        """(Re)make the kernel and buffers for the runs in `self.runs` (rows of Theta)."""
        K = Theta.shape[0]
        self.Theta, self.G, self.snapshot = Theta, G, snapshot
        self.kernel = _StackKernel(
            self.sizes, self.acts, self.runs[0].net.loss_name, Theta, G, self.rows_one, self.aug
        )
        N, B, dt = self.N, self.B, self.dtype
        n_in, k = self.Xw.shape[1], self.Yw.shape[1]
        lead = () if self.shared_data else (K,)
        rows = N if self.permute else B
        old = getattr(self, "Xbuf", None)
        if old is None or old.shape[:-2] != lead:
            cols = n_in + 1 if self.aug else n_in
            self.Xbuf = np.ones((*lead, rows, cols), dtype=dt)
            self.Ybuf = np.empty((*lead, rows, k), dtype=dt)
        self.Xin = self.Xbuf[..., :n_in]
        self.out_epoch = getattr(self, "out_epoch", None)
        if self.out_epoch is None or self.out_epoch.shape[0] != K:
            self.out_epoch = np.empty((K, N, k), dtype=dt)
        self.table = getattr(self, "table", None)
        if self.table is None or self.table.shape[1] != K:
            self.table = np.zeros((self.n_batches, K), dtype=dt)
        self.table_flat = list(self.table)
        self.table_rows = [row.reshape(K, 1, 1) for row in self.table_flat]
        self.no_norms = [None] * K
        self.ones_runs = np.ones(K, dtype=self.dtype)
        last = N - (self.n_batches - 1) * B
        plans = {B: self.kernel.plan(B), last: self.kernel.plan(last)}
        self.batches = []
        for s in range(0, N, B):
            e = min(N, s + B)
            if self.permute:
                Xb, Yb = self.Xbuf[..., s:e, :], self.Ybuf[..., s:e, :]
            else:
                Xb, Yb = self.Xbuf[..., : e - s, :], self.Ybuf[..., : e - s, :]
            Y_row = Yb.reshape(*lead, 1, (e - s) * k) if lead else Yb.reshape(1, (e - s) * k)
            assert np.may_share_memory(Y_row, Yb)  # a view: it must see each epoch's rows
            self.batches.append(
                (Xb, Xb.swapaxes(-1, -2), Yb, Y_row, self.out_epoch[:, s:e], plans[e - s], s, e)
            )
        self.divisors = np.array(
            [self.kernel.loss_divisor(e - s) for (*_, s, e) in self.batches], dtype=np.float64
        )[:, None]
        self.wd = np.array([float(r.cfg.weight_decay) for r in self.runs])
        self.any_wd = bool(np.any(self.wd > 0))
        self.wd_scaled = np.empty_like(Theta) if self.any_wd else None
        self.wd_tmp = np.empty_like(Theta) if self.any_wd else None
        self.folds = np.ones(K)
        self._attach()

    def _remove(self, gone: list[_Run]) -> None:
        """Take finished runs out of the group; compact every per-run array."""
        keep = [k for k, r in enumerate(self.runs) if r not in gone]
        K = len(self.runs)
        self.runs = [self.runs[k] for k in keep]
        if not self.runs:
            return
        for name, value in vars(self.opt).items():  # optimiser state: (K, P) arrays
            if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] == K:
                setattr(self.opt, name, value[keep])
        if not self.shared_data:
            self.Xbuf, self.Ybuf = self.Xbuf[keep], self.Ybuf[keep]
        self.out_epoch = self.out_epoch[keep]
        self.table = self.table[:, keep]
        self.perms = self.perms[keep] if not self.shared_data else self.perms[: len(keep)]
        self._build(self.Theta[keep], self.G[keep], self.snapshot[keep])
        self._set_lr()

    def _set_lr(self) -> None:
        """Fold each run's optimiser scale for α into the kernel (0 means α = 0: drop g)."""
        folds = np.array([self.opt.grad_scale(r.lr) for r in self.runs], dtype=np.float64)
        self.zero_fold = folds == 0
        self.any_zero_fold = bool(self.zero_fold.any())
        self.folds = folds
        self.kernel.set_fold(np.where(self.zero_fold, 1.0, folds))
        if self.any_wd:
            np.multiply(self.wd_mask, (folds * self.wd)[:, None], out=self.wd_scaled)
        self.lr_col = np.array([r.lr for r in self.runs], dtype=np.float64)[:, None]

    def _attach(self) -> None:
        """Point each net's θ at its row of the group's Θ (as fit trains `net._theta` in place),
        so callbacks read, and may change, live weights without a copy per step. A net stored in
        another dtype than the training one gets a copy before each callback instead (`_sync`)."""
        for k, r in enumerate(self.runs):
            net = r.net
            if net._theta.dtype != self.dtype and r.own_theta is None:
                continue
            if r.own_theta is None:
                r.own_theta = net._theta
            net._theta = self.Theta[k]
            net._WT, net._b = net.block_views(net._theta)

    def _detach(self, r: _Run, theta: np.ndarray) -> None:
        """Give the net its own θ back, holding `theta`."""
        net = r.net
        if r.own_theta is not None:
            net._theta, r.own_theta = r.own_theta, None
            net._WT, net._b = net.block_views(net._theta)
        np.copyto(net._theta, theta, casting="unsafe")

    def detach_all(self) -> None:
        for k, r in enumerate(self.runs):
            self._detach(r, self.Theta[k].copy())

    def _sync(self, k: int) -> None:
        r = self.runs[k]
        if r.own_theta is None:
            np.copyto(r.net._theta, self.Theta[k], casting="unsafe")

    def _layers(self, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(WT[k].T, b[k, 0]) for WT, b in zip(self.kernel.WT, self.kernel.b, strict=True)]

    # ---- the loop ------------------------------------------------------------------------------

    def train(self) -> list[_Run]:
        done: list[_Run] = []
        isfinite = math.isfinite
        N, n_in = self.N, self.Xw.shape[1]
        nb = self.n_batches
        step = 0
        epoch = 0
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            while self.runs:
                # fit's loop condition, then its stop check, at the start of every epoch
                leaving = []
                for r in self.runs:
                    if r.cfg.epochs is not None and epoch >= r.cfg.epochs:
                        leaving.append(r)
                    elif r.control.stop_requested:
                        r.reason = "stopped"
                        leaving.append(r)
                if leaving:
                    self._finish(leaving, step, epoch, done)
                    if not self.runs:
                        break
                ep = epoch + 1
                for r in self.runs:
                    r.lr *= schedule_factor(r.cfg.schedule, ep, r.cfg.step_size, r.cfg.gamma)
                    r.batch_losses = []
                if self.shared_data:  # every run draws this same order from its own generator
                    first = self.runs[0].cfg
                    order = self.shared_rng.permutation(N) if first.shuffle else np.arange(N)
                    self.perms = np.broadcast_to(order, (len(self.runs), N))
                else:
                    self.perms = np.stack(
                        [r.rng.permutation(N) if r.cfg.shuffle else np.arange(N) for r in self.runs]
                    )
                if self.permute:
                    perm = self.perms[0] if self.shared_data else self.perms
                    np.take(self.Xw, perm, axis=0, out=self.Xin, mode="clip")
                    np.take(self.Yw, perm, axis=0, out=self.Ybuf, mode="clip")
                np.copyto(self.snapshot, self.Theta)
                self._set_lr()
                completed = True
                # Locals for the hot loop; bound again whenever a run leaves (arrays compacted).
                batches, raws, flats, kstep, ones = self._hot()
                for bi in range(nb):
                    if self.controlled and self._step_controls() and bi:
                        stopped = [r for r in self.runs if r.control.stop_requested]
                        for r in stopped:
                            r.reason = "stopped"
                            r.batch_losses = self._losses(r, bi)
                        self._finish(stopped, step, epoch, done)
                        if not self.runs:
                            completed = False
                            break
                        batches, raws, flats, kstep, ones = self._hot()
                    Xb, XbT, Yb, Y_row, ALb, plan, s, e = batches[bi]
                    if not self.permute:
                        idx = self.perms[0, s:e] if self.shared_data else self.perms[:, s:e]
                        np.take(self.Xw, idx, axis=0, out=self.Xin[..., : e - s, :], mode="clip")
                        np.take(self.Yw, idx, axis=0, out=Yb, mode="clip")
                    kstep(Xb, XbT, Yb, Y_row, ALb, plan, raws[bi])
                    step += 1
                    # As in fit: a non-finite loss stops that run before this step's update.
                    # (One dot product sums the runs' losses: finite iff all are, bar overflow.)
                    if not isfinite(flats[bi].dot(ones)):
                        bad = [
                            r
                            for k, r in enumerate(self.runs)
                            if not math.isfinite(float(self.table[bi, k]))
                        ]
                        if bad:
                            for r in bad:
                                k = self.runs.index(r)
                                xb = Xb[..., :n_in] if self.shared_data else Xb[k, :, :n_in]
                                r.reason = "diverged"
                                r.message = self._diverged(k, ep, step, xb)
                                r.batch_losses = self._losses(r, bi)
                            self._finish(bad, step - 1, epoch, done)
                            if not self.runs:
                                completed = False
                                break
                            batches, raws, flats, kstep, ones = self._hot()
                            Xb, XbT, Yb, Y_row, ALb, plan, s, e = batches[bi]
                    norms = self._grad_norms(step) if self.any_norms else self.no_norms
                    G = self.G
                    if self.any_zero_fold:
                        G[self.zero_fold] = 0.0
                    if self.any_wd:
                        np.multiply(self.Theta, self.wd_scaled, out=self.wd_tmp)  # L2: λW
                        np.add(G, self.wd_tmp, out=G)
                    self.opt.step(self.Theta, G, self.lr_col, step)
                    if self.live:
                        self._step_callbacks(ep, step, bi, norms)
                if not completed:
                    break
                epoch = ep
                self._end_epoch(ep, step, epoch, done)
        return done

    def _hot(self) -> tuple:
        return self.batches, self.table_rows, self.table_flat, self.kernel.step, self.ones_runs

    def _step_controls(self) -> bool:
        """Live α changes; True if some run asked to stop (checked between mini-batches)."""
        stop = False
        changed = False
        seen: set[int] = set()
        for r in self.runs:
            c = r.control
            if id(c) not in seen:
                seen.add(id(c))
                pending = c._pending_lr
                if pending is not None:
                    c._pending_lr = None
                    for q in self.runs:
                        if q.control is c:
                            q.lr = pending
                    changed = True
            stop = stop or c.stop_requested
        if changed:
            self._set_lr()
        return stop

    def _losses(self, r: _Run, n: int) -> list[float]:
        """Run r's mean batch losses of this epoch's first n mini-batches."""
        k = self.runs.index(r)
        col = self.table[:n, k].astype(np.float64) / self.divisors[:n, 0]
        return [float(x) for x in col]

    def _grad_norms(self, step: int) -> list[dict[str, float] | None]:
        out: list[dict[str, float] | None] = [None] * len(self.runs)
        for k, r in enumerate(self.runs):
            ge = r.control.grad_norm_every
            if ge and step % ge == 0:
                fold = self.folds[k]
                inv = 1.0 / fold if fold else 1.0
                norms = {}
                for name, gw, gb in zip(self.names, self.kernel.gWT, self.kernel.gb, strict=True):
                    norms[f"W{name}"] = math.sqrt(float(np.vdot(gw[k], gw[k]))) * inv
                    norms[f"b{name}"] = math.sqrt(float(np.vdot(gb[k], gb[k]))) * inv
                if r.control.keep_steps:  # as fit: a streaming caller keeps none
                    r.hist.grad_norms.append((step, norms))
                out[k] = norms
        return out

    def _step_callbacks(self, ep: int, step: int, bi: int, norms: list) -> None:
        div = self.divisors[bi, 0]
        for k, r in enumerate(self.runs):
            if r.callback is not None:
                self._sync(k)
                loss = float(self.table[bi, k]) / float(div)
                r.callback(StepEvent(ep, step, bi + 1, self.n_batches, loss, r.lr, norms[k]))

    def _end_epoch(self, ep: int, step: int, epoch: int, done: list[_Run]) -> None:
        """fit's end-of-epoch: statistics, validation, divergence, callbacks, early stopping."""
        n_in = self.Xw.shape[1]
        # (K, n_batches), rows contiguous: np.mean sums them as fit sums its list
        losses = np.ascontiguousarray((self.table.astype(np.float64) / self.divisors).T)
        finite_theta = np.isfinite(self.Theta).all(axis=1)
        val_A = self.kernel.forward(self.Xv, self.acts) if self.has_val else None
        leaving = []
        for k, r in enumerate(self.runs):
            if r.control.keep_steps:
                r.hist.step_loss.extend(losses[k].tolist())
            if not finite_theta[k]:  # the epoch's last update overflowed
                r.reason = "diverged"
                last = self.batches[-1][0]
                xb = last[..., :n_in] if self.shared_data else last[k, :, :n_in]
                r.message = self._diverged(k, ep, step, xb)
                r.batch_losses = []
                r.epochs = epoch - 1  # fit breaks before it counts this epoch
                leaving.append(r)
                continue
            runaway = self._runaway(k, ep, step, losses[k])
            if runaway:
                r.reason, r.message, r.batch_losses = "diverged", runaway, []
                r.epochs = epoch - 1  # as above
                leaving.append(r)
                continue
            train_loss = float(np.mean(losses[k]))
            train_acc = None
            if self.classes:
                if k == 0 or not self.shared_data:
                    labels = self.labels[self.perms[k]]
                train_acc = accuracy(self.out_epoch[k], self.Yw, labels)
            val_loss = val_acc = None
            if self.has_val:
                val_loss = self.loss_obj.value(val_A[k], self.Yv, self.runs[0].net.output)
                if self.val_classes:
                    val_acc = accuracy(val_A[k], self.Yv)
            if not math.isfinite(train_loss) or (
                val_loss is not None and not math.isfinite(val_loss)
            ):
                r.reason = "diverged"
                r.message = self._diverged(k, ep, step, self.Xw[: min(self.N, 256)])
                r.batch_losses = []
                r.epochs = epoch  # counted, but its figures are not recorded (as fit)
                leaving.append(r)
                continue
            h = r.hist
            h.epoch_train_loss.append(train_loss)
            h.epoch_val_loss.append(val_loss)
            h.epoch_train_accuracy.append(train_acc)
            h.epoch_val_accuracy.append(val_acc)
            h.epoch_lr.append(r.lr)
            r.batch_losses = []
            if r.callback is not None:
                self._sync(k)
                r.callback(
                    EpochEvent(
                        ep, step, train_loss, val_loss, train_acc, val_acc, r.lr,
                        time.perf_counter() - self.t0,
                    )
                )  # fmt: skip
            if r.cfg.patience is not None:
                monitored = val_loss if val_loss is not None else train_loss
                if monitored < r.best:
                    r.best, r.wait, h.best_epoch = monitored, 0, epoch
                    if r.best_theta is None:
                        r.best_theta = self.Theta[k].copy()
                    else:
                        np.copyto(r.best_theta, self.Theta[k])
                else:
                    r.wait += 1
                    if r.wait >= r.cfg.patience:
                        r.reason = "early_stopped"
                        r.epochs = epoch
                        leaving.append(r)
        if leaving:
            self._finish(leaving, step, None, done)

    def _runaway(self, k: int, ep: int, st: int, losses: np.ndarray) -> str:
        """fit's runaway-weights check (:func:`~bpstudio.engine.training.runaway_weights`) for
        run k at the end of an epoch; puts back its start-of-epoch θ. "" if not."""
        r = self.runs[k]
        if r.first_loss is None:
            r.first_loss = float(losses[0])
        return runaway_weights(
            self.Theta[k], self.snapshot[k], self.hard_limit, r.start_peak, r.first_loss,
            float(np.mean(losses)), r.lr, self.dtype, ep, st,
        )  # fmt: skip

    def _diverged(self, k: int, ep: int, st: int, Xb: np.ndarray) -> str:
        """fit's divergence message for run k; puts back its start-of-epoch θ if not finite."""
        r = self.runs[k]
        names = self.names
        layer = None
        with np.errstate(all="ignore"):
            zs, _ = bp.forward(self._layers(k), self.acts, Xb.astype(self.dtype))
            for i, z in enumerate(zs):
                if not np.all(np.isfinite(z)):
                    layer = f"layer {names[i]} (z^{names[i]} is not finite)"
                    break
        where = layer or f"layer {names[-1]} (the output: the loss overflowed)"
        if np.all(np.isfinite(self.Theta[k])):
            kept = "The weights were kept at their last finite values."
        else:
            np.copyto(self.Theta[k], self.snapshot[k])
            kept = f"The weights were reset to their (finite) values at the start of epoch {ep}."
        return (
            f"Training diverged at epoch {ep}, step {st}: the loss or a gradient became "
            f"infinite/NaN, first in {where}. {kept} Try a smaller learning rate α (now "
            f"{_fmt(r.lr)}, e.g. {_fmt(r.lr / 10)}), or scale the inputs "
            "(standardize the features)."
        )

    def _finish(self, gone: list[_Run], step: int, epoch: int | None, done: list[_Run]) -> None:
        """fit's epilogue for each run in `gone` (weights back into its net, message), then
        take them out of the group. `epoch` None: each run's own count (end of an epoch)."""
        seconds = time.perf_counter() - self.t0
        for r in gone:
            k = self.runs.index(r)
            h = r.hist
            if epoch is None:
                ep_count = r.epochs
            else:
                ep_count = epoch
                if r.reason in ("stopped", "diverged") and r.batch_losses and r.control.keep_steps:
                    h.step_loss.extend(r.batch_losses)  # the partial epoch, as fit keeps it
            h.steps = step
            h.epochs = ep_count
            theta = self.Theta[k]
            if r.best_theta is not None and r.reason in ("finished", "early_stopped"):
                theta = r.best_theta
            self._detach(r, theta.copy())
            h.seconds = seconds
            h.stop_reason = r.reason
            h.message = _final_message(r, self.has_val, ep_count, step, seconds)
            done.append(r)
        self._remove(gone)
        if self.on_finish is not None:  # the group is whole again: the caller may look at it
            for r in gone:
                self.on_finish(r.index, r.hist)


def _final_message(r: _Run, has_val: bool, epoch: int, step: int, seconds: float) -> str:
    """The message `fit` ends with (its wording; a diverged run keeps its own)."""
    h = r.hist
    monitor_name = "validation loss" if has_val else "training loss"
    if r.reason == "finished":
        last = f"; final training loss {_fmt(h.epoch_train_loss[-1])}" if h.epoch_train_loss else ""
        message = f"Finished {epoch} epoch(s), {step} steps in {seconds:.2f} s{last}."
        if r.best_theta is not None and h.best_epoch != epoch:
            message += (
                f" Restored the best weights (epoch {h.best_epoch}, {monitor_name} {_fmt(r.best)})."
            )
        return message
    if r.reason == "stopped":
        return f"Stopped on request after {epoch} complete epoch(s), {step} steps."
    if r.reason == "early_stopped":
        return (
            f"Early stopping at epoch {epoch}: the {monitor_name} has not improved for "
            f"{r.cfg.patience} epoch(s); restored the best weights (epoch {h.best_epoch}, "
            f"{monitor_name} {_fmt(r.best)})."
        )
    return r.message
