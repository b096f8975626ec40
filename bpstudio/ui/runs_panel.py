"""The Runs panel: one row per run of the session, the selected ones shown in every view.

Columns: number and name (editable), network shape, optimiser, α, batch, epochs, final train and
validation loss, validation accuracy (classification) or RMSE (regression), wall time, status,
and a branch's parent ("run 3 @ step 1200", drawn as a link: double-click it, or press Enter on
it, to go to the parent run; :meth:`RunsPanel.go_to_parent`).
The table reads the runs through :func:`run_row` (one place that knows the session's ``Run``);
the window calls :meth:`RunsPanel.refresh_run` while runs train (≤ 2 Hz a run) and
:meth:`RunsPanel.reset` when runs are added, deleted or restored.

Columns are fitted to their contents when rows come or go and when a run pauses or ends, not on
every progress refresh (Qt's ResizeToContents re-measured every cell of every row for each
refreshed row: with a 12-run sweep training, most of the window's late ticks), and the user can
drag them wider; the name column takes the rest of the width.

Leaves out: comparing runs in one plot (the comparison issue), sorting (rows stay in run order,
numbered from 1 as ``bpstudio runs`` numbers them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from bpstudio.session import parent_label, parent_of
from bpstudio.ui.run_controller import fmt_seconds

COLUMNS = (
    "#",
    "Name",
    "Network",
    "Optimiser",
    "α",
    "Batch",
    "Epochs",
    "Train loss",
    "Val loss",
    "Val acc / RMSE",
    "Time",
    "Status",
    "Parent",
)
NAME_COLUMN = 1
PARENT_COLUMN = COLUMNS.index("Parent")


class RunRow(NamedTuple):
    name: str
    network: str
    optimizer: str
    lr: float | None
    batch: int | None
    epochs: int
    train_loss: float | None
    val_loss: float | None
    val_metric: str
    seconds: float
    status: str


def _num(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.4g}"


class RunsModel(QAbstractTableModel):
    """A table model over ``runs()`` (the session's list), each row read by ``describe``."""

    renamed = Signal(object, str)  # run, new name

    def __init__(
        self, runs: Callable[[], list[Any]], describe: Callable[[Any], RunRow], parent: Any = None
    ) -> None:
        super().__init__(parent)
        self._runs = runs
        self._describe = describe

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._runs())

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def run_at(self, row: int) -> Any:
        runs = self._runs()
        return runs[row] if 0 <= row < len(runs) else None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        run = self.run_at(index.row())
        if run is None:
            return None
        col = index.column()
        if col == PARENT_COLUMN:
            return self._parent_data(run, role)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            r = self._describe(run)
            if col == 0:
                return str(index.row() + 1)
            values = (
                r.name,
                r.network,
                r.optimizer,
                "–" if r.lr is None else f"{r.lr:g}",
                "–" if r.batch is None else str(r.batch),
                str(r.epochs),
                _num(r.train_loss),
                _num(r.val_loss),
                r.val_metric,
                fmt_seconds(r.seconds),
                r.status,
            )
            return values[col - 1]
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in (NAME_COLUMN, 2, 3, 11):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _parent_data(self, run: Any, role: int) -> Any:
        """The Parent cell: "run 3 @ step 1200", a link to a parent still in the session."""
        if role == Qt.ItemDataRole.DisplayRole:
            return parent_label(run, self._runs()) or "–"
        linked = parent_of(run, self._runs()) is not None
        if role == Qt.ItemDataRole.ToolTipRole and linked:
            return "Double-click to go to the parent run"
        if role == Qt.ItemDataRole.ForegroundRole and linked:
            return QColor("#2a7ae2")
        if role == Qt.ItemDataRole.FontRole and linked:
            f = QFont()
            f.setUnderline(True)
            return f
        return None

    def parent_run(self, row: int) -> Any:
        run = self.run_at(row)
        return None if run is None else parent_of(run, self._runs())

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        f = super().flags(index)
        if index.column() == NAME_COLUMN:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def setData(self, index: QModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        run = self.run_at(index.row())
        text = str(value).strip()
        if run is None or index.column() != NAME_COLUMN or not text:
            return False
        self.renamed.emit(run, text)
        self.dataChanged.emit(index, index)
        return True

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def refresh_row(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))


class RunsPanel(QWidget):
    """The table of runs; ``selectionChanged(list of runs)`` when the selection changes."""

    selectionChanged = Signal(list)

    def __init__(
        self,
        runs: Callable[[], list[Any]],
        describe: Callable[[Any], RunRow],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self.model = RunsModel(runs, describe, self)
        self.table = QTableView()
        self.table.setObjectName("runsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        self._fit_timer = QTimer(self)  # one fit of the columns after a burst of changes
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.table.resizeColumnsToContents)
        self.table.setToolTip(
            "Select a run to show it in every view; double-click a name to rename"
        )
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(self._on_activated)
        self.table.activated.connect(self._on_activated)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.table)
        self._quiet = 0

    def selected_runs(self) -> list[Any]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [r for r in (self.model.run_at(i) for i in rows) if r is not None]

    def select_run(self, run: Any, *, quiet: bool = False) -> None:
        """Select the row of ``run`` alone (``quiet``: without emitting selectionChanged)."""
        runs = [self.model.run_at(i) for i in range(self.model.rowCount())]
        if run not in runs:
            return
        row = runs.index(run)
        self._quiet += quiet
        try:
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.table.selectionModel().select(self.model.index(row, 0), flags)
            self.table.scrollTo(self.model.index(row, 0))
        finally:
            self._quiet -= quiet

    def reset(self, keep: Any = None) -> None:
        self._quiet += 1
        try:
            self.model.reset()
        finally:
            self._quiet -= 1
        self.fit_columns()
        if keep is not None:
            self.select_run(keep, quiet=True)

    def fit_columns(self) -> None:
        """Fit the columns to their contents, once, when the window is next idle."""
        self._fit_timer.start()

    def refresh_run(self, run: Any, *, fit: bool = False) -> None:
        """Redraw ``run``'s row (``fit``: and fit the columns to the new values)."""
        for i in range(self.model.rowCount()):
            if self.model.run_at(i) is run:
                self.model.refresh_row(i)
        if fit:
            self.fit_columns()

    def _on_activated(self, index: QModelIndex) -> None:
        if index.column() == PARENT_COLUMN:
            self.go_to_parent(self.model.run_at(index.row()))

    def go_to_parent(self, run: Any) -> Any:
        """Select ``run``'s parent (every view follows, as for a click on its row); returns it,
        or None when ``run`` is not a branch or its parent was deleted."""
        parent = None if run is None else parent_of(run, self.model._runs())
        if parent is not None:
            self.select_run(parent)
        return parent

    def _on_selection(self, *_: Any) -> None:
        if not self._quiet:
            self.selectionChanged.emit(self.selected_runs())


__all__ = ["COLUMNS", "PARENT_COLUMN", "RunRow", "RunsModel", "RunsPanel"]
