"""The Runs table's Parent column: "run 1 @ step N" for a branch, a link to its parent."""

from __future__ import annotations

from PySide6.QtCore import Qt

from bpstudio.ui import MainWindow
from bpstudio.ui.runs_panel import PARENT_COLUMN

TIMEOUT = 30_000


def test_the_parent_column_names_the_parent_and_double_click_goes_there(qtbot, settings, errors):
    w = MainWindow(settings=settings, dataset="builtin:xor", restore=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        tp = w.training_panel
        tp.speed_slider.setValue(tp.speed_slider.maximum())  # full speed
        tp.until_stopped_check.setChecked(False)
        tp.epochs_spin.setValue(5)
        with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
            w.toggle_training()
        parent = w.session.runs[0]
        ckpt = parent.checkpoints.all()[0]
        branch = w.session.branch(parent.id, ckpt.step)
        panel = w.runs_panel
        model = panel.model
        assert model.headerData(PARENT_COLUMN, Qt.Orientation.Horizontal, 0) == "Parent"
        assert model.index(0, PARENT_COLUMN).data() == "–"
        cell = model.index(1, PARENT_COLUMN)
        assert cell.data() == f"run 1 @ step {ckpt.step}"
        assert cell.data(Qt.ItemDataRole.FontRole).underline()
        panel.select_run(branch)
        assert panel.selected_runs() == [branch]
        table = panel.table
        table.scrollTo(cell)
        pos = table.visualRect(cell).center()
        assert table.viewport().rect().contains(pos)
        with qtbot.waitSignal(panel.selectionChanged, timeout=5000) as sig:
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
            qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert sig.args[0] == [parent] and panel.selected_runs() == [parent]
        assert w.session.current_run is parent  # every view follows, as for a click on its row
        assert panel.go_to_parent(parent) is None  # not a branch: nowhere to go
    finally:
        w.close()
