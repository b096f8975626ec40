"""The live optimiser state: read from a running ``fit`` (``FitControl.optimizer_state``), it lets
the stages' update take exactly the step training takes next; parameters set between steps
(``Network.set_params`` + ``FitControl.reload_params``) are what training goes on from, in the
network's dtype or another one."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.engine import EngineError, FitConfig, Network, fit
from bpstudio.engine.optimizers import make_optimizer
from bpstudio.engine.stages import walk
from bpstudio.engine.training import FitControl, StepEvent

CONFIGS = [
    FitConfig(optimizer="sgd", lr=0.3, weight_decay=0.01),
    FitConfig(optimizer="momentum", lr=0.2, momentum=0.9),
    FitConfig(optimizer="momentum", lr=0.2, momentum=0.8, nesterov=True, weight_decay=0.02),
    FitConfig(optimizer="adam", lr=0.01),
    FitConfig(optimizer="adam", lr=0.02, beta1=0.8, weight_decay=0.01),
]


def _net() -> Network:
    return Network([3, 5, 4, 2], activation="tanh", output="softmax", loss="cross_entropy", seed=3)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.optimizer}-{c.nesterov}")
def test_update_stage_from_the_live_state_is_the_next_training_step(cfg):
    """Train N steps on one sample, read the state, then the update stage's θ_new is θ after
    step N + 1 (float64, to 1e-12)."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=3), np.array([0.0, 1.0])
    net = _net()
    control = FitControl()
    seen: dict[int, tuple] = {}

    def callback(ev):
        if isinstance(ev, StepEvent) and ev.step in (7, 8):
            seen[ev.step] = (net.copy(), control.optimizer_state())

    fit(
        net,
        x[None],
        y[None],
        config=cfg,
        control=control,
        callback=callback,
        epochs=8,
        batch_size=1,
        shuffle=False,
    )
    before, state = seen[7]
    after = seen[8][0]
    assert state.optimizer == cfg.optimizer and state.t == 7 and state.lr == cfg.lr
    assert set(state.arrays) == set(make_optimizer(cfg.optimizer, 1, np.float64, cfg).STATE)
    w = walk(before, x, y, cfg, t=state.t + 1, state=state.arrays)
    for name, value in after.params.items():
        np.testing.assert_allclose(w.update.new[name], value, rtol=1e-12, atol=1e-14)
    if cfg.optimizer != "sgd":  # a fresh optimiser would take another step
        fresh = walk(before, x, y, cfg)
        assert not np.allclose(fresh.update.new["W2"], after.params["W2"], rtol=1e-9)
    assert control.optimizer_state() is None  # outside fit there is none


@pytest.mark.parametrize("dtype", [None, "float32"])
def test_parameters_set_between_steps_are_trained_from(dtype):
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(4, 3)), np.eye(2)[[0, 1, 1, 0]]
    net = _net()
    control = FitControl()
    edited: dict[str, np.ndarray] = {}
    after: dict[str, np.ndarray] = {}

    def callback(ev):
        if isinstance(ev, StepEvent) and ev.step == 3:
            params = net.get_params()
            params["W3"][1, 2] = 0.5
            net.set_params(params)
            control.reload_params()
            edited.update(net.get_params())
        elif isinstance(ev, StepEvent) and ev.step == 4:
            after.update(net.get_params())

    cfg = FitConfig(optimizer="sgd", lr=0.1, batch_size=4, shuffle=False, dtype=dtype)
    fit(net, X, Y, config=cfg, control=control, callback=callback, epochs=4)
    ref = Network.from_config(net.config(), edited)
    fit(ref, X, Y, config=cfg, epochs=1)  # one full-batch step from the edited weights
    tol = 1e-6 if dtype else 1e-12
    for name in after:
        np.testing.assert_allclose(after[name], ref.params[name], rtol=tol, atol=tol)


def test_state_round_trip_and_bad_state():
    cfg = FitConfig(optimizer="adam")
    a = make_optimizer("adam", 4, np.dtype(np.float64), cfg)
    a.m[...] = [1, 2, 3, 4]
    b = make_optimizer("adam", 4, np.dtype(np.float64), cfg)
    b.load_state(a.state())
    np.testing.assert_array_equal(b.m, a.m)
    a.m[0] = 9  # state() copies
    assert b.m[0] == 1
    with pytest.raises(EngineError, match="no state"):
        b.load_state({"velocity": np.zeros(4)})
    with pytest.raises(EngineError, match="4"):
        b.load_state({"m": np.zeros(3)})
