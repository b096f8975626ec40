"""Import dialog: preview with kinds and missing counts, roles, options, live summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpstudio.data import read_csv
from bpstudio.resources import sample_data_dir
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
    # "species" (two text values, named like a label), not the integer "size" after it
    assert opts.target == ["species"] and opts.task == "auto" and opts.val_fraction == 0.2
    assert dialog.prepared is not None and dialog.ok_button().isEnabled()
    assert "classification" in dialog.summary_label.text()


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

    dialog.multi_target_check.setChecked(True)  # several targets, on purpose (column order)
    dialog.set_targets(["species", "soil"])
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


def _mixed_table(tmp_path: Path, rows: int = 60, n_text: int = 1):
    """An ID column, ``n_text`` free-text columns, a constant one, and usable features."""
    path = tmp_path / "mixed.csv"
    texts = [f"note{k}" for k in range(n_text)]
    lines = [",".join(["id", *texts, "const", "x", "colour", "y"])]
    for i in range(rows):
        notes = [f"remark {k} number {i}" for k in range(n_text)]
        lines.append(",".join([f"A{i:04d}", *notes, "7", str(i % 9), "rg"[i % 2], "ab"[i % 3 % 2]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_csv(path)


def _row(d: ImportDialog, name: str) -> int:
    return [c.name for c in d.table.columns].index(name)


def test_columns_prepare_drops_say_so_and_can_be_kept(qtbot, tmp_path) -> None:
    d = ImportDialog(_mixed_table(tmp_path))
    qtbot.addWidget(d)
    assert d.prepared is not None and "id" not in d.prepared.preprocessor.input_columns
    assert set(d.auto_dropped()) == {"id", "note0", "const"}
    kind = d.columns_table.item(_row(d, "id"), 1)
    combo = d.columns_table.cellWidget(_row(d, "id"), 3)
    assert kind.text() == "text — dropped"
    assert "60 different text values" in kind.toolTip()
    assert "Feature (as categories)" in kind.toolTip()
    assert combo.currentText() == "Drop (auto: ID / free text)"
    const = d.columns_table.cellWidget(_row(d, "const"), 3)
    assert const.currentText() == "Drop (auto: constant)"
    assert const.findData("Categorical") < 0  # nothing to keep in a constant
    assert d.columns_table.item(_row(d, "x"), 1).text() == "numeric"
    assert d.columns_table.cellWidget(_row(d, "x"), 3).currentText() == "Feature"
    assert d.preview.horizontalHeaderItem(_row(d, "id")).font().strikeOut()
    assert d.options().drop_columns == [] and d.options().categorical == []

    # The user keeps the ID column: it becomes a categorical feature (DatasetOptions.categorical).
    combo.setCurrentIndex(combo.findData("Categorical"))
    assert d.options().categorical == ["id"]
    assert "id" in d.prepared.preprocessor.input_columns and d.ok_button().isEnabled()
    assert kind.text() == "text" and "one-hot" in kind.toolTip()
    assert set(d.auto_dropped()) == {"note0", "const"}
    assert not d.preview.horizontalHeaderItem(_row(d, "id")).font().strikeOut()

    # An explicit Drop is the user's, not prepare's.
    d.set_role("note0", "Drop")
    assert d.dropped() == ["note0"] and "note0" not in d.auto_dropped()
    assert d.columns_table.item(_row(d, "note0"), 1).text() == "text"


def test_auto_dropped_without_the_live_prepare(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(imp, "LIVE_PREPARE_ROWS", 10)
    d = ImportDialog(_mixed_table(tmp_path))
    qtbot.addWidget(d)
    assert d.prepared is None
    assert set(d.auto_dropped()) == {"id", "note0", "const"}  # prepare's rule, from the kinds
    assert "2 feature column(s)" in d.summary_label.text()  # x and colour
    d.set_role("id", "Categorical")
    assert d.options().categorical == ["id"] and "3 feature column(s)" in d.summary_label.text()


def test_options_categorical_round_trips(qtbot, tmp_path) -> None:
    d = ImportDialog(_mixed_table(tmp_path), options=imp.DatasetOptions(categorical=["id", "x"]))
    qtbot.addWidget(d)
    assert d.role("id") == "Categorical" and d.role("x") == "Categorical"
    assert d.options().categorical == ["id", "x"]


def test_preparation_notes_are_all_readable(qtbot, tmp_path) -> None:
    d = ImportDialog(_mixed_table(tmp_path, n_text=8))  # ten "dropped column" notes
    qtbot.addWidget(d)
    d.resize(980, 680)
    d.show()
    qtbot.waitExposed(d)
    notes = [n for n in d.prepared.notes if n not in d.table.notes]
    assert len(notes) >= 10
    text = d.summary_label.text()
    for n in notes:  # every note, without the file name the dialog already shows
        assert imp._esc(imp.in_dialog_words(n.split(": ", 1)[1])) in text
    label, scroll = d.summary_label, d.summary_scroll
    assert label.height() >= label.heightForWidth(label.width())  # nothing cut off …
    assert scroll.verticalScrollBar().maximum() > 0  # … the rest is a scroll away
    assert label.width() <= scroll.viewport().width()  # word-wrapped, no sideways scrolling


def test_sample_file_notes_fit(qtbot) -> None:
    path = sample_data_dir() / "fruit_messy.csv"
    d = ImportDialog(read_csv(path))
    qtbot.addWidget(d)
    d.resize(980, 680)
    d.show()
    qtbot.waitExposed(d)
    # in the dialog's own words, not the API's missing='impute'
    assert "choose “impute (mean / most frequent)” under Missing values to keep them" in (
        d.summary_label.text()
    )
    assert "missing=" not in d.summary_label.text()
    label = d.summary_label
    assert label.height() >= label.heightForWidth(label.width())
    assert d.columns_table.cellWidget(_row(d, "remark"), 3).currentText().startswith("Drop (auto")
