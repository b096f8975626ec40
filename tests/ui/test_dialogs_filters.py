"""The export dialog's file-type filters name each pattern once."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from bpstudio.ui import dialogs


def test_export_filters_do_not_repeat_the_pattern(monkeypatch, tmp_path):
    seen = {}

    def fake(parent, title, start, filters):
        seen["filters"] = filters
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    formats = {".npz": "NumPy archive (*.npz)", ".json": "JSON"}
    assert dialogs.get_save_model_path(None, "m.npz", formats) is None
    assert seen["filters"] == "NumPy archive (*.npz);;JSON (*.json)"
