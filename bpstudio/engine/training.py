"""`fit`: the one training loop (CLI, GUI child process and benchmarks all call it).

Mini-batch gradient descent over a `Network`, in place: minibatches reshuffled every epoch by a
seeded RNG, optimisers and schedules from `optimizers.py`, early stopping on validation loss
(restoring the best weights), graceful stop on a non-finite loss or gradient or on runaway
weights (past √max of the dtype, or 10⁶ times their start with no fall in the loss), and
statistics for plots. What it is given is checked first (``validate.check_fit_inputs``: NaN/inf,
overflowing values, cross-entropy targets, memory), so bad data is named, not called divergence.

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
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

import numpy as np

from bpstudio import heads
from bpstudio.engine import backprop as bp
from bpstudio.engine.errors import EngineError
from bpstudio.engine.kernels import Kernel, use_augmented
from bpstudio.engine.losses import LOSS_TABLE
from bpstudio.engine.network import Network, check_dtype
from bpstudio.engine.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    OptimizerState,
    make_optimizer,
    schedule_factor,
)
from bpstudio.engine.validate import check_fit_inputs

# Below this many bytes of training data, each epoch permutes X and Y into one buffer so that
# mini-batches are plain slices; above it, each step gathers its rows (saves a full copy of X).
_PERMUTE_BYTES = 64 * 2**20


@dataclass
class FitConfig:
    """How to train: the typed object every caller hands to ``fit`` (and the window's child).

    These defaults are the engine's, and the only home of the optimiser and schedule
    hyperparameters (momentum, β1/β2, ε, schedule step and γ): textbook plain SGD with α = 0.1,
    what the notation and the teaching views describe. Two callers depart on purpose and say why
    where they decide it: the window (``ui/training_panel.py``: batches of 10, 200 epochs, for
    the playground sets) and the CLI (``cli.py``: Adam, α = 0.01, float32: measured to work
    without tuning).
    """

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

    def to_dict(self) -> dict[str, Any]:
        """Every field by name (JSON-safe: numbers, strings, booleans, None)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FitConfig:
        """The inverse of ``to_dict``; missing fields take their defaults, unknown ones are an
        ``EngineError`` (a typo must not silently train with a default)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise EngineError(
                f"Unknown fit option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        return cls(**values)


class StopReason(StrEnum):
    """Why ``fit`` returned. String-valued: ``reason == "finished"`` keeps working."""

    FINISHED = "finished"  # the epoch budget ran out (or there was none: 0 epochs)
    STOPPED = "stopped"  # the caller asked (FitControl.request_stop)
    EARLY_STOPPED = "early_stopped"  # the monitored loss stopped improving for `patience` epochs
    DIVERGED = "diverged"  # a loss or gradient became infinite/NaN


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
        self._trainer: _Trainer | None = None  # set by `fit` while it runs

    def optimizer_state(self) -> OptimizerState | None:
        """The running fit's optimiser (its arrays copied), or None outside `fit`. Called from
        the callback, between steps: the state is the one the next step starts from."""
        tr = self._trainer
        if tr is None:
            return None
        # α of the next step: a pending set_lr applies first (a schedule's change at the next
        # epoch's start is left out: the state is for the next step within this epoch)
        lr = self._pending_lr if self._pending_lr is not None else tr.lr
        return OptimizerState(tr.cfg.optimizer, int(tr.step), float(lr), tr.opt.state())

    def reload_params(self) -> None:
        """The caller changed the network's parameters (``Network.set_params``) between steps:
        the running fit trains on from them (its working copy follows when it trains in
        another dtype)."""
        tr = self._trainer
        if tr is not None and not tr.same:
            np.copyto(tr.theta, tr.net._theta, casting="unsafe")

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
    stop_reason: StopReason = StopReason.FINISHED
    message: str = ""
    best_epoch: int | None = None


def looks_like_classes(Y: np.ndarray) -> bool:
    """One-hot rows (k > 1) or 0/1 targets (k = 1): accuracy makes sense."""
    if Y.size == 0:
        return False
    if not np.all((Y == 0) | (Y == 1)):
        return False
    return Y.shape[1] == 1 or bool(np.all(Y.sum(axis=1) == 1))


# The predicted-class rule has one home, ``bpstudio.heads``; these names stay for callers.
class_labels = heads.target_class
accuracy = heads.accuracy


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
    """Train `net` in place; see the module docstring. Returns a `History`.

    The steps, each a function or method below: resolve the configuration, check and cast the
    data, allocate the trainer (parameters, kernels, optimiser, buffers: once per fit), then per
    epoch shuffle, run the mini-batches, evaluate, record, and check early stopping; finally put
    back the best weights and say what happened.
    """
    cfg = _resolve_config(config, overrides)
    check_fit_inputs(net, X, Y, X_val, Y_val, batch_size=cfg.batch_size, dtype=cfg.dtype)
    control = control if control is not None else FitControl()
    if control.grad_norm_every is None:
        control.grad_norm_every = int(cfg.grad_norm_every)
    data = _FitData.check(net, X, Y, X_val, Y_val, cfg)
    trainer = _Trainer(net, data, cfg)
    control._trainer = trainer
    try:
        return _fit_loop(trainer, data, cfg, control, callback)
    finally:
        control._trainer = None


def _fit_loop(
    trainer: _Trainer,
    data: _FitData,
    cfg: FitConfig,
    control: FitControl,
    callback: Callable[[StepEvent | EpochEvent], Any] | None,
) -> History:
    """The epochs of `fit`, then the best weights put back and what happened said."""
    hist = History()
    early = _EarlyStopping(cfg.patience)
    reason, message = StopReason.FINISHED, ""
    t0 = time.perf_counter()
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        while cfg.epochs is None or trainer.epoch < cfg.epochs:
            if control.stop_requested:
                reason = StopReason.STOPPED
                break
            ep = trainer.epoch + 1
            perm = trainer.start_epoch(ep)
            reason, message, batch_losses = trainer.run_batches(ep, hist, control, callback)
            if control.keep_steps:
                hist.step_loss.extend(batch_losses)
            if reason != StopReason.FINISHED or len(batch_losses) < data.n_batches:
                if reason == StopReason.FINISHED:
                    reason = StopReason.STOPPED
                break
            trainer.epoch = ep
            scores = trainer.evaluate(perm, batch_losses)
            if not scores.finite:
                reason = StopReason.DIVERGED
                message = trainer.diverged(ep, trainer.step, data.Xw[: min(data.N, 256)])
                break
            _record_epoch(hist, trainer, scores)
            if callback is not None:
                trainer.sync()
                callback(scores.event(ep, trainer, time.perf_counter() - t0))
            if early.update(scores.monitored, trainer):
                reason = StopReason.EARLY_STOPPED
                break

    hist.steps = trainer.step
    hist.epochs = trainer.epoch
    hist.best_epoch = early.best_epoch
    if early.best_theta is not None and reason in (StopReason.FINISHED, StopReason.EARLY_STOPPED):
        np.copyto(trainer.theta, early.best_theta)
    trainer.sync()
    hist.seconds = time.perf_counter() - t0
    hist.stop_reason = reason
    hist.message = _final_message(hist, reason, message, early, data.has_val, cfg.patience)
    return hist


# --- the steps of fit ------------------------------------------------------------------------


def _resolve_config(config: FitConfig | None, overrides: dict[str, Any]) -> FitConfig:
    """The configuration with keyword overrides applied, validated (unknown names refused)."""
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
    return cfg


@dataclass
class _FitData:
    """The training and validation arrays in the training dtype, and what they imply."""

    dtype: np.dtype
    Xw: np.ndarray
    Yw: np.ndarray
    Xv: np.ndarray | None
    Yv: np.ndarray | None
    has_val: bool
    N: int
    B: int
    n_batches: int
    classes: bool  # accuracy makes sense on the training targets
    labels: np.ndarray | None  # their class per row, once per fit (permuted per epoch)
    val_classes: bool

    @classmethod
    def check(
        cls,
        net: Network,
        X: np.ndarray,
        Y: np.ndarray,
        X_val: np.ndarray | None,
        Y_val: np.ndarray | None,
        cfg: FitConfig,
    ) -> _FitData:
        dtype = np.dtype(check_dtype(cfg.dtype or net.dtype))
        Xw, Yw = net._check_xy(X, Y, dtype=dtype)
        Xw = np.ascontiguousarray(Xw)
        Yw = np.ascontiguousarray(Yw)
        has_val = X_val is not None and Y_val is not None and len(X_val) > 0
        Xv = Yv = None
        if has_val:
            Xv, Yv = net._check_xy(X_val, Y_val, dtype=dtype)
        N = Xw.shape[0]
        if N == 0:
            raise EngineError("The training set is empty: there are no rows to learn from.")
        B = min(int(cfg.batch_size), N)
        classes = looks_like_classes(Yw)
        return cls(
            dtype=dtype,
            Xw=Xw,
            Yw=Yw,
            Xv=Xv,
            Yv=Yv,
            has_val=has_val,
            N=N,
            B=B,
            n_batches=-(-N // B),
            classes=classes,
            labels=class_labels(Yw) if classes else None,
            val_classes=has_val and classes and looks_like_classes(Yv),
        )


@dataclass
class _EpochScores:
    train_loss: float
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None

    @property
    def finite(self) -> bool:
        return math.isfinite(self.train_loss) and (
            self.val_loss is None or math.isfinite(self.val_loss)
        )

    @property
    def monitored(self) -> float:
        """What early stopping watches: the validation loss, else the training loss."""
        return self.val_loss if self.val_loss is not None else self.train_loss

    def event(self, ep: int, trainer: _Trainer, seconds: float) -> EpochEvent:
        return EpochEvent(
            ep,
            trainer.step,
            self.train_loss,
            self.val_loss,
            self.train_acc,
            self.val_acc,
            trainer.lr,
            seconds,
        )


def runaway_weights(
    theta: np.ndarray,
    snapshot: np.ndarray,
    hard_limit: float,
    start_peak: float,
    first_loss: float,
    train_loss: float,
    lr: float,
    dtype: np.dtype,
    ep: int,
    st: int,
) -> str:
    """Runaway weights are divergence too, even while the loss stays finite (a saturated
    softmax keeps a clipped cross-entropy finite): past √max of the dtype their squares
    overflow, and weights 10⁶ times their start with a loss no lower than the untrained net's
    are blowing up. Returns the message (and puts the start-of-epoch ``snapshot`` back into
    ``theta``), or "". One home for ``fit`` and ``fit_many`` (per run)."""
    peak = float(max(theta.max(), -theta.min())) if theta.size else 0.0
    hard = peak > hard_limit
    if not hard and not (peak > 1e6 * start_peak and train_loss >= first_loss):
        return ""
    if np.all(np.abs(snapshot) <= hard_limit):
        np.copyto(theta, snapshot)
        kept = f"The weights were reset to their values at the start of epoch {ep}."
    else:
        kept = "The weights were not usable at the start of the epoch either."
    why = (
        f"beyond {hard_limit:.2g}, where their squares overflow {np.dtype(dtype).name}"
        if hard
        else f"{peak / start_peak:.2g} times their start while the loss did not fall"
    )
    return (
        f"Training diverged at epoch {ep}, step {st}: the weights ran away to {peak:.3g} "
        f"({why}). {kept} Try a smaller learning rate α (now {_fmt(lr)}, e.g. "
        f"{_fmt(lr / 10)}), or scale the inputs (standardize the features)."
    )


class _Trainer:
    """Everything one fit allocates once: working parameters θ and gradients g (flat vectors with
    per-layer views), the fused kernels, the optimiser, L2 masks, the data buffers and the
    mini-batch plan; and the loop's state (epoch, step, α)."""

    def __init__(self, net: Network, data: _FitData, cfg: FitConfig) -> None:
        self.net, self.data, self.cfg = net, data, cfg
        dtype = data.dtype
        Yw, N, B = data.Yw, data.N, data.B
        self.acts = net.all_activations
        self.names = net.layer_names
        self.loss_obj = LOSS_TABLE[net.loss_name]
        # Working parameters: the network's own flat vector when dtypes match, else a cast copy.
        self.same = dtype == net._theta.dtype
        self.theta = theta = net._theta if self.same else net._theta.astype(dtype)
        self.WT, self.b = net.block_views(theta)
        self.g = g = np.zeros_like(theta)
        self.gWT, self.gb = net.block_views(g)
        rows_one = Yw.shape[1] > 1 and float(np.abs(Yw.sum(axis=1) - 1.0).max()) <= 1e-6
        aug = use_augmented(net.sizes, B)
        self.kernel = Kernel(
            net.sizes, self.acts, net.loss_name, net.blocks(theta), net.blocks(g), rows_one, aug
        )
        self.opt = make_optimizer(cfg.optimizer, theta.size, dtype, cfg)
        self.wd = wd = float(cfg.weight_decay)
        # L2 on weights, not biases
        self.wd_mask = net.weight_mask().astype(dtype) if wd > 0 else None
        self.wd_scaled = np.empty_like(theta) if wd > 0 else None
        self.wd_tmp = np.empty_like(theta) if wd > 0 else None
        self.snapshot = np.empty_like(theta)  # θ at the start of the epoch (divergence reset)
        # Runaway weights (see `runaway`): past √max of the dtype their squares overflow.
        self.hard_limit = float(np.sqrt(np.finfo(dtype).max))
        self.start_peak = max(1.0, float(np.max(np.abs(theta)))) if theta.size else 1.0
        self.first_loss: float | None = None  # the first batch's loss: the untrained net's
        self._plan_batches(aug)
        self.rng = np.random.default_rng(cfg.seed)
        self.lr = float(cfg.lr)
        self.fold = 1.0
        self.epoch = 0
        self.step = 0
        self.perm: np.ndarray = np.arange(N)

    def _plan_batches(self, aug: bool) -> None:
        """Buffers and one entry per mini-batch, built once: (X rows, Y rows, A^L rows, plan,
        row range). Permute mode: X and Y are permuted into one buffer per epoch and batches are
        its slices. Gather mode (large X): each step gathers its rows into one batch buffer.
        Augmented kernels want X with a trailing column of ones; Xin is the part the data goes in.
        """
        data, kernel = self.data, self.kernel
        Xw, Yw, N, B, n_batches, dtype = (
            data.Xw,
            data.Yw,
            data.N,
            data.B,
            data.n_batches,
            data.dtype,
        )
        self.permute = permute = Xw.nbytes + Yw.nbytes <= _PERMUTE_BYTES
        self.out_epoch = out_epoch = np.empty((N, Yw.shape[1]), dtype=dtype)  # A^L, epoch order
        self.n_in = n_in = Xw.shape[1]
        rows = N if permute else B
        Xbuf = (
            np.ones((rows, n_in + 1), dtype=dtype) if aug else np.empty((rows, n_in), dtype=dtype)
        )
        self.Xin = Xbuf[:, :n_in]
        self.Ybuf = Ybuf = np.empty((rows, Yw.shape[1]), dtype=dtype)
        last = N - (n_batches - 1) * B
        plans = {B: kernel.plan(B), last: kernel.plan(last)}
        self.batches = [
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

    # --- helpers -------------------------------------------------------------------------------
    def sync(self) -> None:
        """Write the working θ back into the network (only when training in another dtype)."""
        if not self.same:
            np.copyto(self.net._theta, self.theta, casting="unsafe")

    def layers_view(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.T, bb) for w, bb in zip(self.WT, self.b, strict=True)]

    def set_lr(self, lr: float) -> float:
        """Fold the optimiser's scale for α into the kernels; returns it (0 means α = 0)."""
        fold = self.opt.grad_scale(lr)
        self.kernel.set_fold(fold if fold else 1.0)  # α = 0: compute real gradients, then drop them
        if self.wd:
            np.multiply(self.wd_mask, fold * self.wd, out=self.wd_scaled)
        self.fold = fold
        return fold

    def grad_norms(self, fold: float) -> dict[str, float]:
        """‖∂J/∂W^l‖ and ‖∂J/∂b^l‖ per layer, from the gradient the kernels left (unfolded)."""
        inv = 1.0 / fold if fold else 1.0
        gWT, gb = self.gWT, self.gb
        norms = {}
        for i, name in enumerate(self.names):
            norms[f"W{name}"] = math.sqrt(float(np.vdot(gWT[i], gWT[i]))) * inv
            norms[f"b{name}"] = math.sqrt(float(np.vdot(gb[i], gb[i]))) * inv
        return norms

    def diverged(self, ep: int, st: int, Xb: np.ndarray) -> str:
        """Say where training diverged; put back the start-of-epoch weights if θ is not finite."""
        names, lr = self.names, self.lr
        layer = None
        with np.errstate(all="ignore"):
            zs, _ = bp.forward(self.layers_view(), self.acts, Xb.astype(self.data.dtype))
            for i, z in enumerate(zs):
                if not np.all(np.isfinite(z)):
                    layer = f"layer {names[i]} (z^{names[i]} is not finite)"
                    break
        where = layer or f"layer {names[-1]} (the output: the loss overflowed)"
        if np.all(np.isfinite(self.theta)):
            kept = "The weights were kept at their last finite values."
        else:
            np.copyto(self.theta, self.snapshot)
            kept = f"The weights were reset to their (finite) values at the start of epoch {ep}."
        return (
            f"Training diverged at epoch {ep}, step {st}: the loss or a gradient became "
            f"infinite/NaN, first in {where}. {kept} Try a smaller learning rate α (now "
            f"{_fmt(lr)}, e.g. {_fmt(lr / 10)}), or scale the inputs (standardize the features)."
        )

    def runaway(self, ep: int, st: int, losses: list[float]) -> str:
        """See :func:`runaway_weights` (this run's θ, snapshot and α)."""
        if self.first_loss is None:
            self.first_loss = losses[0]
        return runaway_weights(
            self.theta, self.snapshot, self.hard_limit, self.start_peak, self.first_loss,
            float(np.mean(losses)), self.lr, self.data.dtype, ep, st,
        )  # fmt: skip

    # --- an epoch ------------------------------------------------------------------------------
    def start_epoch(self, ep: int) -> np.ndarray:
        """Schedule α, draw this epoch's order of rows, keep θ for a divergence reset."""
        cfg, data = self.cfg, self.data
        self.lr *= schedule_factor(cfg.schedule, ep, cfg.step_size, cfg.gamma)
        perm = self.rng.permutation(data.N) if cfg.shuffle else np.arange(data.N)
        if self.permute:
            np.take(data.Xw, perm, axis=0, out=self.Xin, mode="clip")  # "clip": unbuffered out=
            np.take(data.Yw, perm, axis=0, out=self.Ybuf, mode="clip")
        np.copyto(self.snapshot, self.theta)
        self.perm = perm
        return perm

    def run_batches(
        self,
        ep: int,
        hist: History,
        control: FitControl,
        callback: Callable[[StepEvent | EpochEvent], Any] | None,
    ) -> tuple[StopReason, str, list[float]]:
        """One pass over the mini-batches: forward, backprop (BP1–BP4, in the kernels), L2, the
        optimiser's update; events to ``callback``. Returns (reason, message, batch losses)."""
        reason, message = StopReason.FINISHED, ""
        theta, g, perm, data = self.theta, self.g, self.perm, self.data
        Xw, Yw, Xin, n_in, permute = data.Xw, data.Yw, self.Xin, self.n_in, self.permute
        n_batches, wd, wd_scaled, wd_tmp = data.n_batches, self.wd, self.wd_scaled, self.wd_tmp
        step_fn, opt_step, isfinite = self.kernel.step, self.opt.step, math.isfinite
        step = self.step
        lr = self.lr
        batch_losses: list[float] = []
        append_loss = batch_losses.append
        fold = self.set_lr(lr)
        for bi, (Xb, Yb, ALb, plan, s, e) in enumerate(self.batches):
            if bi and control.stop_requested:
                reason = StopReason.STOPPED
                break
            if control._pending_lr is not None:
                lr = self.lr = control._pending_lr
                control._pending_lr = None
                fold = self.set_lr(lr)
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
                reason = StopReason.DIVERGED
                message = self.diverged(ep, step, Xb[:, :n_in])
                step -= 1
                break
            ge = control.grad_norm_every
            norms = None
            if ge and step % ge == 0:
                norms = self.grad_norms(fold)
                if control.keep_steps:
                    hist.grad_norms.append((step, norms))
            if not fold:
                g[...] = 0.0
            elif wd:
                np.multiply(theta, wd_scaled, out=wd_tmp)  # L2: ∂/∂W (λ/2)‖W‖² = λW
                np.add(g, wd_tmp, out=g)
            opt_step(theta, g, lr, step)
            append_loss(loss)
            if callback is not None:
                self.step = step
                self.sync()
                callback(StepEvent(ep, step, bi + 1, n_batches, loss, lr, norms))
        self.step = step
        if reason != StopReason.DIVERGED and not np.all(np.isfinite(theta)):
            reason = StopReason.DIVERGED  # the epoch's last update overflowed
            message = self.diverged(ep, step, self.batches[-1][0][:, :n_in])
        elif reason != StopReason.DIVERGED and batch_losses:
            why = self.runaway(ep, step, batch_losses)
            if why:
                reason, message = StopReason.DIVERGED, why
        return reason, message, batch_losses

    def evaluate(self, perm: np.ndarray, batch_losses: list[float]) -> _EpochScores:
        """The epoch's figures: mean batch loss and running accuracy on the training rows (no
        extra pass), loss and accuracy of the end-of-epoch weights on the validation rows."""
        data = self.data
        train_loss = float(np.mean(batch_losses))
        train_acc = None
        if data.classes:
            train_acc = accuracy(self.out_epoch, data.Yw, data.labels[perm])
        val_loss = val_acc = None
        if data.has_val:
            _, va = bp.forward(self.layers_view(), self.acts, data.Xv)
            val_loss = self.loss_obj.value(va[-1], data.Yv, self.net.output)
            if data.val_classes:
                val_acc = accuracy(va[-1], data.Yv)
        return _EpochScores(train_loss, train_acc, val_loss, val_acc)


def _record_epoch(hist: History, trainer: _Trainer, scores: _EpochScores) -> None:
    hist.epoch_train_loss.append(scores.train_loss)
    hist.epoch_val_loss.append(scores.val_loss)
    hist.epoch_train_accuracy.append(scores.train_acc)
    hist.epoch_val_accuracy.append(scores.val_acc)
    hist.epoch_lr.append(trainer.lr)
    hist.epochs = trainer.epoch
    hist.steps = trainer.step


class _EarlyStopping:
    """Keeps the best weights by the monitored loss; says when `patience` epochs brought no
    improvement (scikit-learn's ``_update_no_improvement_count``, with a restore)."""

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.best = math.inf
        self.wait = 0
        self.best_epoch: int | None = None
        self.best_theta: np.ndarray | None = None

    def update(self, monitored: float, trainer: _Trainer) -> bool:
        """Record this epoch; True when training should stop."""
        if self.patience is None:
            return False
        if monitored < self.best:
            self.best, self.wait, self.best_epoch = monitored, 0, trainer.epoch
            if self.best_theta is None:
                self.best_theta = trainer.theta.copy()
            else:
                np.copyto(self.best_theta, trainer.theta)
            return False
        self.wait += 1
        return self.wait >= self.patience


def _final_message(
    hist: History,
    reason: StopReason,
    message: str,
    early: _EarlyStopping,
    has_val: bool,
    patience: int | None,
) -> str:
    """The one-paragraph summary ``History.message`` carries (a divergence keeps its own)."""
    monitor_name = "validation loss" if has_val else "training loss"
    epoch, step, best = hist.epochs, hist.steps, early.best
    if reason == StopReason.FINISHED:
        last = (
            f"; final training loss {_fmt(hist.epoch_train_loss[-1])}"
            if hist.epoch_train_loss
            else ""
        )
        message = f"Finished {epoch} epoch(s), {step} steps in {hist.seconds:.2f} s{last}."
        if early.best_theta is not None and hist.best_epoch != epoch:
            message += (
                f" Restored the best weights (epoch {hist.best_epoch}, "
                f"{monitor_name} {_fmt(best)})."
            )
    elif reason == StopReason.STOPPED:
        message = f"Stopped on request after {epoch} complete epoch(s), {step} steps."
    elif reason == StopReason.EARLY_STOPPED:
        message = (
            f"Early stopping at epoch {epoch}: the {monitor_name} has not improved for "
            f"{patience} epoch(s); restored the best weights (epoch {hist.best_epoch}, "
            f"{monitor_name} {_fmt(best)})."
        )
    return message
