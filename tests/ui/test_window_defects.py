"""Defects a new user hit in a walk-through (issue 7 §3), each in a real (offscreen) window:
status-bar texts, discarding a trained network, Space on a focused button, buttons that stay
under the mouse, α under a schedule, the Weights read-out, ranges after Reset + Step epoch."""

# ruff: noqa: F811 - the fixtures of test_main_window are imported, then requested by name
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from bpstudio.engine import Network
from bpstudio.ui.weights_view import WeightsView
from tests.ui.test_main_window import TIMEOUT, _button, _small_run, window  # noqa: F401 - fixtures


def _run_until_stopped_then_pause(qtbot, w) -> None:
    w.training_panel.until_stopped_check.setChecked(True)
    w.toggle_training()
    qtbot.waitUntil(lambda: len(w.loss_plot.series("step")) > 0, timeout=TIMEOUT)
    w.toggle_training()
    qtbot.waitUntil(lambda: w.paused_step is not None, timeout=TIMEOUT)


def test_status_bar_follows_the_run_and_the_network(qtbot, window):
    w = window
    _run_until_stopped_then_pause(qtbot, w)
    assert w.statusBar().currentMessage().startswith("Paused at step")
    w.toggle_training()  # resume
    assert w.state == "running"
    n = w.loss_plot.series("step").n_points
    qtbot.waitUntil(lambda: w.loss_plot.series("step").n_points > n + 20, timeout=TIMEOUT)
    assert "Paused" not in w.statusBar().currentMessage()  # it runs, it says so
    assert w.statusBar().currentMessage() == "Training…"
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    assert "stopped" in w.statusBar().currentMessage().lower()
    steps = w.loss_plot.series("step").n_points
    w.network_editor.add_layer(3, "tanh")  # a short run: no question asked
    message = w.statusBar().currentMessage()
    # nothing is discarded: the trained run stays in the Runs panel
    assert "Network changed" in message and "Runs panel" in message and f"{steps:,}" in message
    assert "stopped" not in message.lower()
    assert w.loss_plot.is_empty()


def test_editing_after_a_run_keeps_the_run_and_undo_brings_the_network_back(qtbot, window):
    w = window
    _small_run(w, epochs=2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    sizes = list(w.network.sizes)
    W2 = w.network.params["W2"].copy()
    run = w.session.runs[-1]
    w.network_editor.add_layer(4, "relu")  # no question: the trained weights are kept
    assert len(w.network.sizes) == len(sizes) + 1
    assert w.session.runs == [run]
    np.testing.assert_array_equal(run.params["W2"], W2)
    assert w.loss_plot.is_empty()  # the fresh network has no history yet
    w.undo()
    assert list(w.network.sizes) == sizes
    w.runs_panel.select_run(run)  # selecting the run puts its weights back in every view
    np.testing.assert_array_equal(w.network.params["W2"], W2)
    assert not w.loss_plot.is_empty()


def test_space_presses_a_focused_button_and_trains_elsewhere(qtbot, window):
    w = window
    plot_reset = [b for b in w.findChildren(type(_button(w, "trainButton")))
                  if b.text() == "Reset view"][0]  # fmt: skip
    clicked: list[bool] = []
    plot_reset.clicked.connect(lambda *_: clicked.append(True))
    plot_reset.setFocus()
    qtbot.waitUntil(plot_reset.hasFocus, timeout=TIMEOUT)
    qtbot.keyClick(plot_reset, Qt.Key.Key_Space)
    assert clicked and w.state == "idle"  # the button was pressed, training did not start
    w.loss_plot.setFocus()  # not a button: Space is the Train shortcut
    qtbot.waitUntil(w.loss_plot.hasFocus, timeout=TIMEOUT)
    qtbot.keyClick(w.loss_plot, Qt.Key.Key_Space)
    assert w.state in ("running", "paused")
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()


def test_add_and_remove_layer_buttons_stay_under_the_mouse(qtbot, window):
    w = window
    editor = w.network_editor
    w.side_scroll.ensureWidgetVisible(editor.add_button)

    def where(button):
        return button.mapTo(w, QPoint(0, 0))

    add, remove = where(editor.add_button), where(editor.remove_button)
    n = len(editor.sizes())
    for k in range(6):  # clicks at one spot add one layer each
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()  # the layout settles
        assert len(editor.sizes()) == n + k + 1
        assert where(editor.add_button) == add
    for _ in range(4):
        qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()
        assert where(editor.remove_button) == remove
    assert len(editor.sizes()) == n + 2


def test_current_learning_rate_under_a_schedule(qtbot, window):
    w = window
    tp = w.training_panel
    tp.apply_settings(
        {"schedule": "exponential", "gamma": 0.5, "lr": 0.2, "epochs": 3, "until_stopped": False}
    )
    assert tp.current_lr_label.text() == ""
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    assert tp.current_lr_label.text() == "now 0.05"  # 0.2 · 0.5² in epoch 3
    assert tp.lr_spin.value() == pytest.approx(0.2)  # the set value stays
    w.reset_weights()
    assert tp.current_lr_label.text() == ""


def test_weights_readout_forgets_the_previous_network(qtbot):
    view = WeightsView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    net = Network([2, 3, 2], output="softmax", seed=0)
    view.set_network(net)
    view.set_layer("W2")
    centre = view.image.mapToScene(view.image.boundingRect().center())
    view._on_mouse_moved(centre)
    assert view.readout.text().startswith("W2[")
    net.params["W2"][...] *= 2  # same network, new weights: the read-out follows
    view.set_network(net)
    i, j = view._hover[1:]
    assert f"{float(net.params['W2'][i, j]):.6g}"[:5] in view.readout.text()
    view.set_network(Network([4, 5, 3], output="softmax", seed=1))  # another dataset's net
    assert view.readout.text() == ""


def test_reset_weights_then_step_epoch_draws_in_view(qtbot, window):
    w = window
    _small_run(w, epochs=30)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    w.reset_weights()
    vb = w.loss_plot.getPlotItem().vb
    assert vb.viewRange()[0] == pytest.approx([0, 1])  # the old run's range is gone
    for k in range(1, 4):
        w.step_epoch()
        qtbot.waitUntil(lambda k=k: len(w.loss_plot.series("epoch")) == k, timeout=TIMEOUT)
        with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
            w.stop()
        w.refresher.tick(everything=True)
        last = w.loss_plot.series("step").last()[0]
        lo, hi = vb.viewRange()[0]
        assert lo <= 1 and last <= hi < 2 * last + 5
        x, _ = w.loss_plot.step_curve.getOriginalDataset()
        assert len(x) and x[-1] == pytest.approx(last, abs=1)


def test_diagram_names_inputs_and_outputs(qtbot, window):
    w = window
    ds = w.dataset
    view = w.network_view
    w.view_tabs.setCurrentIndex(w._tab_keys.index("network"))
    qtbot.waitUntil(lambda: bool(view._pos), timeout=TIMEOUT)  # painted: units laid out
    first_in, last_out = view._pos[0][0], view._pos[-1][0]
    tip_in = view.tooltip_at(first_in)
    tip_out = view.tooltip_at(last_out)
    assert f"“{ds.feature_names[0]}”" in tip_in and "feature" in tip_in
    names = ds.classes if ds.task == "classification" else ds.target_names
    assert f"“{names[0]}”" in tip_out
    hidden = view._pos[1][0]
    assert "“" not in view.tooltip_at(hidden)  # hidden units stand for no feature
    view.set_names(["a"], ["x"])  # names that do not fit the net are not used
    assert view.unit_name(1, 0) is None


def test_trace_more_cell_is_never_cut_off():
    from PySide6.QtGui import QFont, QFontMetrics

    from bpstudio.ui.trace_view import more_label

    metrics = QFontMetrics(QFont())
    wide = more_label(773, metrics, 400)
    assert wide == "⋮ 773 more"
    narrow = metrics.horizontalAdvance("⋮ 773 more") - 1
    text = more_label(773, metrics, narrow)
    assert text == "⋮ +773" and metrics.horizontalAdvance(text) <= narrow
    assert more_label(773, metrics, 5) == "⋮"


def test_view_menu_x_axis_follows_the_plots_own_choice(qtbot, window):
    """View → X axis in epochs and the plots' x combos agree whichever one the user touched."""
    w = window
    act = w.action_x_epochs
    assert not act.isChecked()
    act.setChecked(True)
    assert w.loss_plot.x_mode() == w.grad_plot.x_mode() == "epoch"
    w.grad_plot.set_x_mode("step")  # the gradient plot's own combo
    assert not act.isChecked() and w.loss_plot.x_mode() == "epoch"  # only that plot changed
    w.grad_plot.set_x_mode("epoch")
    assert act.isChecked()
    act.setChecked(False)
    assert w.loss_plot.x_mode() == w.grad_plot.x_mode() == "step"


def test_the_end_of_a_run_paints_what_is_on_screen_and_a_hidden_plot_catches_up(qtbot, window):
    """At the end of a run only the views on screen are painted (a hidden plot would read its
    whole history then: Stop took 0.5 s after ten minutes); a hidden plot draws when shown."""
    w = window
    w.view_tabs.setCurrentIndex(w._tab_keys.index("surface"))  # the accuracy plot is hidden
    assert not w.accuracy_plot.isVisible()
    w.training_panel.apply_settings({"until_stopped": True, "pace": None})
    w.toggle_training()
    qtbot.waitUntil(
        lambda: bool(w.book.attached[1]) and len(w.session.runs[-1].history) > 0, timeout=TIMEOUT
    )
    shown = len(w.session.runs[-1].history)
    qtbot.waitUntil(lambda: len(w.session.runs[-1].history) > shown + 20, timeout=TIMEOUT)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    assert w.accuracy_plot.has_pending()  # not drawn while hidden, nor at the end
    assert not w.loss_plot.has_pending()  # on screen: drawn with the final data
    w.view_tabs.setCurrentIndex(w._tab_keys.index("accuracy"))
    qtbot.waitUntil(lambda: w.accuracy_plot.isVisible(), timeout=TIMEOUT)
    assert not w.accuracy_plot.has_pending()
    _, y = w.accuracy_plot.train_curve.getOriginalDataset()
    assert y is not None and len(y) == len(w.session.runs[-1].history)
    assert not w.refresher.timer.isActive()  # idle, nothing pending on screen: no timer
