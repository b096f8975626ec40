"""`fit`: learning, determinism, divergence, early stopping, control, callbacks, dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpstudio.engine import (
    OPTIMIZERS,
    SCHEDULES,
    EngineError,
    EpochEvent,
    FitConfig,
    FitControl,
    History,
    Network,
    StepEvent,
    fit,
)
from bpstudio.engine.optimizers import scheduled_lr

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def two_spirals(n: int = 150, turns: float = 1.5, noise: float = 0.05, seed: int = 0):
    """Two interleaved spiral arms (class 0 and its point reflection, class 1), standardised."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1.0, size=n)) * turns * 2 * np.pi
    arm = np.c_[t * np.cos(t), t * np.sin(t)] / (turns * 2 * np.pi)
    X = np.r_[arm, -arm] + rng.normal(scale=noise, size=(2 * n, 2))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    Y = np.eye(2)[np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]]
    return X, Y


def blobs(n: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centres[y] + rng.normal(scale=0.6, size=(n, 2)), np.eye(3)[y]


def accuracy(net: Network, X: np.ndarray, Y: np.ndarray) -> float:
    A = net.forward(X)
    if Y.shape[1] == 1:
        return float(np.mean((A > 0.5) == (Y > 0.5)))
    return float(np.mean(A.argmax(1) == Y.argmax(1)))


def test_xor_reaches_full_accuracy() -> None:
    net = Network([2, 4, 1], activation="tanh", output="sigmoid", loss="cross_entropy", seed=0)
    hist = fit(net, XOR_X, XOR_Y, epochs=1500, batch_size=4, optimizer="sgd", lr=1.0)
    assert hist.stop_reason == "finished"
    assert accuracy(net, XOR_X, XOR_Y) == 1.0
    assert hist.epoch_train_accuracy[-1] == 1.0


def test_two_spirals_reach_95_percent() -> None:
    """The CLI's defaults (relu 32,32, adam α = 0.01, batch 32, 100 epochs, float32)."""
    X, Y = two_spirals()
    Xv, Yv = two_spirals(n=100, seed=1)
    net = Network(
        [2, 32, 32, 2], activation="relu", output="softmax", loss="cross_entropy", dtype="float32"
    )
    hist = fit(net, X, Y, X_val=Xv, Y_val=Yv, epochs=100, batch_size=32, optimizer="adam", lr=0.01)
    assert accuracy(net, X, Y) >= 0.95, hist.message
    assert hist.epoch_val_accuracy[-1] >= 0.95


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_same_seed_gives_identical_weights(optimizer: str) -> None:
    X, Y = blobs()
    runs = []
    for _ in range(2):
        net = Network([2, 6, 3], activation="relu", output="softmax", loss="cross_entropy", seed=3)
        fit(net, X, Y, epochs=3, batch_size=16, optimizer=optimizer, lr=0.05, seed=11)
        runs.append(net.get_params())
    for name in runs[0]:
        np.testing.assert_array_equal(runs[0][name], runs[1][name])
    other = Network([2, 6, 3], activation="relu", output="softmax", loss="cross_entropy", seed=3)
    fit(other, X, Y, epochs=3, batch_size=16, optimizer=optimizer, lr=0.05, seed=12)
    assert not np.array_equal(other.params["W2"], runs[0]["W2"])  # the shuffle seed matters


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_optimizer_learns(optimizer: str, dtype: str) -> None:
    X, Y = blobs()
    net = Network([2, 8, 3], activation="tanh", output="softmax", loss="cross_entropy", dtype=dtype)
    lr = {"sgd": 0.5, "momentum": 0.1, "adam": 0.02}[optimizer]
    hist = fit(net, X, Y, epochs=20, batch_size=20, optimizer=optimizer, lr=lr, nesterov=True)
    assert hist.epoch_train_loss[-1] < 0.5 * hist.epoch_train_loss[0]
    assert accuracy(net, X, Y) > 0.9
    assert net.params["W2"].dtype == np.dtype(dtype)


@pytest.mark.parametrize("lr", [1e6, 1e38])  # 1e38: the update itself overflows float32
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_learning_rate_diverges_gracefully(dtype: str, lr: float) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 10
    Y = X @ np.array([[1.0], [2.0], [-1.0]])
    net = Network([3, 8, 1], activation="relu", output="linear", loss="mse", dtype=dtype)
    hist = fit(net, X, Y, epochs=50, batch_size=8, lr=lr)
    assert hist.stop_reason == "diverged"
    assert "epoch" in hist.message and "step" in hist.message and "layer" in hist.message
    assert "learning rate" in hist.message and "scale the inputs" in hist.message
    assert all(np.all(np.isfinite(v)) for v in net.params.values())
    assert all(math.isfinite(x) for x in hist.step_loss)
    assert hist.epochs < 50


def test_early_stopping_restores_best_weights() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    Y = np.sin(3 * X[:, :1]) + 0.3 * rng.normal(size=(40, 1))
    Xv = rng.normal(size=(40, 2))
    Yv = np.sin(3 * Xv[:, :1]) + 0.3 * rng.normal(size=(40, 1))
    net = Network([2, 64, 64, 1], activation="tanh", output="linear", loss="mse", seed=0)
    snapshots: dict[int, dict[str, np.ndarray]] = {}

    def remember(ev):
        if isinstance(ev, EpochEvent):
            snapshots[ev.epoch] = net.get_params()

    hist = fit(
        net, X, Y, X_val=Xv, Y_val=Yv, epochs=2000, batch_size=8, optimizer="adam", lr=0.01,
        patience=5, callback=remember,
    )  # fmt: skip
    assert hist.stop_reason == "early_stopped"
    assert hist.epochs < 2000
    best = hist.best_epoch
    assert best == int(np.argmin(hist.epoch_val_loss)) + 1
    assert hist.epochs == best + 5
    for name, value in net.params.items():
        np.testing.assert_array_equal(value, snapshots[best][name])
    assert net.loss(Xv, Yv) == pytest.approx(min(hist.epoch_val_loss), rel=1e-9)
    assert "restored" in hist.message


def test_request_stop_between_batches() -> None:
    X, Y = blobs()
    net = Network([2, 5, 3], output="softmax", loss="cross_entropy")
    control = FitControl()
    events: list[StepEvent] = []

    def cb(ev):
        if isinstance(ev, StepEvent):
            events.append(ev)
            if ev.step == 7:
                control.request_stop()

    hist = fit(net, X, Y, epochs=None, batch_size=10, control=control, callback=cb)
    assert hist.stop_reason == "stopped"
    assert hist.steps == 7 and len(hist.step_loss) == 7 and len(events) == 7
    assert "Stopped" in hist.message


def test_set_lr_takes_effect_next_step_and_schedules_continue_from_it() -> None:
    X, Y = blobs(n=40)
    net = Network([2, 5, 3], output="softmax", loss="cross_entropy")
    control = FitControl()
    lrs: list[tuple[int, float]] = []

    def cb(ev):
        if isinstance(ev, StepEvent):
            lrs.append((ev.epoch, ev.lr))
            if ev.step == 2:
                control.set_lr(0.25)

    hist = fit(
        net, X, Y, epochs=3, batch_size=10, lr=1.0, schedule="exponential", gamma=0.5,
        control=control, callback=cb,
    )  # fmt: skip
    assert [lr for _, lr in lrs[:4]] == [1.0, 1.0, 0.25, 0.25]
    assert {lr for e, lr in lrs if e == 2} == {0.125}
    assert {lr for e, lr in lrs if e == 3} == {0.0625}
    assert hist.epoch_lr == [0.25, 0.125, 0.0625]


def test_schedules() -> None:
    assert SCHEDULES == ("constant", "step", "exponential")
    assert [scheduled_lr("constant", 1.0, e, 2, 0.5) for e in (1, 5)] == [1.0, 1.0]
    assert [scheduled_lr("step", 1.0, e, 2, 0.5) for e in (1, 2, 3, 4, 5)] == [1, 1, 0.5, 0.5, 0.25]
    assert [scheduled_lr("exponential", 1.0, e, 2, 0.5) for e in (1, 2, 3)] == [1, 0.5, 0.25]
    X, Y = blobs(n=40)
    net = Network([2, 3, 3], output="softmax", loss="cross_entropy")
    hist = fit(net, X, Y, epochs=5, batch_size=40, lr=1.0, schedule="step", step_size=2)
    assert hist.epoch_lr == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_callback_event_sequence_and_history() -> None:
    X, Y = blobs(n=25)
    Xv, Yv = blobs(n=10, seed=1)
    net = Network([2, 4, 3], output="softmax", loss="cross_entropy")
    events: list = []
    hist = fit(
        net, X, Y, X_val=Xv, Y_val=Yv, epochs=2, batch_size=10, grad_norm_every=2,
        callback=events.append,
    )  # fmt: skip
    kinds = [(type(e).__name__, e.epoch, e.step) for e in events]
    assert kinds == [
        ("StepEvent", 1, 1), ("StepEvent", 1, 2), ("StepEvent", 1, 3), ("EpochEvent", 1, 3),
        ("StepEvent", 2, 4), ("StepEvent", 2, 5), ("StepEvent", 2, 6), ("EpochEvent", 2, 6),
    ]  # fmt: skip
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [s.batch for s in steps] == [1, 2, 3, 1, 2, 3]
    assert all(s.n_batches == 3 for s in steps)
    assert [s.grad_norms is not None for s in steps] == [False, True, False, True, False, True]
    assert set(steps[1].grad_norms) == {"W2", "b2", "W3", "b3"}
    assert [s.loss for s in steps] == hist.step_loss
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert epochs[0].train_loss == pytest.approx(np.mean(hist.step_loss[:3]))
    assert epochs[1].seconds >= epochs[0].seconds >= 0
    assert all(e.val_loss is not None and 0 <= e.val_accuracy <= 1 for e in epochs)
    assert all(0 <= e.train_accuracy <= 1 for e in epochs)
    assert isinstance(hist, History) and hist.stop_reason == "finished"
    assert hist.epochs == 2 and hist.steps == 6 and len(hist.grad_norms) == 3
    assert hist.epoch_val_loss == [e.val_loss for e in epochs]
    assert hist.epoch_val_loss[-1] == pytest.approx(net.loss(Xv, Yv), rel=1e-9)


def test_grad_norms_are_the_gradient_norms() -> None:
    X, Y = blobs(n=30)
    net = Network([2, 4, 3], output="softmax", loss="cross_entropy", seed=2)
    grads = net.gradients(X, Y)
    for opt in OPTIMIZERS:
        twin = net.copy()
        hist = fit(twin, X, Y, epochs=1, batch_size=30, optimizer=opt, lr=0.3, shuffle=False,
                   grad_norm_every=1)  # fmt: skip
        ((step, norms),) = hist.grad_norms
        assert step == 1
        for name, g in grads.items():
            assert norms[name] == pytest.approx(np.linalg.norm(g), rel=1e-9)


def test_grad_norm_every_can_change_live() -> None:
    X, Y = blobs(n=50)
    net = Network([2, 4, 3], output="softmax", loss="cross_entropy")
    control = FitControl()

    def cb(ev):
        if isinstance(ev, StepEvent) and ev.step == 3:
            control.grad_norm_every = 1

    hist = fit(net, X, Y, epochs=1, batch_size=10, control=control, callback=cb)
    assert [s for s, _ in hist.grad_norms] == [4, 5]


def test_params_are_live_and_training_dtype_may_differ() -> None:
    X, Y = blobs(n=30)
    net = Network([2, 4, 3], output="softmax", loss="cross_entropy", dtype="float64")
    seen: list[float] = []
    W2 = net.params["W2"]

    def cb(ev):
        if isinstance(ev, StepEvent):
            seen.append(float(net.params["W2"][0, 0]))

    fit(net, X, Y, epochs=1, batch_size=10, dtype="float32", lr=0.5, callback=cb)
    assert net.dtype == "float64" and net.params["W2"].dtype == np.float64
    assert len(set(seen)) == 3  # the caller sees the weights move during training
    assert seen[-1] == float(net.params["W2"][0, 0])
    assert np.shares_memory(W2, net.params["W2"])
    W2[0, 0] = 123.0
    assert net.params["W2"][0, 0] == 123.0


def test_weight_decay_shrinks_weights() -> None:
    X, Y = blobs()
    sizes = {}
    for wd in (0.0, 0.05):
        net = Network([2, 16, 3], output="softmax", loss="cross_entropy", seed=0)
        fit(net, X, Y, epochs=30, batch_size=20, lr=0.3, weight_decay=wd)
        sizes[wd] = float(np.linalg.norm(net.params["W2"]))
    assert sizes[0.05] < 0.8 * sizes[0.0]


def test_bad_configuration_raises_engine_error() -> None:
    net = Network([2, 3, 1])
    X, Y = XOR_X, XOR_Y
    with pytest.raises(EngineError, match="optimizer"):
        fit(net, X, Y, optimizer="rmsprop")
    with pytest.raises(EngineError, match="Unknown fit option"):
        fit(net, X, Y, learning_rate=0.1)
    with pytest.raises(EngineError, match="shape"):
        fit(net, X[:, :1], Y)
    with pytest.raises(EngineError, match="Y must have shape"):
        fit(net, X, np.zeros((4, 2)))
    with pytest.raises(EngineError, match="batch_size"):
        fit(net, X, Y, config=FitConfig(batch_size=0))


def test_uneven_last_batch_and_no_shuffle() -> None:
    X, Y = blobs(n=23)
    net = Network([2, 4, 3], output="softmax", loss="cross_entropy")
    hist = fit(net, X, Y, epochs=2, batch_size=10, shuffle=False)
    assert hist.steps == 6 and len(hist.step_loss) == 6


def test_gather_mode_and_augmented_kernels_match_the_plain_path(monkeypatch) -> None:
    """Large data sets gather each batch instead of permuting X per epoch; small nets fold the
    bias into the GEMMs. Same seed, same batches: the weights must agree."""
    from bpstudio.engine import kernels, training

    X, Y = blobs(n=57)
    Xv, Yv = blobs(n=20, seed=3)
    results = []
    for permute_bytes, augment_max in ((2**40, 0), (0, 0), (2**40, 10**9), (0, 10**9)):
        monkeypatch.setattr(training, "_PERMUTE_BYTES", permute_bytes)
        monkeypatch.setattr(kernels, "AUGMENT_MAX_ELEMENTS", augment_max)
        net = Network([2, 7, 3], activation="elu", output="softmax", loss="cross_entropy")
        hist = fit(net, X, Y, X_val=Xv, Y_val=Yv, epochs=3, batch_size=10, optimizer="momentum")
        results.append((net.get_params(), hist))
    ref, ref_hist = results[0]
    for params, hist in results[1:]:
        for name in ref:
            np.testing.assert_allclose(params[name], ref[name], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(hist.step_loss, ref_hist.step_loss, rtol=1e-10)
        assert hist.epoch_train_accuracy == ref_hist.epoch_train_accuracy
