"""The window's ways out: File → Export PyTorch code…, the export dialog naming the package a
missing format needs, and the application icon in the About box. Dialogs are patched."""

from __future__ import annotations

import importlib.util

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from bpstudio.ui import dialogs
from bpstudio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path, errors):
    w = MainWindow(settings=QSettings(str(tmp_path / "bpstudio.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _save_as(monkeypatch, path, asked: list | None = None) -> None:
    def fake(parent, title, start, filters):
        if asked is not None:
            asked.append((start, filters))
        return str(path), ""

    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName", staticmethod(fake))


@pytest.mark.skipif(importlib.util.find_spec("safetensors") is None, reason="needs safetensors")
def test_export_pytorch_code_from_the_file_menu(window, tmp_path, monkeypatch, errors) -> None:
    action = window.findChild(QAction, "actionExportPyTorch")
    (file_menu,) = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "&File"]
    assert action in file_menu.actions()
    asked: list = []
    _save_as(monkeypatch, tmp_path / "net_model", asked)  # no suffix typed: .py is added
    action.trigger()
    assert not errors
    start, filters = asked[0]
    assert start.endswith("_model.py") and "(*.py)" in filters
    code = tmp_path / "net_model.py"
    compile(code.read_text(encoding="utf-8"), str(code), "exec")
    assert (tmp_path / "net_model.safetensors").is_file()
    assert "net_model.safetensors" in window.statusBar().currentMessage()


def test_export_dialog_names_the_package_of_a_missing_format(
    window, tmp_path, monkeypatch, errors
) -> None:
    import bpstudio.io as io_pkg
    from bpstudio.io import model_file

    hint = "ONNX: needs pip install 'bpstudio[export]' (*.onnx)"
    monkeypatch.setattr(io_pkg, "EXPORT_FORMATS", {".npz": "NumPy archive (*.npz)"})
    monkeypatch.setattr(io_pkg, "MISSING_EXPORT_FORMATS", {".onnx": hint})
    monkeypatch.setattr(model_file, "_onnx_available", lambda: False)
    asked: list = []
    _save_as(monkeypatch, tmp_path / "model.onnx", asked)
    window.findChild(QAction, "actionExport").trigger()
    assert hint in asked[0][1].split(";;")
    assert not (tmp_path / "model.onnx").exists()
    ((title, message),) = errors
    assert title == "Export failed" and "pip install 'bpstudio[export]'" in message


def test_about_box_shows_the_application_icon(window, qapp, monkeypatch) -> None:
    from bpstudio.ui.app import app_icon

    seen = []
    monkeypatch.setattr(
        dialogs.QMessageBox, "about", staticmethod(lambda parent, t, m: seen.append((parent, t)))
    )
    old = qapp.windowIcon()
    qapp.setWindowIcon(app_icon())  # what run_app does
    try:
        window.show_about()
    finally:
        qapp.setWindowIcon(old)
    ((parent, title),) = seen
    assert title == "About Backprop Studio"
    assert parent is window  # QMessageBox.about takes the parent window's icon
