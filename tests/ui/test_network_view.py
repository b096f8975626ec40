"""The network diagram draws the current weights: edge colour by sign, width by |w|, capping."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from bpstudio.engine import Network
from bpstudio.ui.network_view import MAX_NODES, NetworkDiagramView
from bpstudio.ui.trace_view import NEGATIVE, POSITIVE


@pytest.fixture
def view(qtbot):
    v = NetworkDiagramView()
    qtbot.addWidget(v)
    v.resize(800, 420)
    return v


def _rgb(c):
    return c.name()  # without alpha


def test_edges_follow_weight_signs_and_sizes(view):
    net = Network([2, 8, 8, 2], output="softmax", loss="cross_entropy", dtype="float32")
    W = net.params["W2"]
    W[:] = 0.1
    W[0, 0], W[0, 1], W[3, 1] = 1.5, -0.7, -1.5
    view.set_network(net)
    assert view.edge_weight(2, 0, 0) == pytest.approx(1.5)
    assert _rgb(view.edge_color(2, 0, 0)) == POSITIVE.lower()
    assert _rgb(view.edge_color(2, 0, 1)) == NEGATIVE.lower()
    assert view.edge_width(2, 3, 1) == pytest.approx(view.edge_width(2, 0, 0))  # |w| equal
    assert view.edge_width(2, 0, 1) < view.edge_width(2, 0, 0)
    assert view.edge_color(2, 1, 1).alphaF() < view.edge_color(2, 0, 0).alphaF()
    # the view copied the weights: a later change shows only after set_network
    W[0, 1] = 2.0
    assert _rgb(view.edge_color(2, 0, 1)) == NEGATIVE.lower()
    view.set_network(net)
    assert _rgb(view.edge_color(2, 0, 1)) == POSITIVE.lower()
    assert view.layer_label(1).startswith("layer 1 (input)")
    assert view.layer_label(2).startswith("layer 2")
    assert view.weight_label(2).startswith("W2 (8×2)")
    view.show()
    assert not view.canvas.grab().isNull()


def test_fill_shows_bias_or_the_samples_activation(view):
    net = Network([2, 4, 1], seed=1)
    net.params["b2"][:] = [0.5, -0.5, 0.0, 1.0]
    view.set_network(net)
    assert view.fill_mode == "bias"
    assert view.node_value(2, 0) == pytest.approx(0.5)
    assert view.node_value(1, 0) is None  # inputs have no bias
    x, y = np.array([0.3, -1.2]), np.array([1.0])
    view.set_sample(x, y, 4)
    view.set_fill_mode("activation")
    tr = net.trace(x, y)
    assert view.node_value(1, 1) == pytest.approx(-1.2)
    assert view.node_value(2, 2) == pytest.approx(tr[2].a[2])
    assert view.node_value(3, 0) == pytest.approx(tr[3].a[0])
    assert "sample 5" in view.legend.text()


def test_wide_layers_are_capped_and_hover_works(view):
    net = Network([784, 128, 10], output="softmax", loss="cross_entropy", dtype="float32")
    view.set_network(net)
    view.show()
    assert not view.canvas.grab().isNull()  # lays out and paints
    shown = [len(idx) + (1 if hidden else 0) for idx, hidden in view._shown]
    assert shown == [MAX_NODES, MAX_NODES, 10]
    assert view._shown[0][1] == 784 - (MAX_NODES - 1)
    assert view.weight_label(2).startswith("W2 (128×784)")
    centre = view._pos[2][0]
    assert view.tooltip_at(QPointF(centre)).startswith("unit 1 of layer 3")
