"""Run the engine's ``fit`` in a child process and relay its progress over a pipe (no Qt).

Why a process: a small network (2 → 8 → 8 → 1, batch 10) makes thousands of tiny NumPy calls a
second, each holding the GIL; a training *thread* next to a Qt window starves the event loop
(measured: a 10 ms timer fired 3 times in 4 s). In a child process the same loop runs at full speed
and the GUI keeps its own interpreter.

Parent side: :class:`RemoteTrainer` starts one child (``multiprocessing`` spawn context) and can
reuse it for many runs. ``run(request)`` sends a :class:`RunRequest` (network config + params,
a ``FitConfig``, data arrays — sent once and cached in the child under ``data_key``);
``recv()`` returns the child's messages: :class:`Ready`, :class:`Progress` (batched, at most
~20 a second), :class:`Finished`, :class:`Failed`. Commands: ``pause``, ``resume``, ``step(n)``,
``step_epoch``, ``stop``, ``set_lr``, ``set_pace``. They act between mini-batches: the fit callback
checks the pipe every few milliseconds and blocks on it while paused.

Pace: ``RunRequest.pace`` (steps per second, ``None`` = full speed) makes the child wait between
mini-batches until a deadline on its own clock: step n of a stretch may start at
``t0 + n / pace``, so waits do not add up to drift. The wait is a ``poll`` of the command pipe with
that deadline as the timeout (no busy loop), so pause / stop / step / set_lr / set_pace act at once,
and a Progress message (with a parameter snapshot when one is due) goes out before a long wait so
the window shows the step just made. Paced waits count as training time in ``Progress.elapsed``
(pauses do not). Full speed costs one attribute test per step.

Child side: imports only NumPy, threadpoolctl and ``bpstudio.engine`` (never Qt; the parent's
``__main__`` is not re-imported), limits BLAS to one thread, lowers its own priority (nice +5, so
that on a busy machine the window gets a core first), and calls the same
``bpstudio.engine.fit`` the CLI calls, with a callback and a ``FitControl``.

Several nets in one request (a sweep): ``RunRequest.variants`` lists :class:`Variant` (network
config, params, fit settings); the child trains them together with ``fit_many`` on the request's
data, one callback per variant, and tags each variant's ``Progress`` and ``Finished`` with its
index (``variant``). A variant's ``Finished`` goes out as soon as it is done (``fit_many``'s
``on_finish``: early stopping, divergence or its epoch limit end it while the others train on),
so they come in the order the variants end; the last one has ``last=True`` and ends the request.
Commands act on all variants (one ``FitControl``); ``set_lr`` is refused by the parent for a sweep.

Leaves out: shared memory (large arrays go through the pipe once per
dataset, straight into preallocated buffers), and restarting a child that crashes mid-run (the
next ``run`` starts a fresh one).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import sys
import threading
import time
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpstudio.engine.optimizers import OptimizerState
from bpstudio.engine.training import FitConfig, StopReason
from bpstudio.errors import is_user_error

SEND_INTERVAL = 0.05  # s between Progress messages: at most 20 a second
PARAMS_INTERVAL = 0.2  # s between parameter snapshots: at most 5 a second
PACED_PARAMS_INTERVAL = 0.1  # s; a paced run's snapshots: one per step, at most 10 a second
COMMAND_INTERVAL = 0.005  # s between checks of the command pipe while running
GRAD_NORM_RATE = 1000.0  # gradient-norm samples a second to aim for (adaptive grad_norm_every)
# The first rate estimate comes this soon after a (re)start: until then norms are measured every
# step, and a long warm-up would draw a dense band followed by a sparse curve.
FIRST_RATE_WINDOW = 0.02
# A paced run that falls this far behind its deadlines (a slow step, a busy machine) starts a
# new stretch instead of catching up with a burst.
PACE_SLACK = 0.25  # s
_INLINE_BYTES = 1 << 20  # arrays smaller than this are pickled with the request


class RemoteError(RuntimeError):
    """The child process could not be started or died."""


# --------------------------------------------------------------------------- messages


@dataclass
class RunRequest:
    """Everything one run needs; plain data so it pickles across the pipe."""

    net_config: dict
    params: dict[str, np.ndarray]
    fit: FitConfig  # a dict of FitConfig fields is accepted and converted (unknown keys refused)
    data_key: str  # the child keeps the last dataset under this key
    X: np.ndarray | None = None
    Y: np.ndarray | None = None
    X_val: np.ndarray | None = None
    Y_val: np.ndarray | None = None
    paused: bool = False  # start paused (then step / resume)
    step_budget: int | None = None  # run this many steps, then pause
    until_epoch: bool = False  # run to the end of the first epoch, then pause
    params_interval: float = PARAMS_INTERVAL  # s; <= 0: only at pause and end
    grad_norms: bool = True  # compute per-layer gradient norms (adaptive rate)
    step_offset: int = 0  # added to step numbers (continue a curve across runs)
    pace: float | None = None  # steps per second; None: full speed
    # several nets trained together by fit_many (net_config / params / fit then unused)
    variants: list[Variant] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fit, dict):
            self.fit = FitConfig.from_dict(self.fit)


@dataclass
class Variant:
    """One net of a request for several: its config, starting params and fit settings."""

    net_config: dict
    params: dict[str, np.ndarray]
    fit: FitConfig

    def __post_init__(self) -> None:
        if isinstance(self.fit, dict):
            self.fit = FitConfig.from_dict(self.fit)


@dataclass
class Ready:
    pid: int
    import_seconds: float
    qt_modules: list[str]  # should stay empty


@dataclass
class Progress:
    """What happened since the previous message of this run."""

    run_id: int
    steps: np.ndarray  # int64, global step numbers (with step_offset)
    losses: np.ndarray  # float64 mini-batch losses
    grad_steps: np.ndarray  # int64 steps at which gradient norms were measured
    grad_norms: dict[str, np.ndarray]  # "W2" → norms at grad_steps
    # epoch, step, train_loss, val_loss, train_acc, val_acc, lr, seconds (training time, pauses
    # excluded, at the epoch's end)
    epochs: dict[str, np.ndarray]
    epoch: int
    step: int  # global, with step_offset
    batch: int
    n_batches: int
    lr: float
    elapsed: float  # s of training (pauses excluded)
    paused: bool
    params: dict[str, np.ndarray] | None = None
    variant: int | None = None  # which net of a request for several
    # the optimiser's live state, sent only with the message that confirms a pause (a single
    # run), so the long-run path stays cheap
    optimizer_state: OptimizerState | None = None


@dataclass
class Finished:
    run_id: int
    stop_reason: StopReason
    message: str
    epochs: int
    steps: int  # steps of this run
    seconds: float
    best_epoch: int | None
    params: dict[str, np.ndarray]
    variant: int | None = None  # which net of a request for several
    last: bool = True  # the request's last message (False for all but a sweep's last variant)


def _finished(run_id: int, history: Any, net: Any, **tags: Any) -> Finished:
    """The ``Finished`` message of a run that ``fit`` (or ``fit_many``) returned ``history`` for."""
    return Finished(
        run_id,
        history.stop_reason,
        history.message,
        int(history.epochs),
        int(history.steps),
        float(history.seconds),
        history.best_epoch,
        net.get_params(),
        **tags,
    )


@dataclass
class Failed:
    run_id: int
    error_type: str
    message: str
    traceback: str
    user_error: bool  # a BPStudioError (a bad setting or input), not a bug


_EPOCH_FIELDS = (
    "epoch",
    "step",
    "train_loss",
    "val_loss",
    "train_acc",
    "val_acc",
    "lr",
    "seconds",
)
_DATA_FIELDS = ("X", "Y", "X_val", "Y_val")


def _check_pace(pace: float | None) -> float | None:
    """A pace is a positive, finite number of steps per second, or None for full speed."""
    if pace is None:
        return None
    pace = float(pace)
    if not pace > 0 or pace == float("inf"):
        raise ValueError(f"pace must be a positive number of steps per second or None, not {pace}")
    return pace


# --------------------------------------------------------------------------- parent side


@contextlib.contextmanager
def _main_module_hidden():
    """Stop spawn from re-importing the parent's ``__main__`` (a GUI script imports Qt).

    ``multiprocessing.spawn.get_preparation_data`` reads ``sys.modules["__main__"]`` to decide
    what the child runs first; a bare module makes it run nothing. Our target function lives in
    this module, so the child needs nothing from ``__main__``.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


_spawn_lock = threading.Lock()


class RemoteTrainer:
    """Parent-side handle of the training child. Use it from one thread."""

    def __init__(self, engine_module: str = "bpstudio.engine") -> None:
        self.engine_module = engine_module
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        self._run_ids = itertools.count(1)
        self._data_key: str | None = None
        self.ready: Ready | None = None
        self.run_id: int | None = None  # the run in progress, if any

    # process lifetime ---------------------------------------------------------------
    def start(self) -> None:
        """Spawn the child if it is not running (returns at once; see :meth:`wait_ready`)."""
        if self.alive:
            return
        self._cleanup()
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_child_main,
            args=(child, self.engine_module),
            name="bpstudio-trainer",
            daemon=True,
        )
        with _spawn_lock, _main_module_hidden():
            proc.start()
        child.close()  # so the parent sees EOF when the child dies
        self._proc, self._conn = proc, parent
        self._data_key = None
        self.ready = None
        self.run_id = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def fileno(self) -> int:
        """The pipe's file descriptor, for ``multiprocessing.connection.wait``/``select``."""
        if self._conn is None:
            raise RemoteError("the training process is not running")
        return self._conn.fileno()

    def wait_ready(self, timeout: float = 30.0) -> Ready:
        """Block until the child has imported the engine."""
        self.start()
        deadline = time.monotonic() + timeout
        while self.ready is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RemoteError("the training process did not start in time")
            self.recv(left)
        return self.ready

    def close(self, timeout: float = 5.0) -> None:
        """Stop any run, ask the child to quit, wait for it; terminate only as a last resort."""
        if self._proc is None:
            return
        if self._proc.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("stop",))
                self._conn.send(("quit",))
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(2.0)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(2.0)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        if self._proc is not None and not self._proc.is_alive():
            with contextlib.suppress(ValueError):
                self._proc.close()
        self._proc = self._conn = None
        self.run_id = None

    # runs and commands -------------------------------------------------------------
    def run(self, request: RunRequest) -> int:
        """Start a run (the child must be idle). Returns its id."""
        self.start()
        run_id = next(self._run_ids)
        arrays = {name: getattr(request, name) for name in _DATA_FIELDS}
        big: list[tuple[str, np.ndarray]] = []
        meta: dict[str, Any] = {}
        send_data = request.data_key != self._data_key
        if send_data and arrays["X"] is None:
            raise ValueError("the child does not hold this dataset yet; pass X and Y")
        light = RunRequest(**{**request.__dict__, **dict.fromkeys(_DATA_FIELDS)})
        if request.variants is not None and not len(request.variants) >= 1:
            raise ValueError("a request for several nets needs at least one")
        if send_data:
            for name, a in arrays.items():
                if a is None:
                    continue
                a = np.ascontiguousarray(a)
                if a.nbytes >= _INLINE_BYTES:
                    meta[name] = (a.shape, a.dtype.str)
                    big.append((name, a))
                else:
                    setattr(light, name, a)
        self._send(("run", run_id, light, meta))
        for _, a in big:  # straight from the array's memory, no pickled copy
            self._send_bytes(memoryview(a).cast("B"))
        self._data_key = request.data_key
        self.run_id = run_id
        return run_id

    def pause(self) -> None:
        self._send(("pause",))

    def resume(self) -> None:
        self._send(("resume",))

    def step(self, n: int = 1) -> None:
        """From pause: train ``n`` mini-batches, then pause again."""
        self._send(("step", int(n)))

    def step_epoch(self) -> None:
        """From pause: train to the end of the current (or next) epoch, then pause again."""
        self._send(("step_epoch",))

    def stop(self) -> None:
        self._send(("stop",))

    def set_lr(self, lr: float) -> None:
        self._send(("set_lr", float(lr)))

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """New parameters for the paused run's network (the user edited a weight): training
        resumes from them."""
        self._send(("set_params", {k: np.ascontiguousarray(v) for k, v in params.items()}))

    def set_pace(self, pace: float | None) -> None:
        """Steps per second from now on (``None``: full speed)."""
        self._send(("set_pace", _check_pace(pace)))

    def _send(self, msg: tuple) -> None:
        if self._conn is None:
            raise RemoteError("the training process is not running")
        try:
            self._conn.send(msg)
        except (OSError, ValueError) as exc:
            raise RemoteError(f"the training process is gone ({exc})") from exc

    def _send_bytes(self, buf: memoryview) -> None:
        try:
            self._conn.send_bytes(buf)
        except (OSError, ValueError) as exc:
            raise RemoteError(f"the training process is gone ({exc})") from exc

    def recv(self, timeout: float | None = 0.0) -> Ready | Progress | Finished | Failed | None:
        """The next message, or None when nothing arrives within ``timeout`` seconds.

        Raises :class:`RemoteError` when the child has died (its run is then lost).
        """
        if self._conn is None:
            raise RemoteError("the training process is not running")
        try:
            if not self._conn.poll(timeout):
                return None
            msg = self._conn.recv()
        except (EOFError, OSError) as exc:
            code = None
            if self._proc is not None:
                self._proc.join(1.0)
                code = self._proc.exitcode
            self._cleanup()
            raise RemoteError(
                f"the training process ended unexpectedly (exit code {code})"
            ) from exc
        if isinstance(msg, Ready):
            self.ready = msg
        elif (
            isinstance(msg, Finished | Failed)
            and msg.run_id == self.run_id
            and getattr(msg, "last", True)  # a sweep's request ends with its last variant
        ):
            self.run_id = None
        return msg


# --------------------------------------------------------------------------- child side

MANY_SEND_INTERVAL = 0.2  # s between one variant's Progress messages (12 variants: 60 a second)
MANY_PARAMS_INTERVAL = 0.5  # s between one variant's parameter snapshots
# A variant's snapshots also go out at the end of every epoch on the checkpoint grid of
# ``bpstudio.session.checkpoints.CheckpointStore`` (its defaults: every 5 epochs, the spacing
# doubling once more than 8 would be kept; a test checks they agree), so that each variant keeps
# as many checkpoints as the store allows however fast the sweep trains: at most ~8 + log2(E/40)
# messages more per variant for E epochs.
MANY_CHECKPOINT_EVERY = 5
MANY_CHECKPOINT_MAX = 8


CHILD_NICENESS = 5  # added to the child's niceness: where cores are short, the window gets one


def _lower_priority() -> None:
    """Let the window win a core when the machine is busy: training is a background job, and a
    window that waits for a core answers late (measured here on a loaded 2-core machine: in every
    tick over 60 ms late the GUI thread had run ≤ 21 ms; the rest it waited). Costs nothing when a
    core is free. Not on Windows (no ``os.nice``)."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(CHILD_NICENESS)


def _child_main(conn: Any, engine_module: str) -> None:
    """Entry point of the child: serve runs until told to quit or the parent goes away."""
    import importlib
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the parent's business
    t0 = time.perf_counter()
    from bpstudio.engine.threads import limit_blas_threads

    limit_blas_threads()  # the GUI keeps the other core
    _lower_priority()
    engine = importlib.import_module(engine_module)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"))
    conn.send(Ready(os.getpid(), time.perf_counter() - t0, qt))
    data: dict[str, np.ndarray | None] = {}
    while True:
        try:
            cmd = conn.recv()
        except (EOFError, OSError):
            return
        if cmd[0] == "quit":
            return
        if cmd[0] != "run":
            continue  # a late pause/stop for a run that already ended
        _, run_id, req, meta = cmd
        try:
            if meta or req.X is not None:
                data = {name: getattr(req, name) for name in _DATA_FIELDS}
                for name, (shape, dtype) in meta.items():
                    buf = np.empty(shape, dtype=np.dtype(dtype))
                    conn.recv_bytes_into(memoryview(buf).cast("B"))
                    data[name] = buf
            runner = _ManyRun if req.variants else _Run
            quit_after = runner(conn, engine, run_id, req, data).execute()
        except (EOFError, OSError):
            return
        if quit_after:
            return


class _ManyRun:
    """One call of ``fit_many`` over the request's variants: a ``_Run`` per variant batches its
    events (tagged with its index); every variant shares one ``FitControl``."""

    def __init__(self, conn: Any, engine: Any, run_id: int, req: RunRequest, data: dict) -> None:
        self.conn, self.engine, self.run_id, self.req, self.data = conn, engine, run_id, req, data
        self.control = engine.FitControl()
        self.control.keep_steps = False  # the steps stream to the parent; the child keeps none
        self.subs: list[_Run] = []
        self.reported: set[int] = set()  # variants whose Finished went out
        for k, v in enumerate(req.variants or []):
            sub_req = RunRequest(
                net_config=v.net_config,
                params=v.params,
                fit=v.fit,
                data_key=req.data_key,
                paused=False,
                params_interval=max(req.params_interval, MANY_PARAMS_INTERVAL),
                grad_norms=req.grad_norms,
            )
            sub = _Run(conn, engine, run_id, sub_req, data)
            sub.control = self.control
            sub.variant = k
            sub.send_interval = MANY_SEND_INTERVAL
            sub.next_send = time.perf_counter() + MANY_SEND_INTERVAL * (k + 1) / len(req.variants)
            self.subs.append(sub)

    def execute(self) -> bool:
        engine, req = self.engine, self.req
        try:
            nets = [engine.Network.from_config(s.req.net_config, s.req.params) for s in self.subs]
            every = 1 if req.grad_norms else 0
            self.control.grad_norm_every = every
            now = time.perf_counter()
            for sub, net in zip(self.subs, nets, strict=True):
                sub.net = net
                sub.stretch = now
            configs = [
                {**s.req.fit.to_dict(), "grad_norm_every": every, "callback": self._callback(s)}
                for s in self.subs
            ]
            histories = engine.fit_many(
                nets,
                self.data["X"],
                self.data["Y"],
                configs,
                X_val=self.data.get("X_val"),
                Y_val=self.data.get("Y_val"),
                control=self.control,
                on_finish=self._send_finished,
            )
        except _Quit:
            return True
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
            import traceback

            for sub in self.subs:
                sub._flush(force=True)
            user = is_user_error(exc)  # the user's input (a BPStudioError), not a bug
            self.conn.send(
                Failed(self.run_id, type(exc).__name__, str(exc), traceback.format_exc(), user)
            )
            return self.quit
        for k, history in enumerate(histories):  # fit_many reports each run: none is left
            if k not in self.reported:
                self._send_finished(k, history)
        return self.quit

    def _callback(self, sub: _Run) -> Any:
        """The variant's fit callback: ``sub``'s, plus a parameter snapshot at the end of each
        epoch on the checkpoint grid (see ``MANY_CHECKPOINT_EVERY``)."""
        step_event = self.engine.StepEvent
        grid = [MANY_CHECKPOINT_EVERY]

        def callback(ev: Any) -> None:
            sub._callback(ev)
            if isinstance(ev, step_event):
                return
            every = grid[0]
            if ev.epoch % every == 0:  # this Progress ends at the epoch, with its weights
                sub.next_params = 0.0
                sub._flush(force=True)
            if ev.epoch // every > MANY_CHECKPOINT_MAX:  # as the store thins: spacing doubles
                grid[0] = every * 2

        return callback

    def _send_finished(self, k: int, history: Any) -> None:
        """Variant k is done (``fit_many``'s ``on_finish``, as it leaves its group): its last
        Progress, then its Finished; the last variant to finish carries ``last=True``."""
        sub = self.subs[k]
        sub.paused = False
        sub._flush(force=True)
        self.reported.add(k)
        last = len(self.reported) == len(self.subs)
        self.conn.send(_finished(self.run_id, history, sub.net, variant=k, last=last))

    @property
    def quit(self) -> bool:
        return any(s.quit for s in self.subs)


class _Quit(Exception):
    """The parent asked the child to quit (or went away) during a run."""


class _Run:
    """One call of ``fit``: its callback batches events and obeys commands."""

    def __init__(self, conn: Any, engine: Any, run_id: int, req: RunRequest, data: dict) -> None:
        self.conn, self.engine, self.run_id, self.req, self.data = conn, engine, run_id, req, data
        self.control = engine.FitControl()
        self.step_event_type = engine.StepEvent
        self.paused = req.paused
        self.budget = req.step_budget
        self.until_epoch = req.until_epoch
        self.epoch_from_step = 0  # step_epoch pauses at the first epoch end after this step
        self.quit = False
        self.variant: int | None = None
        self.send_interval = SEND_INTERVAL
        self.offset = req.step_offset
        self.net: Any = None
        # batches since the last send
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.grad_steps: list[int] = []
        self.grad_norms: dict[str, list[float]] = {}
        self.epochs: dict[str, list[float]] = {k: [] for k in _EPOCH_FIELDS}
        # steps count on from earlier runs (offset): the rate estimate must start there too
        lr0 = float(req.fit.lr)
        self.last: tuple[int, int, int, int, float] = (0, self.offset, 0, 0, lr0)
        # clocks
        now = time.perf_counter()
        self.active = 0.0  # training seconds before the current stretch
        self.stretch = now  # start of the current un-paused stretch
        self.next_send = now + SEND_INTERVAL
        self.next_cmd = now + COMMAND_INTERVAL
        self.next_params = now  # first message carries params
        self.rate_mark = (now, self.offset)
        self.pace = _check_pace(req.pace)
        self.pace_mark = (now, self.offset)  # (t0, step): the next step may start at t0

    # ----------------------------------------------------------------- run
    def execute(self) -> bool:
        engine, req = self.engine, self.req
        try:
            self.net = engine.Network.from_config(req.net_config, req.params)
            every = 1 if req.grad_norms else 0
            self.control.grad_norm_every = every
            self.control.keep_steps = False  # they stream to the parent; the child keeps none
            if req.paused:  # wait for the first command before training at all
                self._wait_while_paused()
            self.stretch = time.perf_counter()
            self.pace_mark = (self.stretch, self.offset)
            history = engine.fit(
                self.net,
                self.data["X"],
                self.data["Y"],
                X_val=self.data.get("X_val"),
                Y_val=self.data.get("Y_val"),
                config=req.fit,
                control=self.control,
                callback=self._callback,
                grad_norm_every=every,
            )
        except _Quit:
            return True
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
            import traceback

            self._flush(force=True)
            user = is_user_error(exc)  # the user's input (a BPStudioError), not a bug
            self.conn.send(
                Failed(self.run_id, type(exc).__name__, str(exc), traceback.format_exc(), user)
            )
            return self.quit
        self.paused = False
        self._flush(force=True)
        self.conn.send(_finished(self.run_id, history, self.net))
        return self.quit

    # ----------------------------------------------------------------- callback
    def _callback(self, ev: Any) -> None:
        if isinstance(ev, self.step_event_type):
            step = ev.step + self.offset
            self.steps.append(step)
            self.losses.append(ev.loss)
            self.last = (ev.epoch, step, ev.batch, ev.n_batches, ev.lr)
            if ev.grad_norms:
                self.grad_steps.append(step)
                for k, v in ev.grad_norms.items():
                    self.grad_norms.setdefault(k, []).append(v)
            if self.budget is not None:
                self.budget -= 1
                if self.budget <= 0:
                    self.budget = None
                    self.paused = True
        else:
            e = self.epochs
            e["epoch"].append(ev.epoch)
            e["step"].append(ev.step + self.offset)
            e["train_loss"].append(ev.train_loss)
            e["val_loss"].append(np.nan if ev.val_loss is None else ev.val_loss)
            e["train_acc"].append(np.nan if ev.train_accuracy is None else ev.train_accuracy)
            e["val_acc"].append(np.nan if ev.val_accuracy is None else ev.val_accuracy)
            e["lr"].append(ev.lr)
            e["seconds"].append(self.active + (time.perf_counter() - self.stretch))
            if self.until_epoch and ev.step > self.epoch_from_step:
                self.until_epoch = False
                self.paused = True
        now = time.perf_counter()
        if now >= self.next_cmd:
            self.next_cmd = now + COMMAND_INTERVAL
            self._drain_commands()
        if self.paused:
            self._wait_while_paused()
        else:
            if now >= self.next_send:
                self._flush()
            if self.pace is not None and isinstance(ev, self.step_event_type):
                self._wait_for_pace()

    def _wait_for_pace(self) -> None:
        """Hold the next mini-batch until its deadline, answering commands meanwhile."""
        conn = self.conn
        while self.pace is not None and not self.paused and not self.control.stop_requested:
            t0, s0 = self.pace_mark
            deadline = t0 + (self.last[1] - s0) / self.pace
            now = time.perf_counter()
            if now >= deadline:
                if now - deadline > PACE_SLACK:
                    self.pace_mark = (now, self.last[1])
                return
            if self.steps and deadline - now >= SEND_INTERVAL:
                self._flush()  # show this step now rather than after the wait
            try:
                if conn.poll(deadline - time.perf_counter()):
                    self._handle(conn.recv())
                    while conn.poll():
                        self._handle(conn.recv())
            except (EOFError, OSError):
                self.control.request_stop()
                raise _Quit() from None
        if self.paused:
            self._wait_while_paused()

    def _drain_commands(self) -> None:
        conn = self.conn
        try:
            while conn.poll():
                self._handle(conn.recv())
        except (EOFError, OSError):
            self.control.request_stop()
            raise _Quit() from None

    def _wait_while_paused(self) -> None:
        now = time.perf_counter()
        self.active += now - self.stretch
        self._flush(force=True)
        try:
            while self.paused:
                self._handle(self.conn.recv())
        except (EOFError, OSError):
            self.control.request_stop()
            raise _Quit() from None
        self.stretch = time.perf_counter()
        self.rate_mark = (self.stretch, self.last[1])
        self.pace_mark = (self.stretch, self.last[1])  # the step asked for runs at once

    def _handle(self, cmd: tuple) -> None:
        kind = cmd[0]
        if kind == "pause":
            self.paused = True
        elif kind == "resume":
            self.paused, self.budget, self.until_epoch = False, None, False
        elif kind == "step":
            self.paused, self.budget, self.until_epoch = False, max(1, int(cmd[1])), False
        elif kind == "step_epoch":
            self.paused, self.budget, self.until_epoch = False, None, True
            self.epoch_from_step = self.last[1] - self.offset
        elif kind == "stop":
            self.control.request_stop()
            self.paused, self.budget, self.until_epoch = False, None, False
        elif kind == "set_lr":
            self.control.set_lr(cmd[1])
        elif kind == "set_pace":
            self.pace = _check_pace(cmd[1])
            self.pace_mark = (time.perf_counter(), self.last[1])
        elif kind == "set_params":
            self._set_params(cmd[1])
        elif kind == "quit":
            self.quit = True
            self.control.request_stop()
            self.paused = False

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        """The user edited the paused network: train on from these parameters."""
        if self.net is None:
            return
        self.net.set_params(params)  # the window checked names and shapes: a failure is a bug
        self.control.reload_params()

    # ----------------------------------------------------------------- sending
    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        self.next_send = now + self.send_interval
        if not force and not self.steps and not self.epochs["epoch"]:
            return
        self._adapt_grad_norm_rate(now)
        params = None
        interval = self.req.params_interval
        if self.pace is not None and interval > 0:
            # a paced run sends a snapshot per step down to PACED_PARAMS_INTERVAL, so slow motion
            # moves every view at each step (0.9: a step's flush lands just before its deadline)
            interval = min(interval, max(0.9 / self.pace, PACED_PARAMS_INTERVAL))
        if self.net is not None and (
            (force and self.last[1] > self.offset) or (interval > 0 and now >= self.next_params)
        ):
            params = self.net.get_params()
            self.next_params = now + max(interval, SEND_INTERVAL)
        epoch, step, batch, n_batches, lr = self.last
        elapsed = self.active + (0.0 if self.paused else now - self.stretch)
        # the optimiser's state only when a pause is confirmed (a stepped or paused run)
        opt_state = self.control.optimizer_state() if force and self.paused else None
        msg = Progress(
            self.run_id,
            np.array(self.steps, dtype=np.int64),
            np.array(self.losses, dtype=np.float64),
            np.array(self.grad_steps, dtype=np.int64),
            {k: np.array(v, dtype=np.float64) for k, v in self.grad_norms.items()},
            {
                k: np.array(v, dtype=np.int64 if k in ("epoch", "step") else np.float64)
                for k, v in self.epochs.items()
            },
            epoch,
            step,
            batch,
            n_batches,
            lr,
            elapsed,
            self.paused,
            params,
            self.variant,
            opt_state,
        )
        self.steps, self.losses, self.grad_steps = [], [], []
        self.grad_norms = {}
        self.epochs = {k: [] for k in _EPOCH_FIELDS}
        self.conn.send(msg)

    def _adapt_grad_norm_rate(self, now: float) -> None:
        """Measure gradient norms about GRAD_NORM_RATE times a second (every step when stepping)."""
        if not self.req.grad_norms:
            return
        if self.budget is not None or self.paused:
            self.control.grad_norm_every = 1
            return
        t0, s0 = self.rate_mark
        step = self.last[1]
        window = FIRST_RATE_WINDOW if self.control.grad_norm_every == 1 else 0.2
        if now - t0 >= window and step > s0:
            rate = (step - s0) / (now - t0)
            self.control.grad_norm_every = max(1, int(rate / GRAD_NORM_RATE))
            self.rate_mark = (now, step)


__all__ = [
    "Failed",
    "Finished",
    "Progress",
    "Ready",
    "RemoteError",
    "RemoteTrainer",
    "RunRequest",
    "Variant",
]
