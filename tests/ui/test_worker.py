"""The Qt training worker (bpstudio.ui.worker): signals, commands, clean shutdown."""

from __future__ import annotations

import multiprocessing as mp
import time

import numpy as np
import pytest

from bpstudio.engine import Network
from bpstudio.engine.remote import RunRequest
from bpstudio.ui.worker import WorkerHandle

TIMEOUT = 30_000  # ms


@pytest.fixture
def handle(qapp):
    h = WorkerHandle()
    yield h
    assert h.close(), "the worker thread did not end"
    assert not h.thread.isRunning()


def _request(epochs: int | None = 3, **kw) -> RunRequest:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    Y = ((X[:, 0] * X[:, 1]) > 0).astype(np.float64)[:, None]
    net = Network([2, 6, 1], activation="tanh", output="sigmoid", loss="mse")
    return RunRequest(
        net.config(),
        net.get_params(),
        {"epochs": epochs, "batch_size": 10, "lr": 0.5},
        "xor",
        X,
        Y,
        **kw,
    )


def test_run_emits_progress_then_finished(qtbot, handle):
    w = handle.worker
    got = []
    w.progress.connect(got.append)
    with qtbot.waitSignal(w.runFinished, timeout=TIMEOUT) as blocker:
        w.run(_request())
    fin = blocker.args[0]
    assert fin.stop_reason == "finished" and fin.steps == 60
    qtbot.waitUntil(lambda: sum(len(p.steps) for p in got) == 60, timeout=TIMEOUT)
    steps = np.concatenate([p.steps for p in got])
    np.testing.assert_array_equal(steps, np.arange(1, 61))
    assert all(isinstance(p.losses, np.ndarray) for p in got)


def test_emits_at_most_about_20_per_second(qtbot, handle):
    w = handle.worker
    got = []
    w.progress.connect(got.append)
    t0 = time.monotonic()
    with qtbot.waitSignal(w.runFinished, timeout=TIMEOUT):
        w.run(_request(epochs=300))
    seconds = time.monotonic() - t0
    assert len(got) <= 22 * seconds + 3


def test_step_pause_stop_commands(qtbot, handle):
    w = handle.worker
    paused = []
    w.progress.connect(lambda p: paused.append(p) if p.paused else None)
    w.run(_request(epochs=None, step_budget=1))
    qtbot.waitUntil(lambda: len(paused) == 1, timeout=TIMEOUT)
    assert paused[-1].step == 1
    w.submit("step", 1)
    qtbot.waitUntil(lambda: len(paused) == 2, timeout=TIMEOUT)
    assert paused[-1].step == 2 and paused[-1].steps.tolist() == [2]
    w.submit("set_lr", 0.01)
    w.submit("step", 1)
    qtbot.waitUntil(lambda: len(paused) == 3, timeout=TIMEOUT)
    assert paused[-1].lr == pytest.approx(0.01)
    with qtbot.waitSignal(w.runFinished, timeout=TIMEOUT) as blocker:
        w.submit("stop")
    assert blocker.args[0].stop_reason == "stopped"
    assert blocker.args[0].steps == 3


def test_engine_error_arrives_as_signal(qtbot, handle):
    w = handle.worker
    req = _request()
    req.fit.optimizer = "bogus"
    with qtbot.waitSignal(w.runFailed, timeout=TIMEOUT) as blocker:
        w.run(req)
    title, message, user_error = blocker.args
    assert user_error and "optimizer" in message.lower()


def test_close_mid_run_stops_child_and_thread(qtbot, qapp):
    h = WorkerHandle()
    w = h.worker
    got = []
    w.progress.connect(got.append)
    w.run(_request(epochs=None))
    qtbot.waitUntil(lambda: len(got) > 0, timeout=TIMEOUT)
    pid = w.child_pid
    assert pid is not None
    assert h.close()
    assert not h.thread.isRunning()
    assert pid not in [p.pid for p in mp.active_children()]
