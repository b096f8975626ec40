"""The main window end to end (offscreen): train, pause/step/stop, edit the network, open CSVs,
export, close mid-training. Every test gets a fresh window with settings in a temporary folder;
an autouse fixture fails any test that leaves the worker thread, the refresh timer or a training
process running.
"""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QPushButton, QSpinBox, QWidget

from bpstudio.ui import MainWindow, dialogs
from bpstudio.ui.training_panel import DEFAULT_PACE

TIMEOUT = 30_000  # ms; generous for loaded CI machines, the tests finish in well under a second


@pytest.fixture
def window(qtbot, settings, errors):
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    # the tests time full-speed runs; the default (watchable) pace has its own tests
    w.training_panel.set_pace(None)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    assert not w.worker_handle.thread.isRunning()


def _steps(w: MainWindow) -> int:
    return w.loss_plot.buffers["step"].n_points  # steps recorded (the series keeps bins of them)


def _curve_len(w: MainWindow) -> int:
    x, _ = w.loss_plot.step_curve.getOriginalDataset()
    return 0 if x is None else len(x)


def _button(w: MainWindow, name: str) -> QPushButton:
    b = w.findChild(QPushButton, name)
    assert b is not None, name
    return b


def _small_run(w: MainWindow, epochs: int = 5) -> None:
    w.training_panel.epochs_spin.setValue(epochs)
    w.training_panel.until_stopped_check.setChecked(False)


def test_automation_contract(window):
    w = window
    for name in ("trainButton", "stepButton", "stopButton", "resetButton"):
        assert w.findChild(QPushButton, name) is not None, name
    for name in ("lossPlot", "gradientNormPlot", "hiddenLayersEditor", "datasetCombo"):
        assert w.findChild(QWidget, name) is not None, name
    assert w.findChild(QDoubleSpinBox, "learningRateSpin") is not None
    assert w.findChild(QSpinBox, "batchSizeSpin") is not None
    names = {a.objectName() for a in w.actions()}
    assert {"actionOpenCsv", "actionExport"} <= names
    assert w.dataset is not None and w.network is not None
    assert w.network.sizes[0] == w.dataset.n_inputs
    assert w.state == "idle"


def test_train_grows_the_loss_curve_and_the_loss_falls(qtbot, window):
    w = window
    _small_run(w, epochs=40)
    w.training_panel.lr_spin.setValue(0.3)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as ended:
        qtbot.mouseClick(_button(w, "trainButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: _curve_len(w) > 0, timeout=TIMEOUT)  # drawn while training
    assert ended.args == ["finished"]
    qtbot.waitUntil(lambda: not w.loss_plot.has_pending(), timeout=TIMEOUT)
    _, epoch_loss = w.loss_plot.epoch_curve.getOriginalDataset()
    assert len(epoch_loss) == 40
    assert epoch_loss[-1] < 0.7 * epoch_loss[0]
    assert w.state == "idle"
    assert "finished" in w.statusBar().currentMessage().lower()
    # gradient norms and accuracy were plotted too
    assert any(len(b) for k, b in w.grad_plot.buffers.items() if k.startswith("W"))
    assert len(w.accuracy_plot.buffers["train"]) == 40


def test_pause_step_stop(qtbot, window):
    w = window
    w.training_panel.until_stopped_check.setChecked(True)
    qtbot.mouseClick(_button(w, "trainButton"), Qt.MouseButton.LeftButton)
    assert w.state == "running"
    assert not w.training_panel.batch_spin.isEnabled()  # locked during a run
    assert w.training_panel.lr_spin.isEnabled()  # α stays live
    qtbot.waitUntil(lambda: _steps(w) > 0, timeout=TIMEOUT)
    qtbot.mouseClick(_button(w, "trainButton"), Qt.MouseButton.LeftButton)  # pause
    assert w.state == "paused"
    qtbot.waitUntil(lambda: w.paused_step is not None, timeout=TIMEOUT)
    at = w.paused_step
    qtbot.waitUntil(lambda: _steps(w) == at, timeout=TIMEOUT)
    qtbot.wait(100)
    assert _steps(w) == at  # nothing moves while paused
    qtbot.mouseClick(_button(w, "stepButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.paused_step == at + 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: _steps(w) == at + 1, timeout=TIMEOUT)  # exactly one step
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as ended:
        qtbot.mouseClick(_button(w, "stopButton"), Qt.MouseButton.LeftButton)
    assert ended.args == ["stopped"]
    assert w.state == "idle"
    assert w.training_panel.batch_spin.isEnabled()
    assert "stopped" in w.statusBar().currentMessage().lower()


def test_step_from_idle_then_train_continues_the_curve(qtbot, window):
    w = window
    _small_run(w, epochs=1)
    w.step()
    qtbot.waitUntil(lambda: w.paused_step == 1, timeout=TIMEOUT)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    before = w.network.get_params()
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    steps = w.loss_plot.buffers["step"].x
    assert steps[0] == 1 and np.all(np.diff(steps) == 1)  # one continuous curve
    after = w.network.get_params()
    assert not np.allclose(before["W2"], after["W2"])  # the final weights came back


def test_change_layers_and_activation_then_train(qtbot, window):
    w = window
    editor = w.network_editor
    editor.add_layer(5, "relu")
    editor.set_layer(0, size=6, activation="sigmoid")
    hidden = w.network.sizes[1:-1]
    assert hidden[0] == 6 and 5 in hidden
    assert w.network.activations[0] == "sigmoid"
    _small_run(w, epochs=2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as ended:
        w.toggle_training()
    assert ended.args == ["finished"]
    layers = {k for k, b in w.grad_plot.buffers.items() if k.startswith("W") and len(b)}
    assert layers == {f"W{i}" for i in range(2, len(w.network.sizes) + 1)}


def test_live_learning_rate_reaches_the_child(qtbot, window):
    w = window
    w.step()
    qtbot.waitUntil(lambda: w.paused_step == 1, timeout=TIMEOUT)
    w.training_panel.lr_spin.setValue(0.0123)
    w.step()
    qtbot.waitUntil(lambda: w.paused_step == 2, timeout=TIMEOUT)
    assert w._last_lr == pytest.approx(0.0123)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()


def test_open_csv_through_file_dialog_and_import_dialog(
    qtbot, window, tmp_path, monkeypatch, errors
):
    w = window
    path = tmp_path / "pts.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    rows = ["a,b,c,label"] + [
        f"{x[0]:.4f},{x[1]:.4f},{x[2]:.4f},{lab}" for x, lab in zip(X, labels, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(
        dialogs.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    w.findChild(type(w.action_open), "actionOpenCsv").trigger()
    qtbot.waitUntil(
        lambda: w.dataset_panel.import_dialog is not None or bool(errors), timeout=TIMEOUT
    )
    assert not errors
    dialog = w.dataset_panel.import_dialog
    assert dialog.targets() == ["label"]
    with qtbot.waitSignal(w.dataset_panel.datasetChanged, timeout=TIMEOUT):
        dialog.accept()
    assert w.dataset.n_inputs == 3
    assert w.network.sizes[0] == 3 and w.network.sizes[-1] == w.dataset.n_outputs
    assert str(path) in w.dataset_panel.recent_files()[0]
    _small_run(w, epochs=2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as ended:
        w.toggle_training()
    assert ended.args == ["finished"]


def test_broken_csv_shows_an_error_and_keeps_the_data(qtbot, window, tmp_path, errors):
    w = window
    before = w.dataset
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"\x00\x01\x02garbage\xff\xfe\x00" * 50)
    w.open_csv(str(bad))
    qtbot.waitUntil(lambda: len(errors) > 0, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not w.dataset_panel.is_loading(), timeout=TIMEOUT)
    assert w.dataset is before
    assert w.dataset_panel.current() is before


def test_worker_error_reaches_the_user_as_a_dialog(qtbot, window, errors, monkeypatch):
    w = window
    real = w.training_panel.fit_config
    monkeypatch.setattr(w.training_panel, "fit_config", lambda: {**real(), "optimizer": "bogus"})
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as ended:
        w.toggle_training()
    assert ended.args == ["error"]
    assert errors and "optimizer" in errors[-1][1].lower()
    assert w.state == "idle"


def test_divergence_is_reported(qtbot, qapp, settings, errors):
    w = MainWindow(settings=settings, dataset="builtin:sine")
    try:
        w.network_editor.set_layer(0, activation="relu")
        w.training_panel.lr_spin.setValue(10.0)
        _small_run(w, epochs=50)
        with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as ended:
            w.toggle_training()
        assert ended.args == ["diverged"]
        assert not w.notice.isHidden()
        assert "learning rate" in w.notice.label.text()
        assert all(np.all(np.isfinite(v)) for v in w.network.get_params().values())
    finally:
        w.close()


def test_export_writes_a_loadable_model(qtbot, window, tmp_path, monkeypatch):
    from bpstudio.io import load_model

    w = window
    _small_run(w, epochs=3)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    target = tmp_path / "model.npz"
    monkeypatch.setattr(
        dialogs.QFileDialog,
        "getSaveFileName",
        staticmethod(lambda *a, **k: (str(target), "")),
    )
    w.findChild(type(w.action_export), "actionExport").trigger()
    assert target.exists()
    loaded = load_model(str(target))
    for k, v in w.network.get_params().items():
        np.testing.assert_allclose(loaded.net.params[k], v)
    assert loaded.preprocessor is not None
    X = w.dataset.X_val
    np.testing.assert_allclose(loaded.net.forward(X), w.network.forward(X), rtol=1e-5, atol=1e-6)


def test_reset_weights_reinitialises_and_clears(qtbot, window):
    w = window
    start = w.network.get_params()
    _small_run(w, epochs=2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    assert _steps(w) > 0
    qtbot.mouseClick(_button(w, "resetButton"), Qt.MouseButton.LeftButton)
    assert _steps(w) == 0
    for k, v in w.network.get_params().items():
        np.testing.assert_allclose(v, start[k])  # same seed: the same starting point


def test_space_toggles_training_but_not_inside_a_spin_box(qtbot, window):
    w = window
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=5000)
    spin = w.training_panel.lr_spin
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    assert w.state == "idle"
    w.training_panel.until_stopped_check.setChecked(True)
    w.loss_plot.setFocus()
    qtbot.keyClick(w.loss_plot, Qt.Key.Key_Space)
    assert w.state == "running"
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        qtbot.keyClick(w, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)


def test_settings_persist(qtbot, qapp, settings, errors):
    w = MainWindow(settings=settings)
    w.training_panel.batch_spin.setValue(17)
    w.training_panel.lr_spin.setValue(0.042)
    w.network_editor.add_layer(3, "relu")
    sizes = list(w.network.sizes)
    w.close()
    w2 = MainWindow(settings=settings)
    try:
        assert w2.training_panel.batch_spin.value() == 17
        assert w2.training_panel.lr_spin.value() == pytest.approx(0.042)
        assert list(w2.network.sizes) == sizes
    finally:
        w2.close()


def test_close_mid_training_leaves_nothing_running(qtbot, qapp, settings, errors):
    w = MainWindow(settings=settings)
    w.show()
    w.training_panel.until_stopped_check.setChecked(True)
    w.toggle_training()
    qtbot.waitUntil(lambda: _steps(w) > 0, timeout=TIMEOUT)
    pid = w.worker_handle.worker.child_pid
    w.close()
    assert not w.worker_handle.thread.isRunning()
    assert pid not in [p.pid for p in mp.active_children()]
    assert not w._refresh_timer.isActive()


# ---------------------------------------------------------------------- views and layout
def _tab(w: MainWindow, key: str) -> None:
    w.view_tabs.setCurrentIndex(w._tab_keys.index(key))


def test_views_are_tabs_below_the_always_visible_plots(window):
    w = window
    titles = [w.view_tabs.tabText(i) for i in range(w.view_tabs.count())]
    assert titles == ["Decision surface", "Network", "Backprop inspector", "Weights", "Accuracy"]
    names = (
        "decisionSurface",
        "networkDiagram",
        "backpropInspector",
        "weightsView",
        "accuracyPlot",
    )
    for name in names:
        assert w.findChild(QWidget, name) is not None, name
    for key in ("network", "trace", "weights", "accuracy", "surface"):
        _tab(w, key)
        assert w.loss_plot.isVisible() and w.grad_plot.isVisible()


def test_run_controls_visible_at_the_default_size(window):
    w = window
    w.resize(1400, 860)
    for name in ("trainButton", "stepButton", "stopButton", "resetButton"):
        b = _button(w, name)
        assert b.isVisible(), name
        top_left = b.mapTo(w, b.rect().topLeft())
        bottom_right = b.mapTo(w, b.rect().bottomRight())
        assert w.rect().contains(top_left) and w.rect().contains(bottom_right), name
        assert not w.side_scroll.isAncestorOf(b), name  # never scrolls away
    assert w.findChild(QDoubleSpinBox, "learningRateSpin") is not None
    assert w.findChild(QSpinBox, "batchSizeSpin") is not None


def _trace_matches(w: MainWindow) -> None:
    """The inspector's numbers are the engine's trace of the inspected sample."""
    insp = w.inspector
    x, y = insp.sample()
    for ell, t in w.network.trace(x, y).items():
        np.testing.assert_allclose(insp.walk.delta[ell], t.delta, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(insp.walk.dW[ell], t.dW, rtol=1e-12, atol=1e-15)


def test_inspector_follows_training_and_reset(qtbot, window):
    w = window
    _tab(w, "trace")
    w.inspector.set_sample_index(3)
    qtbot.waitUntil(lambda: w.inspector.walk is not None, timeout=TIMEOUT)
    _trace_matches(w)
    before = w.inspector.walk.delta[2].copy()
    _small_run(w, epochs=3)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    # the final weights reach the visible inspector (at most TEACH_INTERVAL later)
    qtbot.waitUntil(lambda: not np.allclose(w.inspector.walk.delta[2], before), timeout=TIMEOUT)
    _trace_matches(w)
    qtbot.mouseClick(_button(w, "resetButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: np.allclose(w.inspector.walk.delta[2], before), timeout=TIMEOUT)
    _trace_matches(w)


def test_hidden_views_catch_up_when_shown_and_diagram_shows_signs(qtbot, window):
    w = window
    _tab(w, "surface")
    _small_run(w, epochs=3)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    assert w.network_view in w._stale_views  # not drawn while hidden
    _tab(w, "network")
    assert w.network_view not in w._stale_views
    W2 = w.network.get_params()["W2"]
    np.testing.assert_allclose(w.network_view.weights[2], W2)
    j, k = np.unravel_index(np.argmin(W2), W2.shape)
    assert W2[j, k] < 0
    from bpstudio.ui.trace_view import NEGATIVE, POSITIVE

    assert w.network_view.edge_color(2, j, k).name() == NEGATIVE.lower()
    j, k = np.unravel_index(np.argmax(W2), W2.shape)
    assert w.network_view.edge_color(2, j, k).name() == POSITIVE.lower()
    _tab(w, "weights")
    np.testing.assert_allclose(w.weights_view.params["W2"], W2)


def test_selected_tab_persists(qtbot, qapp, settings, errors):
    w = MainWindow(settings=settings)
    _tab(w, "trace")
    w.close()
    w2 = MainWindow(settings=settings)
    try:
        assert w2.view_tabs.currentIndex() == w2._tab_keys.index("trace")
    finally:
        w2.close()


def test_last_csv_dataset_reopens_with_its_import_options(qtbot, settings, tmp_path, errors):
    path = tmp_path / "pts.csv"
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    rows = ["a,b,label"] + [f"{x[0]:.4f},{x[1]:.4f},{'yes' if x[0] > 0 else 'no'}" for x in X]
    path.write_text("\n".join(rows) + "\n")

    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.open_csv(str(path))
    qtbot.waitUntil(lambda: first.dataset_panel.import_dialog is not None, timeout=TIMEOUT)
    first.dataset_panel.import_dialog.set_role("b", "Drop")
    with qtbot.waitSignal(first.dataset_panel.datasetChanged, timeout=TIMEOUT):
        first.dataset_panel.import_dialog.accept()
    assert first.dataset.feature_names == ["a"]
    first.close()

    second = MainWindow(settings=settings)  # no import dialog this time: the options were saved
    qtbot.addWidget(second)
    qtbot.waitUntil(lambda: second.dataset_panel.current_source() == str(path), timeout=TIMEOUT)
    assert second.dataset.feature_names == ["a"]
    assert second.dataset_panel.import_dialog is None
    assert not errors
    second.close()


def test_wheel_over_unfocused_field_scrolls_instead_of_editing(window, qtbot):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication, QComboBox

    combo = window.training_panel.optimizer_combo
    before = combo.currentIndex()
    assert not combo.hasFocus()
    pos = QPointF(5, 5)
    ev = QWheelEvent(
        pos,
        QPointF(combo.mapToGlobal(QPoint(5, 5))),
        QPoint(),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(combo, ev)
    assert combo.currentIndex() == before
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus
    # rows added later are guarded too
    window.network_editor.add_layer()
    new = [
        c
        for c in window.network_editor.findChildren(QComboBox)
        if c.property("_bpstudio_wheel_guarded")
    ]
    assert len(new) == len(window.network_editor.findChildren(QComboBox))


def test_regression_tab_is_called_prediction(window):
    tabs = window.view_tabs
    assert tabs.tabText(0) == "Decision surface"
    window.dataset_panel.select_builtin("sine")
    assert tabs.tabText(0) == "Prediction"


def test_loss_that_rose_is_reported(window, qtbot):
    window.dataset_panel.select_builtin("spirals")
    w = window
    w.findChild(QDoubleSpinBox, "learningRateSpin").setValue(10)
    w.training_panel.until_stopped_check.setChecked(False)
    w.training_panel.epochs_spin.setValue(20)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT) as sig:
        w.toggle_training()
    assert sig.args == ["finished"]
    assert w.notice.isVisible()
    assert "loss rose" in w.notice.label.text()


def test_first_clause_keeps_the_status_line_short():
    from bpstudio.ui.notice import first_clause as _first_clause

    assert _first_clause("Finished 3 epoch(s).") == "Finished 3 epoch(s)."
    long = "Training diverged at epoch 1, step 7: the loss " + "x" * 200
    assert _first_clause(long).startswith("Training diverged at epoch 1, step 7 (")


def test_untrained_network_is_drawn_as_soon_as_the_window_shows(qtbot, settings, errors):
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert not w.surface_view.image.isVisible()
    w.show()
    qtbot.waitUntil(w.surface_view.image.isVisible, timeout=TIMEOUT)
    w.close()


def test_window_trains_at_the_chosen_pace_and_changes_it_live(qtbot, window):
    w = window
    w.training_panel.until_stopped_check.setChecked(True)
    w.training_panel.set_pace(40.0)
    seen: list = []
    w.worker_handle.worker.progress.connect(lambda p: seen.append((p.step, p.elapsed)))
    qtbot.mouseClick(_button(w, "trainButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] >= 16, timeout=TIMEOUT)
    (s0, e0), (s1, e1) = seen[0], seen[-1]
    assert 40 * 0.8 <= (s1 - s0) / (e1 - e0) <= 40 * 1.2  # on the child's own clock
    w.training_panel.speed_slider.setValue(w.training_panel.speed_slider.maximum())
    qtbot.waitUntil(lambda: seen[-1][0] >= s1 + 2000, timeout=TIMEOUT)  # full speed at once
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        qtbot.mouseClick(_button(w, "stopButton"), Qt.MouseButton.LeftButton)


def test_the_app_opens_at_a_watchable_pace(qtbot, settings, errors):
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert w.training_panel.pace() == DEFAULT_PACE
    w.training_panel.set_pace(5.0)
    w.save_settings()
    w.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.training_panel.pace() == 5.0
    again.close()
