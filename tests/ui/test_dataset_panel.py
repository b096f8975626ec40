"""Dataset panel: built-ins, CSV import through patched dialogs, errors, cancel, recent files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from bpstudio.data import DataError
from bpstudio.ui import dataset_panel as dp
from bpstudio.ui import dialogs
from bpstudio.ui.dataset_panel import MAX_RECENT, DatasetPanel

FILES = Path(__file__).resolve().parents[1] / "data" / "files"


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch) -> DatasetPanel:
    monkeypatch.setattr(dialogs, "remember_dir", lambda path: None)
    monkeypatch.setattr(dialogs, "_last_dir", lambda: str(tmp_path))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    p = DatasetPanel(settings=settings)
    qtbot.addWidget(p)
    yield p
    p.shutdown()
    assert not p.is_loading()


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    """Error dialogs shown (QMessageBox.critical patched where dialogs.py calls it)."""
    shown: list[str] = []
    monkeypatch.setattr(
        dialogs.QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text)
    )
    return shown


def _csv(tmp_path: Path, name: str = "people.csv", rows: int = 60) -> str:
    path = tmp_path / name
    lines = ["age;height;colour;label"]
    for i in range(rows):
        lines.append(
            f"{20 + i % 30};{150 + i % 40};{'red' if i % 3 else 'blue'};{'yes' if i % 2 else 'no'}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _patch_open(monkeypatch, path: str | None) -> None:
    monkeypatch.setattr(dialogs.QFileDialog, "getOpenFileName", lambda *a, **k: (path or "", ""))


def test_starts_on_a_builtin(panel: DatasetPanel) -> None:
    ds = panel.current()
    assert panel.objectName() == "datasetPanel"
    assert panel.combo.objectName() == "datasetCombo"
    assert panel.current_source() == "builtin:circles"
    assert ds.n_inputs == 2 and ds.n_outputs == 2 and ds.task == "classification"
    assert len(ds.X_val) == pytest.approx(0.2 * len(ds.X), abs=2)
    assert "circles" in panel.summary.text() and "2 classes" in panel.summary.text()


def test_switching_builtins_emits(qtbot, panel: DatasetPanel) -> None:
    with qtbot.waitSignal(panel.datasetChanged, timeout=2000) as sig:
        assert panel.select_builtin("sine", n_samples=120)
    ds = sig.args[0]
    assert ds is panel.current()
    assert ds.n_inputs == 1 and ds.task == "regression" and len(ds.X) == 120
    assert panel.samples_spin.value() == 120

    with qtbot.waitSignal(panel.datasetChanged, timeout=2000) as sig:
        panel.select_builtin("blobs", k=4)
    assert sig.args[0].n_outputs == 4
    assert panel.extra_spins["k"].value() == 4

    with qtbot.waitSignal(panel.datasetChanged, timeout=2000) as sig:
        panel.combo.setCurrentIndex(panel.combo.findData("builtin:xor"))
    assert sig.args[0].name == "xor" and panel.current_source() == "builtin:xor"

    with qtbot.waitSignal(panel.datasetChanged, timeout=2000) as sig:
        panel.samples_spin.setValue(200)  # spin boxes regenerate
    assert len(sig.args[0].X) == 200


def test_open_csv_and_accept_import(qtbot, panel: DatasetPanel, monkeypatch, tmp_path) -> None:
    path = _csv(tmp_path)
    _patch_open(monkeypatch, path)
    with qtbot.waitSignal(panel.recentFilesChanged, timeout=5000):
        assert panel.open_csv()
        qtbot.waitUntil(lambda: panel.import_dialog is not None, timeout=5000)
        dialog = panel.import_dialog
        assert dialog.objectName() == "importDialog" and dialog.isVisible()
        assert dialog.targets() == ["label"]
        dialog.val_spin.setValue(25)
        with qtbot.waitSignal(panel.datasetChanged, timeout=5000) as sig:
            dialog.accept()
    ds = sig.args[0]
    assert ds.task == "classification" and ds.classes == ["no", "yes"]
    assert ds.n_inputs >= 3 and abs(len(ds.X_val) - 15) <= 2  # stratified 25 %
    assert panel.current_source() == path and panel.import_dialog is None
    assert panel.combo.currentData() == path
    assert panel.recent_files()[0] == str(Path(path).resolve())
    assert not panel.progress_row.isVisible()

    # Back to a built-in and back to the file: the file's table is kept.
    panel.select_builtin("moons")
    with qtbot.waitSignal(panel.datasetChanged, timeout=2000) as sig:
        panel.combo.setCurrentIndex(panel.combo.findData(path))
    assert sig.args[0].classes == ["no", "yes"]


def test_broken_csv_shows_error_and_keeps_dataset(
    qtbot, panel: DatasetPanel, monkeypatch, errors
) -> None:
    before = panel.current()
    _patch_open(monkeypatch, str(FILES / "binary_garbage.bin"))
    fired: list[object] = []
    panel.datasetChanged.connect(fired.append)
    assert panel.open_csv()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "binary_garbage.bin" in errors[0]
    assert panel.current() is before and not fired and panel.import_dialog is None
    assert panel.recent_files() == []


def test_prepare_error_after_import_keeps_dataset(
    qtbot, panel: DatasetPanel, monkeypatch, tmp_path, errors
) -> None:
    before = panel.current()

    def fail(table, options=None, **_):
        raise DataError("people.csv: column 'label' has a single class; choose another target")

    assert panel.open_csv(_csv(tmp_path))
    qtbot.waitUntil(lambda: panel.import_dialog is not None, timeout=5000)
    monkeypatch.setattr(dp, "prepare", fail)
    panel.import_dialog.accept()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)  # prepare runs in a thread
    assert "single class" in errors[0]
    assert panel.current() is before and not panel.is_loading()


def test_cancel_file_dialog_and_import_dialog(
    qtbot, panel: DatasetPanel, monkeypatch, tmp_path
) -> None:
    before = panel.current()
    _patch_open(monkeypatch, None)
    assert not panel.open_csv()  # file dialog cancelled: nothing starts
    assert panel.open_csv(_csv(tmp_path))
    qtbot.waitUntil(lambda: panel.import_dialog is not None, timeout=5000)
    panel.import_dialog.reject()
    assert panel.import_dialog is None and panel.current() is before


def test_cancel_background_read(qtbot, panel: DatasetPanel, monkeypatch, tmp_path, errors) -> None:
    started = threading.Event()

    def slow_read(path, *, progress=None, cancel=None):
        started.set()
        n = 0
        while not cancel():  # stands in for a huge file read chunk by chunk
            n += 1
            progress(min(n / 1e6, 0.99), n)
            threading.Event().wait(0.001)
        raise DataError(f"{path}: loading cancelled")

    monkeypatch.setattr(dp, "read_csv", slow_read)
    before = panel.current()
    with qtbot.waitSignal(panel.loadingChanged, timeout=1000):
        assert panel.open_csv(_csv(tmp_path))
    assert panel.is_loading() and not panel.open_button.isEnabled()
    qtbot.waitUntil(started.is_set, timeout=5000)
    qtbot.waitUntil(
        lambda: panel.progress.value() >= 0 and not panel.progress_row.isHidden(), timeout=2000
    )
    with qtbot.waitSignal(panel.loadingChanged, timeout=5000):
        panel.cancel_button.click()
    assert not panel.is_loading() and panel.current() is before
    assert not errors and "cancelled" in panel.status.text()


def test_recent_files_capped_and_deduplicated(panel: DatasetPanel, tmp_path) -> None:
    paths = [str(tmp_path / f"f{i}.csv") for i in range(MAX_RECENT + 3)]
    for p in paths:
        panel._add_recent(p)
    panel._add_recent(paths[0])
    recent = panel.recent_files()
    assert len(recent) == MAX_RECENT and recent[0] == paths[0] and len(set(recent)) == MAX_RECENT


def test_accepts_path_and_locking(panel: DatasetPanel, tmp_path) -> None:
    good = _csv(tmp_path)
    assert panel.accepts_path(good)
    assert not panel.accepts_path(str(tmp_path / "missing.csv"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert not panel.accepts_path(str(tmp_path / "image.png"))
    panel.set_locked(True)
    assert not panel.combo.isEnabled() and not panel.open_button.isEnabled()
    assert not panel.open_csv(good)
    panel.set_locked(False)
    assert panel.combo.isEnabled()


def test_dialogs_module_wraps_static_calls(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(dialogs, "remember_dir", lambda path: None)
    monkeypatch.setattr(dialogs, "_last_dir", lambda: str(tmp_path))
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "model"), "JSON (*.json)")
    )
    path = dialogs.get_save_model_path(None, "model", {".npz": "NumPy", ".json": "JSON"})
    assert path == str(tmp_path / "model.json")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert dialogs.ask_yes_no(None, "Quit", "Stop training?")
