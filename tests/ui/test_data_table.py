"""The dataset panel's rows (bpstudio.ui.data_table): each row says its split and index after
shuffling and splitting, and selecting one makes it the inspector's sample."""

# ruff: noqa: F811 - the fixtures of test_main_window are imported, then requested by name

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.ui.test_main_window import TIMEOUT, window  # noqa: F401 - fixtures


def test_selecting_a_table_row_makes_it_the_inspectors_sample(qtbot, window):
    w = window
    panel = w.dataset_panel
    ds = w.dataset
    qtbot.mouseClick(panel.table_toggle, Qt.MouseButton.LeftButton)
    assert panel.table.isVisible()
    model = panel.table.model_
    assert model.rowCount() == ds.n_rows
    w.set_current_tab("trace")
    qtbot.waitUntil(lambda: w.inspector.walk is not None, timeout=TIMEOUT)
    for split in ("train", "val"):
        rows = ds.source_rows[split]
        i = len(rows) // 2
        r = int(rows[i])  # the table row that became sample i of this split
        assert model.sample_of(r) == (split, i)
        assert model.index(r, 1).data() == {"train": "training", "val": "validation"}[split]
        assert model.index(r, 2).data() == str(i + 1)
        with qtbot.waitSignal(panel.samplePicked, timeout=TIMEOUT) as sig:
            panel.table.selectRow(r)
        assert sig.args == [split, i]
        insp = w.inspector
        assert insp.split() == split and insp.sample_index == i
        X = ds.X_train if split == "train" else ds.X_val
        np.testing.assert_array_equal(insp.sample()[0], X[i])
        np.testing.assert_array_equal(insp.walk.x, X[i])
        named = f"{'training' if split == 'train' else 'validation'} sample {i + 1}"
        assert named in panel.table_note.text()
        assert w.network_view.sample_split == split
        w.network_view.set_fill_mode("activation")
        assert named in w.network_view.legend.text()  # the diagram's legend names the split
    # the diagram follows the inspected training sample
    r = int(ds.source_rows["train"][3])
    panel.table.selectRow(r)
    assert w.network_view.sample_index == 3
    np.testing.assert_array_equal(w.network_view._sample[0], ds.X_train[3])
