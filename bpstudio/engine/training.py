"""`fit`: the one training loop (CLI, GUI child process and benchmarks all call it).

Mini-batch gradient descent over a `Network`, in place: minibatches reshuffled every epoch by a
seeded RNG, optimisers and schedules from `optimizers.py`, early stopping on validation loss
(restoring the best weights), graceful stop on a non-finite loss or gradient, and statistics for
plots.

The caller talks to a running fit through a `callback` (called after every mini-batch with a
`StepEvent`, after every epoch with an `EpochEvent`; it may block, which is how a GUI pauses or
single-steps) and a `FitControl` (stop flag, live learning rate, live gradient-norm frequency),
checked between mini-batches.

dtype: the training dtype is `FitConfig.dtype`, or the network's dtype when None. When they match
(the fast, usual case) training updates `net.params` directly. When they differ, fit trains a
working copy in the training dtype and writes it back into `net.params` before every callback and at
the end, so callers always see current weights. For speed prefer float32 (`Network(...,
dtype="float32")` or `fit(..., dtype="float32")`): about twice as fast on large nets; gradient
checks and `trace` are float64 regardless.

Statistics: `StepEvent.loss` is the mini-batch's mean loss before its update; an epoch's
`train_loss` is the mean of its batch losses and `train_accuracy` is measured on the same running
predictions (no extra pass over the training set). The L2 penalty is not included in reported
losses. Left out: gradient clipping, class weights, multi-process data loading.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from bpstudio.engine import backprop as bp
from bpstudio.engine.errors import EngineError
from bpstudio.engine.kernels import Kernel, use_augmented
from bpstudio.engine.losses import LOSS_TABLE
from bpstudio.engine.network import Network, check_dtype
from bpstudio.engine.optimizers import OPTIMIZERS, SCHEDULES, make_optimizer, schedule_factor

# Below this many bytes of training data, each epoch permutes X and Y into one buffer so that
# mini-batches are plain slices; above it, each step gathers its rows (saves a full copy of X).
_PERMUTE_BYTES = 64 * 2**20


@dataclass
class FitConfig:
    epochs: int | None = 100
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    schedule: str = "constant"
    step_size: int = 10
    gamma: float = 0.5
    patience: int | None = None
    shuffle: bool = True
    seed: int = 0
    grad_norm_every: int = 0
    dtype: str | None = None

    def validate(self) -> None:
        if self.epochs is not None and int(self.epochs) < 0:
            raise EngineError(
                f"epochs must be ≥ 0 (or None to train until stopped); got {self.epochs}."
            )
        if int(self.batch_size) < 1:
            raise EngineError(f"batch_size must be ≥ 1; got {self.batch_size}.")
        if self.optimizer not in OPTIMIZERS:
            raise EngineError(
                f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.schedule not in SCHEDULES:
            raise EngineError(
                f"Unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}."
            )
        if not (math.isfinite(self.lr) and self.lr >= 0):
            raise EngineError(f"The learning rate must be a finite number ≥ 0; got {self.lr}.")
        if self.weight_decay < 0:
            raise EngineError(f"weight_decay must be ≥ 0; got {self.weight_decay}.")
        if self.patience is not None and int(self.patience) < 1:
            raise EngineError(f"patience must be ≥ 1 (or None); got {self.patience}.")
        if self.dtype is not None:
            check_dtype(self.dtype)


class FitControl:
    """Shared with the caller; `fit` reads it between mini-batches."""

    def __init__(self, grad_norm_every: int | None = None) -> None:
        self.stop_requested: bool = False
        # Per-layer gradient norms every k-th step (0 = never). None: `fit` sets it from
        # FitConfig.grad_norm_every when it starts; afterwards it is an int the caller may change.
        self.grad_norm_every: int | None = grad_norm_every
        # False: the History keeps no per-step losses or gradient norms (a caller that streams
        # them from the callback, as the training child does: an until-stopped run otherwise
        # grew by ~100 MB a minute, a dict of norms per step).
        self.keep_steps: bool = True
        self._pending_lr: float | None = None

    def request_stop(self) -> None:
        self.stop_requested = True

    def set_lr(self, lr: float) -> None:
        lr = float(lr)
        if not (math.isfinite(lr) and lr >= 0):
            raise EngineError(f"The learning rate must be a finite number ≥ 0; got {lr}.")
        self._pending_lr = lr


@dataclass(slots=True)
class StepEvent:
    epoch: int
    step: int
    batch: int
    n_batches: int
    loss: float
    lr: float
    grad_norms: dict[str, float] | None = None


@dataclass(slots=True)
class EpochEvent:
    epoch: int
    step: int
    train_loss: float
    val_loss: float | None
    train_accuracy: float | None
    val_accuracy: float | None
    lr: float
    seconds: float


@dataclass
class History:
    step_loss: list[float] = field(default_factory=list)
    epoch_train_loss: list[float] = field(default_factory=list)
    epoch_val_loss: list[float | None] = field(default_factory=list)
    epoch_train_accuracy: list[float | None] = field(default_factory=list)
    epoch_val_accuracy: list[float | None] = field(default_factory=list)
    grad_norms: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    epoch_lr: list[float] = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    stop_reason: str = "finished"
    message: str = ""
    best_epoch: int | None = None


def looks_like_classes(Y: np.ndarray) -> bool:
    """One-hot rows (k > 1) or 0/1 targets (k = 1): accuracy makes sense."""
    if Y.size == 0:
        return False
    if not np.all((Y == 0) | (Y == 1)):
        return False
    return Y.shape[1] == 1 or bool(np.all(Y.sum(axis=1) == 1))


def class_labels(Y: np.ndarray) -> np.ndarray:
    """Class index per row: argmax of one-hot rows, or the 0/1 value for a single output."""
    return (Y[:, 0] > 0.5).astype(np.intp) if Y.shape[1] == 1 else Y.argmax(axis=1)


def accuracy(A: np.ndarray, Y: np.ndarray, labels: np.ndarray | None = None) -> float:
    """Share of rows whose predicted class (argmax, or A > 0.5 for one output) is right."""
    if A.shape[0] == 0:
        return float("nan")
    if labels is None:
        labels = class_labels(Y)
    predicted = (A[:, 0] > 0.5) if A.shape[1] == 1 else A.argmax(axis=1)
    return float(np.count_nonzero(predicted == labels)) / A.shape[0]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def fit(
    net: Network,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    X_val: np.ndarray | None = None,
    Y_val: np.ndarray | None = None,
    config: FitConfig | None = None,
    control: FitControl | None = None,
    callback: Callable[[StepEvent | EpochEvent], Any] | None = None,
    **overrides: Any,
) -> History:
    """Train `net` in place; see the module docstring. Returns a `History`."""
    cfg = config if config is not None else FitConfig()
    if overrides:
        known = {f.name for f in fields(FitConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise EngineError(
                f"Unknown fit option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        cfg = replace(cfg, **overrides)
    cfg.validate()
    control = control if control is not None else FitControl()
    if control.grad_norm_every is None:
        control.grad_norm_every = int(cfg.grad_norm_every)
    dtype = np.dtype(check_dtype(cfg.dtype or net.dtype))

    Xw, Yw = net._check_xy(X, Y, dtype=dtype)
    Xw = np.ascontiguousarray(Xw)
    Yw = np.ascontiguousarray(Yw)
    has_val = X_val is not None and Y_val is not None and len(X_val) > 0
    if has_val:
        Xv, Yv = net._check_xy(X_val, Y_val, dtype=dtype)
    N = Xw.shape[0]
    if N == 0:
        raise EngineError("The training set is empty: there are no rows to learn from.")
    B = min(int(cfg.batch_size), N)
    n_batches = -(-N // B)
    classes = looks_like_classes(Yw)
    labels = class_labels(Yw) if classes else None  # once per fit; permuted per epoch
    val_classes = has_val and classes and looks_like_classes(Yv)
    loss_obj = LOSS_TABLE[net.loss_name]
    acts = net.all_activations
    names = net.layer_names

    # Working parameters: the network's own flat vector when dtypes match, else a cast copy.
    same = dtype == net._theta.dtype
    theta = net._theta if same else net._theta.astype(dtype)
    WT, b = net.block_views(theta)
    g = np.zeros_like(theta)
    gWT, gb = net.block_views(g)
    rows_one = Yw.shape[1] > 1 and float(np.abs(Yw.sum(axis=1) - 1.0).max()) <= 1e-6
    aug = use_augmented(net.sizes, B)
    kernel = Kernel(net.sizes, acts, net.loss_name, net.blocks(theta), net.blocks(g), rows_one, aug)
    opt = make_optimizer(cfg.optimizer, theta.size, dtype, cfg)
    wd = float(cfg.weight_decay)
    wd_mask = net.weight_mask().astype(dtype) if wd > 0 else None  # L2 on weights, not biases
    wd_scaled = np.empty_like(theta) if wd > 0 else None
    wd_tmp = np.empty_like(theta) if wd > 0 else None
    snapshot = np.empty_like(theta)
    best_theta: np.ndarray | None = None

    def sync() -> None:
        if not same:
            np.copyto(net._theta, theta, casting="unsafe")

    def layers_view() -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.T, bb) for w, bb in zip(WT, b, strict=True)]

    permute = Xw.nbytes + Yw.nbytes <= _PERMUTE_BYTES
    out_epoch = np.empty((N, Yw.shape[1]), dtype=dtype)  # A^L of every row, in epoch order
    # One entry per mini-batch, built once: (X rows, Y rows, A^L rows, plan, row range).
    # Permute mode: X and Y are permuted into one buffer per epoch and batches are its slices.
    # Gather mode (large X): each step gathers its rows into one batch buffer.
    # Augmented kernels want X with a trailing column of ones; Xin is the part the data goes in.
    n_in = Xw.shape[1]
    rows = N if permute else B
    Xbuf = np.ones((rows, n_in + 1), dtype=dtype) if aug else np.empty((rows, n_in), dtype=dtype)
    Xin = Xbuf[:, :n_in]
    Ybuf = np.empty((rows, Yw.shape[1]), dtype=dtype)
    plans = {B: kernel.plan(B), N - (n_batches - 1) * B: kernel.plan(N - (n_batches - 1) * B)}
    batches = [
        (
            Xbuf[s : s + B] if permute else Xbuf[: min(B, N - s)],
            Ybuf[s : s + B] if permute else Ybuf[: min(B, N - s)],
            out_epoch[s : s + B],
            plans[min(B, N - s)],
            s,
            min(N, s + B),
        )
        for s in range(0, N, B)
    ]
    rng = np.random.default_rng(cfg.seed)

    hist = History()
    t0 = time.perf_counter()
    lr = float(cfg.lr)
    step = 0
    epoch = 0
    best = math.inf
    wait = 0
    reason = "finished"
    message = ""
    epoch_limit = cfg.epochs
    callback_ = callback
    step_fn, opt_step = kernel.step, opt.step
    isfinite = math.isfinite

    def set_lr(lr: float) -> float:
        """Fold the optimiser's scale for α into the kernels; returns it (0 means α = 0)."""
        fold = opt.grad_scale(lr)
        kernel.set_fold(fold if fold else 1.0)  # α = 0: compute real gradients, then drop them
        if wd:
            np.multiply(wd_mask, fold * wd, out=wd_scaled)
        return fold

    def diverged(ep: int, st: int, Xb: np.ndarray) -> str:
        """Say where training diverged; put back the start-of-epoch weights if θ is not finite."""
        layer = None
        with np.errstate(all="ignore"):
            zs, _ = bp.forward(layers_view(), acts, Xb.astype(dtype))
            for i, z in enumerate(zs):
                if not np.all(np.isfinite(z)):
                    layer = f"layer {names[i]} (z^{names[i]} is not finite)"
                    break
        where = layer or f"layer {names[-1]} (the output: the loss overflowed)"
        if np.all(np.isfinite(theta)):
            kept = "The weights were kept at their last finite values."
        else:
            np.copyto(theta, snapshot)
            kept = f"The weights were reset to their (finite) values at the start of epoch {ep}."
        return (
            f"Training diverged at epoch {ep}, step {st}: the loss or a gradient became "
            f"infinite/NaN, first in {where}. {kept} Try a smaller learning rate α (now "
            f"{_fmt(lr)}, e.g. {_fmt(lr / 10)}), or scale the inputs (standardize the features)."
        )

    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        while epoch_limit is None or epoch < epoch_limit:
            if control.stop_requested:
                reason = "stopped"
                break
            ep = epoch + 1
            lr *= schedule_factor(cfg.schedule, ep, cfg.step_size, cfg.gamma)
            perm = rng.permutation(N) if cfg.shuffle else np.arange(N)
            if permute:
                np.take(Xw, perm, axis=0, out=Xin, mode="clip")  # "clip": unbuffered out=
                np.take(Yw, perm, axis=0, out=Ybuf, mode="clip")
            np.copyto(snapshot, theta)
            batch_losses: list[float] = []
            append_loss = batch_losses.append
            fold = set_lr(lr)
            for bi, (Xb, Yb, ALb, plan, s, e) in enumerate(batches):
                if bi and control.stop_requested:
                    reason = "stopped"
                    break
                if control._pending_lr is not None:
                    lr = control._pending_lr
                    control._pending_lr = None
                    fold = set_lr(lr)
                if not permute:
                    idx = perm[s:e]
                    np.take(Xw, idx, axis=0, out=Xin[: e - s], mode="clip")
                    np.take(Yw, idx, axis=0, out=Yb, mode="clip")
                loss = step_fn(Xb, Yb, ALb, plan)
                step += 1
                # A finite loss means finite A^L, hence a finite Δ^L; and any non-finite weight
                # reaches the loss through the forward pass (inf·0 = NaN), so this one check also
                # catches an update that overflowed, one step late: then θ goes back to the
                # start-of-epoch snapshot. A last check runs at the end of each epoch.
                if not isfinite(loss):
                    reason = "diverged"
                    message = diverged(ep, step, Xb[:, :n_in])
                    step -= 1
                    break
                ge = control.grad_norm_every
                norms = None
                if ge and step % ge == 0:
                    inv = 1.0 / fold if fold else 1.0
                    norms = {}
                    for i, name in enumerate(names):
                        norms[f"W{name}"] = math.sqrt(float(np.vdot(gWT[i], gWT[i]))) * inv
                        norms[f"b{name}"] = math.sqrt(float(np.vdot(gb[i], gb[i]))) * inv
                    if control.keep_steps:
                        hist.grad_norms.append((step, norms))
                if not fold:
                    g[...] = 0.0
                elif wd:
                    np.multiply(theta, wd_scaled, out=wd_tmp)  # L2: ∂/∂W (λ/2)‖W‖² = λW
                    np.add(g, wd_tmp, out=g)
                opt_step(theta, g, lr, step)
                append_loss(loss)
                if callback_ is not None:
                    sync()
                    callback_(StepEvent(ep, step, bi + 1, n_batches, loss, lr, norms))
            done_batches = len(batch_losses)
            if reason != "diverged" and not np.all(np.isfinite(theta)):
                reason = "diverged"  # the epoch's last update overflowed
                message = diverged(ep, step, batches[-1][0][:, :n_in])
            if control.keep_steps:
                hist.step_loss.extend(batch_losses)
            if reason != "finished" or done_batches < n_batches:
                if reason == "finished":
                    reason = "stopped"
                break
            epoch = ep
            train_loss = float(np.mean(batch_losses))
            train_acc = None
            if classes:
                train_acc = accuracy(out_epoch, Yw, labels[perm])
            val_loss = val_acc = None
            if has_val:
                _, va = bp.forward(layers_view(), acts, Xv)
                val_loss = loss_obj.value(va[-1], Yv, net.output)
                if val_classes:
                    val_acc = accuracy(va[-1], Yv)
            if not math.isfinite(train_loss) or (
                val_loss is not None and not math.isfinite(val_loss)
            ):
                reason = "diverged"
                message = diverged(ep, step, Xw[: min(N, 256)])
                break
            hist.epoch_train_loss.append(train_loss)
            hist.epoch_val_loss.append(val_loss)
            hist.epoch_train_accuracy.append(train_acc)
            hist.epoch_val_accuracy.append(val_acc)
            hist.epoch_lr.append(lr)
            hist.epochs = epoch
            hist.steps = step
            if callback_ is not None:
                sync()
                callback_(
                    EpochEvent(
                        ep,
                        step,
                        train_loss,
                        val_loss,
                        train_acc,
                        val_acc,
                        lr,
                        time.perf_counter() - t0,
                    )
                )
            if cfg.patience is not None:
                monitored = val_loss if val_loss is not None else train_loss
                if monitored < best:
                    best, wait, hist.best_epoch = monitored, 0, epoch
                    if best_theta is None:
                        best_theta = theta.copy()
                    else:
                        np.copyto(best_theta, theta)
                else:
                    wait += 1
                    if wait >= cfg.patience:
                        reason = "early_stopped"
                        break

    hist.steps = step
    hist.epochs = epoch
    if best_theta is not None and reason in ("finished", "early_stopped"):
        np.copyto(theta, best_theta)
    sync()
    hist.seconds = time.perf_counter() - t0
    hist.stop_reason = reason
    monitor_name = "validation loss" if has_val else "training loss"
    if reason == "finished":
        last = (
            f"; final training loss {_fmt(hist.epoch_train_loss[-1])}"
            if hist.epoch_train_loss
            else ""
        )
        message = f"Finished {epoch} epoch(s), {step} steps in {hist.seconds:.2f} s{last}."
        if best_theta is not None and hist.best_epoch != epoch:
            message += (
                f" Restored the best weights (epoch {hist.best_epoch}, "
                f"{monitor_name} {_fmt(best)})."
            )
    elif reason == "stopped":
        message = f"Stopped on request after {epoch} complete epoch(s), {step} steps."
    elif reason == "early_stopped":
        message = (
            f"Early stopping at epoch {epoch}: the {monitor_name} has not improved for "
            f"{cfg.patience} epoch(s); restored the best weights (epoch {hist.best_epoch}, "
            f"{monitor_name} {_fmt(best)})."
        )
    hist.message = message
    return hist
