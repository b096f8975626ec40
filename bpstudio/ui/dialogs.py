"""The one place that opens file choosers and message boxes (tests monkeypatch these).

Every ``QFileDialog``/``QMessageBox`` static call in the UI goes through the functions here, so a
test can replace ``bpstudio.ui.dialogs.QFileDialog.getOpenFileName`` (or the functions themselves)
and never block on a real modal window. The last folder used is remembered in ``QSettings``.

Leaves out: non-native dialog options, multi-file selection, custom dialogs (see import_dialog).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

CSV_FILTER = "Tables (*.csv *.tsv *.txt *.dat);;CSV files (*.csv);;All files (*)"
_LAST_DIR_KEY = "dialogs/lastDir"
_DEFAULT_FORMATS = {".npz": "NumPy archive", ".json": "JSON (human-readable)"}


def sample_data_dir() -> str:
    """The bundled sample-data folder (``bpstudio/resources/sample_data``), or the home folder."""
    from bpstudio.resources import sample_data_dir as bundled

    folder = bundled()
    return str(folder) if folder is not None else str(Path.home())


def _last_dir() -> str:
    value = QSettings().value(_LAST_DIR_KEY, "")
    if isinstance(value, str) and value and os.path.isdir(value):
        return value
    return sample_data_dir()


def remember_dir(path: str) -> None:
    """Store the folder of ``path`` as the start folder of the next file dialog."""
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    QSettings().setValue(_LAST_DIR_KEY, folder)


def get_open_csv_path(parent: QWidget | None) -> str | None:
    """Ask for a CSV/TSV/text table to open; None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open data table", _last_dir(), CSV_FILTER)
    if not path:
        return None
    remember_dir(path)
    return path


def get_save_model_path(
    parent: QWidget | None, default_name: str, formats: dict[str, str] | None = None
) -> str | None:
    """Ask where to save a model. ``formats`` maps suffix (".npz") to a description.

    The suffix of the chosen filter is appended when the typed name has none of the known ones.
    """
    if not formats:
        try:
            from bpstudio.io import EXPORT_FORMATS  # noqa: PLC0415 - optional at import time

            formats = dict(EXPORT_FORMATS)
        except (ImportError, AttributeError):
            formats = dict(_DEFAULT_FORMATS)
    suffixes = [s if s.startswith(".") else "." + s for s in formats]
    # some descriptions already name their pattern ("NumPy archive (*.npz)"): do not repeat it
    filters = [
        desc if f"*{suf}" in desc else f"{desc} (*{suf})"
        for suf, desc in zip(suffixes, formats.values(), strict=True)
    ]
    start = os.path.join(_last_dir(), default_name)
    path, chosen = QFileDialog.getSaveFileName(parent, "Export model", start, ";;".join(filters))
    if not path:
        return None
    if Path(path).suffix.lower() not in suffixes:
        suffix = suffixes[filters.index(chosen)] if chosen in filters else suffixes[0]
        path += suffix
    remember_dir(path)
    return path


def get_save_image_path(parent: QWidget | None, default_name: str) -> str | None:
    """Ask where to save a plot image (PNG or SVG); None when the user cancels."""
    filters = ["PNG image (*.png)", "SVG drawing (*.svg)"]
    start = os.path.join(_last_dir(), default_name)
    path, chosen = QFileDialog.getSaveFileName(parent, "Save image", start, ";;".join(filters))
    if not path:
        return None
    if Path(path).suffix.lower() not in (".png", ".svg"):
        path += ".svg" if chosen == filters[1] else ".png"
    remember_dir(path)
    return path


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.information(parent, title, message)


def show_about(parent: QWidget | None, title: str, message: str) -> None:
    """An about box; Qt shows the window's (the application's) icon in it."""
    QMessageBox.about(parent, title, message)


def ask_yes_no(parent: QWidget | None, title: str, message: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        message,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def show_bug(parent: QWidget | None, title: str, message: str, details: str) -> None:
    """A bug (not the user's mistake): the summary, the details (a traceback) in a read-only
    box, a "Copy details" button that puts them on the clipboard, and Close."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import (
        QDialog,
        QDialogButtonBox,
        QHBoxLayout,
        QLabel,
        QPlainTextEdit,
        QPushButton,
        QStyle,
        QVBoxLayout,
    )

    box = QDialog(parent)
    box.setObjectName("bugDialog")
    box.setWindowTitle(title)
    icon = QLabel()
    icon.setPixmap(box.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(48))
    text = QLabel(message)
    text.setObjectName("bugMessage")
    text.setWordWrap(True)
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    top = QHBoxLayout()
    top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
    top.addWidget(text, 1)
    view = QPlainTextEdit(details)
    view.setObjectName("bugDetails")
    view.setReadOnly(True)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    view.setMinimumSize(640, 220)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    copy = QPushButton("Copy details")
    copy.setObjectName("copyDetailsButton")
    buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)

    def copy_details() -> None:
        QGuiApplication.clipboard().setText(f"{title}\n{message}\n\n{details}")
        copy.setText("Copied")

    copy.clicked.connect(copy_details)  # ActionRole: the dialog stays open
    buttons.rejected.connect(box.reject)
    lay = QVBoxLayout(box)
    lay.addLayout(top)
    lay.addWidget(view, 1)
    lay.addWidget(buttons)
    box.exec()


PROJECT_FILTER = "Backprop Studio projects (*.bpstudio);;All files (*)"
OPEN_ANY_FILTER = (
    "Projects, models and tables (*.bpstudio *.npz *.json *.safetensors *.csv *.tsv *.txt *.dat)"
    ";;Backprop Studio projects (*.bpstudio);;Models (*.npz *.json *.safetensors)"
    ";;Tables (*.csv *.tsv *.txt *.dat);;All files (*)"
)
HISTORY_FILTER = "CSV files (*.csv);;All files (*)"


def get_open_path(parent: QWidget | None) -> str | None:
    """Ask for a project, a model file or a table to open; None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open", _last_dir(), OPEN_ANY_FILTER)
    if not path:
        return None
    remember_dir(path)
    return path


def get_open_project_path(parent: QWidget | None) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", _last_dir(), PROJECT_FILTER)
    if not path:
        return None
    remember_dir(path)
    return path


LESSON_FILTER = "Lessons (*.md);;All files (*)"


def get_open_lesson_path(parent: QWidget | None) -> str | None:
    """Ask for a lesson file (Markdown with a TOML preset); None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open lesson", _last_dir(), LESSON_FILTER)
    if not path:
        return None
    remember_dir(path)
    return path


def get_save_path(
    parent: QWidget | None, title: str, default_name: str, file_filter: str, suffix: str
) -> str | None:
    """Ask where to save; ``suffix`` (".csv") is appended when the typed name has none."""
    start = os.path.join(_last_dir(), default_name)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, file_filter)
    if not path:
        return None
    if not Path(path).suffix:
        path += suffix
    remember_dir(path)
    return path


def get_save_project_path(parent: QWidget | None, default_name: str) -> str | None:
    return get_save_path(parent, "Save project", default_name, PROJECT_FILTER, ".bpstudio")


def get_save_history_path(parent: QWidget | None, default_name: str) -> str | None:
    return get_save_path(parent, "Export history", default_name, HISTORY_FILTER, ".csv")


def get_save_predictions_path(parent: QWidget | None, default_name: str) -> str | None:
    return get_save_path(parent, "Save predictions", default_name, HISTORY_FILTER, ".csv")


def ask_save_discard_cancel(parent: QWidget | None, title: str, message: str) -> str:
    """ "save", "discard" or "cancel"."""
    B = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, title, message, B.Save | B.Discard | B.Cancel, B.Save)
    return {B.Save: "save", B.Discard: "discard"}.get(answer, "cancel")


def ask_restore_recovery(parent: QWidget | None, message: str) -> bool:
    """After a crash: restore the unsaved work found in the recovery file?"""
    return ask_yes_no(parent, "Restore unsaved work?", message)


def ask_locate_file(
    parent: QWidget | None, message: str, file_filter: str = CSV_FILTER
) -> str | None:
    """A file has moved: say so and let the person point at it (None: skip it)."""
    if not ask_yes_no(parent, "File not found", message + "\n\nLocate it?"):
        return None
    path, _ = QFileDialog.getOpenFileName(parent, "Locate the file", _last_dir(), file_filter)
    return path or None


def ask_use_changed_file(parent: QWidget | None, message: str) -> bool:
    """A file has changed since it was saved: use it anyway?"""
    return ask_yes_no(parent, "File changed", message)


def get_image_size(parent: QWidget | None, default: tuple[int, int]) -> tuple[int, int] | None:
    """Ask for an image's width and height in pixels (default: the view's size on screen)."""
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QSpinBox

    dlg = QDialog(parent)
    dlg.setWindowTitle("Image size")
    form = QFormLayout(dlg)
    spins = []
    for label, value in zip(("Width", "Height"), default, strict=True):
        spin = QSpinBox()
        spin.setRange(16, 8000)
        spin.setSuffix(" px")
        spin.setValue(int(value))
        form.addRow(label, spin)
        spins.append(spin)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dlg.accept)
    buttons.rejected.connect(dlg.reject)
    form.addRow(buttons)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return spins[0].value(), spins[1].value()


def get_embed_limit_mb(parent: QWidget | None, current: float) -> float | None:
    """Up to which size (MB) a project carries its CSV inside; None when cancelled."""
    from PySide6.QtWidgets import QInputDialog

    value, ok = QInputDialog.getDouble(
        parent,
        "Embed the data",
        "Carry the CSV inside the project file when it is at most (MB):",
        current,
        0.1,
        500.0,
        1,
    )
    return float(value) if ok else None


def ask_sweep(parent: QWidget | None, net_config: dict, epochs: int = 20) -> Any:
    """Compare…: a ``SweepSpec`` (one setting, its values), or None when cancelled."""
    from bpstudio.ui.sweep_dialog import SweepDialog

    dlg = SweepDialog(parent, net_config, epochs)
    if dlg.exec() != SweepDialog.DialogCode.Accepted:
        return None
    return dlg.spec()
