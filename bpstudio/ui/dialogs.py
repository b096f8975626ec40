"""The one place that opens file choosers and message boxes (tests monkeypatch these).

Every ``QFileDialog``/``QMessageBox`` static call in the UI goes through the functions here, so a
test can replace ``bpstudio.ui.dialogs.QFileDialog.getOpenFileName`` (or the functions themselves)
and never block on a real modal window. The last folder used is remembered in ``QSettings``.

Leaves out: non-native dialog options, multi-file selection, custom dialogs (see import_dialog).
"""

from __future__ import annotations

import os
from pathlib import Path

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
