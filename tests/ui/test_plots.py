"""Live plots: drawing until refresh(), bounded drawn points, log-y, hover read-out, surface."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.data import make_builtin, prepare
from bpstudio.engine import Network
from bpstudio.ui import theme
from bpstudio.ui.plots import (
    SYMBOL_LIMIT,
    AccuracyPlot,
    GradientNormPlot,
    LossPlot,
    grad_label,
)
from bpstudio.ui.surface_view import DecisionSurfaceView
from bpstudio.ui.weights_view import WeightsView


def _original_len(curve) -> int:
    x, _ = curve.getOriginalDataset()
    return 0 if x is None else len(x)


def test_loss_plot_buffers_until_refresh(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    assert plot.objectName() == "lossPlot"
    plot.append_steps(np.arange(1, 101), np.linspace(1, 0.1, 100))
    plot.append_epoch(50, 1, 0.5, 0.6)
    plot.append_epoch(100, 2, 0.2, None)
    assert plot.has_pending()
    assert _original_len(plot.step_curve) == 0  # nothing drawn before refresh()
    plot.refresh()
    assert not plot.has_pending()
    assert _original_len(plot.step_curve) == 100
    x, y = plot.epoch_curve.getData()
    np.testing.assert_allclose(x, [50, 100])
    np.testing.assert_allclose(y, [0.5, 0.2])
    assert _original_len(plot.val_curve) == 1  # None val loss is skipped
    plot.clear()
    assert _original_len(plot.step_curve) == 0
    assert plot.step_curve in plot.getPlotItem().items  # clear() keeps the curves


def test_loss_plot_caps_points(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    for start in range(0, 60_000, 2_000):
        steps = np.arange(start + 1, start + 2_001)
        plot.append_steps(steps, 1.0 / steps)
        plot.refresh()
    x, y = plot.step_curve.getOriginalDataset()
    columns = int(plot.getPlotItem().vb.width())
    assert len(x) <= 2 * max(64, columns)  # bounded by the screen, not by the run
    per_point = 60_000 / len(x)  # steps one drawn point covers
    assert x[0] <= 1 + per_point and x[-1] >= 60_000 - per_point  # the whole run, from step 1
    assert np.all(np.diff(x) > 0) and np.diff(x).max() < 2.5 * per_point  # evenly spread


def test_log_toggle_action_and_checkbox(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    box = plot.log_checkbox()
    qtbot.addWidget(box)
    assert not plot.log_y() and not box.isChecked()
    with qtbot.waitSignal(plot.logYChanged, timeout=1000):
        box.setChecked(True)
    assert plot.log_y() and plot.log_action.isChecked()
    assert plot.getPlotItem().ctrl.logYCheck.isChecked()
    plot.log_action.setChecked(False)
    assert not plot.log_y() and not box.isChecked()
    assert plot.reset_action in plot.getPlotItem().vb.menu.actions()


def test_hover_readout_shows_exact_values(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.append_steps(np.array([1, 2, 3]), np.array([0.9, 0.123456, 0.05]))
    plot.append_epoch(3, 1, 0.25, 0.3)
    plot.refresh()
    text = plot.show_readout_at(2.1, 0.1)
    assert "0.123456" in text and "step 2" in text
    assert "0.25" in text and "0.3" in text


def test_gradient_norm_plot_layers_and_biases(qtbot) -> None:
    plot = GradientNormPlot()
    qtbot.addWidget(plot)
    assert plot.objectName() == "gradientNormPlot" and plot.log_y()
    plot.set_layers(["W2", "W3", "W4"])
    assert {"W2", "W3", "W4", "b2", "b3", "b4"} <= set(plot.curves)
    assert grad_label("W2") == "‖∂J/∂W²‖" and grad_label("b10") == "‖∂J/∂b¹⁰‖"
    steps = np.arange(1, 11)
    plot.append(steps, {k: np.full(10, 0.1) for k in ["W2", "b2", "W3", "b3", "W4", "b4"]})
    plot.refresh()
    assert _original_len(plot.curves["W3"]) == 10
    assert plot.curves["W2"].isVisible() and not plot.curves["b2"].isVisible()
    plot.set_show_biases(True)
    assert plot.curves["b2"].isVisible() and plot.bias_action.isChecked()
    plot.append(np.array([11]), {"W5": np.array([0.5])})  # unknown layer: a curve appears
    plot.refresh()
    assert _original_len(plot.curves["W5"]) == 1


def test_gradient_norms_of_deep_sigmoid_net_spread_over_decades(qtbot) -> None:
    ds = prepare(make_builtin("circles", n_samples=200))
    net = Network([2, 16, 16, 16, 16, 16, 16, 2], activation="sigmoid", output="softmax",
                  loss="cross_entropy", seed=0)  # fmt: skip
    grads = net.gradients(ds.X_train, ds.Y_train)
    names = [f"W{l}" for l in range(2, 9)]
    norms = {k: np.array([np.linalg.norm(grads[k])]) for k in names}
    plot = GradientNormPlot()
    qtbot.addWidget(plot)
    plot.set_layers(names)
    plot.append(np.array([1]), norms)
    plot.refresh()
    values = np.array([float(v[0]) for v in norms.values()])
    assert np.log10(values.max() / values.min()) > 1.5  # vanishing gradients, shown on log-y
    ys = [plot.curves[k].getData()[1][0] for k in names]  # log10 of the norms as drawn
    np.testing.assert_allclose(ys, np.log10(values))


def test_accuracy_plot_in_percent(qtbot) -> None:
    plot = AccuracyPlot()
    qtbot.addWidget(plot)
    assert plot.objectName() == "accuracyPlot"
    plot.append_epoch(1, 0.5, 0.25)
    plot.append_epoch(2, 0.75, None)
    plot.refresh()
    np.testing.assert_allclose(plot.train_curve.getOriginalDataset()[1], [50, 75])
    np.testing.assert_allclose(plot.val_curve.getOriginalDataset()[1], [25])


def test_decision_surface_modes(qtbot) -> None:
    view = DecisionSurfaceView(grid=40)
    qtbot.addWidget(view)
    assert view.objectName() == "decisionSurface"
    ds = prepare(make_builtin("moons", n_samples=100))
    view.set_dataset(ds)
    assert len(view.scatters) == 2  # one scatter per class
    view.set_network(Network([2, 4, 2], output="softmax", loss="cross_entropy"))
    assert view.image.isVisible() and view.image.image.shape == (40, 40, 4)
    assert "class" in view.show_readout_at(0.0, 0.0)
    view.set_network(Network([3, 4, 2], output="softmax"))  # wrong input size: cleared
    assert not view.image.isVisible()

    sine = prepare(make_builtin("sine", n_samples=50))
    view.set_dataset(sine)
    view.set_network(Network([1, 4, 1], output="linear"))
    x, y = view.curve.getData()
    assert len(x) > 10 and np.all(np.isfinite(y))

    wide = prepare(make_builtin("plane", n_samples=50))  # 2 inputs, regression
    view.set_dataset(wide)
    view.set_network(Network([2, 4, 1], output="linear"))
    assert view.image.isVisible()
    assert "prediction" in view.show_readout_at(0.0, 0.0)


def test_dark_theme_restyles_existing_plots(qtbot, qapp) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    try:
        theme.apply_theme(qapp, "dark")
        assert theme.is_dark()
        assert plot.backgroundBrush().color().name().upper() == theme.plot_theme().background
        assert len(theme.class_colors(12)) == 12 and len(set(theme.class_colors(12))) == 12
    finally:
        theme.apply_theme(qapp, "light")
    assert plot.backgroundBrush().color().name().upper() == "#FFFFFF"


def test_epoch_markers_drop_when_crowded(qtbot) -> None:
    plot = AccuracyPlot()
    qtbot.addWidget(plot)
    plot.append_epoch(1, 0.5, 0.5)
    plot.refresh()
    assert plot.train_curve.opts["symbol"] == "o"
    for e in range(2, SYMBOL_LIMIT + 5):
        plot.append_epoch(e, 0.9, 0.8)
    plot.refresh()
    assert plot.train_curve.opts["symbol"] is None


def test_weights_view_shows_each_matrix(qtbot) -> None:
    view = WeightsView()
    qtbot.addWidget(view)
    assert view.objectName() == "weightsView"
    net = Network([2, 5, 3], output="softmax", seed=1)
    view.set_network(net)
    assert [view.layer_combo.itemData(i) for i in range(view.layer_combo.count())] == ["W2", "W3"]
    view.set_layer("W3")
    np.testing.assert_allclose(view.image.image, net.params["W3"].T)
    levels = view.bar.levels()
    assert levels[0] == -levels[1] == pytest.approx(-np.abs(net.params["W3"]).max())
    view.set_network(net)  # a refresh keeps the chosen layer
    assert view.current_layer() == "W3"


def test_refresh_keeps_10k_points_and_touches_only_changed_curves(qtbot, monkeypatch) -> None:
    plot = GradientNormPlot()
    qtbot.addWidget(plot)
    plot.set_layers(["W2", "W3", "W4"])
    steps = np.arange(1, 12_001)
    keys = ["W2", "b2", "W3", "b3", "W4", "b4"]
    plot.append(steps, {k: np.full(steps.size, 0.1) for k in keys})
    assert sorted(plot.refresh()) == ["W2", "W3", "W4"]  # bias curves are hidden: not touched
    for k in ("W2", "W3", "W4"):
        x, _ = plot.curves[k].getOriginalDataset()
        assert len(x) <= 1000 and x[-1] > 11_990
        drawn, _ = plot.curves[k].getData()
        assert len(drawn) <= 1000
    calls: list[str] = []
    for k, curve in plot.curves.items():
        original = curve.setData
        monkeypatch.setattr(curve, "setData", lambda *a, _k=k, _f=original, **kw: (
            calls.append(_k), _f(*a, **kw))[1])  # fmt: skip
    assert plot.refresh() == [] and calls == []  # nothing new: nothing re-set
    plot.append(np.array([12_001]), {"W3": np.array([0.2])})
    assert plot.refresh() == ["W3"] and calls == ["W3"]
    assert not plot.has_pending()  # hidden bias curves do not keep the timer busy
    plot.set_show_biases(True)  # shown: the bias curves catch up at once
    assert 0 < _original_len(plot.curves["b2"]) <= 1000
    # dense curves: thin cosmetic pens, no antialiasing, no markers; the series thin the data
    curve = plot.curves["W2"]
    assert curve.opts["pen"].widthF() <= 1 and curve.opts["pen"].isCosmetic()
    assert not curve.opts["antialias"] and curve.opts["symbol"] is None


def test_theme_switch_rerenders_legends_and_keeps_markers_off(qtbot, qapp) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.append_steps(np.arange(1, 201), np.linspace(1, 0.1, 200))
    for e in range(1, SYMBOL_LIMIT + 10):
        plot.append_epoch(e * 2, e, 0.5)
    plot.refresh()
    assert plot.epoch_curve.opts["symbol"] is None
    view = DecisionSurfaceView(grid=20)
    qtbot.addWidget(view)
    view.set_dataset(prepare(make_builtin("moons", n_samples=60)))
    assert view.legend is None  # no legend box over the data; classes are named in the title
    assert "A" in view.getPlotItem().titleLabel.text
    try:
        theme.apply_theme(qapp, "dark")
        fg = theme.plot_theme().foreground.lower()
        for _, label in plot.legend.items:
            assert fg in label.item.toHtml().lower()  # re-rendered, not only recorded
        assert plot.epoch_curve.opts["symbol"] is None  # restyling must not bring markers back
        assert fg in view.getPlotItem().titleLabel.item.toHtml().lower()
    finally:
        theme.apply_theme(qapp, "light")


def test_empty_gradient_plot_shows_a_clean_log_range_until_data_arrives(qtbot) -> None:
    plot = GradientNormPlot()
    qtbot.addWidget(plot)
    vb = plot.getPlotItem().vb
    plot.set_layers(["W2", "W3"])
    # log10 view units: 1e-4 … 10, not pyqtgraph's 1 … 10 (a label on every minor tick)
    assert vb.viewRange()[1] == pytest.approx([-4.0, 1.0])
    assert vb.autoRangeEnabled()[1]  # still following the data to come
    plot.set_log_y(False)
    assert vb.viewRange()[1] == pytest.approx([0.0, 1.0])
    plot.set_log_y(True)
    assert vb.viewRange()[1] == pytest.approx([-4.0, 1.0])

    plot.append(np.arange(5.0), {"W2": np.full(5, 1e-7), "W3": np.full(5, 1e-6)})
    plot.refresh()
    lo, hi = vb.viewRange()[1]
    assert -7.5 < lo < -7.0 and -6.0 < hi < -5.5  # auto-range took over

    plot.clear()  # a reset run is empty again
    assert vb.viewRange()[1] == pytest.approx([-4.0, 1.0])
