"""Import dialog choices from issue 7: a sensible default target, exclusive Target, an editable
Kind column, an empty target refused, per-file choices remembered for Recent."""

from __future__ import annotations

from pathlib import Path

from bpstudio.data import read_csv
from bpstudio.ui import dialogs
from bpstudio.ui.dataset_panel import DatasetPanel
from bpstudio.ui.import_dialog import ImportDialog

TIMEOUT = 30_000


def _penguins(tmp_path: Path, empty_last: bool = False) -> Path:
    path = tmp_path / "penguins.csv"
    head = "bill,flipper,island,species,year" + (",note" if empty_last else "")
    lines = [head]
    for i in range(60):
        row = f"{30 + i % 13},{180 + i % 17},{'ABC'[i % 3]},{('Adelie', 'Gentoo')[i % 2]},"
        row += str(2007 + i % 3) + ("," if empty_last else "")
        lines.append(row)
    path.write_text("\n".join(lines) + "\n")
    return path


def _dialog(qtbot, path: Path, **kw) -> ImportDialog:
    d = ImportDialog(read_csv(path), **kw)
    qtbot.addWidget(d)
    return d


def test_default_target_is_the_label_not_the_last_integer(qtbot, tmp_path):
    d = _dialog(qtbot, _penguins(tmp_path))
    assert d.targets() == ["species"]  # not "year" (last, an integer)
    assert d.prepared.task == "classification" and d.prepared.classes == ["Adelie", "Gentoo"]


def test_target_is_exclusive_unless_several_are_wanted(qtbot, tmp_path):
    d = _dialog(qtbot, _penguins(tmp_path))
    combo = d.columns_table.cellWidget(3, 3)  # species
    island = d.columns_table.cellWidget(2, 3)
    island.setCurrentIndex(island.findData("Target"))  # as a user picks another target
    assert d.targets() == ["island"] and d.role("species") == "Feature"
    assert d.ok_button().isEnabled()  # no "several targets" error
    d.multi_target_check.setChecked(True)
    combo.setCurrentIndex(combo.findData("Target"))
    assert d.targets() == ["island", "species"]
    d.multi_target_check.setChecked(False)  # back to one: the last one stays
    assert len(d.targets()) == 1


def test_kind_column_is_editable_and_follows_use_as(qtbot, tmp_path):
    d = _dialog(qtbot, _penguins(tmp_path))
    kind = d.columns_table.cellWidget(4, 1)  # year: numeric
    assert [kind.itemText(i) for i in range(kind.count())] == ["numeric", "categorical", "drop"]
    d.set_kind("year", "categorical")
    assert d.role("year") == "Categorical" and d.options().categorical == ["year"]
    assert sum("2008" in n for n in d.prepared.feature_names) == 1  # one-hot: an input per year
    d.set_kind("bill", "drop")
    assert d.role("bill") == "Drop" and "bill" in d.options().drop_columns
    d.set_role("bill", "Feature")  # "Use as" moves the Kind back
    assert d.kind_choice("bill") == "numeric"
    d.set_kind("year", "numeric")
    assert d.role("year") == "Feature" and d.options().categorical == []


def test_an_empty_target_is_refused_loudly(qtbot, tmp_path):
    d = _dialog(qtbot, _penguins(tmp_path, empty_last=True))
    assert d.targets() == ["species"]
    text = d.summary_label.text()
    assert "The last column 'note' is empty" in text  # the default passed over it: said so
    d.set_targets(["note"])
    assert not d.ok_button().isEnabled()
    assert "'note' is empty" in d.summary_label.text() and "Choose another target" in (
        d.summary_label.text()
    )


def test_reopening_a_file_remembers_its_choices(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(dialogs, "show_error", lambda *a: None)
    path = _penguins(tmp_path)
    panel = DatasetPanel()
    qtbot.addWidget(panel)
    panel.open_csv(str(path))
    qtbot.waitUntil(lambda: panel.import_dialog is not None, timeout=TIMEOUT)
    d = panel.import_dialog
    d.set_targets(["island"])
    d.set_kind("year", "categorical")
    d.scaling_combo.setCurrentIndex(d.scaling_combo.findData("minmax"))
    with qtbot.waitSignal(panel.datasetChanged, timeout=TIMEOUT):
        d.accept()
    assert str(path) in panel.recent_files()[0]
    panel.open_csv(str(path))  # as the Recent menu does
    qtbot.waitUntil(lambda: panel.import_dialog is not None, timeout=TIMEOUT)
    again = panel.import_dialog
    assert again is not d
    assert again.targets() == ["island"] and again.role("year") == "Categorical"
    assert again.options().scaling == "minmax"
    again.reject()
    other = DatasetPanel()  # a new session reads them from the settings
    qtbot.addWidget(other)
    assert other.remembered_options(str(path)).target == ["island"]
