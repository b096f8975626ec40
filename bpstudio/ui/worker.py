"""The training worker: a ``QObject`` in its own ``QThread`` that owns the training child process.

The worker thread runs one loop (started through a queued signal, so the thread's event loop is
already running and ``QThread.quit()`` ends it cleanly). The loop waits on two things at once: the
child's pipe (:class:`bpstudio.engine.remote.RemoteTrainer`) and a wake-up pipe written by
:meth:`TrainingWorker.submit`, the thread-safe way the GUI hands it commands. Every message from
the child becomes one Qt signal carrying plain numbers or freshly unpickled (hence unshared) NumPy
arrays; the child sends at most ~20 a second, so the GUI sees at most ~20 emits a second.

The child process is spawned once (in the background, :meth:`prewarm`) and reused for every run;
if it dies it is started again on the next run. :meth:`shutdown` stops the run, asks the child to
quit, waits for it, and ends the loop; the owner then calls ``thread.quit(); thread.wait()``.
Never ``terminate()`` the thread.

The loop runs for the thread's whole life, so the thread's own Qt event loop only turns when the
loop lets it: queued calls into the worker (``QTimer.singleShot(300, worker.prewarm)`` is one —
Qt runs it in the receiver's thread) are delivered by ``processEvents`` on every turn. Before
that, such a call never arrived and the "prewarm" never started the child.

Watchdog: a child that stops answering (SIGSTOP, a deadlock) is ended. When a reply is due (after
a command) or a run is going and not paused, and the child has sent nothing for
:data:`WATCHDOG_S` seconds while its CPU time has not moved (or it is in the stopped state), it is
killed (SIGKILL: a stopped process ignores everything else) and the worker reports
``runFailed("Training process stopped responding", …)``; the window goes back to idle and the
next Train starts a fresh child. A child busy in one long mini-batch uses CPU, so it is left alone.
The watchdog is a small thread of its own: a child stopped in the middle of sending a message
leaves the worker blocked in ``recv`` on half a message, and only the child's death (EOF) can
free it.


Leaves out: queueing several runs, and any plotting (the window does that on a timer).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import signal
import threading
import time
import traceback
import weakref
from multiprocessing.connection import wait
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, Signal, Slot

from bpstudio.engine.remote import (
    Failed,
    Finished,
    Progress,
    Ready,
    RemoteError,
    RemoteTrainer,
    RunRequest,
)

#: Seconds of silence (with a reply due or a run going) and no CPU progress before the child is
#: declared unresponsive and ended.
WATCHDOG_S = 4.0
#: Commands the child answers (a Progress, Finished, Failed or Ready message).
_ANSWERED = {"prewarm", "run", "pause", "resume", "step", "step_epoch", "stop"}


def _proc_stat(pid: int | None) -> tuple[str, int] | None:
    """(state letter, CPU ticks) of a process from /proc, or None where there is no /proc."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
        fields = text[text.rindex(")") + 2 :].split()
        return fields[0], int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


class TrainingWorker(QObject):
    """Relays commands to the training child and its messages back as signals."""

    childReady = Signal(float)  # seconds the child took to import the engine
    runStarted = Signal(int)  # run id
    progress = Signal(object)  # remote.Progress
    runFinished = Signal(object)  # remote.Finished
    runFailed = Signal(str, str, bool)  # short title, message (with traceback for bugs), user error
    loopEnded = Signal()
    _kick = Signal()

    def __init__(self, engine_module: str = "bpstudio.engine") -> None:
        super().__init__()
        self._trainer = RemoteTrainer(engine_module)
        self._commands: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._quit = False
        self._kick.connect(self._loop)  # queued: the worker lives in another thread
        self.child_pid: int | None = None
        # watchdog state (worker thread only)
        self._last_heard = time.monotonic()
        self._reply_due = False
        self._paused = False
        self._cpu_mark: tuple[float, int] | None = None
        self._watchdog_fired: tuple[int | None, float] | None = None  # (pid, seconds silent)
        self.watchdog_s = WATCHDOG_S

    # ------------------------------------------------------------ called from the GUI thread
    def begin(self) -> None:
        """Start the loop in the worker's thread (after ``moveToThread`` and ``thread.start()``)."""
        self._kick.emit()

    def submit(self, *command: Any) -> None:
        """Queue a command: ("prewarm",), ("run", RunRequest), ("pause",), ("resume",),
        ("step", n), ("step_epoch",), ("stop",), ("set_lr", x), ("set_pace", steps_per_s | None),
        ("set_params", {"W2": …}) (a paused run trains on from these).
        Thread-safe."""
        self._commands.put(command)
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def prewarm(self) -> None:
        self.submit("prewarm")

    def run(self, request: RunRequest) -> None:
        self.submit("run", request)

    def shutdown(self) -> None:
        """Ask the loop to stop the child and return. Thread-safe; idempotent."""
        self.submit("shutdown")

    # ------------------------------------------------------------ the worker thread
    @Slot()
    def _loop(self) -> None:
        trainer = self._trainer
        watchdog = threading.Thread(target=self._watchdog, name="bpstudio-watchdog", daemon=True)
        watchdog.start()
        try:
            while not self._quit:
                handles: list[Any] = [self._wake_r]
                if trainer.alive:
                    handles.append(trainer.fileno())
                ready = wait(handles, timeout=0.25)
                if self._wake_r in ready:
                    with contextlib.suppress(BlockingIOError, OSError):
                        os.read(self._wake_r, 4096)
                # queued calls into this thread (timers, slots) are delivered only here
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
                self._run_commands()
                if self._quit:
                    break
                self._read_messages()
        except Exception:  # noqa: BLE001 - a bug here must reach the user, not kill the thread
            self.runFailed.emit("Training worker error", traceback.format_exc(), False)
        finally:
            self._quit = True
            if self._stopped():  # a stopped child can't answer "quit": don't wait for it
                self._kill_child()
            trainer.close()
            watchdog.join(2.0)
            for fd in (self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.loopEnded.emit()
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()

    def _run_commands(self) -> None:
        trainer = self._trainer
        while True:
            try:
                cmd = self._commands.get_nowait()
            except queue.Empty:
                return
            kind = cmd[0]
            if kind == "shutdown":
                self._quit = True
                return
            if kind in _ANSWERED and (kind in ("prewarm", "run") or trainer.run_id is not None):
                if not self._reply_due:
                    self._last_heard = time.monotonic()  # the reply is due from now
                self._reply_due = True
            try:
                if kind == "prewarm":
                    trainer.start()
                    self.child_pid = trainer.pid
                elif kind == "run":
                    if self._stopped():  # sending a dataset to a stopped child would block
                        self._kill_child()
                    run_id = trainer.run(cmd[1])
                    self.child_pid = trainer.pid
                    self._paused = bool(cmd[1].paused)
                    self.runStarted.emit(run_id)
                elif trainer.run_id is None:
                    continue  # a pause/stop/step for a run that has already ended
                elif kind == "set_lr":
                    trainer.set_lr(cmd[1])
                elif kind == "set_pace":
                    trainer.set_pace(cmd[1])
                elif kind == "set_params":
                    trainer.set_params(cmd[1])
                elif kind == "step":
                    trainer.step(cmd[1] if len(cmd) > 1 else 1)
                elif kind in ("pause", "resume", "step_epoch", "stop"):
                    getattr(trainer, kind)()
            except (RemoteError, ValueError) as exc:
                self.runFailed.emit("Training could not run", str(exc), True)

    def _read_messages(self) -> None:
        trainer = self._trainer
        if not trainer.alive and trainer.run_id is None:
            if self._watchdog_fired is not None:  # ended while no run was going: nothing lost
                self._watchdog_fired = None
                with contextlib.suppress(Exception):
                    trainer.close(timeout=1.0)
            return
        try:
            while True:
                msg = trainer.recv(0.0)
                if msg is None:
                    return
                self._last_heard = time.monotonic()
                self._reply_due = False
                self._cpu_mark = None
                if isinstance(msg, Progress):
                    self._paused = bool(msg.paused)
                    self.progress.emit(msg)
                elif isinstance(msg, Finished):
                    self.runFinished.emit(msg)
                elif isinstance(msg, Failed):
                    text = msg.message if msg.user_error else f"{msg.message}\n\n{msg.traceback}"
                    self.runFailed.emit(f"Training failed: {msg.error_type}", text, msg.user_error)
                elif isinstance(msg, Ready):
                    self.childReady.emit(msg.import_seconds)
        except RemoteError as exc:
            self.child_pid = None
            self._reply_due = False
            self._paused = False
            fired, self._watchdog_fired = self._watchdog_fired, None
            if fired is None:
                self.runFailed.emit("Training process ended", str(exc), False)
                return
            pid, silent = fired
            self.runFailed.emit(
                "Training process stopped responding",
                f"The training process (pid {pid}) sent nothing for {silent:.0f} s and was not "
                "working, so it was ended and this run is lost. Press Train to start again in a "
                "fresh process.",
                True,
            )

    # ------------------------------------------------------------ the watchdog
    def _stopped(self) -> bool:
        stat = _proc_stat(self._trainer.pid) if self._trainer.alive else None
        return stat is not None and stat[0] in ("T", "t")

    def _watchdog(self) -> None:
        """The watchdog thread: look every 0.25 s, kill a child that is silent and frozen."""
        while not self._quit:
            time.sleep(0.25)
            with contextlib.suppress(Exception):  # the child may vanish at any moment
                self._watch()

    def _watch(self) -> None:
        trainer = self._trainer
        if self._watchdog_fired is not None or not trainer.alive:
            return
        running = trainer.run_id is not None and not self._paused
        if not (self._reply_due or running):
            self._cpu_mark = None
            return
        now = time.monotonic()
        silent = now - self._last_heard
        if silent < self.watchdog_s:
            return
        pid = trainer.pid
        stat = _proc_stat(pid)
        if stat is None:  # no /proc: a due reply that never came is enough
            frozen = self._reply_due
        elif stat[0] in ("T", "t"):
            frozen = True
        elif self._cpu_mark is None:
            self._cpu_mark = (now, stat[1])
            frozen = False
        elif now - self._cpu_mark[0] >= self.watchdog_s:
            frozen = stat[1] == self._cpu_mark[1]  # silent and idle: not computing either
            self._cpu_mark = (now, stat[1])
        else:
            frozen = False
        if frozen and pid is not None:
            # The worker thread sees EOF on the pipe and reports (it may be blocked in recv).
            self._watchdog_fired = (pid, silent)
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))

    def _kill_child(self) -> None:
        trainer = self._trainer
        pid = trainer.pid
        if pid is not None and trainer.alive:
            with contextlib.suppress(OSError):
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        with contextlib.suppress(Exception):
            trainer.close(timeout=2.0)
        self.child_pid = None
        self._reply_due = False
        self._paused = False
        self._cpu_mark = None


class WorkerHandle:
    """A worker plus its thread, with a clean ``close()``. Owned by the main window."""

    def __init__(self, engine_module: str = "bpstudio.engine") -> None:
        self.thread = QThread()
        self.thread.setObjectName("trainingThread")
        self.worker = TrainingWorker(engine_module)
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()
        self.worker.begin()
        self.closed = False
        _live_handles.add(self)

    def close(self, timeout_ms: int = 15000) -> bool:
        """Stop the child, end the loop and wait for the thread. True when the thread ended."""
        if self.closed:
            return True
        self.closed = True
        self.worker.shutdown()  # the loop quits the thread's event loop when it returns
        ok = self.thread.wait(timeout_ms)
        return bool(ok)


_live_handles: weakref.WeakSet[WorkerHandle] = weakref.WeakSet()


@atexit.register
def _close_live_handles() -> None:
    """A script that ends without closing its window must not abort in ~QThread."""
    for handle in list(_live_handles):
        with contextlib.suppress(RuntimeError):
            handle.close()


__all__ = ["RunRequest", "TrainingWorker", "WorkerHandle"]
