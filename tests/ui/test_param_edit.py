"""Hand edits of a weight or bias (bpstudio.ui.param_edit) in the real window, offscreen.

Typed in the diagram's popup or the inspector: the network's entry changes, the loss read out is
the engine's loss of the new weights, the diagram and the inspector follow, undo and redo put the
values back; bad text gets a message; while paused the child trains on from the edited value and
the run notes the edit; while running an edit is refused; a Shift+drag is one undo command; the
inspector's update stage takes the paused run's optimiser state.
"""

# ruff: noqa: F811 - the fixtures of test_main_window are imported, then requested by name

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from bpstudio.ui.param_edit import ParamRef, drag_value, parse_value
from tests.ui.test_main_window import TIMEOUT, _small_run, window  # noqa: F401 - fixtures


def _edge_point(nv, ell: int, j: int, k: int) -> QPointF:
    pj, pk = nv._pos[ell - 1][j], nv._pos[ell - 2][k]
    for f in np.linspace(0.2, 0.8, 25):
        p = QPointF(pk.x() + f * (pj.x() - pk.x()), pk.y() + f * (pj.y() - pk.y()))
        if nv.edge_at(p) == (ell, j, k):
            return p
    pytest.fail(f"no point picks the link w^{ell}_{j + 1}{k + 1}")


def _train_loss(w) -> float:
    ds = w.dataset
    return float(w.network.loss(ds.X_train, ds.Y_train))


def test_parse_value_refuses_what_is_not_a_finite_number():
    assert parse_value(" -1e-3 ") == -1e-3 and parse_value("1,5") == 1.5
    assert parse_value("−0.25") == -0.25  # the minus sign the views print
    for bad, words in (
        ("abc", "not a number"),
        ("", "Type a number"),
        ("nan", "finite"),
        ("inf", "finite"),
        ("-Infinity", "finite"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_value(bad)
    assert drag_value(0.0, 10) == pytest.approx(0.05) and drag_value(-2.0, -10) == -2.2


def test_typing_a_weight_in_the_diagram_popup_changes_it_and_undo_restores(qtbot, window):
    w = window
    w.set_current_tab("network")
    nv = w.network_view
    qtbot.waitUntil(lambda: bool(nv._pos), timeout=TIMEOUT)
    assert w.state == "idle" and nv.editable
    old = float(w.network.params["W2"][1, 0])
    loss_old = _train_loss(w)
    p = _edge_point(nv, 2, 1, 0)
    qtbot.mouseClick(
        nv.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, p.toPoint()
    )
    popup = w.param_popup
    assert popup.isVisible() and popup.ref == ParamRef("w", 2, 1, 0)
    assert "<sup>2</sup><sub>21</sub>" in popup.name_label.text()  # w^2_21, the seed's name
    assert float(popup.field.text()) == pytest.approx(old, rel=1e-5)
    popup.field.setText("0.5")
    qtbot.keyClick(popup.field, Qt.Key.Key_Return)
    assert w.network.params["W2"][1, 0] == 0.5
    assert nv.weights[2][1, 0] == 0.5  # the diagram redrew with the new weight
    before, after = w.param_editor.last_loss
    assert before == pytest.approx(loss_old, rel=1e-12)
    assert after == pytest.approx(_train_loss(w), rel=1e-12)  # the engine's loss, new weights
    assert (
        f"{after:.6g}" in popup.message.text() and f"{after:.6g}" in w.statusBar().currentMessage()
    )
    assert w.action_undo.text() == "&Undo set w^2_21"
    popup.hide()
    w.undo()
    assert w.network.params["W2"][1, 0] == old
    w.param_editor.flush()
    assert nv.weights[2][1, 0] == old and w.param_editor.last_loss[1] == pytest.approx(loss_old)
    w.redo()
    assert w.network.params["W2"][1, 0] == 0.5


def test_bad_text_gets_a_message_and_changes_nothing(qtbot, window):
    w = window
    w.set_current_tab("trace")
    insp = w.inspector
    qtbot.waitUntil(lambda: insp.walk is not None, timeout=TIMEOUT)
    insp.show_origin("b", 2, 3)
    assert insp.param_row.isVisible() and "<sup>2</sup><sub>4</sub>" in insp.param_name.text()
    old = w.network.get_params()
    n_commands = w.undo_stack.count()
    for bad in ("abc", "nan", "inf", ""):
        insp.param_edit.setText(bad)
        qtbot.keyClick(insp.param_edit, Qt.Key.Key_Return)
        assert insp.param_message.text(), bad
        assert "Traceback" not in insp.param_message.text()
    assert "not a number" in w.param_editor.set_text(ParamRef("b", 2, 3), "1.2.3")
    for k, v in old.items():
        np.testing.assert_array_equal(w.network.params[k], v)
    assert w.undo_stack.count() == n_commands
    insp.param_edit.setText("-0.75")
    qtbot.mouseClick(insp.param_set, Qt.MouseButton.LeftButton)
    assert w.network.params["b2"][3] == -0.75
    assert insp.walk.b[2][3] == -0.75  # the inspector's stages use the edited bias
    assert "Training loss" in insp.param_message.text()


def test_paused_edit_is_trained_from_and_noted_in_the_run(qtbot, window):
    w = window
    _small_run(w, epochs=50)
    w.step()
    qtbot.waitUntil(lambda: w.paused_step == 1, timeout=TIMEOUT)
    ref = ParamRef("w", 2, 1, 0)
    assert w.param_editor.refusal() == ""
    assert w.param_editor.set_value(ref, 7.5) == ""
    run = w.book.training_run
    assert run.notes[-1]["text"] == "w^2_21 set to 7.5 at step 1"
    assert run.params["W2"][1, 0] == 7.5  # the run's stored weights say so too
    assert w.action_undo.isEnabled()  # a hand edit can be undone while paused
    w.step()  # the pending edit reaches the child before the step
    qtbot.waitUntil(lambda: w.paused_step == 2, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: abs(w.network.params["W2"][1, 0] - 7.5) < 0.5, timeout=TIMEOUT)
    assert w.network.params["W2"][1, 0] != 7.5  # one step moved it from there
    # undo while paused: the child gets the old value back; other undo waits for the run
    w.param_editor.set_value(ref, -3.0)
    w.undo()
    assert w.network.params["W2"][1, 0] != -3.0
    back = float(w.network.params["W2"][1, 0])
    assert "undo" in run.notes[-1]["text"]
    w.step()
    qtbot.waitUntil(lambda: w.paused_step == 3, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: abs(w.network.params["W2"][1, 0] - back) < 0.5, timeout=TIMEOUT)
    w.training_panel.lr_spin.setValue(0.2)  # a settings edit…
    assert w.undo_stack.undoText() == "change α" and not w.action_undo.isEnabled()
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    # the project keeps the notes
    from bpstudio.session.session import _notes_from, _run_to_dict

    saved = _run_to_dict(run, {})["notes"]
    assert [n["text"] for n in _notes_from(saved)] == [n["text"] for n in run.notes]
    assert _notes_from([{"text": 3}, "junk", {"text": "ok", "evil": 1}]) == [{"text": "ok"}]


def test_running_refuses_an_edit(qtbot, window):
    w = window
    w.training_panel.until_stopped_check.setChecked(True)
    w.toggle_training()
    assert w.state == "running" and not w.network_view.editable
    why = w.param_editor.set_text(ParamRef("w", 2, 0, 0), "0.3")
    assert "pause" in why.lower()
    assert not w.inspector.param_edit.isEnabled()
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    assert w.network_view.editable and w.param_editor.refusal() == ""


def test_shift_drag_changes_a_bias_continuously_as_one_undo_command(qtbot, window):
    w = window
    w.set_current_tab("network")
    nv = w.network_view
    qtbot.waitUntil(lambda: bool(nv._pos), timeout=TIMEOUT)
    c = nv._pos[1][0]  # unit 1 of layer 2: b^2_1
    v0 = float(w.network.params["b2"][0])
    n = w.undo_stack.count()
    shift = Qt.KeyboardModifier.ShiftModifier
    qtbot.mousePress(nv.canvas, Qt.MouseButton.LeftButton, shift, c.toPoint())
    for dy in (5, 12, 20):
        qtbot.mouseMove(nv.canvas, c.toPoint() - QPointF(0, dy).toPoint())
    qtbot.mouseRelease(
        nv.canvas, Qt.MouseButton.LeftButton, shift, c.toPoint() - QPointF(0, 20).toPoint()
    )
    assert w.network.params["b2"][0] == pytest.approx(drag_value(v0, 20))
    assert w.undo_stack.count() == n + 1  # the whole drag is one command
    assert not w.param_popup.isVisible()
    w.undo()
    assert w.network.params["b2"][0] == v0


def test_update_stage_uses_the_paused_runs_optimiser_state(qtbot, window):
    w = window
    tp = w.training_panel
    tp.optimizer_combo.setCurrentIndex(tp.optimizer_combo.findData("adam"))
    _small_run(w, epochs=50)
    w.set_current_tab("trace")
    w.step()
    qtbot.waitUntil(lambda: w.paused_step == 1, timeout=TIMEOUT)
    w.runs.step()
    qtbot.waitUntil(lambda: w.paused_step == 2, timeout=TIMEOUT)
    insp = w.inspector
    qtbot.waitUntil(lambda: insp.opt_state is not None and insp.opt_state.t == 2, timeout=TIMEOUT)
    st = w.runs.optimizer_state
    u = insp.walk.update
    assert u.t == st.t + 1 == 3 and u.source == "the paused run"
    WT, _ = w.network.block_views(st.arrays["m"])
    np.testing.assert_allclose(u.state_before["m"]["W2"], WT[0].T)  # the live m, not zeros
    assert np.any(u.state_before["m"]["W2"])
    insp.set_stage(insp.n_stages - 1)
    assert "the paused run" in insp.note.text()
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    assert insp.opt_state is None  # a new run starts from a fresh optimiser


def test_shift_click_in_the_heatmap_opens_the_editor_and_a_plain_click_explains(qtbot, window):
    w = window
    w.set_current_tab("weights")
    wv = w.weights_view
    wv.set_layer("W2")
    scene = wv.image.mapToScene(QPointF(0.5, 1.5))  # column 0, row 1: w^2_21

    def click(mods):
        return type(
            "Click",
            (),
            {
                "scenePos": lambda self: scene,
                "screenPos": lambda self: QPointF(300, 300),
                "button": lambda self: Qt.MouseButton.LeftButton,
                "modifiers": lambda self: mods,
            },
        )()

    with qtbot.waitSignal(wv.editRequested, timeout=TIMEOUT) as sig:
        wv._on_mouse_clicked(click(Qt.KeyboardModifier.ShiftModifier))
    assert sig.args[:4] == ["w", 2, 1, 0]
    assert w.param_popup.isVisible() and w.param_popup.ref == ParamRef("w", 2, 1, 0)
    w.param_popup.hide()
    assert w.current_tab() == "weights"  # Shift+click edits; it does not leave the tab
    with qtbot.waitSignal(wv.weightClicked, timeout=TIMEOUT):
        wv._on_mouse_clicked(click(Qt.KeyboardModifier.NoModifier))
    assert w.current_tab() == "trace" and w.inspector.origin_param() == ("w", 2, 1, 0)


def test_short_window_scrolls_the_inspector_and_the_runs_dock_collapses(qtbot, window):
    w = window
    w.set_current_tab("trace")
    w.resize(1200, 660)  # about a 1366×768 laptop's room; the window's minimum is lower
    qtbot.waitUntil(lambda: w.height() <= 680, timeout=TIMEOUT)
    area = w.inspector_scroll
    assert area.isVisible() and area.widget() is w.inspector_split
    qtbot.waitUntil(lambda: area.viewport().height() < 600, timeout=TIMEOUT)
    assert w.inspector_split.height() >= 600  # scrolls, the content keeps its height
    assert area.verticalScrollBar().maximum() > 0
    assert w.stage_diagram.canvas.height() >= 150  # the small diagram is not a line
    title = w.runs_dock_title
    title.set_collapsed(False)
    qtbot.mouseClick(title.toggle, Qt.MouseButton.LeftButton)
    assert title.collapsed() and not w.runs_panel.isVisible()
    qtbot.waitUntil(lambda: w.runs_dock.height() < 40, timeout=TIMEOUT)
    qtbot.mouseClick(title.toggle, Qt.MouseButton.LeftButton)
    assert not title.collapsed() and w.runs_panel.isVisible()
