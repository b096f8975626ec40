"""Decision surface planes (PCA, two features), test points, discretised output, the colour bar,
neuron maps, the surface tab's controls and the Accuracy tab's confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent

from bpstudio.data import make_builtin, prepare, read_csv
from bpstudio.data.prepare import DatasetOptions
from bpstudio.engine import Network
from bpstudio.heads import predicted_class as predicted_classes
from bpstudio.ui import theme
from bpstudio.ui.metrics_view import MetricsView
from bpstudio.ui.neuron_maps import MAX_UNITS, NeuronMapsView, unit_maps
from bpstudio.ui.surface_panel import SurfacePanel
from bpstudio.ui.surface_plane import feature_plane, pca_plane
from bpstudio.ui.surface_view import DecisionSurfaceView


def _four_inputs(test_fraction: float = 0.2):
    """A 4-feature, 3-class dataset with a test split (correlated features, like iris)."""
    rng = np.random.default_rng(0)
    n = 150
    cls = rng.integers(0, 3, n)
    base = cls[:, None] * np.array([1.0, -0.5, 2.0, 1.5]) + rng.normal(0, 0.4, (n, 4))
    lines = ["a,b,c,d,species"] + [
        ",".join(f"{v:.4f}" for v in row) + f",{'xyz'[c]}" for row, c in zip(base, cls, strict=True)
    ]
    return lines, DatasetOptions(test_fraction=test_fraction)


@pytest.fixture
def four(tmp_path):
    lines, opts = _four_inputs()
    path = tmp_path / "four.csv"
    path.write_text("\n".join(lines) + "\n")
    return prepare(read_csv(path), opts)


# ----------------------------------------------------------------- planes (pure NumPy)


def test_pca_plane_is_the_first_two_principal_components(four):
    X = four.X_train
    plane = pca_plane(X)
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-12)  # orthonormal
    np.testing.assert_allclose(plane.origin, X.mean(axis=0))
    # the covariance's top two eigenvectors, up to sign
    w, V = np.linalg.eigh(np.cov(X.T))
    top = V[:, np.argsort(w)[::-1][:2]].T
    np.testing.assert_allclose(np.abs(np.sum(top * plane.axes, axis=1)), 1.0, atol=1e-9)
    assert plane.explained[0] == pytest.approx(np.sort(w)[-1] / w.sum())
    # a point on the plane maps back to itself; scores of the data have zero mean
    UV = np.array([[0.3, -1.2], [2.0, 0.5]])
    np.testing.assert_allclose(plane.project(plane.to_inputs(UV)), UV, atol=1e-12)
    np.testing.assert_allclose(plane.project(X).mean(axis=0), 0.0, atol=1e-12)
    assert plane.labels[0].startswith("PC1 (")


def test_feature_plane_holds_the_other_inputs_at_their_mean(four):
    X = four.X_train
    plane = feature_plane(X, 2, 0, four.feature_names)
    pts = plane.to_inputs(np.array([[1.5, -0.25]]))[0]
    assert pts[2] == 1.5 and pts[0] == -0.25
    np.testing.assert_allclose(pts[[1, 3]], X.mean(axis=0)[[1, 3]])
    np.testing.assert_allclose(plane.project(X), X[:, [2, 0]])
    assert plane.labels == ("c", "a")
    with pytest.raises(ValueError, match="two different features"):
        feature_plane(X, 1, 1)


# ----------------------------------------------------------------- the surface view


def test_more_than_two_inputs_draw_a_surface_on_a_plane(qtbot, four):
    view = DecisionSurfaceView(grid=30)
    qtbot.addWidget(view)
    view.set_dataset(four)
    assert view.plane.kind == "pca"
    net = Network([4, 5, 3], output="softmax", loss="cross_entropy", seed=1)
    view.set_network(net)
    assert view.image.isVisible() and view.image.image.shape == (30, 30, 4)
    pts = view.grid_plane_points()
    np.testing.assert_allclose(view.prediction.reshape(-1, 3), net.forward(pts))
    # every grid point lies on the plane through the mean
    np.testing.assert_allclose(view.plane.to_inputs(view.plane.project(pts)), pts, atol=1e-12)
    # the points are drawn at their projections (train + validation filled, test hollow)
    marks = zip(view.scatters, view._scatter_test, strict=True)
    train_pts = np.concatenate([np.column_stack(sc.getData()) for sc, t in marks if not t])
    assert len(train_pts) == len(four.X_train) + len(four.X_val)
    assert np.allclose(
        np.sort(train_pts[:, 0]),
        np.sort(view.project(np.concatenate([four.X_train, four.X_val]))[:, 0]),
    )
    view.set_plane("features", 3, 1)
    view.set_network(net)
    pts = view.grid_plane_points()
    mean = four.X_train.mean(axis=0)
    np.testing.assert_allclose(pts[:, [0, 2]], np.broadcast_to(mean[[0, 2]], (len(pts), 2)))
    assert view.getPlotItem().getAxis("bottom").labelText == "d"
    assert "class" in view.show_readout_at(0.0, 0.0)


def test_test_points_are_drawn_with_their_own_marker(qtbot, four):
    view = DecisionSurfaceView(grid=20)
    qtbot.addWidget(view)
    view.set_dataset(four)
    tests = [sc for sc, t in zip(view.scatters, view._scatter_test, strict=True) if t]
    assert sum(len(sc.getData()[0]) for sc in tests) == len(four.X_test) > 0
    assert all(sc.opts["symbol"] == "d" for sc in tests)
    trains = [sc for sc, t in zip(view.scatters, view._scatter_test, strict=True) if not t]
    assert all(sc.opts["symbol"] == "o" for sc in trains)
    assert "test" in view.getPlotItem().titleLabel.text
    no_test = prepare(make_builtin("moons", n_samples=80))
    view.set_dataset(no_test)
    assert not any(view._scatter_test)
    assert "test" not in view.getPlotItem().titleLabel.text


def test_discretised_output_colours_by_predicted_class(qtbot):
    view = DecisionSurfaceView(grid=30)
    qtbot.addWidget(view)
    ds = prepare(make_builtin("blobs", n_samples=90))
    view.set_dataset(ds)
    net = Network([2, 6, 3], output="softmax", loss="cross_entropy", seed=3)
    view.set_network(net)
    smooth = view.image.image.reshape(-1, 4).copy()
    view.set_discrete(True)
    hard = view.image.image.reshape(-1, 4)
    assert len(np.unique(smooth, axis=0)) > 20  # a shade of confidence
    cls = predicted_classes(net.forward(view.grid_plane_points()))
    colours = {tuple(c) for c in hard}
    assert len(colours) == len(set(cls.tolist()))  # one colour per predicted class
    for k in set(cls.tolist()):  # and the same colour wherever that class is predicted
        assert len({tuple(c) for c in hard[cls == k]}) == 1


def test_regression_surface_has_a_colour_bar_and_discrete_bands(qtbot):
    view = DecisionSurfaceView(grid=30)
    qtbot.addWidget(view)
    view.show()
    ds = prepare(make_builtin("gaussian_bump", n_samples=80))
    view.set_dataset(ds)
    assert view.color_bar.isVisible()
    lo, hi = view.color_bar.levels()
    assert lo == pytest.approx(ds.Y.min()) and hi == pytest.approx(ds.Y.max())
    view.set_network(Network([2, 6, 1], output="linear", loss="mse", seed=0))
    view.set_discrete(True)
    assert len(np.unique(view.image.image.reshape(-1, 4), axis=0)) <= 10
    view.set_dataset(prepare(make_builtin("moons", n_samples=60)))
    assert not view.color_bar.isVisible()  # classes are named in the title instead
    view.set_dataset(prepare(make_builtin("sine", n_samples=60)))
    assert not view.color_bar.isVisible()  # a curve: the y axis is the scale


def test_readout_uses_the_engines_class_rule(qtbot):
    view = DecisionSurfaceView(grid=10)
    qtbot.addWidget(view)
    view.set_dataset(prepare(make_builtin("moons", n_samples=60)))
    net = Network([2, 1], output="sigmoid", loss="mse")
    for v in net.params.values():
        v[...] = 0.0  # output exactly 0.5 everywhere: predicted_classes says class 0 (> 0.5)
    view.set_network(net)
    names = view.dataset.classes
    assert int(predicted_classes(np.array([[0.5]]))[0]) == 0
    assert f"class <b>{names[0]}</b>" in view.show_readout_at(0.0, 0.0)


# ----------------------------------------------------------------- neuron maps


def test_neuron_maps_show_each_hidden_units_activation(qtbot):
    ds = prepare(make_builtin("circles", n_samples=100))
    maps = NeuronMapsView()
    qtbot.addWidget(maps)
    maps.show()
    maps.set_dataset(ds)
    maps.set_bounds((-2.0, 2.0, -1.0, 1.0))
    net = Network([2, 5, 3, 2], activation="tanh", output="softmax", seed=0)
    maps.set_network(net)
    assert len(maps._thumbs) == 5 + 3
    assert all(not t.pixmap().isNull() for t in maps._thumbs.values())
    m = unit_maps(net, (-2.0, 2.0, -1.0, 1.0), 3)
    W2, b2 = net.params["W2"], net.params["b2"]
    x = np.array([-2.0, 1.0])  # grid index (0, 2): x at its low end, y at its high end
    np.testing.assert_allclose(m[0][0, 2], np.tanh(W2 @ x + b2.ravel()))
    assert m[1].shape == (3, 3, 3)
    # hover enlarges, click pins
    thumb = maps._thumbs[(3, 1)]
    qtbot.mouseMove(thumb)
    enter = QEnterEvent(QPointF(2, 2), QPointF(2, 2), QPointF(2, 2))
    maps.eventFilter(thumb, enter)
    assert maps.shown == (3, 1) and "a<sup>3</sup><sub>2</sub>" in maps.caption.text()
    qtbot.mouseClick(maps._thumbs[(2, 4)], Qt.MouseButton.LeftButton)
    assert maps.pinned == (2, 4) == maps.shown
    maps.eventFilter(thumb, enter)
    maps.eventFilter(thumb, QEvent(QEvent.Type.Leave))
    assert maps.shown == (2, 4)  # back to the pinned one


def test_neuron_maps_condense_wide_layers_and_skip_other_data(qtbot):
    maps = NeuronMapsView()
    qtbot.addWidget(maps)
    maps.set_dataset(prepare(make_builtin("xor", n_samples=40)))
    maps.set_bounds((-1.0, 1.0, -1.0, 1.0))
    maps.set_network(Network([2, 100, 1], output="sigmoid"))
    assert len(maps._thumbs) == MAX_UNITS
    heads = [
        maps._grid.itemAt(i).widget().text()
        for i in range(maps._grid.count())
        if not hasattr(maps._grid.itemAt(i).widget(), "unit")
    ]
    assert any(f"first {MAX_UNITS} of 100" in h for h in heads)
    assert not maps.applies_to(prepare(make_builtin("sine", n_samples=40)))


# ----------------------------------------------------------------- the surface tab


def test_surface_panel_controls(qtbot, four):
    panel = SurfacePanel(grid=20)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_dataset(four)
    net = Network([4, 5, 3], output="softmax", loss="cross_entropy", seed=1)
    panel.set_network(net)
    assert panel.plane_combo.isVisible() and not panel.x_combo.isVisible()
    assert not panel.maps.isVisible()  # maps need 2 inputs
    panel.plane_combo.setCurrentIndex(panel.plane_combo.findData("features"))
    assert panel.x_combo.isVisible() and panel.y_combo.isVisible()
    assert panel.surface.plane.kind == "features" and panel.surface.plane.features == (0, 1)
    panel.y_combo.setCurrentIndex(3)
    assert panel.surface.plane.features == (0, 3)
    panel.x_combo.setCurrentIndex(3)  # the same feature twice: y moves on
    assert panel.surface.plane.features == (3, 0)
    assert panel.surface.image.isVisible()  # redrawn with the net
    panel.discrete_check.setChecked(True)
    assert panel.surface.discrete
    circles = prepare(make_builtin("circles", n_samples=80))
    panel.set_dataset(circles)
    panel.set_network(Network([2, 4, 2], output="softmax", loss="cross_entropy"))
    assert not panel.plane_combo.isVisible()
    assert panel.maps.isVisible() and len(panel.maps._thumbs) == 4
    assert panel.maps.bounds == panel.surface.bounds
    panel.set_dataset(prepare(make_builtin("sine", n_samples=40)))
    assert not panel.discrete_check.isVisible() and not panel.maps.isVisible()


def test_metrics_view_confusion_sums_to_the_split_and_follows_the_weights(qtbot, four):
    view = MetricsView()
    qtbot.addWidget(view)
    view.show()
    view.set_dataset(four)
    net = Network([4, 6, 3], output="softmax", loss="cross_entropy", seed=0)
    view.set_network(net)
    c = view.confusion.confusion
    assert c is not None and c.matrix.sum() == len(four.X_train)
    view.confusion.set_split("test")
    assert view.confusion.confusion.matrix.sum() == len(four.X_test)
    assert view.findChild(type(view.confusion), "confusionMatrix") is view.confusion
    # a second snapshot right away is deferred, then shown (the last weights always are)
    other = Network([4, 6, 3], output="softmax", loss="cross_entropy", seed=5)
    view.set_network(other)
    assert view.confusion.net is net and view._timer.isActive()
    qtbot.waitUntil(lambda: view.confusion.net is other, timeout=5000)
    view.hide()
    assert not view._timer.isActive()


def test_window_tabs_hold_the_new_views_and_a_click_picks_on_the_plane(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from bpstudio.ui import MainWindow

    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    for name in ("confusionMatrix", "surfacePlaneCombo", "discretiseCheck", "neuronMaps"):
        assert w.findChild(object, name) is not None, name
    assert w.metrics_view.accuracy_plot is w.accuracy_plot
    lines, opts = _four_inputs()
    path = tmp_path / "four.csv"
    path.write_text("\n".join(lines) + "\n")
    with qtbot.waitSignal(w.dataset_panel.datasetChanged, timeout=30_000):
        w.dataset_panel.open_csv(str(path), options=opts)
    w.view_tabs.setCurrentIndex(w._tab_keys.index("surface"))
    qtbot.waitUntil(w.surface_view.image.isVisible, timeout=30_000)
    # a click on a training point's projection picks that sample for the trace
    k = 17
    u, v = w.surface_panel.project(w.dataset.X_train[k : k + 1])[0]
    vb = w.surface_view.getPlotItem().vb
    event = type("Click", (), {"scenePos": lambda self: vb.mapViewToScene(QPointF(u, v))})()
    w._on_surface_clicked(event)
    assert w.inspector.sample_index == k and w.inspector.split() == "train"
    w.view_tabs.setCurrentIndex(w._tab_keys.index("accuracy"))
    qtbot.waitUntil(lambda: w.metrics_view.confusion.confusion is not None, timeout=30_000)
    assert w.metrics_view.confusion.confusion.matrix.sum() == len(w.dataset.X_train)
    w.close()


@pytest.fixture(autouse=True)
def _light_theme(qapp):
    theme.apply_theme(qapp, "light")
