"""Network editor: layer edits change sizes and schematic, only valid output/loss pairs offered."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel

from bpstudio.engine import Network
from bpstudio.ui.network_editor import NetworkEditor, NetworkSpec


@pytest.fixture
def editor(qtbot) -> NetworkEditor:
    ed = NetworkEditor()
    qtbot.addWidget(ed)
    ed.set_io(2, 1, "regression")
    return ed


def _losses(ed: NetworkEditor) -> list[str]:
    return [ed.loss_combo.itemData(i) for i in range(ed.loss_combo.count())]


def test_defaults_and_io(editor: NetworkEditor) -> None:
    assert editor.objectName() == "networkEditor"
    assert editor.table.objectName() == "hiddenLayersEditor"
    spec = editor.spec()
    assert spec.hidden == [8, 8] and spec.activations == ["tanh", "tanh"]
    assert (spec.output, spec.loss) == ("linear", "mse")
    assert editor.sizes() == [2, 8, 8, 1]
    assert "2 → 8 → 8 → 1" in editor.schematic.text().replace("<b>", "").replace("</b>", "")
    assert "W2 (8, 2) · b2 (8,)" in editor.shapes.text()
    assert "W4 (1, 8) · b4 (1,)" in editor.shapes.text()
    assert "105 parameters" in editor.shapes.text()


def test_layer_edits_emit_and_update(qtbot, editor: NetworkEditor) -> None:
    with qtbot.waitSignal(editor.specChanged, timeout=1000):
        editor.add_layer(4, "relu")
    assert editor.sizes() == [2, 8, 8, 4, 1]
    assert "W4 (4, 8)" in editor.shapes.text()
    with qtbot.waitSignal(editor.specChanged, timeout=1000):
        editor.move_layer(2, -2)
    assert editor.sizes() == [2, 4, 8, 8, 1]
    assert editor.spec().activations == ["relu", "tanh", "tanh"]
    with qtbot.waitSignal(editor.specChanged, timeout=1000):
        editor.set_layer(1, 16, "sigmoid")
    assert editor.sizes() == [2, 4, 16, 8, 1]
    assert editor.table.cellWidget(1, 0).value() == 16
    assert editor.table.cellWidget(1, 1).currentData() == "sigmoid"
    with qtbot.waitSignal(editor.specChanged, timeout=1000):
        editor.remove_layer(0)
    assert editor.sizes() == [2, 16, 8, 1]
    assert editor.schematic_text() == "2 → 16 → 8 → 1"
    with pytest.raises(ValueError):
        editor.set_layer(0, activation="nope")


def test_row_widgets_and_buttons(qtbot, editor: NetworkEditor) -> None:
    with qtbot.waitSignal(editor.specChanged, timeout=1000):
        editor.table.cellWidget(0, 0).setValue(5)
    assert editor.sizes() == [2, 5, 8, 1]
    with qtbot.waitSignal(editor.specChanged, timeout=1000):
        editor.table.cellWidget(1, 1).setCurrentIndex(
            editor.table.cellWidget(1, 1).findData("relu")
        )
    assert editor.spec().activations == ["tanh", "relu"]

    editor.table.selectRow(1)
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert editor.sizes() == [2, 8, 5, 1]
    assert editor.spec().activations == ["relu", "tanh"]
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)  # after the selected row
    assert len(editor.spec().hidden) == 3
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.sizes() == [2, 1]  # no hidden layer: a plain linear model is allowed
    assert not editor.remove_button.isEnabled()


def test_only_valid_output_loss_pairs(editor: NetworkEditor) -> None:
    assert _losses(editor) == ["mse"]  # linear output: no cross-entropy, and the tooltip says why
    assert "cross_entropy needs a sigmoid or softmax output" in editor.loss_combo.toolTip()
    editor.output_combo.setCurrentIndex(editor.output_combo.findData("sigmoid"))
    assert set(_losses(editor)) == {"mse", "cross_entropy"}
    model = editor.output_combo.model()
    assert isinstance(model, QStandardItemModel)
    softmax = model.item(editor.output_combo.findData("softmax"))
    assert not softmax.isEnabled()  # a single output unit cannot be a softmax

    editor.set_io(2, 3, "classification")
    assert (editor.spec().output, editor.spec().loss) in {
        ("softmax", "cross_entropy"),
        ("sigmoid", "mse"),
        ("sigmoid", "cross_entropy"),
    }
    assert softmax.isEnabled()
    editor.set_io(2, 1, "regression")
    assert (editor.spec().output, editor.spec().loss) == ("linear", "mse")
    editor.set_io(2, 3, "classification")
    assert (editor.spec().output, editor.spec().loss) == ("softmax", "cross_entropy")


def test_spec_round_trip_and_build(editor: NetworkEditor) -> None:
    spec = NetworkSpec([6, 5, 4], ["relu", "elu", "tanh"], "sigmoid", "cross_entropy", "he", 7)
    editor.set_io(3, 2, "classification")
    editor.set_spec(spec)
    assert editor.spec() == spec
    assert NetworkSpec.from_dict(spec.to_dict()) == spec
    # QSettings hands back strings and a lone list entry as a scalar.
    loose = {"hidden": "6", "activations": "relu", "output": "sigmoid", "loss": "mse", "seed": "3"}
    assert NetworkSpec.from_dict(loose).hidden == [6]
    net = editor.build_network()
    assert isinstance(net, Network)
    assert net.sizes == [3, 6, 5, 4, 2]
    assert net.params["W2"].shape == (6, 3)
    assert net.forward(np.zeros((4, 3))).shape == (4, 2)


def test_locked_blocks_structural_edits(editor: NetworkEditor) -> None:
    editor.set_locked(True)
    for w in (editor.table, editor.output_combo, editor.loss_combo, editor.seed_spin):
        assert not w.isEnabled()
    assert not editor.add_button.isEnabled() and not editor.remove_button.isEnabled()
    editor.set_locked(False)
    assert editor.table.isEnabled() and editor.add_button.isEnabled()
