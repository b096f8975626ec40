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
Never ``terminate()``.

Leaves out: queueing several runs, and any plotting (the window does that on a timer).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import traceback
import weakref
from multiprocessing.connection import wait
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from bpstudio.engine.remote import (
    Failed,
    Finished,
    Progress,
    Ready,
    RemoteError,
    RemoteTrainer,
    RunRequest,
)


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

    # ------------------------------------------------------------ called from the GUI thread
    def begin(self) -> None:
        """Start the loop in the worker's thread (after ``moveToThread`` and ``thread.start()``)."""
        self._kick.emit()

    def submit(self, *command: Any) -> None:
        """Queue a command: ("prewarm",), ("run", RunRequest), ("pause",), ("resume",),
        ("step", n), ("step_epoch",), ("stop",), ("set_lr", x), ("set_pace", steps_per_s | None).
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
        try:
            while not self._quit:
                handles: list[Any] = [self._wake_r]
                if trainer.alive:
                    handles.append(trainer.fileno())
                ready = wait(handles, timeout=0.5)
                if self._wake_r in ready:
                    with contextlib.suppress(BlockingIOError, OSError):
                        os.read(self._wake_r, 4096)
                self._run_commands()
                if self._quit:
                    break
                self._read_messages()
        except Exception:  # noqa: BLE001 - a bug here must reach the user, not kill the thread
            self.runFailed.emit("Training worker error", traceback.format_exc(), False)
        finally:
            trainer.close()
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
            try:
                if kind == "prewarm":
                    trainer.start()
                    self.child_pid = trainer.pid
                elif kind == "run":
                    run_id = trainer.run(cmd[1])
                    self.child_pid = trainer.pid
                    self.runStarted.emit(run_id)
                elif trainer.run_id is None:
                    continue  # a pause/stop/step for a run that has already ended
                elif kind == "set_lr":
                    trainer.set_lr(cmd[1])
                elif kind == "set_pace":
                    trainer.set_pace(cmd[1])
                elif kind == "step":
                    trainer.step(cmd[1] if len(cmd) > 1 else 1)
                elif kind in ("pause", "resume", "step_epoch", "stop"):
                    getattr(trainer, kind)()
            except (RemoteError, ValueError) as exc:
                self.runFailed.emit("Training could not run", str(exc), True)

    def _read_messages(self) -> None:
        trainer = self._trainer
        if not trainer.alive and trainer.run_id is None:
            return
        try:
            while True:
                msg = trainer.recv(0.0)
                if msg is None:
                    return
                if isinstance(msg, Progress):
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
            self.runFailed.emit("Training process ended", str(exc), False)


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
