"""Backprop against central finite differences for every allowed activation × output × loss."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bpstudio.engine import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    EngineError,
    Network,
    compatible_losses,
    fit,
    gradient_check,
    kernels,
)
from bpstudio.engine import backprop as bp
from bpstudio.engine.kernels import Kernel

KINKED = {"relu", "leaky_relu"}


def inputs(rng: np.random.Generator, net: Network, n: int) -> np.ndarray | None:
    """Random X with no hidden z within 1e-3 of a ReLU kink (finite differences need smoothness).

    Biases are randomised first: with zero biases a dead unit feeds an exact 0 to the next layer,
    which then sits on the kink for every input. None if no such X turns up.
    """
    for name, value in net.params.items():
        if name.startswith("b"):
            value[...] = rng.normal(scale=0.5, size=value.shape)
    for _ in range(100):
        X = rng.normal(size=(n, net.sizes[0]))
        if not KINKED & set(net.activations):
            return X
        zs, _ = bp.forward(net.layers(), net.all_activations, X)
        if all(np.min(np.abs(z)) > 1e-3 for z in zs[:-1]):
            return X
    return None


PAIRS = [(out, loss) for out in OUTPUT_ACTIVATIONS for loss in compatible_losses(out)]


def targets(rng: np.random.Generator, n: int, k: int, output: str, loss: str) -> np.ndarray:
    if output == "softmax":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if loss == "cross_entropy" or output == "sigmoid":
        return rng.uniform(0.05, 0.95, size=(n, k))  # soft targets exercise the general form
    if output == "tanh":
        return rng.uniform(-0.9, 0.9, size=(n, k))
    return rng.normal(size=(n, k))


def test_compatible_losses() -> None:
    assert compatible_losses("softmax") == ("mse", "cross_entropy")
    assert compatible_losses("sigmoid") == ("mse", "cross_entropy")
    assert compatible_losses("linear") == ("mse",)
    assert compatible_losses("tanh") == ("mse",)
    assert len(PAIRS) == 6 and set(LOSSES) == {"mse", "cross_entropy"}


@pytest.mark.parametrize("output,loss", PAIRS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_gradient_check_every_combination(activation: str, output: str, loss: str) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{activation}{output}{loss}".encode()))
    net = Network([3, 4, 5, 3], activation=activation, output=output, loss=loss, seed=1)
    X = inputs(rng, net, 7)
    assert X is not None
    res = gradient_check(net, X, targets(rng, 7, 3, output, loss))
    assert set(res.errors) == {"W2", "b2", "W3", "b3", "W4", "b4"}
    assert res.max_error <= 1e-6, res.errors


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    n=st.integers(1, 6),
    pair=st.sampled_from(PAIRS),
    acts=st.lists(st.sampled_from(HIDDEN_ACTIVATIONS), min_size=2, max_size=2),
    seed=st.integers(0, 2**16),
)
def test_gradient_check_random_shapes(sizes, n, pair, acts, seed) -> None:
    output, loss = pair
    if output == "softmax" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    rng = np.random.default_rng(seed)
    hidden = [acts[i % 2] for i in range(len(sizes) - 2)]
    net = Network(sizes, activation=hidden, output=output, loss=loss, seed=seed)
    X = inputs(rng, net, n)
    assume(X is not None)
    res = gradient_check(net, X, targets(rng, n, sizes[-1], output, loss))
    assert res.max_error <= 1e-6, res.errors


def test_per_layer_activation_list() -> None:
    net = Network([2, 3, 4, 3, 1], activation=["relu", "tanh", "elu"], output="linear", seed=3)
    assert net.activations == ["relu", "tanh", "elu"]
    rng = np.random.default_rng(0)
    X, Y = inputs(rng, net, 5), rng.normal(size=(5, 1))
    assert X is not None
    assert gradient_check(net, X, Y).max_error <= 1e-6
    # each hidden layer really uses its own function
    zs, acts = bp.forward(net.layers(), net.all_activations, X)
    assert np.all(acts[1] >= 0)  # relu
    np.testing.assert_allclose(acts[2], np.tanh(zs[1]))
    with pytest.raises(EngineError, match="one activation per hidden layer"):
        Network([2, 3, 4, 1], activation=["relu"] * 3)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_matched_pair_shortcut_equals_general_bp1(output: str) -> None:
    rng = np.random.default_rng(5)
    net = Network([4, 6, 3], activation="tanh", output=output, loss="cross_entropy", seed=2)
    X = rng.normal(size=(9, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=9)]
    general = bp.backprop(net.layers(), net.all_activations, "cross_entropy", X, Y)
    short = bp.backprop(net.layers(), net.all_activations, "cross_entropy", X, Y, shortcut=True)
    for key in ("delta", "dW", "db"):
        for g, s in zip(general[key], short[key], strict=True):
            np.testing.assert_allclose(s, g, rtol=1e-10, atol=1e-14)
    # and the fast kernels fit uses (shortcut; plain and augmented) give the same gradients
    for augment in (False, True):
        theta = net._theta.copy()
        g = np.zeros_like(theta)
        k = Kernel(net.sizes, net.all_activations, "cross_entropy", net.blocks(theta),
                   net.blocks(g), True, augment)  # fmt: skip
        assert k.mode == ("softmax_ce" if output == "softmax" else "sigmoid_ce")
        Xk = np.c_[X, np.ones(9)] if augment else X
        AL = np.empty((9, 3))
        loss = k.step(Xk, Y, AL, k.plan(9))
        assert loss == pytest.approx(net.loss(X, Y), rel=1e-12)
        gWT, gb = net.block_views(g)
        for i in range(2):
            np.testing.assert_allclose(gWT[i].T, general["dW"][i], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(gb[i], general["db"][i], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("output", ["linear", "tanh"])
def test_cross_entropy_needs_sigmoid_or_softmax(output: str) -> None:
    with pytest.raises(EngineError, match="cross_entropy"):
        Network([2, 3, 1], output=output, loss="cross_entropy")


@pytest.mark.parametrize("augment", [False, True])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output,loss", PAIRS)
def test_fit_kernel_matches_readable_gradients(
    activation: str, output: str, loss: str, augment: bool, monkeypatch
) -> None:
    """One SGD step of fit (α = 1) moves θ by exactly −∂J/∂θ from `Network.gradients`."""
    monkeypatch.setattr(kernels, "AUGMENT_MAX_ELEMENTS", 10**9 if augment else 0)
    rng = np.random.default_rng(7)
    net = Network([3, 5, 4, 3], activation=activation, output=output, loss=loss, seed=4)
    X = rng.normal(size=(6, 3))
    Y = targets(rng, 6, 3, output, loss)
    before = net.get_params()
    grads = net.gradients(X, Y)
    fit(net, X, Y, epochs=1, batch_size=6, lr=1.0, shuffle=False)
    for name, value in net.params.items():
        np.testing.assert_allclose(value, before[name] - grads[name], rtol=1e-9, atol=1e-12)


def test_softmax_and_logs_are_numerically_safe() -> None:
    net = Network([2, 2], output="softmax", loss="cross_entropy")
    net.set_params({"W2": np.array([[1000.0, 0.0], [-1000.0, 0.0]]), "b2": np.zeros(2)})
    X = np.array([[1.0, 0.0]])
    A = net.forward(X)
    assert np.all(np.isfinite(A))
    loss = net.loss(X, np.array([[0.0, 1.0]]))
    assert np.isfinite(loss) and loss > 20


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fast_softmax_handles_rows_far_below_the_batch_max(dtype: str) -> None:
    """The kernel shifts by the batch max; a row 200 below it must fall back to its own max."""
    net = Network([2, 3], output="softmax", loss="cross_entropy", dtype=dtype)
    net.set_params({"W2": np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]), "b2": np.zeros(3)})
    X = np.array([[100.0, 0.0], [-100.0, 0.0], [0.5, 0.0]])
    Y = np.eye(3)[[0, 2, 1]]
    theta = net._theta.copy()
    g = np.zeros_like(theta)
    k = Kernel(net.sizes, net.all_activations, "cross_entropy", net.blocks(theta),
               net.blocks(g), True, False)  # fmt: skip
    AL = np.empty((3, 3), dtype=dtype)
    loss = k.step(X.astype(dtype), Y.astype(dtype), AL, k.plan(3))
    expected = net.forward(X)
    assert np.all(np.isfinite(AL))
    np.testing.assert_allclose(AL, expected, rtol=1e-5, atol=1e-30)
    assert loss == pytest.approx(net.loss(X, Y), rel=1e-5)
