"""The teaching engine: staged backprop equals the trace, finite differences and the real training
step; the gradient-check report and its break-backprop demonstration; diagnostics; confusion."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.engine import EngineError, FitConfig, Network, fit, gradient_check
from bpstudio.engine.activations import HIDDEN_ACTIVATIONS
from bpstudio.engine.diagnostics import activation_diagnostics, confusion
from bpstudio.engine.gradcheck_report import (
    BREAKS,
    broken_gradient_check_report,
    broken_gradients,
    demo_descent,
    gradient_check_report,
)
from bpstudio.engine.stages import (
    BP1,
    BP2,
    BP34,
    FORWARD,
    LOSS,
    UPDATE,
    gradient_origin,
    minibatch_gradient,
    walk,
)
from bpstudio.engine.training import accuracy
from bpstudio.heads import predicted_class as predicted_classes
from tests.engine.test_gradients import PAIRS, inputs


def _net(output="sigmoid", loss="mse", act="tanh", sizes=(3, 4, 4, 2), seed=0):
    return Network(list(sizes), activation=act, output=output, loss=loss, seed=seed)


def _target(rng, net, n=1):
    k = net.sizes[-1]
    if net.output == "softmax":
        return np.eye(k)[rng.integers(k, size=n)]
    if net.output == "linear":
        return rng.normal(size=(n, k))
    if net.output == "tanh":
        return rng.uniform(-0.9, 0.9, size=(n, k))
    return rng.integers(0, 2, size=(n, k)).astype(float)


def test_stage_order_and_labels():
    net = _net(sizes=(2, 3, 3, 3, 2))
    w = walk(net, np.zeros(2), np.array([1.0, 0.0]))
    kinds = [(s.kind, s.layer) for s in w.stages]
    assert kinds == [
        (FORWARD, 2),
        (FORWARD, 3),
        (FORWARD, 4),
        (FORWARD, 5),
        (LOSS, 5),
        (BP1, 5),
        (BP2, 4),
        (BP2, 3),
        (BP2, 2),
        (BP34, 5),
        (BP34, 4),
        (BP34, 3),
        (BP34, 2),
        (UPDATE, 0),
    ]
    assert w.stages[7].title == "BP2, layer 3"
    bp2 = w.stages[7].highlight
    assert bp2.direction == "backward" and bp2.write_layers == {3} and bp2.link_layers == {4}
    assert w.stages[0].highlight.direction == "forward"


@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_walk_equals_trace_and_finite_differences(output, loss):
    rng = np.random.default_rng(3)
    net = _net(output, loss)
    X = inputs(rng, net, 1)
    Y = _target(rng, net)
    w = walk(net, X[0], Y[0])
    tr = net.trace(X[0], Y[0])
    fd = gradient_check(net, X, Y).numeric
    for l, t in tr.items():
        np.testing.assert_allclose(w.z[l], t.z, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w.a[l], t.a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w.delta[l], t.delta, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w.dW[l], t.dW, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w.dW[l], fd[f"W{l}"], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(w.db[l], fd[f"b{l}"], rtol=1e-5, atol=1e-8)
    assert pytest.approx(net.loss(X, Y), rel=1e-12) == w.J
    if w.shortcut is not None:  # the matched pair's a − y (or (a − y)/k) equals the general BP1
        np.testing.assert_allclose(w.shortcut, w.delta[w.L], rtol=1e-9, atol=1e-12)
    if output == "softmax":  # BP1 is the Jacobian product, and that is what δ^L holds
        np.testing.assert_allclose(w.jacobian.T @ w.grad_a, w.delta[w.L], rtol=1e-9, atol=1e-12)
    else:
        np.testing.assert_allclose(w.grad_a * w.sigma_prime[w.L], w.delta[w.L], rtol=1e-12)


CONFIGS = [
    FitConfig(optimizer="sgd", lr=0.3),
    FitConfig(optimizer="sgd", lr=0.3, weight_decay=0.01),
    FitConfig(optimizer="momentum", lr=0.2, momentum=0.9),
    FitConfig(optimizer="momentum", lr=0.2, momentum=0.8, nesterov=True, weight_decay=0.02),
    FitConfig(optimizer="adam", lr=0.01),
    FitConfig(optimizer="adam", lr=0.02, beta1=0.8, weight_decay=0.01),
]


@pytest.mark.parametrize(
    "cfg", CONFIGS, ids=lambda c: f"{c.optimizer}-{c.nesterov}-{c.weight_decay}"
)
def test_update_stage_matches_one_training_step(cfg):
    rng = np.random.default_rng(5)
    net = _net("softmax", "cross_entropy")
    x, y = rng.normal(size=3), np.array([0.0, 1.0])
    w = walk(net, x, y, cfg)
    trained = net.copy()
    fit(trained, x[None], y[None], config=cfg, epochs=1, batch_size=1, shuffle=False)
    assert w.update.loss_after == pytest.approx(trained.loss(x[None], y[None]), rel=1e-10)
    for name, value in trained.params.items():
        np.testing.assert_allclose(w.update.new[name], value, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(
            w.update.delta[name], value - net.params[name], rtol=1e-8, atol=1e-13
        )
    assert w.update.loss_after < w.update.loss_before  # one small step on this sample helps it
    if cfg.optimizer == "momentum":  # a fresh velocity: v = −α g after the first step
        np.testing.assert_allclose(w.update.state["v"]["W2"], -cfg.lr * w.update.grad["W2"])
    if cfg.optimizer == "adam":  # m = (1 − β1) g and v = (1 − β2) g² after the first step
        g = w.update.grad["W3"]
        np.testing.assert_allclose(w.update.state["m"]["W3"], (1 - cfg.beta1) * g)
        np.testing.assert_allclose(w.update.state["v"]["W3"], (1 - cfg.beta2) * g * g)


def test_gradient_origin_names_the_two_factors_and_their_stages():
    net = _net(sizes=(3, 4, 4, 2))
    rng = np.random.default_rng(2)
    w = walk(net, rng.normal(size=3), np.array([1.0, 0.0]))
    o = gradient_origin(w, "w", 3, 1, 2)
    assert o.target == "∂J/∂w^3_23" and o.equation == "BP4"
    assert [f.symbol for f in o.factors] == ["a^2_3", "δ^3_2"]
    assert o.product == pytest.approx(o.value, rel=1e-12)
    assert w.stages[o.factors[0].stage].kind == FORWARD
    assert w.stages[o.factors[1].stage].title == "BP2, layer 3"
    first = gradient_origin(w, "w", 2, 0, 0)
    assert first.factors[0].stage is None  # a^1 = x: the input, no stage made it
    d = gradient_origin(w, "delta", 3, 1)
    assert d.equation == "BP2" and d.product == pytest.approx(w.delta[3][1], rel=1e-12)
    assert w.stages[d.factors[0].stage].kind == BP1  # Σ w δ^4 comes from δ^4, i.e. BP1
    out = gradient_origin(w, "delta", 4, 0)
    assert w.stages[out.factors[0].stage].kind == LOSS
    assert out.product == pytest.approx(w.delta[4][0], rel=1e-12)
    assert gradient_origin(w, "b", 2, 3).value == pytest.approx(w.delta[2][3])
    with pytest.raises(EngineError):
        gradient_origin(w, "w", 3, 9, 0)


def test_minibatch_gradient_is_the_mean_of_each_samples():
    rng = np.random.default_rng(4)
    net = _net()
    X, Y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=(7, 2)).astype(float)
    mb = minibatch_gradient(net, X, Y, "w", 3, 2, 1)
    per = [walk(net, X[i], Y[i]).dW[3][2, 1] for i in range(7)]
    np.testing.assert_allclose(mb.per_sample, per, rtol=1e-12)
    assert mb.mean == pytest.approx(net.gradients(X, Y)["W3"][2, 1], rel=1e-12)
    assert mb.mean == pytest.approx(np.mean(per), rel=1e-12)
    mbb = minibatch_gradient(net, X, Y, "b", 2, 0)
    assert mbb.mean == pytest.approx(net.gradients(X, Y)["b2"][0], rel=1e-12)


@pytest.mark.parametrize("act", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_report_passes_for_every_correct_network(act, output, loss):
    rng = np.random.default_rng(11)
    net = _net(output, loss, act, sizes=(2, 3, 2))
    X = inputs(rng, net, 4)
    assert X is not None
    rep = gradient_check_report(net, X, _target(rng, net, 4))
    assert rep.passed, rep.verdict
    assert rep.max_error <= 1e-6 and [a.name for a in rep.arrays] == ["W2", "b2", "W3", "b3"]
    assert rep.verdict.startswith("Backprop agrees") and rep.broken is None
    assert all(a.max_rel <= 1e-5 for a in rep.arrays)


@pytest.mark.parametrize("broken", list(BREAKS))
def test_each_break_is_flagged(broken):
    rng = np.random.default_rng(1)
    net = _net("sigmoid", "mse", "tanh", sizes=(3, 4, 4, 3))
    X, Y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=(5, 3)).astype(float)
    assert gradient_check_report(net, X, Y).passed
    rep = broken_gradient_check_report(net, X, Y, broken=broken)
    assert not rep.passed and rep.broken == broken
    assert rep.verdict.startswith("Demonstration with a deliberate bug")
    assert "WRONG" in rep.verdict
    worst = max((e for a in rep.arrays for e in a.worst), key=lambda e: e.rel_error)
    assert worst.rel_error > 1e-3 and worst.name.startswith("∂J/∂")
    if broken != "mse_without_1_over_k":  # BP2 bugs leave the output layer's gradient right
        assert next(a for a in rep.arrays if a.name == "W4").ok


def test_breaks_must_be_asked_for_and_fit_the_network():
    net = _net(sizes=(3, 4, 2))
    X, Y = np.ones((2, 3)), np.ones((2, 2))
    with pytest.raises(TypeError):
        broken_gradients(net, X, Y)  # broken= has no default
    with pytest.raises(EngineError, match="same width"):
        broken_gradients(_net(sizes=(3, 4, 5, 2)), X, Y, broken="w_instead_of_wt")
    with pytest.raises(EngineError, match="mse"):
        broken_gradients(_net("softmax", "cross_entropy"), X, Y, broken="mse_without_1_over_k")
    with pytest.raises(EngineError, match="Unknown break"):
        broken_gradients(net, X, Y, broken="typo")


def test_demo_descent_correct_learns_and_broken_differs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network([2, 8, 1], activation="tanh", output="sigmoid", loss="mse", seed=1)
    good = demo_descent(net, X, Y, broken=None, epochs=40, lr=2.0, batch_size=16)
    bad = demo_descent(net, X, Y, broken="forget_sigma_prime", epochs=40, lr=2.0, batch_size=16)
    assert good[-1] < 0.6 * good[0]
    assert bad != good
    assert net.loss(X, Y) == pytest.approx(good[0])  # the network itself is untouched


def test_saturation_fresh_relu_zero_deep_sigmoid_large_scale_high():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    Y = np.eye(3)[rng.integers(3, size=200)]
    relu = Network([4, 16, 16, 3], activation="relu", output="softmax", loss="cross_entropy")
    d = activation_diagnostics(relu, X, Y)
    assert all(ld.saturated == 0.0 for ld in d.layers[:-1])  # ReLU does not saturate: 0 %
    assert all((ld.dead or 0.0) < 0.5 for ld in d.layers[:-1])
    deep = Network(
        [4] + [16] * 6 + [3], activation="sigmoid", output="softmax", loss="cross_entropy"
    )
    for name, p in deep.params.items():
        if name.startswith("W"):
            p *= 16.0  # a large initial scale: |w| up to about 7
    dd = activation_diagnostics(deep, X, Y)
    hidden = dd.layers[:-1]
    assert all(ld.saturated > 0.5 for ld in hidden)
    assert "saturated" in dd.notice and "Try ReLU" in dd.notice
    assert sum(dd.layers[0].a_hist.counts) == 200 * 16


def test_dead_relu_units_are_found():
    X = np.abs(np.random.default_rng(0).normal(size=(30, 2)))
    net = Network([2, 4, 1], activation="relu", output="sigmoid")
    net.params["W2"][:2] = -1.0  # units 1 and 2 see only negative z on positive inputs
    net.params["b2"][:2] = -0.1
    d = activation_diagnostics(net, X, np.zeros((30, 1)))
    assert d.layers[0].dead_units[:2] == (0, 1) and d.layers[0].dead >= 0.5


def test_confusion_matrix_uses_the_one_predicted_class_rule():
    rng = np.random.default_rng(0)
    A = rng.uniform(size=(50, 3))
    Y = np.eye(3)[rng.integers(3, size=50)]
    c = confusion(A, Y)
    assert c.total == 50
    assert c.accuracy == pytest.approx(accuracy(A, Y))
    pred = predicted_classes(A)
    truth = Y.argmax(axis=1)
    assert c.matrix[truth[0], pred[0]] >= 1
    for cls in range(3):
        tp = np.sum((pred == cls) & (truth == cls))
        assert c.recall[cls] == pytest.approx(tp / np.sum(truth == cls))
        assert c.precision[cls] == pytest.approx(tp / np.sum(pred == cls))
    one = confusion(np.array([[0.2], [0.7], [0.5]]), np.array([[0.0], [1.0], [1.0]]))
    assert one.matrix.tolist() == [[1, 0], [1, 1]]  # 0.5 is not > 0.5: predicted class 0


def test_vanishing_delta_gets_a_notice():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 4)), np.eye(3)[rng.integers(3, size=50)]
    deep = Network(
        [4] + [16] * 6 + [3], activation="sigmoid", output="softmax", loss="cross_entropy"
    )
    for name, p in deep.params.items():
        if name.startswith("W"):
            p *= 0.3
    d = activation_diagnostics(deep, X, Y)
    assert d.layers[0].delta_norm < 1e-3 * d.layers[-1].delta_norm
    assert "vanishes" in d.notice and "Layers 2," in d.notice
    fresh = Network([4, 8, 3], activation="relu", output="softmax", loss="cross_entropy")
    assert activation_diagnostics(fresh, X, Y).notice == ""


def test_update_with_given_state_and_step_number():
    rng = np.random.default_rng(8)
    net = _net()
    x, y = rng.normal(size=3), np.array([1.0, 0.0])
    cfg = FitConfig(optimizer="adam", lr=0.01)
    size = net._theta.size
    m0, v0 = rng.normal(size=size) * 1e-2, rng.uniform(size=size) * 1e-4
    w = walk(net, x, y, cfg, t=5, state={"m": m0, "v": v0})
    g = w.update.grad["W2"]
    WT, _ = net.block_views(m0)
    m_before = WT[0].T
    np.testing.assert_allclose(w.update.state_before["m"]["W2"], m_before)
    np.testing.assert_allclose(w.update.state["m"]["W2"], 0.9 * m_before + 0.1 * g, rtol=1e-12)
    with pytest.raises(EngineError, match="no state"):
        walk(net, x, y, FitConfig(optimizer="sgd"), state={"v": m0})
