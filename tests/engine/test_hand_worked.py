"""The seed's 3-layer network (n = 2 inputs, h = 2 hidden, k = 2 outputs, sigmoid, MSE), by hand.

Numbers are chosen so every value is an exact binary fraction: σ(0) = 1/2, σ'(0) = 1/4,
σ(ln 3) = 3/4, σ'(ln 3) = 3/4 · 1/4 = 3/16.

    x = (1, 2), y = (1, 0)
    W2 = [[0.5, -0.25], [-1, 0.5]], b2 = (ln 3, 0)
    W3 = [[1, -1], [0.5, 0.5]],     b3 = (-0.25, -0.625)

Forward:
    z2 = W2 x + b2 = (0.5 - 0.5 + ln 3, -1 + 1 + 0) = (ln 3, 0)
    a2 = σ(z2)     = (0.75, 0.5)
    z3 = W3 a2 + b3 = (0.75 - 0.5 - 0.25, 0.375 + 0.25 - 0.625) = (0, 0)
    a3 = σ(z3)     = (0.5, 0.5)
    J  = 1/(2k) Σ (a3 - y)² = 1/4 · (0.25 + 0.25) = 0.125
BP1: ∂J/∂a3 = (a3 - y)/k = (-0.25, 0.25); σ'(z3) = (0.25, 0.25)
    δ3 = (-0.0625, 0.0625)
BP3: ∂J/∂b3 = δ3 = (-0.0625, 0.0625)
BP4: ∂J/∂W3 = δ3 a2ᵀ = [[-0.0625·0.75, -0.0625·0.5], [0.0625·0.75, 0.0625·0.5]]
               = [[-0.046875, -0.03125], [0.046875, 0.03125]]
BP2: W3ᵀ δ3 = (1·(-0.0625) + 0.5·0.0625, -1·(-0.0625) + 0.5·0.0625) = (-0.03125, 0.09375)
    σ'(z2) = (3/16, 1/4) = (0.1875, 0.25)
    δ2 = (-0.03125·0.1875, 0.09375·0.25) = (-0.005859375, 0.0234375)
BP3: ∂J/∂b2 = δ2
BP4: ∂J/∂W2 = δ2 xᵀ = [[-0.005859375, -0.01171875], [0.0234375, 0.046875]]
One SGD step with α = 1: θ ← θ − ∂J/∂θ.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpstudio.engine import Network, fit

X = np.array([1.0, 2.0])
Y = np.array([1.0, 0.0])
PARAMS = {
    "W2": np.array([[0.5, -0.25], [-1.0, 0.5]]),
    "b2": np.array([math.log(3.0), 0.0]),
    "W3": np.array([[1.0, -1.0], [0.5, 0.5]]),
    "b3": np.array([-0.25, -0.625]),
}
EXPECTED = {
    2: {
        "z": [math.log(3.0), 0.0],
        "a": [0.75, 0.5],
        "delta": [-0.005859375, 0.0234375],
        "db": [-0.005859375, 0.0234375],
        "dW": [[-0.005859375, -0.01171875], [0.0234375, 0.046875]],
    },
    3: {
        "z": [0.0, 0.0],
        "a": [0.5, 0.5],
        "delta": [-0.0625, 0.0625],
        "db": [-0.0625, 0.0625],
        "dW": [[-0.046875, -0.03125], [0.046875, 0.03125]],
    },
}


def seed_net(dtype: str = "float64") -> Network:
    net = Network([2, 2, 2], activation="sigmoid", output="sigmoid", loss="mse", dtype=dtype)
    net.set_params(PARAMS)
    return net


def test_trace_matches_hand_worked_numbers() -> None:
    trace = seed_net().trace(X, Y)
    assert sorted(trace) == [2, 3]
    for l, exp in EXPECTED.items():
        for field, value in exp.items():
            np.testing.assert_allclose(getattr(trace[l], field), value, rtol=0, atol=1e-15)


def test_loss_and_gradients_match_hand_worked_numbers() -> None:
    net = seed_net()
    assert net.loss(X[None], Y[None]) == pytest.approx(0.125, abs=1e-15)
    np.testing.assert_allclose(net.forward(X[None]), [[0.5, 0.5]], atol=1e-15)
    grads = net.gradients(X[None], Y[None])
    for l, exp in EXPECTED.items():
        np.testing.assert_allclose(grads[f"W{l}"], exp["dW"], atol=1e-15)
        np.testing.assert_allclose(grads[f"b{l}"], exp["db"], atol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_sgd_step_of_fit_applies_the_hand_worked_gradient(dtype: str) -> None:
    net = seed_net(dtype)
    hist = fit(net, X[None], Y[None], epochs=1, batch_size=1, lr=1.0, shuffle=False)
    assert hist.step_loss == [pytest.approx(0.125, rel=1e-6)]
    for l, exp in EXPECTED.items():
        np.testing.assert_allclose(net.params[f"W{l}"], PARAMS[f"W{l}"] - exp["dW"], atol=1e-6)
        np.testing.assert_allclose(net.params[f"b{l}"], PARAMS[f"b{l}"] - exp["db"], atol=1e-6)


def test_batch_gradient_is_the_mean_of_sample_gradients() -> None:
    net = seed_net()
    X2 = np.array([[1.0, 2.0], [-0.5, 0.25]])
    Y2 = np.array([[1.0, 0.0], [0.0, 1.0]])
    batch = net.gradients(X2, Y2)
    per_sample = [net.trace(x, y) for x, y in zip(X2, Y2, strict=True)]
    for l in (2, 3):
        np.testing.assert_allclose(batch[f"W{l}"], np.mean([t[l].dW for t in per_sample], axis=0))
        np.testing.assert_allclose(batch[f"b{l}"], np.mean([t[l].db for t in per_sample], axis=0))
