"""The loaded table's rows, with the split each went to, to pick a sample from.

``DataTableModel`` shows a ``RawTable`` (the file's own values, not the scaled features) with three
columns first: the row (the CSV line when the reader kept it, else the 1-based row), the split it
went to after shuffling and splitting (training, validation, test, or "dropped") and its index
in that split (1-based, as the inspector's sample box counts). The mapping comes from
``PreparedDataset.source_rows`` / ``locate``; this module only draws it. ``DataTableView`` is the
view: selecting a row emits ``samplePicked(split, index)`` (0-based index; nothing for a dropped
row, whose reason ``message`` says).

Leaves out: sorting and filtering (the table stays in file order), editing values, and more than
``MAX_COLUMNS`` of the file's columns (a 785-column MNIST shows its first ones and says so).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

MAX_COLUMNS = 24
SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}
_Index = QModelIndex | QPersistentModelIndex


class DataTableModel(QAbstractTableModel):
    """Rows of the table, with their split (see the module docstring)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.frame: Any = None
        self.columns: list[str] = []
        self.split_of = np.zeros(0, dtype=np.int8)  # per table row: 0 train, 1 val, 2 test, -1
        self.index_of = np.zeros(0, dtype=np.int64)  # per table row: index in its split
        self.lines: np.ndarray | None = None  # CSV line numbers, when the reader kept them

    def set_data(self, table: Any, ds: Any) -> None:
        self.beginResetModel()
        frame = getattr(table, "frame", None)
        self.frame = frame
        n = 0 if frame is None else len(frame)
        self.columns = [] if frame is None else [str(c) for c in frame.columns[:MAX_COLUMNS]]
        self.split_of = np.full(n, -1, dtype=np.int8)
        self.index_of = np.full(n, -1, dtype=np.int64)
        rows = getattr(ds, "source_rows", None) or {}
        for code, split in enumerate(("train", "val", "test")):
            r = np.asarray(rows.get(split, np.zeros(0, np.intp)), dtype=np.int64)
            ok = (r >= 0) & (r < n)
            self.split_of[r[ok]] = code
            self.index_of[r[ok]] = np.flatnonzero(ok)
        self.lines = None
        if frame is not None and getattr(frame.index, "name", None) == "line":
            self.lines = np.asarray(frame.index)
        self.endResetModel()

    def n_hidden_columns(self) -> int:
        return 0 if self.frame is None else max(0, len(self.frame.columns) - MAX_COLUMNS)

    def sample_of(self, row: int) -> tuple[str, int] | None:
        """(split, 0-based index) of table row ``row``, or None when it was dropped."""
        if not 0 <= row < len(self.split_of) or self.split_of[row] < 0:
            return None
        return ("train", "val", "test")[int(self.split_of[row])], int(self.index_of[row])

    def row_label(self, row: int) -> str:
        return f"line {self.lines[row]}" if self.lines is not None else f"row {row + 1}"

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() or self.frame is None else len(self.frame)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else 3 + len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        fixed = ("line" if self.lines is not None else "row", "split", "#")
        return fixed[section] if section < 3 else self.columns[section - 3]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        r, c = index.row(), index.column()
        if c == 0:
            return str(self.lines[r]) if self.lines is not None else str(r + 1)
        if c in (1, 2):
            where = self.sample_of(r)
            if where is None:
                return "dropped" if c == 1 else ""
            return SPLIT_WORDS[where[0]] if c == 1 else str(where[1] + 1)
        v = self.frame.iat[r, c - 3]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        return f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v)


class DataTableView(QTableView):
    """The table; selecting a row picks that sample (``samplePicked``)."""

    samplePicked = Signal(str, int)  # "train" | "val" | "test", 0-based index in the split
    message = Signal(str)  # what the selection means, in words

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetTable")
        self.model_ = DataTableModel(self)
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(72)
        self.setToolTip("Select a row to inspect that sample in the Backprop inspector")
        self.selectionModel().currentRowChanged.connect(self._on_row)

    def set_data(self, table: Any, ds: Any) -> None:
        self.model_.set_data(table, ds)

    def select_row(self, row: int) -> None:
        self.selectRow(int(row))

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        r = current.row()
        where = self.model_.sample_of(r)
        label = self.model_.row_label(r)
        if where is None:
            self.message.emit(f"{label.capitalize()} was dropped when preparing the data.")
            return
        split, i = where
        self.message.emit(f"{label.capitalize()} is {SPLIT_WORDS[split]} sample {i + 1}.")
        self.samplePicked.emit(split, i)


__all__ = ["MAX_COLUMNS", "DataTableModel", "DataTableView"]
