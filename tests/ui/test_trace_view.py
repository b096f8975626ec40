"""The backprop trace shows Network.trace's numbers (not decoration), per layer, for the chosen
sample; it follows weight and sample changes and caps wide layers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint

from bpstudio.data import make_builtin, prepare
from bpstudio.engine import Network
from bpstudio.engine.losses import LOSS_TABLE
from bpstudio.ui.trace_view import MAX_CELLS, BackpropTraceView, fmt


@pytest.fixture(scope="module")
def xor():
    return prepare(make_builtin("xor", n_samples=60))


@pytest.fixture
def view(qtbot, xor):
    v = BackpropTraceView()
    qtbot.addWidget(v)
    v.set_dataset(xor)
    return v


def _net(ds, hidden=(8, 8), dtype="float32"):
    return Network(
        [ds.n_inputs, *hidden, ds.n_outputs],
        output="softmax",
        loss="cross_entropy",
        dtype=dtype,
        seed=3,
    )


def _assert_matches(view, net, x, y):
    tr = net.trace(x, y)
    np.testing.assert_array_equal(view.columns[1].a.values, x)
    for ell, t in tr.items():
        col = view.columns[ell]
        np.testing.assert_allclose(col.z.values, t.z, rtol=0, atol=0)
        np.testing.assert_allclose(col.a.values, t.a, rtol=0, atol=0)
        np.testing.assert_allclose(col.delta.values, t.delta, rtol=0, atol=0)
        np.testing.assert_allclose(col.dW.matrix, t.dW, rtol=0, atol=0)
        # BP3 / BP4 for one sample: ∂J/∂b = δ, ∂J/∂W = δ (a^{l−1})ᵀ
        np.testing.assert_allclose(t.db, col.delta.values)
        prev = view.columns[ell - 1].a.values
        np.testing.assert_allclose(col.dW.matrix, np.outer(col.delta.values, prev), atol=1e-12)


def test_numbers_are_network_trace_for_the_chosen_sample(view, xor):
    net = _net(xor)
    view.set_network(net)
    view.set_sample_index(5)
    assert view.sample_index == 5
    x, y = xor.X_train[5], xor.Y_train[5]
    _assert_matches(view, net, x, y)
    L = net.n_layers
    a = net.trace(x, y)[L].a
    J = LOSS_TABLE["cross_entropy"].value(a[None], y[None], "softmax")
    assert view.loss_value == pytest.approx(J)
    assert fmt(J) in view.summary.text()
    assert set(view.columns) == {1, 2, 3, 4}
    labels = " ".join(lab.text() for lab in view.columns[2].findChildren(type(view.summary)))
    assert "BP2" in labels and "BP3" in labels and "BP4" in labels and "(8×2)" in labels
    labels = " ".join(lab.text() for lab in view.columns[4].findChildren(type(view.summary)))
    assert "BP1" in labels and "BP2" not in labels


def test_sgd_step_line_matches_a_manual_step(view, xor):
    net = _net(xor, dtype="float64")
    view.set_learning_rate(0.5)
    view.set_network(net)
    view.set_sample_index(2)
    x, y = xor.X_train[2], xor.Y_train[2]
    tr = net.trace(x, y)
    params = net.get_params()
    for ell, t in tr.items():
        params[f"W{ell}"] -= 0.5 * t.dW
        params[f"b{ell}"] -= 0.5 * t.db
    stepped = Network.from_config(net.config(), params)
    expected = LOSS_TABLE["cross_entropy"].value(stepped.forward(x[None]), y[None], "softmax")
    assert view.loss_after_step == pytest.approx(expected)
    assert view.loss_after_step < view.loss_value  # a small step downhill on its own sample
    assert "α = 0.5" in view.step_summary.text()


def test_follows_weight_and_sample_changes(qtbot, view, xor):
    net = _net(xor)
    view.set_network(net)
    with qtbot.waitSignal(view.sampleChanged, timeout=1000) as sig:
        view.sample_spin.setValue(10)
    assert sig.args == [9]
    before = view.columns[2].z.values.copy()
    net.params["W2"][:] *= -1.0  # live arrays: the window's snapshot does the same
    view.set_network(net)
    assert not np.allclose(view.columns[2].z.values, before)
    _assert_matches(view, net, xor.X_train[9], xor.Y_train[9])
    view.random_button.click()
    i = view.sample_index
    _assert_matches(view, net, xor.X_train[i], xor.Y_train[i])


def test_structure_change_rebuilds_columns(view, xor):
    view.set_network(_net(xor))
    view.set_network(_net(xor, hidden=(3,)))
    assert set(view.columns) == {1, 2, 3}
    assert view.columns[2].delta.values.size == 3


def test_wide_layers_are_truncated_but_values_kept(qtbot):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 784))
    Y = np.eye(10)[rng.integers(0, 10, 5)]
    ds = SimpleNamespace(X_train=X, Y_train=Y, task="classification", classes=list("0123456789"))
    net = Network([784, 40, 10], output="softmax", loss="cross_entropy", dtype="float32")
    v = BackpropTraceView()
    qtbot.addWidget(v)
    v.set_dataset(ds)
    v.set_network(net)
    strip = v.columns[1].a
    assert strip.values.size == 784
    assert strip.n_cells() == MAX_CELLS  # first cells + "⋮ n more"
    heat = v.columns[2].dW
    assert heat.matrix.shape == (40, 784)
    assert heat.sizeHint().width() < 200 and heat.sizeHint().height() < 300
    assert "784 values" in strip.tooltip_at(QPoint(5, strip.cell_h * MAX_CELLS - 3))
    v.resize(900, 400)
    v.show()
    assert not v.grab().isNull()  # paints without error


def test_hover_text_and_compact_numbers(view, xor):
    view.set_network(_net(xor))
    strip = view.columns[3].delta
    text = strip.tooltip_at(QPoint(5, 1 + strip.cell_h * 2 + 3))
    assert text.startswith("δ³₃ = ") and "unit 3 of layer 3" in text
    heat = view.columns[3].dW
    assert "unit 1 of layer 3 ← unit 1 of layer 2" in heat.tooltip_at(QPoint(2, 2))
    assert fmt(0.53219) == "0.532"
    assert fmt(-1.2749) == "−1.27"
    assert fmt(3.1e-5) == "3.1e−5"
    assert fmt(0.0) == "0"
    assert fmt(123456.0) == "1.2e5"
    assert fmt(float("nan")) == "nan"
    assert fmt(-2.6e-11) == "−3e−11"  # fits a cell
