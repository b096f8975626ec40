"""Undo / redo in the window: edits of the network, the training settings and the dataset."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from bpstudio.ui import MainWindow, dialogs


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(dialogs, "show_error", lambda *a: None)
    monkeypatch.setattr(dialogs, "show_info", lambda *a: None)
    settings = QSettings(str(tmp_path / "bpstudio.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, restore=False)
    qtbot.addWidget(w)
    yield w
    w.close()


def test_undo_redo_add_layer_names_the_edit(window):
    w = window
    before = list(w.network.sizes)
    assert not w.action_undo.isEnabled()
    w.network_editor.add_layer(5, "relu")
    assert len(w.network.sizes) == len(before) + 1
    assert w.action_undo.isEnabled()
    assert w.action_undo.text().replace("&", "") == "Undo add layer"
    w.action_undo.trigger()
    assert list(w.network.sizes) == before
    assert w.action_redo.text().replace("&", "") == "Redo add layer"
    w.action_redo.trigger()
    assert len(w.network.sizes) == len(before) + 1 and 5 in w.network.sizes


def test_undo_change_alpha_merges_typing_into_one_edit(window):
    w = window
    lr0 = w.training_panel.learning_rate()
    for v in (0.2, 0.25, 0.3):
        w.training_panel.lr_spin.setValue(v)
    assert w.action_undo.text().replace("&", "") == "Undo change α"
    w.undo()
    assert w.training_panel.learning_rate() == pytest.approx(lr0)
    assert not w.undo_stack.canUndo()  # the three values were one edit
    w.redo()
    assert w.training_panel.learning_rate() == pytest.approx(0.3)


def test_undo_dataset_choice(window):
    w = window
    first = w.dataset_panel.current_source()
    other = "builtin:moons" if first != "builtin:moons" else "builtin:circles"
    assert w.dataset_panel.select_builtin(other)
    assert w.dataset_panel.current_source() == other
    assert w.action_undo.text().replace("&", "") == "Undo change dataset"
    w.undo()
    assert w.dataset_panel.current_source() == first
    assert w.network.sizes[0] == w.dataset.n_inputs
    w.redo()
    assert w.dataset_panel.current_source() == other


def test_ctrl_z_in_a_field_with_nothing_typed_undoes_the_edit(qtbot, window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QSpinBox

    w = window
    w.show()
    qtbot.waitExposed(w)
    before = list(w.network.sizes)
    w.network_editor.add_layer(5, "relu")
    spin = w.network_editor.findChildren(QSpinBox)[-1]  # a units field of the table
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=5000)
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert list(w.network.sizes) == before
    # keys go where the focus is now (the undo may have moved it to another field)
    focused = QApplication.focusWidget() or w
    qtbot.keyClick(
        focused,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert len(w.network.sizes) == len(before) + 1
