"""The diagram's teaching modes: edges show w, ∂J/∂w or Δw; fill a, z, δ, b; the inspector's
highlight; hover names in the seed's notation; wide layers stay fast."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from bpstudio.engine import Network
from bpstudio.ui.backprop_inspector import BackpropInspector
from bpstudio.ui.network_view import NetworkDiagramView
from bpstudio.ui.trace_view import NEGATIVE, POSITIVE


@pytest.fixture
def view(qtbot):
    v = NetworkDiagramView()
    qtbot.addWidget(v)
    v.resize(800, 420)
    return v


def test_edges_show_gradient_and_update(view):
    net = Network([2, 3, 2], seed=1)
    x, y = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    view.set_network(net)
    view.set_sample(x, y, 0)
    assert view.findChild(type(view.edge_combo), "networkEdgeCombo") is view.edge_combo
    view.set_edge_mode("gradient")
    tr = net.trace(x, y)
    j, k = np.unravel_index(np.argmax(np.abs(tr[3].dW)), tr[3].dW.shape)
    assert view.edge_value(3, j, k) == pytest.approx(tr[3].dW[j, k])
    expected = POSITIVE if tr[3].dW[j, k] >= 0 else NEGATIVE
    assert view.edge_color(3, j, k).name() == expected.lower()
    assert view.edge_width(3, j, k) == pytest.approx(4.0)  # the layer's largest |∂J/∂w|
    grads = net.gradients(np.vstack([x, -x]), np.vstack([y, y]))
    view.set_gradients(grads)
    assert view.edge_value(2, 1, 0) == pytest.approx(grads["W2"][1, 0])
    assert "last mini-batch" in view.legend.text()
    view.set_edge_mode("update")
    assert view.edge_matrix(2) is None  # nothing changed yet
    before = net.params["W2"].copy()
    net.params["W2"][0, 1] -= 0.25
    view.set_network(net)
    assert view.edge_value(2, 0, 1) == pytest.approx(-0.25)
    assert view.edge_value(2, 1, 1) == pytest.approx(0.0)
    view.set_last_update({"W2": np.full_like(before, 0.1), "W3": np.zeros((2, 3))})
    view.set_network(net)  # an explicit update is kept through the next set_network
    assert view.edge_value(2, 0, 0) == pytest.approx(0.1)
    view.show()
    assert not view.canvas.grab().isNull()


def test_fill_z_and_delta_and_hover_names(view):
    net = Network([2, 3, 2], seed=1)
    x, y = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    view.set_network(net)
    view.set_sample(x, y, 2)
    tr = net.trace(x, y)
    view.set_fill_mode("z")
    assert view.node_value(2, 1) == pytest.approx(tr[2].z[1])
    assert view.node_value(1, 0) is None
    view.set_fill_mode("delta")
    assert view.node_value(3, 0) == pytest.approx(tr[3].delta[0])
    view.show()
    view.canvas.grab()
    text = view.tooltip_at(QPointF(view._pos[2][1]))
    assert "<i>δ</i><sup>3</sup><sub>2</sub>" in text and "<i>b</i><sup>3</sup><sub>2</sub>" in text
    # an edge: a quarter of the way from unit 1 of layer 1 to unit 2 of layer 2 (not halfway,
    # where it crosses w^2_12)
    a, b = view._pos[0][0], view._pos[1][1]
    text = view.tooltip_at(QPointF(a.x() + 0.3 * (b.x() - a.x()), a.y() + 0.3 * (b.y() - a.y())))
    assert text.startswith("<i>w</i><sup>2</sup><sub>21</sub> = ")
    assert "∂J/∂<i>w</i>" in text


def test_inspector_highlight_drives_the_diagram(view, qtbot):
    insp = BackpropInspector()
    qtbot.addWidget(insp)
    net = Network([2, 3, 3, 1], seed=0)
    view.set_network(net)
    insp.set_network(net)
    insp.set_sample(np.array([0.2, 0.4]), np.array([1.0]), 0)
    insp.highlightChanged.connect(view.set_highlight)
    insp.set_stage(insp.walk.stage_index("BP2", 3))
    h = view.highlight
    assert h["direction"] == "backward" and h["write"] == {3} and (4, 0, 0) in h["focus_links"]
    view.show()
    assert not view.canvas.grab().isNull()
    view.set_highlight(None)
    assert view.highlight is None


def test_784_inputs_condensed_and_fast(view):
    net = Network([784, 512, 10], activation="relu", output="softmax", loss="cross_entropy")
    rng = np.random.default_rng(0)
    view.set_network(net)
    view.set_sample(rng.uniform(size=784), np.eye(10)[3], 0)
    view.set_fill_mode("delta")
    view.set_edge_mode("gradient")
    view.show()
    view.canvas.grab()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        view.set_network(net)
        view.canvas.grab()
        times.append(time.perf_counter() - t0)
    assert min(times) < 0.05, times  # set_network (with the trace) + a full repaint
    assert "first 15 units drawn" in view.legend.text()
    assert "15 drawn" in view.layer_label(1)
