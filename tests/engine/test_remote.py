"""The training child process (bpstudio.engine.remote), without Qt.

One child is started for the module and reused by every test (spawn start-up is the slow part),
which is also how the GUI uses it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np
import pytest

from bpstudio.engine import FitConfig, Network, fit
from bpstudio.engine.remote import Failed, Finished, Progress, Ready, RemoteTrainer, RunRequest

TIMEOUT = 30.0


def _xor_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    Y = ((X[:, 0] * X[:, 1]) > 0).astype(np.float64)[:, None]
    return X, Y


def _net() -> Network:
    return Network([2, 8, 1], activation="tanh", output="sigmoid", loss="mse", seed=0)


def _request(net: Network, key: str = "xor", **kw) -> RunRequest:
    X, Y = _xor_data()
    fit = {"epochs": 5, "batch_size": 10, "lr": 0.5}
    fit.update(kw.pop("fit", {}))
    return RunRequest(net.config(), net.get_params(), fit, key, X, Y, **kw)


def _collect(trainer: RemoteTrainer, until, timeout: float = TIMEOUT) -> list:
    """Messages until ``until(msg)`` is true (inclusive)."""
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = trainer.recv(0.5)
        if msg is None:
            continue
        out.append(msg)
        if isinstance(msg, Failed):
            raise AssertionError(f"child failed: {msg.message}\n{msg.traceback}")
        if until(msg):
            return out
    raise AssertionError(f"timed out; got {[type(m).__name__ for m in out]}")


def _steps(msgs: list) -> np.ndarray:
    parts = [m.steps for m in msgs if isinstance(m, Progress)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


_shared: list[RemoteTrainer] = []


@pytest.fixture(scope="module")
def trainer():
    t = RemoteTrainer()
    t.start()
    _shared.append(t)
    yield t
    _shared.remove(t)
    t.close()
    assert not t.alive


@pytest.fixture(autouse=True)
def _no_stray_children():
    yield
    # every child except the module's shared trainer must be gone after each test
    shared = {t.pid for t in _shared}
    stray = [p for p in mp.active_children() if p.pid not in shared]
    for p in stray:
        p.kill()
    assert not stray, f"test left child processes alive: {stray}"


def test_child_starts_without_qt(trainer):
    ready = trainer.wait_ready(TIMEOUT)
    assert isinstance(ready, Ready)
    assert ready.qt_modules == []
    assert ready.pid == trainer.pid


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no process priorities here")
def test_child_runs_at_a_lower_priority_than_the_window(trainer):
    """Training is a background job: on a busy machine the window must win a core."""
    from bpstudio.engine.remote import CHILD_NICENESS

    trainer.wait_ready(TIMEOUT)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, mine + CHILD_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, trainer.pid) == expected


def test_run_streams_events_and_returns_params(trainer):
    net = _net()
    before = net.get_params()
    trainer.run(_request(net))
    msgs = _collect(trainer, lambda m: isinstance(m, Finished))
    fin = msgs[-1]
    assert fin.stop_reason == "finished"
    assert fin.epochs == 5 and fin.steps == 5 * 20
    steps = _steps(msgs)
    np.testing.assert_array_equal(steps, np.arange(1, 101))  # every step, in order, once
    epochs = np.concatenate([m.epochs["epoch"] for m in msgs if isinstance(m, Progress)])
    np.testing.assert_array_equal(epochs, np.arange(1, 6))
    assert any(len(m.grad_steps) for m in msgs if isinstance(m, Progress))
    grads = [m.grad_norms for m in msgs if isinstance(m, Progress) and len(m.grad_steps)][0]
    assert set(grads) >= {"W2", "W3", "b2", "b3"}
    assert set(fin.params) == set(before)
    assert not np.allclose(fin.params["W2"], before["W2"])  # it trained
    # the same fit the CLI runs gives the same weights
    from bpstudio.engine import fit

    local = _net()
    X, Y = _xor_data()
    fit(local, X, Y, epochs=5, batch_size=10, lr=0.5)
    np.testing.assert_allclose(fin.params["W2"], local.params["W2"], rtol=1e-6, atol=1e-7)
    assert trainer.run_id is None


def test_messages_are_throttled(trainer):
    net = _net()
    t0 = time.monotonic()
    trainer.run(_request(net, fit={"epochs": 400}))
    msgs = _collect(trainer, lambda m: isinstance(m, Finished))
    seconds = time.monotonic() - t0
    n_progress = sum(isinstance(m, Progress) for m in msgs)
    assert _steps(msgs).size == 400 * 20
    assert n_progress <= 22 * seconds + 3, (n_progress, seconds)


def test_step_pause_resume_stop(trainer):
    net = _net()
    trainer.run(_request(net, key="xor", fit={"epochs": None}, step_budget=1))
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    assert _steps(msgs).tolist() == [1]
    assert msgs[-1].params is not None  # a pause carries the weights
    trainer.step()
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    assert _steps(msgs).tolist() == [2]
    trainer.step(3)
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    assert _steps(msgs).tolist() == [3, 4, 5]
    # step_epoch: to the end of epoch 1 (20 batches)
    trainer.step_epoch()
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    assert _steps(msgs).tolist() == list(range(6, 21))
    assert msgs[-1].epoch == 1
    # resume, then pause: nothing arrives while paused
    trainer.resume()
    _collect(trainer, lambda m: isinstance(m, Progress) and len(m.steps) > 0)
    trainer.pause()
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    paused_at = msgs[-1].step
    assert trainer.recv(0.2) is None
    trainer.stop()
    msgs = _collect(trainer, lambda m: isinstance(m, Finished))
    fin = msgs[-1]
    assert fin.stop_reason == "stopped"
    assert fin.steps == paused_at


def test_set_lr_live(trainer):
    net = _net()
    trainer.run(_request(net, fit={"epochs": None}, step_budget=1))
    _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    trainer.set_lr(0.05)
    trainer.step()
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    assert msgs[-1].lr == pytest.approx(0.05)
    trainer.stop()
    _collect(trainer, lambda m: isinstance(m, Finished))


def test_data_is_cached_and_offset_applied(trainer):
    net = _net()
    req = _request(net, key="xor-cached", fit={"epochs": 1})
    trainer.run(req)
    _collect(trainer, lambda m: isinstance(m, Finished))
    # same key: the arrays need not be sent again; steps continue from the offset
    light = RunRequest(
        net.config(),
        net.get_params(),
        {"epochs": 1, "batch_size": 10},
        "xor-cached",
        step_offset=20,
    )
    trainer.run(light)
    msgs = _collect(trainer, lambda m: isinstance(m, Finished))
    assert _steps(msgs).tolist() == list(range(21, 41))


def test_large_arrays_go_through_raw_buffers(trainer):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 64))  # 1.5 MB: above the inline limit
    Y = np.eye(4)[rng.integers(0, 4, 3000)]
    net = Network([64, 16, 4], activation="relu", output="softmax", loss="cross_entropy")
    req = RunRequest(net.config(), net.get_params(), {"epochs": 1, "batch_size": 100}, "big", X, Y)
    trainer.run(req)
    fin = _collect(trainer, lambda m: isinstance(m, Finished))[-1]
    assert fin.steps == 30


def test_engine_error_is_reported_and_child_survives(trainer):
    net = _net()
    trainer.run(_request(net, fit={"optimizer": "no-such-optimizer"}))
    deadline = time.monotonic() + TIMEOUT
    msg = None
    while time.monotonic() < deadline and not isinstance(msg, Failed):
        msg = trainer.recv(0.5)
    assert isinstance(msg, Failed)
    assert msg.user_error
    assert "optimizer" in msg.message.lower()
    trainer.run(_request(net, fit={"epochs": 1}))
    assert _collect(trainer, lambda m: isinstance(m, Finished))[-1].stop_reason == "finished"


def test_divergence_is_a_stop_reason(trainer):
    net = Network([2, 8, 1], activation="relu", output="linear", loss="mse", seed=0)
    trainer.run(_request(net, key="xor-lin", fit={"epochs": 50, "lr": 1e6}))
    fin = _collect(trainer, lambda m: isinstance(m, Finished))[-1]
    assert fin.stop_reason == "diverged"
    assert "learning rate" in fin.message
    assert all(np.all(np.isfinite(v)) for v in fin.params.values())


def test_close_mid_run_ends_the_child():
    t = RemoteTrainer()
    net = _net()
    t.run(_request(net, fit={"epochs": None}))
    _collect(t, lambda m: isinstance(m, Progress) and len(m.steps) > 0)
    pid = t.pid
    t.close(timeout=10)
    assert not t.alive
    assert pid not in [p.pid for p in mp.active_children()]


def test_gradient_norm_sampling_spans_a_continued_run(trainer):
    """A run that continues the curve (step_offset) samples norms across the whole run, as a fresh
    one does: the first rate estimate must count this run's steps, not the offset (else it sees a
    huge rate and stops sampling after the first message)."""
    for offset in (0, 5_000_000):
        net = _net()
        trainer.run(_request(net, fit={"epochs": 400}, step_offset=offset))
        msgs = _collect(trainer, lambda m: isinstance(m, Finished))
        steps = _steps(msgs)
        grad_steps = np.concatenate([m.grad_steps for m in msgs if isinstance(m, Progress)])
        coverage = (grad_steps[-1] - grad_steps[0]) / (steps[-1] - steps[0])
        assert coverage > 0.9, (offset, coverage)


# --------------------------------------------------------------------------- pace


def _rate_on_child_clock(msgs: list) -> float:
    """Steps per second between the first and the last Progress, on the child's training clock."""
    prog = [m for m in msgs if isinstance(m, Progress) and len(m.steps)]
    first, last = prog[0], prog[-1]
    return (last.step - first.step) / (last.elapsed - first.elapsed)


def test_paced_run_keeps_its_pace(trainer):
    net = _net()
    trainer.run(_request(net, key="xor", fit={"epochs": None}, pace=80.0))
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.step >= 40)
    trainer.stop()
    msgs += _collect(trainer, lambda m: isinstance(m, Finished))
    rate = _rate_on_child_clock(msgs)
    assert 80 * 0.9 <= rate <= 80 * 1.1, rate
    # slow motion: messages at ≤ 20 a second hold ~4 steps each, a weight snapshot every 0.1 s
    prog = [m for m in msgs if isinstance(m, Progress) and len(m.steps)]
    assert np.median([len(m.steps) for m in prog]) <= 5
    with_params = [m for m in prog if m.params is not None]
    assert len(with_params) >= 0.3 * len(prog), (len(with_params), len(prog))


def test_full_speed_is_not_paced_and_pace_changes_live(trainer):
    net = _net()
    trainer.run(_request(net, key="xor", fit={"epochs": None}, pace=None))
    # a quarter of a second on the child's clock: several Progress messages (≤ 20 a second)
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.elapsed >= 0.25)
    full = _rate_on_child_clock(msgs)
    assert full > 500, full  # tens of thousands here; a pace would cap it at its value
    trainer.set_pace(50.0)
    mark = _collect(trainer, lambda m: isinstance(m, Progress) and len(m.steps))[-1].step
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.step >= mark + 25)
    slow = _rate_on_child_clock(msgs)
    assert 50 * 0.85 <= slow <= 50 * 1.15, slow
    trainer.stop()
    _collect(trainer, lambda m: isinstance(m, Finished))


def test_pause_and_stop_are_prompt_while_paced_slowly(trainer):
    net = _net()
    # one step every 2 s: a command must not wait for the next step's deadline
    trainer.run(_request(net, key="xor", fit={"epochs": None}, pace=0.5))
    _collect(trainer, lambda m: isinstance(m, Progress) and m.step >= 1)
    t0 = time.monotonic()
    trainer.pause()
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    assert time.monotonic() - t0 < 0.5
    assert msgs[-1].step == 1
    trainer.step()  # a step asked for runs at once, not at the pace's next deadline
    t0 = time.monotonic()
    msgs = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused and m.step == 2)
    assert time.monotonic() - t0 < 0.5
    trainer.resume()
    _collect(trainer, lambda m: isinstance(m, Progress) and m.step >= 3)  # at once, again
    t0 = time.monotonic()
    trainer.stop()
    msgs = _collect(trainer, lambda m: isinstance(m, Finished))
    assert time.monotonic() - t0 < 0.5
    assert msgs[-1].stop_reason == "stopped" and msgs[-1].steps == 3


def test_bad_pace_is_refused():
    with pytest.raises(ValueError, match="pace"):
        RemoteTrainer().set_pace(0.0)


def test_a_pause_carries_the_optimiser_state_and_the_next_step_uses_it(trainer):
    """Adam on one sample: the paused message's state makes the update stage equal the child's
    next step; a progress message of a running child carries none."""
    from bpstudio.engine.stages import walk

    net = _net()
    x, y = np.array([[0.3, -0.7]]), np.array([[1.0]])
    cfg = {"epochs": None, "batch_size": 1, "lr": 0.05, "optimizer": "adam"}
    trainer.run(RunRequest(net.config(), net.get_params(), cfg, "one", x, y, step_budget=1))
    _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)
    trainer.step(4)
    msg = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)[-1]
    st = msg.optimizer_state
    assert st is not None and st.optimizer == "adam" and st.t == 5 and set(st.arrays) == {"m", "v"}
    paused = Network.from_config(net.config(), msg.params)
    w = walk(paused, x[0], y[0], FitConfig.from_dict(cfg), t=st.t + 1, state=st.arrays)
    trainer.step()
    nxt = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)[-1]
    for name, value in nxt.params.items():
        np.testing.assert_allclose(w.update.new[name], value, rtol=1e-12, atol=1e-14)
    trainer.resume()
    running = _collect(trainer, lambda m: isinstance(m, Progress) and len(m.steps) > 0)
    assert all(m.optimizer_state is None for m in running if not m.paused)
    trainer.stop()
    _collect(trainer, lambda m: isinstance(m, Finished))


def test_set_params_while_paused_is_trained_from(trainer):
    net = _net()
    X, Y = _xor_data()
    cfg = {"epochs": None, "batch_size": 200, "lr": 0.5, "shuffle": False}
    trainer.run(RunRequest(net.config(), net.get_params(), cfg, "xor", X, Y, step_budget=1))
    msg = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)[-1]
    edited = {k: v.copy() for k, v in msg.params.items()}
    edited["W2"][3, 1] = 2.5
    trainer.set_params(edited)
    trainer.step()
    nxt = _collect(trainer, lambda m: isinstance(m, Progress) and m.paused)[-1]
    ref = Network.from_config(net.config(), edited)
    fit(ref, X, Y, config=FitConfig.from_dict({**cfg, "epochs": 1}))
    for name, value in nxt.params.items():
        np.testing.assert_allclose(value, ref.params[name], rtol=1e-10, atol=1e-12)
    trainer.stop()
    fin = _collect(trainer, lambda m: isinstance(m, Finished))[-1]
    np.testing.assert_allclose(fin.params["W2"], nxt.params["W2"])
