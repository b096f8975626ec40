"""Gradient check panel, activation diagnostics and confusion matrix, as a user drives them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from bpstudio.engine import Network
from bpstudio.ui.activation_diagnostics import ActivationDiagnostics
from bpstudio.ui.confusion_view import ConfusionMatrixView
from bpstudio.ui.gradient_check_panel import MAX_PARAMS, GradientCheckPanel


def _classes(n=60, k=3, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = np.eye(k)[rng.integers(k, size=n)]
    return SimpleNamespace(
        X_train=X[:40], Y_train=Y[:40], X_val=X[40:50], Y_val=Y[40:50],
        X_test=X[50:], Y_test=Y[50:], classes=["cat", "dog", "emu"][:k],
    )  # fmt: skip


@pytest.fixture
def panel(qtbot):
    p = GradientCheckPanel()
    qtbot.addWidget(p)
    return p


def test_gradient_check_passes_for_a_correct_network(panel, qtbot):
    ds = _classes()
    panel.set_dataset(ds)
    panel.set_network(Network([3, 4, 4, 3], output="sigmoid", loss="mse", seed=3))
    for kind in ("sample", "batch", "random"):
        panel.set_batch_kind(kind)
        with qtbot.waitSignal(panel.checked, timeout=5000) as sig:
            qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
        assert sig.args[0].passed
        assert panel.verdict.text().startswith("Backprop agrees")
    assert panel.table.rowCount() == 6 and panel.table.item(0, 0).text() == "W2"
    assert panel.report.n_samples == 16  # "random rows" uses the rows spin box (16)


def test_break_backprop_is_off_until_asked_and_is_flagged(panel, qtbot):
    panel.set_dataset(_classes())
    panel.set_network(Network([3, 4, 4, 3], output="sigmoid", loss="mse", seed=3))
    assert not panel.demo_box.isChecked()
    assert panel.run_broken_check() is None  # nothing runs while the box is unticked
    panel.demo_box.setChecked(True)
    for key in ("forget_sigma_prime", "mse_without_1_over_k", "w_instead_of_wt"):
        panel.set_break(key)
        qtbot.mouseClick(panel.broken_button, Qt.MouseButton.LeftButton)
        rep = panel.broken_report
        assert rep is not None and rep.broken == key and not rep.passed
        assert "Demonstration" in panel.demo_verdict.text()
        assert "DEMONSTRATION" in panel.verdict.text()
    good, bad = panel.run_broken_training()
    assert good[-1] < good[0] and bad != good
    # the real check afterwards is correct again, and a new network switches the demo off
    assert panel.run_check().passed
    panel.set_network(Network([3, 4, 4, 3], output="sigmoid", loss="mse", seed=4))
    assert not panel.demo_box.isChecked()


def test_break_that_does_not_fit_says_why(panel):
    panel.set_dataset(_classes())
    panel.set_network(Network([3, 5, 4, 3], output="sigmoid", loss="mse"))
    panel.demo_box.setChecked(True)
    panel.set_break("w_instead_of_wt")
    assert panel.run_broken_check() is None
    assert "same width" in panel.demo_verdict.text()


def test_huge_network_is_refused_with_advice(panel):
    panel.set_dataset(SimpleNamespace(X_train=np.zeros((2, 784)), Y_train=np.zeros((2, 10))))
    net = Network([784, 100, 10], output="softmax", loss="cross_entropy")
    assert net._theta.size > MAX_PARAMS
    panel.set_network(net)
    assert panel.run_check() is None
    assert "smaller network" in panel.verdict.text()


def test_diagnostics_fresh_relu_and_saturated_sigmoid(qtbot):
    view = ActivationDiagnostics()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 4)), np.eye(3)[rng.integers(3, size=200)]
    view.set_dataset(SimpleNamespace(X_train=X, Y_train=Y, X_val=X[:50], Y_val=Y[:50]))
    view.set_network(
        Network([4, 16, 16, 3], activation="relu", output="softmax", loss="cross_entropy")
    )
    d = view.refresh()
    assert [ld.saturated for ld in d.layers[:-1]] == [0.0, 0.0]
    assert not view.notice.isVisibleTo(view)
    deep = Network(
        [4] + [16] * 6 + [3], activation="sigmoid", output="softmax", loss="cross_entropy"
    )
    for name, p in deep.params.items():
        if name.startswith("W"):
            p *= 16.0
    view.set_network(deep)
    d = view.refresh()
    assert all(ld.saturated > 0.5 for ld in d.layers[:-1])
    assert "Try ReLU" in view.notice.text() and view.notice.isVisibleTo(view)
    assert len(view._z_curves) == 7
    x, counts = view._a_curves[0].getData()
    assert counts.sum() == 200 * 16
    view.set_split("val")
    assert view.diagnostics.n_samples == 50


def test_confusion_matrix_sums_to_each_split(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    ds = _classes()
    view.set_dataset(ds)
    view.set_network(Network([3, 5, 3], output="softmax", loss="cross_entropy", seed=1))
    for key, n in (("train", 40), ("val", 10), ("test", 10)):
        view.set_split(key)
        assert view.confusion.total == n
        assert f"{n} rows" in view.summary.text()
    assert view.table.horizontalHeaderItem(1).text() == "→ dog"
    assert view.table.verticalHeaderItem(3).text() == "precision"
    c = view.confusion
    assert view.table.item(0, 3).text() == f"{100 * c.recall[0]:.1f} %"


def test_weight_tiles_show_each_units_incoming_weights(qtbot):
    from bpstudio.ui.weight_tiles import WeightTilesView

    view = WeightTilesView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    net = Network([784, 5, 3], activation="relu", output="softmax", loss="cross_entropy")
    W = net.params["W2"]
    W[2] = 0.0
    W[2, 28 * 3 + 4] = 1.0  # one strong positive weight: pixel row 4, column 5 of unit 3
    W[2, 0] = -0.5
    view.set_network(net)
    img = view.tile_image(2)
    assert (img.width(), img.height()) == (28, 28)
    assert img.pixelColor(4, 3).name() == "#0072b2"  # full blue where w is the tile's max
    assert img.pixelColor(10, 10) == img.pixelColor(20, 20)  # zeros: the background
    view.show()
    rect = view._tile_rect(2)
    x = rect.x() + int((4 + 0.5) * rect.width() / 28)
    y = rect.y() + int((3 + 0.5) * rect.height() / 28)
    with qtbot.waitSignal(view.weightClicked, timeout=1000) as sig:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert sig.args == [2, 2, 28 * 3 + 4]
    view.set_network(Network([2, 4, 1]))
    assert view.W is None and not view.grab().isNull()
