"""`Network`: shapes and names, live params, config round trip, initialisers, and no Qt import."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bpstudio.engine import (
    HIDDEN_ACTIVATIONS,
    INITIALIZERS,
    OUTPUT_ACTIVATIONS,
    EngineError,
    Network,
    fit,
)


def test_contract_tables() -> None:
    assert HIDDEN_ACTIVATIONS == (
        "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "linear",
    )  # fmt: skip
    assert OUTPUT_ACTIVATIONS == ("sigmoid", "softmax", "linear", "tanh")
    assert INITIALIZERS == ("xavier_uniform", "xavier_normal", "he", "normal", "zeros")


def test_params_have_seed_shapes_and_are_live() -> None:
    net = Network([2, 8, 8, 1], activation="tanh", output="sigmoid", loss="mse")
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W2": (8, 2), "b2": (8,), "W3": (8, 8), "b3": (8,), "W4": (1, 8), "b4": (1,)}
    assert list(net.params) == ["W2", "b2", "W3", "b3", "W4", "b4"]
    assert net.n_layers == 4 and net.layer_names == ["2", "3", "4"]
    X = np.random.default_rng(0).normal(size=(5, 2))
    before = net.forward(X)
    net.params["b4"][0] += 1.0
    assert not np.allclose(net.forward(X), before)
    copies = net.get_params()
    assert all(v.flags.c_contiguous for v in copies.values())
    copies["W2"][...] = 0.0
    assert not np.all(net.params["W2"] == 0.0)


def test_forward_matches_the_seed_formula() -> None:
    net = Network([3, 4, 2], activation="tanh", output="linear", seed=5)
    p = net.params
    x = np.array([0.1, -0.2, 0.3])
    a2 = np.tanh(p["W2"] @ x + p["b2"])  # z^l = W^l a^{l-1} + b^l
    a3 = p["W3"] @ a2 + p["b3"]
    np.testing.assert_allclose(net.forward(x[None])[0], a3)


def test_set_params_validates_shapes_and_names() -> None:
    net = Network([2, 3, 1])
    with pytest.raises(EngineError, match=r"W2 has shape \(2, 3\)"):
        net.set_params({**net.get_params(), "W2": np.zeros((2, 3))})
    with pytest.raises(EngineError, match="missing"):
        net.set_params({"W2": np.zeros((3, 2))})
    new = {k: np.full(v.shape, 0.5) for k, v in net.params.items()}
    net.set_params(new)
    assert np.all(net.params["W3"] == 0.5)


def test_config_round_trip_and_copy() -> None:
    net = Network([4, 5, 3, 2], activation=["relu", "elu"], output="softmax",
                  loss="cross_entropy", init="he", seed=7, dtype="float32")  # fmt: skip
    cfg = net.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg == {
        "sizes": [4, 5, 3, 2], "activations": ["relu", "elu"], "output": "softmax",
        "loss": "cross_entropy", "init": "he", "seed": 7, "dtype": "float32",
    }  # fmt: skip
    twin = Network.from_config(cfg, net.get_params())
    for k, v in net.params.items():
        np.testing.assert_array_equal(twin.params[k], v)
    clone = net.copy()
    clone.params["W2"][0, 0] += 1
    assert clone.params["W2"][0, 0] != net.params["W2"][0, 0]
    assert Network.from_config(cfg).params["W2"].dtype == np.float32


def test_reinitialize_is_seeded() -> None:
    net = Network([3, 6, 2], seed=1)
    first = net.get_params()
    fit(net, np.ones((4, 3)), np.zeros((4, 2)), epochs=2, batch_size=2)
    net.reinitialize()
    np.testing.assert_array_equal(net.params["W2"], first["W2"])
    net.reinitialize(seed=2)
    assert net.seed == 2 and not np.array_equal(net.params["W2"], first["W2"])


@pytest.mark.parametrize("init", [*INITIALIZERS, "xavier"])
def test_initializers(init: str) -> None:
    net = Network([50, 40, 30], init=init, seed=0)
    W2 = net.params["W2"]
    assert np.all(net.params["b2"] == 0)
    if init == "zeros":
        assert np.all(W2 == 0)
        return
    expected_std = {
        "xavier": np.sqrt(2 / 90), "xavier_uniform": np.sqrt(2 / 90),
        "xavier_normal": np.sqrt(2 / 90), "he": np.sqrt(2 / 50), "normal": np.sqrt(1 / 50),
    }[init]  # fmt: skip
    assert W2.std() == pytest.approx(expected_std, rel=0.1)


def test_zeros_init_keeps_hidden_units_identical() -> None:
    net = Network([2, 4, 1], activation="tanh", output="sigmoid", init="zeros")
    X = np.random.default_rng(0).normal(size=(16, 2))
    fit(net, X, (X[:, :1] > 0).astype(float), epochs=5, batch_size=4)
    W2 = net.params["W2"]
    assert np.allclose(W2, W2[0])  # the symmetry never breaks


def test_bad_network_configs() -> None:
    with pytest.raises(EngineError, match="hidden activation"):
        Network([2, 3, 1], activation="swish")
    with pytest.raises(EngineError, match="output activation"):
        Network([2, 3, 1], output="relu")
    with pytest.raises(EngineError, match="initializer"):
        Network([2, 3, 1], init="glorot")
    with pytest.raises(EngineError, match="dtype"):
        Network([2, 3, 1], dtype="int32")
    with pytest.raises(EngineError, match="at least"):
        Network([2])
    with pytest.raises(EngineError, match="X must have shape"):
        Network([2, 3, 1]).forward(np.zeros((4, 3)))
    # softmax over a single unit is the constant 1 (zero gradient): refuse it with a way out
    with pytest.raises(EngineError, match="softmax output needs at least 2 units"):
        Network([2, 3, 1], output="softmax", loss="cross_entropy")
    with pytest.raises(EngineError, match="softmax output needs at least 2 units"):
        Network([2, 3, 1], output="softmax", loss="mse")


def test_trace_is_float64_for_a_float32_network() -> None:
    net = Network([2, 3, 2], dtype="float32", output="softmax", loss="cross_entropy")
    tr = net.trace([0.5, -1.0], [0.0, 1.0])
    assert sorted(tr) == [2, 3]
    assert tr[2].dW.shape == (3, 2) and tr[3].dW.shape == (2, 3)
    assert all(getattr(tr[3], f).dtype == np.float64 for f in ("z", "a", "delta", "db", "dW"))
