"""Import dialog: preview with kinds and missing counts, roles, options, live summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpstudio.data import read_csv
from bpstudio.ui import import_dialog as imp
from bpstudio.ui.import_dialog import PREVIEW_ROWS, ImportDialog


def _table(tmp_path: Path, rows: int = 80):
    path = tmp_path / "plants.csv"
    lines = ["width;length;soil;species;size"]
    for i in range(rows):
        width = "" if i == 3 else f"{1 + i % 7},{i % 10}"  # decimal comma; one missing value
        lines.append(f"{width};{2 + i % 5};{'clay' if i % 2 else 'sand'};{'ab'[i % 2]};{i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_csv(path)


@pytest.fixture
def dialog(qtbot, tmp_path) -> ImportDialog:
    d = ImportDialog(_table(tmp_path))
    qtbot.addWidget(d)
    return d


def test_preview_headers_and_notes(dialog: ImportDialog) -> None:
    assert dialog.objectName() == "importDialog"
    assert dialog.preview.rowCount() == min(PREVIEW_ROWS, dialog.table.n_rows)
    assert dialog.preview.columnCount() == 5
    header = dialog.preview.horizontalHeaderItem(0).text()
    assert header.startswith("width") and "numeric" in header and "1 missing" in header
    assert dialog.preview.item(3, 0).text() == "—"  # the missing cell
    assert "semicolon" in dialog.source_label.text()
    assert "decimal comma" in dialog.notes_label.text()


def test_default_options_and_summary(dialog: ImportDialog) -> None:
    opts = dialog.options()
    assert opts.target == ["size"] and opts.task == "auto" and opts.val_fraction == 0.2
    assert dialog.prepared is not None and dialog.ok_button().isEnabled()
    assert "regression" in dialog.summary_label.text()


def test_roles_task_and_split_change_the_options(dialog: ImportDialog) -> None:
    dialog.set_targets(["species"])
    dialog.set_role("size", "Drop")
    dialog.missing_combo.setCurrentIndex(dialog.missing_combo.findData("impute"))
    dialog.scaling_combo.setCurrentIndex(dialog.scaling_combo.findData("minmax"))
    dialog.val_spin.setValue(30)
    dialog.test_spin.setValue(10)
    dialog.seed_spin.setValue(5)
    opts = dialog.options()
    assert opts.target == ["species"] and opts.drop_columns == ["size"]
    assert (opts.missing, opts.scaling, opts.seed) == ("impute", "minmax", 5)
    assert (opts.val_fraction, opts.test_fraction) == (0.3, 0.1)
    ds = dialog.prepared
    assert ds.task == "classification" and ds.classes == ["a", "b"]
    assert "2 classes" in dialog.summary_label.text()
    assert "size" not in ds.feature_names and ds.n_rows == 80  # imputed, nothing dropped

    dialog.set_targets(["species", "soil"])  # several targets are allowed (in column order)
    assert dialog.options().target == ["soil", "species"]


def test_no_target_or_failing_options_disable_ok(dialog: ImportDialog) -> None:
    dialog.set_targets([])
    assert not dialog.ok_button().isEnabled()
    assert "target" in dialog.summary_label.text()
    dialog.set_targets(["species"])
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("regression"))
    assert dialog.error is not None and not dialog.ok_button().isEnabled()  # text as a number
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("auto"))
    assert dialog.ok_button().isEnabled()


def test_large_tables_skip_the_live_prepare(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(imp, "LIVE_PREPARE_ROWS", 10)
    d = ImportDialog(_table(tmp_path, rows=40))
    qtbot.addWidget(d)
    assert d.prepared is None and d.ok_button().isEnabled()
    assert "computed on import" in d.summary_label.text()
