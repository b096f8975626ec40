"""Parameter update rules (sgd, momentum with optional Nesterov, adam) and learning-rate schedules.

The optimisers work on ONE flat vector θ holding every W^l and b^l (see `network.py`), so an update
is a handful of NumPy calls whatever the depth. To save a pass over θ, `fit` folds a scale into the
output delta Δ^L, so the gradient vector `g` it hands over is already `grad_scale(lr) · ∂J/∂θ`:
- sgd, momentum: `g = α ∂J/∂θ` (the GEMMs write ready-scaled steps);
- adam: `g = (1 − β1) ∂J/∂θ` (the first-moment update becomes `m = β1 m + g`).
L2 weight decay (on weights, not biases) is added by `fit` to `g` with the same scale.
Schedules change α once per epoch, multiplicatively, so a live `set_lr` keeps decaying from the
new value. Left out: AdamW, RMSprop, warm-up, per-step schedules.

Each optimiser's state (momentum's velocity ``v``; Adam's ``m`` and ``v``; SGD has none) can be
read with ``state()`` (copies) and put back with ``load_state()``: the training child sends it
when it pauses, so the inspector's update stage can take the step training will take next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bpstudio.engine.errors import EngineError

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam")
SCHEDULES: tuple[str, ...] = ("constant", "step", "exponential")


class _Stateful:
    """``state()`` / ``load_state()`` over the flat arrays named in ``STATE``."""

    STATE: tuple[str, ...] = ()

    def state(self) -> dict[str, np.ndarray]:
        """The optimiser's state arrays (flat, laid out like θ), copied."""
        return {key: getattr(self, key).copy() for key in self.STATE}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Put back arrays from ``state()`` (same names, same size)."""
        for key, arr in state.items():
            if key not in self.STATE:
                raise EngineError(f"This optimiser has no state {key!r}.")
            mine = getattr(self, key)
            arr = np.asarray(arr)
            if arr.shape != mine.shape:
                raise EngineError(
                    f"Optimiser state {key!r} has {arr.size} values; the network has {mine.size}."
                )
            mine[...] = arr


class SGD(_Stateful):
    """θ ← θ − α ∂J/∂θ."""

    def __init__(self, size: int, dtype: np.dtype, cfg) -> None:
        pass

    def grad_scale(self, lr: float) -> float:
        return lr

    def step(self, theta: np.ndarray, g: np.ndarray, lr: float, t: int) -> None:
        np.subtract(theta, g, out=theta)  # g = α ∂J/∂θ already


class Momentum(_Stateful):
    """v ← μ v − α ∂J/∂θ; θ ← θ + v  (Nesterov: θ ← θ + μ v − α ∂J/∂θ)."""

    STATE = ("v",)

    def __init__(self, size: int, dtype: np.dtype, cfg) -> None:
        self.mu = float(cfg.momentum)
        self.nesterov = bool(cfg.nesterov)
        self.v = np.zeros(size, dtype=dtype)
        self.tmp = np.zeros(size, dtype=dtype) if self.nesterov else None

    def grad_scale(self, lr: float) -> float:
        return lr

    def step(self, theta: np.ndarray, g: np.ndarray, lr: float, t: int) -> None:
        v = self.v
        v *= self.mu
        v -= g  # g = α ∂J/∂θ already
        if self.nesterov:
            np.multiply(v, self.mu, out=self.tmp)
            self.tmp -= g
            theta += self.tmp
        else:
            theta += v


class Adam(_Stateful):
    """Adam (Kingma & Ba) with bias correction folded into the step size."""

    STATE = ("m", "v")

    def __init__(self, size: int, dtype: np.dtype, cfg) -> None:
        self.b1, self.b2, self.eps = float(cfg.beta1), float(cfg.beta2), float(cfg.eps)
        self.m = np.zeros(size, dtype=dtype)
        self.v = np.zeros(size, dtype=dtype)
        self.tmp = np.zeros(size, dtype=dtype)
        # g arrives as (1 − β1)∇, so (1 − β2)∇² = c · g² with this c:
        self.c = (1.0 - self.b2) / (1.0 - self.b1) ** 2

    def grad_scale(self, lr: float) -> float:
        return 1.0 - self.b1

    def step(self, theta: np.ndarray, g: np.ndarray, lr: float, t: int) -> None:
        m, v, tmp = self.m, self.v, self.tmp
        m *= self.b1
        m += g  # m = β1 m + (1 − β1) ∇
        np.multiply(g, g, out=tmp)
        tmp *= self.c
        v *= self.b2
        v += tmp  # v = β2 v + (1 − β2) ∇²
        # θ −= α m̂/(√v̂ + ε) with m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), rearranged to act on m, v:
        c2 = math.sqrt(1.0 - self.b2**t)
        step = lr * c2 / (1.0 - self.b1**t)
        np.sqrt(v, out=tmp)
        tmp += self.eps * c2
        np.divide(m, tmp, out=tmp)
        tmp *= step
        theta -= tmp


@dataclass
class OptimizerState:
    """A training run's optimiser as it stands: its name, the steps ``t`` taken so far (the next
    step is t + 1), the α of the next step, and its flat state arrays (``state()``)."""

    optimizer: str
    t: int
    lr: float
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


OPTIMIZER_TABLE = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, size: int, dtype: np.dtype, cfg):
    if name not in OPTIMIZER_TABLE:
        raise EngineError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")
    return OPTIMIZER_TABLE[name](size, dtype, cfg)


def schedule_factor(schedule: str, epoch: int, step_size: int, gamma: float) -> float:
    """Factor applied to α at the start of `epoch` (1-based; epoch 1 always gets 1)."""
    if epoch <= 1 or schedule == "constant":
        return 1.0
    if schedule == "step":
        return gamma if (epoch - 1) % max(1, step_size) == 0 else 1.0
    if schedule == "exponential":
        return gamma
    raise EngineError(f"Unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}.")


def scheduled_lr(schedule: str, lr0: float, epoch: int, step_size: int, gamma: float) -> float:
    """α at `epoch` when nobody changed it by hand (closed form of `schedule_factor`)."""
    lr = lr0
    for e in range(2, epoch + 1):
        lr *= schedule_factor(schedule, e, step_size, gamma)
    return lr
