"""Run bookkeeping for the window: the run state machine, ids, step/epoch offsets, rates, outcome.

One training path: a :class:`~bpstudio.engine.remote.RunRequest` goes to the worker thread, whose
child process runs ``fit``. :class:`RunController` builds that request from the dataset, network
and training settings it is given, relays pause / resume / step / stop / α to the child, and turns
the child's messages into

- ``progressed(Progress)`` once the message belongs to the current run (offsets applied),
- ``statusChanged(StatusReadout)``: the epoch, step, rate and elapsed read-outs and progress bar,
- ``finished(Finished)`` / ``failed(title, message)`` when the run ends, and
- ``stateChanged(str)`` for every change of :class:`RunState`.

A second run continues the first's step and epoch numbering (``steps_done`` / ``epoch_offset``)
until :meth:`reset_counts` (new weights).

Leaves out: drawing (the views read the run's history), and the session record of the run
(the window writes it from these signals).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from PySide6.QtCore import QObject, Signal

from bpstudio.engine import FitConfig
from bpstudio.engine.remote import Finished, Progress, RunRequest, Variant
from bpstudio.ui.worker import WorkerHandle

PARAMS_INTERVAL = 0.2  # s between weight snapshots while training (≤ 5 Hz)
BIG_NET_PARAMS = 250_000  # above this many parameters, snapshots come once a second


class RunState(enum.StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class StatusReadout(NamedTuple):
    """The status-bar read-outs of the current run."""

    epoch: int  # epochs completed, counted over the continued runs
    step: int
    batch: int
    n_batches: int
    steps_per_s: float
    elapsed: float
    progress: tuple[int, int] | None  # (done, total) steps of this run, when it has an end


def eased_rate(previous: float, now: float) -> float:
    """A steps/s read-out that moves smoothly: 30 % of each new measurement (the first as is)."""
    return now if previous == 0 else 0.7 * previous + 0.3 * now


def fmt_seconds(s: float) -> str:
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


_REASONS = {
    "finished": "Training finished",
    "stopped": "Training stopped",
    "early_stopped": "Early stopping",
    "diverged": "Training diverged",
}


def outcome_text(f: Finished, rose: tuple[float, float] | None, lr: float) -> tuple[str, str, str]:
    """What the window says when a run ends: (status line, notice HTML or "", notice kind)."""
    head = _REASONS.get(str(f.stop_reason), str(f.stop_reason))
    detail = (f.message or "").strip()
    summary = f"{f.epochs} epoch(s), {f.steps} step(s) in {fmt_seconds(f.seconds)}"
    # the engine's message already says what happened ("Finished 30 epoch(s)…"); the head
    # only adds a word for the reasons whose message does not name them
    text = detail if detail else f"{head} after {summary}."
    if f.stop_reason == "diverged":
        return text, f"<b>{head}.</b> {detail}", "error"
    if rose is not None:
        return (
            text,
            f"<b>The loss rose during this run</b> (from {rose[0]:.4g} to {rose[1]:.4g}): "
            f"the learning rate α = {lr:g} is probably too large. Lower it, then press "
            "Reset weights and train again.",
            "warning",
        )
    if f.stop_reason == "early_stopped":
        return text, f"<b>{head}.</b> {detail or summary}", "info"
    return text, "", "info"


def loss_rose(
    epoch_x: np.ndarray, epoch_y: np.ndarray, step_x: np.ndarray, step_y: np.ndarray, s0: int
) -> tuple[float, float] | None:
    """(start, end) training loss of the run that began after step ``s0`` if it ended clearly
    worse than it started (the loss stayed finite, so the engine does not call it diverged),
    else None. Start: the last per-epoch training loss before the run, or for a fresh network
    the first mini-batch's loss (computed before any update); end: the last per-epoch loss."""
    # x grows along a history: find the run's start by bisection (a long run has 10⁶ epochs)
    i = int(np.searchsorted(epoch_x, s0, side="right"))  # epochs [i:] came after step s0
    if i >= len(epoch_x):
        return None
    end = float(epoch_y[-1])
    if i > 0:
        start = float(epoch_y[i - 1])
    else:
        j = int(np.searchsorted(step_x, s0, side="right"))
        if j >= len(step_x):
            return None
        start = float(step_y[j])
    if not (math.isfinite(start) and math.isfinite(end)):
        return None
    if end > 2.0 * start and end - start > 0.05:
        return start, end
    return None


class RunController(QObject):
    """The state machine between the window and the training worker."""

    stateChanged = Signal(str)
    progressed = Signal(object)  # remote.Progress of the current run
    statusChanged = Signal(object)  # StatusReadout
    finished = Signal(object)  # remote.Finished
    failed = Signal(str, str)  # title, message
    # a sweep (several nets in one request): per-variant messages, then the end of all of them
    variantProgressed = Signal(object)  # remote.Progress with .variant
    variantFinished = Signal(object)  # remote.Finished with .variant
    sweepEnded = Signal()

    def __init__(self, engine_module: str = "bpstudio.engine", parent: QObject | None = None):
        super().__init__(parent)
        self.worker_handle = WorkerHandle(engine_module)
        self.state = RunState.IDLE
        self.run_id: int | None = None
        self.run_epochs: int | None = None
        self.run_step0 = 0  # curve step before this run
        self.epoch_offset = 0  # epochs completed by earlier runs
        self.steps_done = 0  # steps completed by earlier runs
        self.paused_step: int | None = None  # the step the child confirmed pausing at
        # the paused run's optimiser (remote.Progress.optimizer_state), None unless paused
        self.optimizer_state: Any = None
        # called before Resume / Step / Stop reach the child (a pending hand edit goes first)
        self.before_command: Callable[[], None] | None = None
        self.last_lr: float | None = None
        self._rate: tuple[float, int] | None = None  # (elapsed, step) at the previous message
        self.steps_per_s = 0.0
        self.closing = False
        self.sweeping = False  # the request in progress trains several nets (fit_many)
        w = self.worker_handle.worker
        w.runStarted.connect(self._on_run_started)
        w.progress.connect(self._on_progress)
        w.runFinished.connect(self._on_finished)
        w.runFailed.connect(self._on_failed)

    @property
    def worker(self) -> Any:
        return self.worker_handle.worker

    def busy(self) -> bool:
        return self.state != RunState.IDLE

    def _set_state(self, state: RunState) -> None:
        if state != RunState.PAUSED:
            self.optimizer_state = None  # running, it moves on; a new run starts fresh
        self.state = state
        self.stateChanged.emit(str(state))

    # ------------------------------------------------------------------ commands
    def start(
        self,
        mode: str,
        ds: Any,
        net: Any,
        fit: FitConfig,
        data_key: str,
        pace: float | None = None,
    ) -> RunRequest:
        """Send a run of ``net`` on ``ds`` to the child; ``mode`` is run | step | step_epoch;
        ``pace`` caps the steps per second (None: full speed)."""
        has_val = ds.X_val is not None and len(ds.X_val) > 0
        # the weight-driven views are tabs: snapshots are wanted whichever one is open now
        n_params = sum(int(v.size) for v in net.params.values())
        req = RunRequest(
            net_config=net.config(),
            params=net.get_params(),
            fit=fit,
            data_key=data_key,
            X=ds.X_train,
            Y=ds.Y_train,
            X_val=ds.X_val if has_val else None,
            Y_val=ds.Y_val if has_val else None,
            step_budget=1 if mode == "step" else None,
            until_epoch=mode == "step_epoch",
            params_interval=PARAMS_INTERVAL if n_params <= BIG_NET_PARAMS else 1.0,
            step_offset=self.steps_done,
            pace=pace,
        )
        self.run_epochs = fit.epochs
        self.run_step0 = self.steps_done
        self._rate = None
        self.steps_per_s = 0.0
        self.run_id = None
        self.paused_step = None
        self.worker.run(req)
        self._set_state(RunState.RUNNING if mode == "run" else RunState.PAUSED)
        return req

    def start_many(self, ds: Any, variants: list[Variant], data_key: str) -> RunRequest:
        """Send several nets (a sweep) to the child, trained together by ``fit_many`` on ``ds``;
        their messages come back as ``variantProgressed`` / ``variantFinished``, then
        ``sweepEnded``."""
        has_val = ds.X_val is not None and len(ds.X_val) > 0
        v0 = variants[0]
        req = RunRequest(
            net_config=v0.net_config,
            params=v0.params,
            fit=v0.fit,
            data_key=data_key,
            X=ds.X_train,
            Y=ds.Y_train,
            X_val=ds.X_val if has_val else None,
            Y_val=ds.Y_val if has_val else None,
            variants=list(variants),
        )
        self.run_epochs = v0.fit.epochs
        self.run_step0 = 0
        self._rate = None
        self.steps_per_s = 0.0
        self.run_id = None
        self.paused_step = None
        self.sweeping = True
        self.worker.run(req)
        self._set_state(RunState.RUNNING)
        return req

    def pause(self) -> None:
        if self.state == RunState.RUNNING:
            self.worker.submit("pause")
            self._set_state(RunState.PAUSED)

    def _before(self) -> None:
        if self.before_command is not None:
            self.before_command()

    def resume(self) -> None:
        if self.state == RunState.PAUSED:
            self._before()
            self.worker.submit("resume")
            self.paused_step = None
            self._set_state(RunState.RUNNING)

    def step(self) -> None:
        if self.state == RunState.PAUSED:
            self._before()
            self.worker.submit("step", 1)

    def step_epoch(self) -> None:
        if self.state == RunState.PAUSED:
            self._before()
            self.worker.submit("step_epoch")

    def stop(self) -> None:
        if self.state in (RunState.RUNNING, RunState.PAUSED):
            self._before()
            self.worker.submit("stop")
            self._set_state(RunState.STOPPING)

    def set_lr(self, lr: float) -> None:
        if self.sweeping:  # one FitControl for every variant: α is what the sweep varies
            return
        if self.state in (RunState.RUNNING, RunState.PAUSED):
            self.worker.submit("set_lr", float(lr))

    def set_params(self, params: dict[str, np.ndarray]) -> bool:
        """The user edited the paused network: the child trains on from ``params``. False
        (nothing sent) unless a single run is paused."""
        if self.state != RunState.PAUSED or self.sweeping:
            return False
        self.worker.submit("set_params", {k: np.array(v, copy=True) for k, v in params.items()})
        return True

    def set_pace(self, pace: float | None) -> None:
        """Steps per second for the running child (None: full speed), applied at once."""
        if self.state in (RunState.RUNNING, RunState.PAUSED):
            self.worker.submit("set_pace", pace)

    def reset_counts(self, steps: int = 0, epochs: int = 0) -> None:
        """New weights (or another run's): step and epoch numbering start from these."""
        self.steps_done = int(steps)
        self.epoch_offset = int(epochs)

    def close(self) -> None:
        self.closing = True
        self.worker_handle.close()

    # ------------------------------------------------------------------ worker messages
    def _on_run_started(self, run_id: int) -> None:
        self.run_id = run_id

    def _current(self, run_id: int) -> bool:
        return not self.closing and (self.run_id is None or run_id == self.run_id)

    def _on_progress(self, p: Progress) -> None:
        if not self._current(p.run_id):
            return
        if p.variant is not None:
            self.variantProgressed.emit(p)
            return
        self.last_lr = p.lr
        if p.paused and self.state == RunState.PAUSED:
            self.paused_step = p.step
            if p.optimizer_state is not None:
                self.optimizer_state = p.optimizer_state
        elif not p.paused:
            self.paused_step = None
            self.optimizer_state = None
        self.progressed.emit(p)
        self.statusChanged.emit(self._status(p))

    def _status(self, p: Progress) -> StatusReadout:
        if self._rate is not None:
            e0, s0 = self._rate
            if p.elapsed > e0 + 1e-6 and p.step >= s0:
                self.steps_per_s = eased_rate(self.steps_per_s, (p.step - s0) / (p.elapsed - e0))
        self._rate = (p.elapsed, p.step)
        progress = None
        if self.run_epochs and p.n_batches:
            total = self.run_epochs * p.n_batches
            progress = (min(total, p.step - self.run_step0), total)
        return StatusReadout(
            p.epoch + self.epoch_offset,
            p.step,
            p.batch,
            p.n_batches,
            self.steps_per_s,
            p.elapsed,
            progress,
        )

    def _on_finished(self, f: Finished) -> None:
        if not self._current(f.run_id):
            return
        if f.variant is not None:
            self.variantFinished.emit(f)
            if f.last:
                self.sweeping = False
                self.run_id = None
                self._set_state(RunState.IDLE)
                self.sweepEnded.emit()
            return
        self.steps_done = self.run_step0 + f.steps
        self.epoch_offset += f.epochs
        self.run_id = None
        self._set_state(RunState.IDLE)
        self.finished.emit(f)

    def _on_failed(self, title: str, message: str, user_error: bool) -> None:
        if self.closing:
            return
        self.run_id = None
        self.sweeping = False
        if self.state != RunState.IDLE:
            self._set_state(RunState.IDLE)
        self.failed.emit(title, message)


__all__ = ["RunController", "RunState", "StatusReadout", "fmt_seconds", "loss_rose", "outcome_text"]
