"""A ``Run``: one training of one network with one ``FitConfig``, and everything it left behind.

A run holds its settings snapshot (``net_config``: ``Network.config()`` with the sizes; ``fit``: a
``FitConfig``; the ``DatasetRef``), its ``RunHistory``, its final parameters (``params``), why it
stopped (``StopReason``), its ``RunStatus``, wall time, final figures (``summary``) and its
``CheckpointStore``. ``parent`` (a run id and a checkpoint step) marks a branch; ``sweep`` (the
id of the sweep's first run) ties the variants of one sweep together.

``RunHistory`` is the record the plots are views of:

- per step (``BinnedSeries``, thinned evenly over the whole run): the mini-batch loss and every
  measured per-layer gradient norm (``W2``, ``b2``, …); the learning rate α as a ``FullSeries`` of
  the steps where it changed (it is piecewise constant, so that is exact and tiny);
- per epoch (``FullSeries`` keyed by epoch number, every point kept): the step it ended at, the
  wall time, train/val loss, train/val accuracy (classes) or RMSE (values, in the target's own
  units when known), α, and each layer's mean gradient norm over the epoch.

Two ways in: ``record_progress`` takes the window's ``remote.Progress`` messages, and
``FitRecorder`` is a ``fit`` callback (the CLI's path) that also offers checkpoints. Missing
values are NaN in the arrays. Leaves out: Qt (runs tell the session, the session tells plain
callbacks), and per-step validation loss (validation runs once per epoch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from bpstudio.engine import FitConfig, Network, StopReason
from bpstudio.engine.spec import describe_sizes
from bpstudio.engine.training import EpochEvent, StepEvent
from bpstudio.session.checkpoints import CheckpointStore
from bpstudio.session.dataset import DatasetRef
from bpstudio.session.series import BinnedSeries, FullSeries

RUN_MAX_BINS = 2048  # bins per per-step series of a run (2048 × 80 B ≈ 160 kB at most)

#: Per-epoch fields, in the order the history CSV writes them.
EPOCH_FIELDS = (
    "step",
    "seconds",
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "train_rmse",
    "val_rmse",
    "lr",
)


class RunStatus(StrEnum):
    """Where a run is in its life. A run that ended says why in ``Run.stop_reason``."""

    CREATED = "created"  # set up, not trained yet
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"  # fit returned: finished, stopped, early-stopped or diverged
    FAILED = "failed"  # fit raised (a bad setting, or a crash of the training process)
    IMPORTED = "imported"  # weights opened from a model file, not trained here


@dataclass(frozen=True)
class RunParent:
    """A branch starts from run ``run_id``'s checkpoint at ``step``."""

    run_id: int
    step: int


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


class RunHistory:
    """A run's per-step and per-epoch record (see the module docstring)."""

    def __init__(self, max_bins: int = RUN_MAX_BINS) -> None:
        self.max_bins = int(max_bins)
        self.loss = BinnedSeries(self.max_bins)
        self.lr = FullSeries()  # (step, α) where α changed
        self.grad_norms: dict[str, BinnedSeries] = {}
        self.epochs: dict[str, FullSeries] = {name: FullSeries() for name in EPOCH_FIELDS}
        self.epoch_grad_norms: dict[str, FullSeries] = {}  # per-epoch mean norm per layer
        self._grad_sum: dict[str, float] = {}
        self._grad_count: dict[str, int] = {}

    # --- recording -----------------------------------------------------------------------------
    def record_steps(
        self,
        steps: np.ndarray,
        losses: np.ndarray,
        lr: float | None = None,
        grad_steps: np.ndarray | None = None,
        grad_norms: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Append mini-batch losses at ``steps`` (and gradient norms at ``grad_steps``)."""
        steps = np.asarray(steps, dtype=np.float64)
        if steps.size:
            self.loss.append(steps, np.asarray(losses, dtype=np.float64))
            if lr is not None:
                self.note_lr(float(steps[0]), lr)
        if grad_norms and grad_steps is not None and len(grad_steps):
            gs = np.asarray(grad_steps, dtype=np.float64)
            for name, values in grad_norms.items():
                v = np.asarray(values, dtype=np.float64)
                series = self.grad_norms.get(name)
                if series is None:
                    series = self.grad_norms[name] = BinnedSeries(self.max_bins)
                series.append(gs, v)
                finite = v[np.isfinite(v)]
                self._grad_sum[name] = self._grad_sum.get(name, 0.0) + float(finite.sum())
                self._grad_count[name] = self._grad_count.get(name, 0) + int(finite.size)

    def note_lr(self, step: float, lr: float) -> None:
        """α in force from ``step`` on (recorded only when it changes)."""
        last = self.lr.last()
        if last is None or last[1] != lr:
            self.lr.append(step, lr)

    def record_epoch(self, epoch: int, **values: Any) -> None:
        """Append epoch ``epoch``'s figures (``EPOCH_FIELDS`` by name; missing → NaN)."""
        unknown = set(values) - set(EPOCH_FIELDS)
        if unknown:
            raise ValueError(f"unknown epoch field(s) {sorted(unknown)}")
        for name in EPOCH_FIELDS:
            self.epochs[name].append(epoch, _nan(values.get(name)))
        for name in sorted(set(self.grad_norms) | set(self.epoch_grad_norms)):
            count = self._grad_count.get(name, 0)
            mean = self._grad_sum.get(name, 0.0) / count if count else float("nan")
            series = self.epoch_grad_norms.get(name)
            if series is None:
                series = self.epoch_grad_norms[name] = FullSeries()
                if len(self) > 1:  # a layer first measured late: NaN for the epochs before
                    done = self.epoch_numbers[:-1]
                    series.append(done, np.full(done.size, np.nan))
            series.append(epoch, mean)
        self._grad_sum.clear()
        self._grad_count.clear()

    # --- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        """Epochs recorded."""
        return len(self.epochs["step"])

    @property
    def epoch_numbers(self) -> np.ndarray:
        return self.epochs["step"].x

    def epoch_values(self, name: str) -> np.ndarray:
        if name in self.epochs:
            return self.epochs[name].y
        return self.epoch_grad_norms[name].y

    def last(self, name: str) -> float | None:
        """The last epoch's value of ``name`` (None when absent or NaN)."""
        if not len(self) or name not in self.epochs:
            return None
        value = float(self.epochs[name].y[-1])
        return value if math.isfinite(value) else None

    @property
    def n_steps(self) -> int:
        return int(self.loss.n_points)

    @property
    def nbytes(self) -> int:
        total = 0
        for series in (self.loss, *self.grad_norms.values()):
            total += sum(a.nbytes for a in series.to_arrays().values())
        for fs in (self.lr, *self.epochs.values(), *self.epoch_grad_norms.values()):
            total += fs.nbytes
        return total

    def limit(self, max_bins: int) -> None:
        """Thin the per-step series to at most ``max_bins`` bins each (an older run)."""
        self.max_bins = int(max_bins)
        for series in (self.loss, *self.grad_norms.values()):
            series.limit(self.max_bins)

    # --- files ---------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for key, a in self.loss.to_arrays().items():
            out[f"loss/{key}"] = a
        for key, a in self.lr.to_arrays().items():
            out[f"lr/{key}"] = a
        for name, series in self.grad_norms.items():
            for key, a in series.to_arrays().items():
                out[f"grad/{name}/{key}"] = a
        for name, fs in self.epochs.items():
            for key, a in fs.to_arrays().items():
                out[f"epoch/{name}/{key}"] = a
        for name, fs in self.epoch_grad_norms.items():
            for key, a in fs.to_arrays().items():
                out[f"epoch_grad/{name}/{key}"] = a
        return out

    def layout(self) -> dict[str, Any]:
        """The names ``from_arrays`` needs (the JSON side of ``to_arrays``)."""
        return {
            "max_bins": self.max_bins,
            "grad_norms": list(self.grad_norms),  # in the order measured (W2, b2, W3, …)
            "epoch_grad_norms": list(self.epoch_grad_norms),
        }

    @classmethod
    def from_arrays(cls, layout: dict[str, Any], arrays: dict[str, np.ndarray]) -> RunHistory:
        """Rebuild from ``layout()`` and ``to_arrays()``; ValueError/KeyError if they disagree."""

        def group(prefix: str) -> dict[str, np.ndarray]:
            n = len(prefix)
            return {k[n:]: v for k, v in arrays.items() if k.startswith(prefix)}

        h = cls(int(layout["max_bins"]))
        h.loss = BinnedSeries.from_arrays(group("loss/"))
        h.lr = FullSeries.from_arrays(group("lr/"))
        h.grad_norms = {
            str(n): BinnedSeries.from_arrays(group(f"grad/{n}/")) for n in layout["grad_norms"]
        }
        h.epochs = {n: FullSeries.from_arrays(group(f"epoch/{n}/")) for n in EPOCH_FIELDS}
        h.epoch_grad_norms = {
            str(n): FullSeries.from_arrays(group(f"epoch_grad/{n}/"))
            for n in layout["epoch_grad_norms"]
        }
        lengths = {len(fs) for fs in (*h.epochs.values(), *h.epoch_grad_norms.values())}
        if len(lengths) > 1:
            raise ValueError("the per-epoch series have different lengths")
        return h


@dataclass(eq=False)
class Run:
    """One training run (see the module docstring). ``id`` is unique within its session."""

    id: int
    name: str
    net_config: dict[str, Any]
    fit: FitConfig = field(default_factory=FitConfig)
    dataset: DatasetRef | None = None
    parent: RunParent | None = None
    sweep: int | None = None  # the runs of one sweep share this id (its first run's id)
    task: str = ""  # "classification" | "regression" (from the data), "" if unknown
    preprocessor: dict[str, Any] | None = None  # Preprocessor.to_dict(): to export and predict
    target_scale: list[float] | None = None  # regression: RMSE in the target's own units
    status: RunStatus = RunStatus.CREATED
    stop_reason: StopReason | None = None
    message: str = ""
    seconds: float = 0.0
    epochs: int = 0
    steps: int = 0
    best_epoch: int | None = None
    params: dict[str, np.ndarray] | None = None
    history: RunHistory = field(default_factory=RunHistory)
    checkpoints: CheckpointStore = field(default_factory=CheckpointStore)
    summary: dict[str, Any] = field(default_factory=dict)  # final figures (final weights)
    # what happened to the run besides training, in order: e.g. a weight set by hand while
    # paused, {"step": 120, "param": "w^3_21", "value": 0.5, "text": "w^3_21 set to 0.5 at …"}
    notes: list[dict[str, Any]] = field(default_factory=list)
    created: float = field(default_factory=time.time)  # Unix time
    _listener: Callable[[Run, str], None] | None = field(default=None, repr=False)
    # Where the current fit call (segment) started: continuing a run calls fit again, whose
    # epochs count from 1 and whose Finished counts its own steps and seconds.
    _segment: tuple[int, int, float] = field(default=(0, 0, 0.0), repr=False)

    # --- describing ------------------------------------------------------------------------------
    @property
    def sizes(self) -> list[int]:
        return [int(n) for n in self.net_config["sizes"]]

    @property
    def network_label(self) -> str:
        """``2-8-8-2 tanh``: sizes and hidden activations, as the Runs table shows."""
        acts = list(self.net_config.get("activations") or [])
        act = acts[0] if acts and all(a == acts[0] for a in acts) else ",".join(acts)
        return describe_sizes(self.sizes) + (f" {act}" if act else "")

    @property
    def is_classification(self) -> bool:
        if self.task:
            return self.task == "classification"
        return self.net_config.get("output") in ("softmax", "sigmoid")

    def final(self, name: str) -> float | None:
        """A final figure: from ``summary`` (final weights) if there, else the last epoch's."""
        value = self.summary.get(name)
        if isinstance(value, list):  # several targets: RMSE per target; the table shows the first
            value = value[0] if value else None
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
        return self.history.last(name)

    def continues(
        self, net_config: dict[str, Any], fit: FitConfig, dataset: DatasetRef | None
    ) -> bool:
        """Whether training with these settings extends this run rather than starting a new one:
        the same network (sizes, activations, head, init and seed), the same data and import
        options, and the same settings except the ones a run may change as it goes (α, which is
        live, and the number of epochs, which continuing extends)."""
        if dict(net_config) != self.net_config:
            return False
        mine, theirs = self.dataset, dataset
        if (mine is None) != (theirs is None):
            return False
        if (
            mine is not None
            and theirs is not None
            and (not mine.same_data(theirs) or mine.options != theirs.options)
        ):
            return False
        live = {"lr", "epochs"}
        a = {k: v for k, v in self.fit.to_dict().items() if k not in live}
        b = {k: v for k, v in fit.to_dict().items() if k not in live}
        return a == b

    def network(self) -> Network:
        """The network with the run's final parameters (or fresh ones before training)."""
        return Network.from_config(self.net_config, self.params)

    @property
    def nbytes(self) -> int:
        params = sum(int(a.nbytes) for a in (self.params or {}).values())
        return params + self.history.nbytes + self.checkpoints.nbytes

    # --- recording -------------------------------------------------------------------------------
    def _changed(self, kind: str) -> None:
        if self._listener is not None:
            self._listener(self, kind)

    def add_note(
        self,
        entry: dict[str, Any],
        params: dict[str, np.ndarray] | None = None,
        *,
        replace_last: bool = False,
    ) -> None:
        """Record something that happened to the run besides training (``notes``), e.g. a
        weight set by hand; ``params``: the run's weights after it. ``replace_last`` amends the
        last note (one drag, many values)."""
        if replace_last and self.notes:
            self.notes[-1] = dict(entry)
        else:
            self.notes.append(dict(entry))
        if params is not None:
            self.params = {k: np.array(v, copy=True) for k, v in params.items()}
        self._changed("progress")

    def set_status(self, status: RunStatus) -> None:
        if status != self.status:
            self.status = status
            self._changed("status")

    def start_segment(self) -> None:
        """Training continues this run with a new ``fit`` call (send ``RunRequest(...,
        step_offset=run.steps)``): its epochs, steps and seconds count on from here. Called by
        itself when progress arrives for a run that had ended."""
        self._segment = (self.epochs, self.steps, self.seconds)

    def record_progress(self, msg: Any) -> None:
        """Take one ``bpstudio.engine.remote.Progress`` (the window's path; its steps already
        include the request's ``step_offset``)."""
        if self.status in (RunStatus.ENDED, RunStatus.FAILED, RunStatus.IMPORTED):
            self.start_segment()
        ep0, _, s0 = self._segment
        h = self.history
        h.record_steps(msg.steps, msg.losses, None, msg.grad_steps, msg.grad_norms)
        if len(msg.steps):
            h.note_lr(float(msg.steps[-1]), float(msg.lr))
        e = msg.epochs
        for i in range(len(e.get("epoch", ()))):
            val_loss = float(e["val_loss"][i])
            values: dict[str, Any] = {
                "step": float(e["step"][i]),
                "seconds": s0 + float(e["seconds"][i] if "seconds" in e else msg.elapsed),
                "train_loss": float(e["train_loss"][i]),
                "val_loss": val_loss,
                "train_accuracy": float(e["train_acc"][i]),
                "val_accuracy": float(e["val_acc"][i]),
                "lr": float(e["lr"][i]),
            }
            values.update(self._rmse_from_losses(values["train_loss"], val_loss))
            h.record_epoch(ep0 + int(e["epoch"][i]), **values)
        if len(e.get("epoch", ())):  # counted on from the segment's start (a branch: its parent's)
            self.epochs = ep0 + int(e["epoch"][-1])
        self.steps = int(msg.step)
        self.seconds = s0 + float(msg.elapsed)
        if msg.params is not None:
            self.params = {k: np.array(v, copy=True) for k, v in msg.params.items()}
            if len(e.get("epoch", ())):  # weights at (about) an epoch's end
                self.checkpoints.offer(
                    ep0 + int(e["epoch"][-1]), int(msg.step), msg.params, self._monitored()
                )
        self.set_status(RunStatus.PAUSED if msg.paused else RunStatus.RUNNING)
        self._changed("progress")

    def _rmse_from_losses(self, train_loss: float, val_loss: float) -> dict[str, float]:
        """RMSE in the target's units from an MSE loss of ONE target: J = ½ mean (a − y)²."""
        if self.is_classification or self.net_config.get("loss") != "mse":
            return {}
        if self.sizes[-1] != 1:
            return {}
        scale = float(self.target_scale[0]) if self.target_scale else 1.0
        out = {}
        for key, loss in (("train_rmse", train_loss), ("val_rmse", val_loss)):
            if math.isfinite(loss):
                out[key] = math.sqrt(2.0 * loss) * abs(scale)
        return out

    def _monitored(self) -> float | None:
        val = self.history.last("val_loss")
        return val if val is not None else self.history.last("train_loss")

    def finish(
        self,
        stop_reason: StopReason | str,
        message: str = "",
        params: dict[str, np.ndarray] | None = None,
        *,
        seconds: float | None = None,
        epochs: int | None = None,
        steps: int | None = None,
        best_epoch: int | None = None,
    ) -> None:
        """Record how the run ended (from ``History`` or ``remote.Finished``)."""
        self.stop_reason = StopReason(stop_reason)
        self.message = message
        if params is not None:
            self.params = {k: np.array(v, copy=True) for k, v in params.items()}
        if seconds is not None:
            self.seconds = float(seconds)
        if epochs is not None:
            self.epochs = int(epochs)
        if steps is not None:
            self.steps = int(steps)
        self.best_epoch = best_epoch
        self.status = RunStatus.ENDED
        self._changed("finished")

    def finish_from(self, finished: Any) -> None:
        """Take a ``bpstudio.engine.remote.Finished`` message (its counts are the segment's)."""
        ep0, st0, s0 = self._segment
        self.finish(
            finished.stop_reason,
            finished.message,
            finished.params,
            seconds=s0 + finished.seconds,
            epochs=ep0 + finished.epochs,
            steps=st0 + finished.steps,
            best_epoch=None if finished.best_epoch is None else ep0 + finished.best_epoch,
        )

    def fail(self, message: str) -> None:
        self.message = message
        self.status = RunStatus.FAILED
        self._changed("finished")

    def recorder(
        self, net: Network, metrics: Callable[[Network], dict[str, float]] | None = None
    ) -> FitRecorder:
        return FitRecorder(self, net, metrics)


class FitRecorder:
    """A ``fit`` callback that records into a run: steps buffered and flushed each epoch, epoch
    figures (plus ``metrics(net)``, e.g. RMSE in the target's units), and checkpoints.

    Chain another callback with ``then`` (the CLI's progress bar)."""

    def __init__(
        self,
        run: Run,
        net: Network,
        metrics: Callable[[Network], dict[str, float]] | None = None,
        then: Callable[[Any], Any] | None = None,
    ) -> None:
        self.run, self.net, self.metrics, self.then = run, net, metrics, then
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._grad_steps: list[int] = []
        self._grads: dict[str, list[float]] = {}
        self._lr: float | None = None
        self._t0 = time.perf_counter()
        run.set_status(RunStatus.RUNNING)

    def __call__(self, ev: StepEvent | EpochEvent) -> None:
        if isinstance(ev, StepEvent):
            if self._lr != ev.lr:
                self.flush()
                self.run.history.note_lr(ev.step, ev.lr)
                self._lr = ev.lr
            self._steps.append(ev.step)
            self._losses.append(ev.loss)
            if ev.grad_norms:
                self._grad_steps.append(ev.step)
                for k, v in ev.grad_norms.items():
                    self._grads.setdefault(k, []).append(v)
        else:
            self.flush()
            run = self.run
            values: dict[str, Any] = {
                "step": ev.step,
                "seconds": ev.seconds,
                "train_loss": ev.train_loss,
                "val_loss": ev.val_loss,
                "train_accuracy": ev.train_accuracy,
                "val_accuracy": ev.val_accuracy,
                "lr": ev.lr,
            }
            if self.metrics is not None:
                values.update(self.metrics(self.net))
            elif not run.is_classification:
                values.update(run._rmse_from_losses(ev.train_loss, _nan(ev.val_loss)))
            run.history.record_epoch(ev.epoch, **values)
            run.epochs, run.steps, run.seconds = ev.epoch, ev.step, ev.seconds
            monitored = ev.val_loss if ev.val_loss is not None else ev.train_loss
            run.checkpoints.offer(ev.epoch, ev.step, self.net.params, monitored)
            run._changed("progress")
        if self.then is not None:
            self.then(ev)

    def flush(self) -> None:
        if not self._steps and not self._grad_steps:
            return
        self.run.history.record_steps(
            np.array(self._steps, dtype=np.int64),
            np.array(self._losses),
            None,
            np.array(self._grad_steps, dtype=np.int64),
            {k: np.array(v) for k, v in self._grads.items()},
        )
        self._steps, self._losses, self._grad_steps, self._grads = [], [], [], {}

    def finish(self, history: Any) -> None:
        """Record the ``History`` that ``fit`` returned, and the network's final weights."""
        self.flush()
        self.run.finish(
            history.stop_reason,
            history.message,
            self.net.get_params(),
            seconds=history.seconds,
            epochs=history.epochs,
            steps=history.steps,
            best_epoch=history.best_epoch,
        )


__all__ = [
    "EPOCH_FIELDS",
    "RUN_MAX_BINS",
    "FitRecorder",
    "Run",
    "RunHistory",
    "RunParent",
    "RunStatus",
]
