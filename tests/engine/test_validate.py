"""What fit is given is checked first and named; runaway training is divergence, in both dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.engine import EngineError, Network, fit
from bpstudio.engine import validate as v


def _net(loss="mse", output="linear", dtype="float64", sizes=(2, 4, 1)):
    return Network(list(sizes), activation="tanh", output=output, loss=loss, seed=0, dtype=dtype)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    return X, (X[:, :1] * 2.0)


@pytest.mark.parametrize("where", ["X", "Y", "X_val", "Y_val"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_named_not_reported_as_divergence(data, where, bad):
    X, Y = data
    arrays = {"X": X.copy(), "Y": Y.copy(), "X_val": X[:10].copy(), "Y_val": Y[:10].copy()}
    arrays[where][3, 0] = bad
    with pytest.raises(EngineError) as e:
        fit(_net(), arrays["X"], arrays["Y"], X_val=arrays["X_val"], Y_val=arrays["Y_val"],
            epochs=1)  # fmt: skip
    what = "NaN" if np.isnan(bad) else "infinite"
    assert f"{where} holds {what} values (first at row 4, column 1)" in str(e.value)


@pytest.mark.parametrize("dtype, value", [("float64", 1e308), ("float64", -1e200),
                                          ("float32", 1e30)])  # fmt: skip
def test_values_whose_squares_overflow_are_named(data, dtype, value):
    X, Y = data
    Y = Y.copy()
    Y[7, 0] = value
    with pytest.raises(EngineError, match=r"Y column 1 has values up to .* too large for " + dtype):
        fit(_net(dtype=dtype), X, Y, epochs=1)


@pytest.mark.parametrize("output, k", [("sigmoid", 1), ("softmax", 3)])
def test_cross_entropy_refuses_targets_outside_0_1(data, output, k):
    X, _ = data
    Y = np.random.default_rng(1).normal(size=(len(X), k))
    with pytest.raises(EngineError, match=r"Cross-entropy needs targets in \[0, 1\]"):
        fit(_net("cross_entropy", output, sizes=(2, 4, k)), X, Y, epochs=1)
    Y01 = np.eye(k)[np.arange(len(X)) % k] if k > 1 else (Y > 0).astype(float)
    fit(_net("cross_entropy", output, sizes=(2, 4, k)), X, Y01, epochs=1)  # fine


def test_memory_estimate_refuses_with_the_figure(monkeypatch):
    monkeypatch.setattr(v, "available_memory", lambda: 2 * 2**30)
    with pytest.raises(EngineError) as e:
        v.check_memory([4, 100_000_000, 1], n_rows=1000, batch_size=32, dtype="float64")
    message = str(e.value)
    assert "GiB of memory" in message and "600,000,001 parameters" in message
    assert "W2 alone is 100,000,000 × 4" in message and "2.0 GiB is available" in message
    v.check_memory([4, 1000, 1], n_rows=1000, batch_size=32)  # small: fine


def test_fit_checks_memory_before_allocating(monkeypatch, data):
    monkeypatch.setattr(v, "available_memory", lambda: 1000)  # bytes
    X, Y = data
    with pytest.raises(EngineError, match="of memory to train"):
        fit(_net(), X, Y, epochs=1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_runaway_weights_are_divergence_in_both_dtypes(dtype, optimizer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    Y = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
    net = Network([2, 16, 2], activation="relu", output="softmax", loss="cross_entropy",
                  init="he", seed=0, dtype=dtype)  # fmt: skip
    h = fit(net, X, Y, epochs=30, optimizer=optimizer, lr=1e6)
    assert h.stop_reason == "diverged", h.message
    assert "diverged" in h.message and "smaller learning rate" in h.message
    assert np.all(np.isfinite(net.get_params()["W2"]))


def test_a_good_run_with_big_weights_is_not_called_divergence():
    """Targets of 1e6 with no scaling: the weights grow a lot, but the loss falls."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 1))
    Y = 3e6 * X
    net = Network([1, 1], activation=[], output="linear", loss="mse", seed=0)
    h = fit(net, X, Y, epochs=60, optimizer="adam", lr=2e5, batch_size=30)
    assert h.stop_reason == "finished", h.message
    assert abs(net.get_params()["W2"][0, 0]) > 1e6
