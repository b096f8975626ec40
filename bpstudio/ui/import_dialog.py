"""The CSV import dialog: preview a parsed table and choose how it becomes a dataset.

``ImportDialog(table)`` shows the reader's notes (delimiter, encoding, header, ragged lines…), a
preview of the first rows whose header names each column's detected kind and missing count, and a
column list where each column is a Feature, a Target or Dropped. The default target is
``table.default_target`` (a few-valued column named like a label, else the last); Target is
exclusive — choosing another moves it — unless "several targets" is ticked. The Kind column is
editable: numeric / categorical / drop (categorical is ``DatasetOptions.categorical``, one-hot;
drop is ``drop_columns``), in step with "Use as". Columns that ``prepare`` drops on its own (ID /
free text, constant, empty) say so — "Drop (auto: …)" and a "text — dropped" kind. An empty target
is refused, and when the default skipped an empty last column the summary says so. Messages from
``prepare`` are shown in the dialog's own words ("Missing values: impute", not ``missing=…``).
Below: task (auto / classification / regression), missing values (drop rows / impute), scaling,
validation and test percentages and the split seed.
For tables up to ``LIVE_PREPARE_ROWS`` rows every change runs ``bpstudio.data.prepare`` to show
exactly what will be produced (features after encoding, classes, split sizes) — or why it will
fail, in which case OK is disabled. ``options()`` returns the ``DatasetOptions``.

The dialog is opened non-blocking by the dataset panel (``open()`` + accepted/rejected); it never
calls ``exec()`` itself. Leaves out: editing cells, other per-column type overrides, dates.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpstudio.data import DataError, DatasetOptions, RawTable, prepare
from bpstudio.data.prepare import MAX_ONE_HOT

PREVIEW_ROWS = 50
LIVE_PREPARE_ROWS = 20_000
ROLES = ("Feature", "Target", "Drop")
#: "Use as" choices: (role, label). "Categorical" is a feature forced to one-hot.
_ROLE_LABELS = {
    "Feature": "Feature",
    "Categorical": "Feature (as categories)",
    "Target": "Target",
    "Drop": "Drop",
}
#: Kinds that ``prepare`` drops as features on its own, with the short reason shown in "Use as".
_AUTO_DROP = {"text": "ID / free text", "constant": "constant", "empty": "empty"}
_GREY = QColor(128, 128, 128)
_TASKS = [
    ("auto (from the target)", "auto"),
    ("classification", "classification"),
    ("regression", "regression"),
]
_MISSING = [("drop rows with missing values", "drop"), ("impute (mean / most frequent)", "impute")]
_SCALING = [
    ("standardize (mean 0, sd 1)", "standardize"),
    ("min–max to [0, 1]", "minmax"),
    ("none", "none"),
]
#: How ``prepare``'s messages (written for the CLI and the API) read in this dialog.
_DIALOG_WORDS = {
    "choose missing='impute'": "choose “impute (mean / most frequent)” under Missing values",
    "missing='impute'": "Missing values: “impute”",
    "set task='regression'": "set Task to “regression”",
    "task='regression'": "Task: “regression”",
    "task='classification'": "Task: “classification”",
    "mark it categorical": "set its Kind to “categorical”",
    "mark the column categorical": "set the column's Kind to “categorical”",
}
#: The Kind column's choices for a detected kind: (label, what it does). "auto" keeps the kind.
_KIND_CHOICES = {
    "numeric": [("numeric", "auto"), ("categorical", "Categorical"), ("drop", "Drop")],
    "categorical": [("categorical", "auto"), ("drop", "Drop")],
    "text": [("text — dropped", "auto"), ("categorical", "Categorical"), ("drop", "Drop")],
    "constant": [("constant", "auto"), ("drop", "Drop")],
    "empty": [("empty", "auto"), ("drop", "Drop")],
}


def in_dialog_words(text: str) -> str:
    """A message from ``prepare`` with its option names in the words of this dialog."""
    for api, words in _DIALOG_WORDS.items():
        text = text.replace(api, words)
    return text


_KIND_TIPS = {
    "numeric": "numbers: used as is (then scaled)",
    "categorical": "few distinct text values: one-hot encoded (one input per value)",
    "text": "many distinct text values (IDs, free text): dropped as a feature",
    "constant": "one value only: carries no information",
    "empty": "no values at all",
}


def _combo(name: str, items: list[tuple[str, str]], current: str) -> QComboBox:
    c = QComboBox()
    c.setObjectName(name)
    for label, value in items:
        c.addItem(label, value)
    i = c.findData(current)
    c.setCurrentIndex(max(i, 0))
    return c


def _cell_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


class ImportDialog(QDialog):
    """Preview a RawTable; choose targets, dropped columns, task, missing values, scaling, split."""

    optionsChanged = Signal()

    def __init__(
        self, table: RawTable, parent: QWidget | None = None, options: DatasetOptions | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.table = table
        self.prepared: Any = None  # the live PreparedDataset (small tables), else None
        self.error: str | None = None
        self._quiet = False
        opts = options or DatasetOptions()
        self.setWindowTitle(f"Import {table.name}")
        self.setSizeGripEnabled(True)
        self.resize(980, 680)

        # Header: source and reader notes.
        n_rows, n_cols = table.n_rows, len(table.columns)
        facts = [f"{n_rows:,} rows × {n_cols} columns"]
        if table.delimiter is not None:
            facts.append(
                {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
                    table.delimiter, repr(table.delimiter)
                )
                + "-separated"
            )
        if table.encoding:
            facts.append(f"encoding {table.encoding}")
        facts.append("header row" if table.has_header else "no header row (columns named x1…)")
        self.source_label = QLabel(f"<b>{table.source}</b><br>{' · '.join(facts)}")
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.source_label.setWordWrap(True)
        self.notes_label = QLabel()
        self.notes_label.setObjectName("importNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if table.notes:
            self.notes_label.setText(
                "Reader notes:<ul style='margin:0'>"
                + "".join(
                    f"<li>{_esc(in_dialog_words(self._unprefixed(n)))}</li>" for n in table.notes
                )
                + "</ul>"
            )
        else:
            self.notes_label.setText("Reader notes: none — the file parsed cleanly.")

        # Preview.
        self.preview = QTableWidget()
        self.preview.setObjectName("importPreview")
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setAlternatingRowColors(True)
        self._fill_preview()

        # Columns and their roles.
        self.columns_table = QTableWidget(len(table.columns), 4)
        self.columns_table.setObjectName("importColumns")
        self.columns_table.setHorizontalHeaderLabels(["Column", "Kind", "Missing", "Use as"])
        self.columns_table.verticalHeader().setVisible(False)
        self.columns_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hh = self.columns_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in (1, 2, 3):
            hh.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        targets = list(opts.target) if opts.target else list(table.default_target)
        dropped = set(opts.drop_columns or [])
        forced = set(opts.categorical or [])
        self._role_combos: dict[str, QComboBox] = {}
        self._kind_combos: dict[str, QComboBox] = {}
        for r, info in enumerate(table.columns):
            self.columns_table.setItem(r, 0, QTableWidgetItem(info.name))
            kind = QTableWidgetItem(info.kind)
            kind.setToolTip(_KIND_TIPS.get(info.kind, ""))
            self.columns_table.setItem(r, 1, kind)
            miss = QTableWidgetItem(f"{info.missing:,}")
            miss.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.columns_table.setItem(r, 2, miss)
            role = QComboBox()
            roles = ["Feature", "Target", "Drop"]
            if info.kind == "text" or info.name in forced:
                roles.insert(1, "Categorical")  # the way to keep an ID / free-text column
            for value in roles:
                role.addItem(_ROLE_LABELS[value], value)
            current = (
                "Target"
                if info.name in targets
                else "Drop"
                if info.name in dropped
                else "Categorical"
                if info.name in forced
                else "Feature"
            )
            role.setCurrentIndex(role.findData(current))
            role.currentIndexChanged.connect(lambda _i, n=info.name: self._on_role_changed(n))
            self._role_combos[info.name] = role
            self.columns_table.setCellWidget(r, 3, role)
            kind_combo = QComboBox()
            kind_combo.setObjectName(f"kindCombo_{info.name}")
            for label, value in _KIND_CHOICES.get(info.kind, [(info.kind, "auto")]):
                kind_combo.addItem(label, value)
            kind_combo.currentIndexChanged.connect(lambda _i, n=info.name: self._on_kind_changed(n))
            self._kind_combos[info.name] = kind_combo
            self.columns_table.setCellWidget(r, 1, kind_combo)
        self.multi_target_check = QCheckBox("several targets (regression with more outputs)")
        self.multi_target_check.setObjectName("importMultiTargetCheck")
        self.multi_target_check.setToolTip(
            "Off: choosing a Target makes the previous one a Feature again"
        )
        self.multi_target_check.setChecked(len(targets) > 1)
        self.multi_target_check.toggled.connect(self._on_multi_target_toggled)
        self._sync_kinds()

        # Options.
        self.task_combo = _combo("importTaskCombo", _TASKS, opts.task)
        self.missing_combo = _combo("importMissingCombo", _MISSING, opts.missing)
        self.scaling_combo = _combo("importScalingCombo", _SCALING, opts.scaling)
        self.scaling_combo.setToolTip("Fitted on the training split only; saved with the model")
        self.val_spin = self._percent_spin(
            "importValSpin", opts.val_fraction, "validation share of the rows"
        )
        self.test_spin = self._percent_spin(
            "importTestSpin", opts.test_fraction, "held-out test share (not used in training)"
        )
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("importSeedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(int(opts.seed))
        self.seed_spin.setToolTip("Seed of the shuffled train/validation/test split")
        for w in (self.task_combo, self.missing_combo, self.scaling_combo):
            w.currentIndexChanged.connect(self._on_changed)
        for w in (self.val_spin, self.test_spin, self.seed_spin):
            w.valueChanged.connect(self._on_changed)
        form = QFormLayout()
        form.addRow("Task:", self.task_combo)
        form.addRow("Missing values:", self.missing_combo)
        form.addRow("Scaling:", self.scaling_combo)
        split = QHBoxLayout()
        split.addWidget(QLabel("validation"))
        split.addWidget(self.val_spin)
        split.addWidget(QLabel("test"))
        split.addWidget(self.test_spin)
        split.addStretch(1)
        form.addRow("Split:", split)
        form.addRow("Split seed:", self.seed_spin)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("importSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # The summary and its notes scroll inside the box rather than being clipped by it.
        self.summary_scroll = QScrollArea()
        self.summary_scroll.setObjectName("importSummaryScroll")
        self.summary_scroll.setWidgetResizable(True)
        self.summary_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.summary_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.summary_scroll.setWidget(self.summary_label)
        self.summary_scroll.viewport().setAutoFillBackground(False)  # the box's own background
        self.summary_label.setAutoFillBackground(False)
        self.summary_scroll.setMinimumHeight(80)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        cols_box = QGroupBox("Columns")
        cl = QVBoxLayout(cols_box)
        cl.addWidget(self.columns_table)
        cl.addWidget(self.multi_target_check)
        opts_box = QGroupBox("Preparation")
        ol = QVBoxLayout(opts_box)
        ol.addLayout(form)
        ol.addWidget(self.summary_scroll, 1)
        bottom = QWidget()
        bl = QHBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(cols_box, 1)
        bl.addWidget(opts_box, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        pv = QGroupBox(f"Preview (first {min(PREVIEW_ROWS, n_rows)} of {n_rows:,} rows)")
        pl = QVBoxLayout(pv)
        pl.addWidget(self.preview)
        splitter.addWidget(pv)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)  # the columns and notes need more room than the preview
        lay = QVBoxLayout(self)
        lay.addWidget(self.source_label)
        lay.addWidget(self.notes_label)
        lay.addWidget(splitter, 1)
        lay.addWidget(self.buttons)
        self._on_changed()

    # --- public API ---------------------------------------------------------------------------
    def options(self) -> DatasetOptions:
        return DatasetOptions(
            target=self.targets() or None,
            task=str(self.task_combo.currentData()),
            missing=str(self.missing_combo.currentData()),
            scaling=str(self.scaling_combo.currentData()),
            val_fraction=self.val_spin.value() / 100.0,
            test_fraction=self.test_spin.value() / 100.0,
            seed=int(self.seed_spin.value()),
            drop_columns=self.dropped(),
            categorical=self.categorical(),
        )

    def role(self, column: str) -> str:
        """ "Feature", "Categorical" (a feature forced to one-hot), "Target" or "Drop"."""
        return str(self._role_combos[column].currentData())

    def kind_choice(self, column: str) -> str:
        """What the Kind column says for ``column``: its label ("numeric", "categorical", …)."""
        return self._kind_combos[column].currentText()

    def set_kind(self, column: str, kind: str) -> None:
        """Choose "numeric", "categorical" or "drop" in the Kind column (as a user would)."""
        combo = self._kind_combos[column]
        for i in range(combo.count()):
            if combo.itemText(i) == kind or (kind == combo.itemText(i).split(" ")[0]):
                combo.setCurrentIndex(i)
                return
        raise ValueError(f"column {column!r} cannot be {kind!r}")

    def targets(self) -> list[str]:
        return [n for n in self._role_combos if self.role(n) == "Target"]

    def dropped(self) -> list[str]:
        """Columns the user drops (``auto_dropped`` lists the ones ``prepare`` drops itself)."""
        return [n for n in self._role_combos if self.role(n) == "Drop"]

    def categorical(self) -> list[str]:
        return [n for n in self._role_combos if self.role(n) == "Categorical"]

    def auto_dropped(self) -> dict[str, str]:
        """Feature columns that ``prepare`` will drop → why (from the live result if any)."""
        kinds = {c.name: c for c in self.table.columns}
        feats = [n for n in self._role_combos if self.role(n) == "Feature"]
        if self.prepared is not None:
            kept = set(self.prepared.preprocessor.input_columns)
            gone = [n for n in feats if n not in kept]
        else:  # the rule of prepare(): text and empty go; constants go unless nothing else is left
            gone = [n for n in feats if kinds[n].kind in ("text", "empty")]
            const = [n for n in feats if kinds[n].kind == "constant"]
            if len(feats) > len(gone) + len(const) or self.categorical():
                gone += const
        return {n: _drop_reason(kinds[n]) for n in gone}

    def set_role(self, column: str, role: str) -> None:
        """``role`` is "Feature", "Categorical", "Target" or "Drop"."""
        if role not in _ROLE_LABELS:
            raise ValueError(f"role must be one of {tuple(_ROLE_LABELS)}")
        c = self._role_combos[column]
        if c.findData(role) < 0:  # e.g. a numeric column of codes forced to categories
            c.insertItem(1, _ROLE_LABELS[role], role)
        c.setCurrentIndex(c.findData(role))

    def set_targets(self, names: list[str]) -> None:
        self._quiet = True
        try:
            for n, c in self._role_combos.items():
                if n in names:
                    c.setCurrentIndex(c.findData("Target"))
                elif c.currentData() == "Target":
                    c.setCurrentIndex(c.findData("Feature"))
        finally:
            self._quiet = False
        self._on_changed()

    def ok_button(self) -> Any:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _percent_spin(name: str, fraction: float, tip: str) -> QSpinBox:
        s = QSpinBox()
        s.setObjectName(name)
        s.setRange(0, 90)
        s.setSingleStep(5)
        s.setSuffix(" %")
        s.setValue(round(100 * float(fraction)))
        s.setToolTip(tip)
        return s

    def _fill_preview(self) -> None:
        t = self.table
        head = t.frame.head(PREVIEW_ROWS)
        cols = [c.name for c in t.columns]
        self.preview.setColumnCount(len(cols))
        self.preview.setRowCount(len(head))
        for j, info in enumerate(t.columns):
            miss = f"{info.missing:,} missing" if info.missing else "no missing"
            item = QTableWidgetItem(f"{info.name}\n{info.kind} · {miss}")
            item.setToolTip(f"{_KIND_TIPS.get(info.kind, '')}; {info.unique:,} distinct values")
            self.preview.setHorizontalHeaderItem(j, item)
        self.preview.setVerticalHeaderLabels([str(i) for i in head.index])
        self.preview.verticalHeader().setToolTip("line in the file")
        missing_brush = QBrush(QColor(220, 80, 60, 60))
        for j, name in enumerate(cols):
            if name not in head.columns:
                continue
            values = head[name].tolist()
            for i, v in enumerate(values):
                text = _cell_text(v)
                item = QTableWidgetItem(text if text else "—")
                if not text:
                    item.setBackground(missing_brush)
                    item.setToolTip("missing")
                self.preview.setItem(i, j, item)
        self.preview.resizeColumnsToContents()
        for j in range(len(cols)):
            if self.preview.columnWidth(j) > 220:
                self.preview.setColumnWidth(j, 220)

    def _mark_roles(self) -> None:
        targets, dropped = set(self.targets()), set(self.dropped()) | set(self.auto_dropped())
        bold = QFont(self.preview.font())
        bold.setBold(True)
        for j, info in enumerate(self.table.columns):
            item = self.preview.horizontalHeaderItem(j)
            if item is None:
                continue
            f = QFont(self.preview.font())
            f.setBold(info.name in targets)
            f.setStrikeOut(info.name in dropped)
            item.setFont(f)

    def _on_role_changed(self, column: str) -> None:
        if self._quiet:
            return
        if self.role(column) == "Target" and not self.multi_target_check.isChecked():
            self._quiet = True  # Target is exclusive: the previous target becomes a feature
            try:
                for n, c in self._role_combos.items():
                    if n != column and c.currentData() == "Target":
                        c.setCurrentIndex(c.findData("Feature"))
            finally:
                self._quiet = False
        self._sync_kinds()
        self._on_changed()

    def _on_kind_changed(self, column: str) -> None:
        if self._quiet:
            return
        what = self._kind_combos[column].currentData()
        role = self.role(column)
        self._quiet = True
        try:
            if what in ("Categorical", "Drop"):
                if role != "Target" or what == "Drop":
                    self.set_role(column, what)
            elif role in ("Categorical", "Drop"):
                self.set_role(column, "Feature")
        finally:
            self._quiet = False
        self._on_changed()

    def _sync_kinds(self) -> None:
        """The Kind column follows "Use as": categories → categorical, Drop → drop."""
        self._quiet, quiet = True, self._quiet
        try:
            for n, combo in self._kind_combos.items():
                want = {"Categorical": "Categorical", "Drop": "Drop"}.get(self.role(n), "auto")
                i = combo.findData(want)
                combo.setCurrentIndex(i if i >= 0 else 0)
        finally:
            self._quiet = quiet

    def _on_multi_target_toggled(self, on: bool) -> None:
        if not on and len(self.targets()) > 1:
            self.set_targets(self.targets()[-1:])
        self._on_changed()

    def _on_changed(self, *_: Any) -> None:
        if self._quiet:
            return
        self._sync_kinds()
        self.prepared, self.error = None, None
        ok = self.ok_button()
        infos = {c.name: c for c in self.table.columns}
        empty = [t for t in self.targets() if infos[t].kind == "empty"]
        if not self.targets():
            self.error = "Choose at least one target column (set 'Use as' to Target)."
        elif empty:
            self.error = (
                f"The target column '{empty[0]}' is empty: no row has a value to learn. "
                "Choose another target."
            )
        elif self.val_spin.value() + self.test_spin.value() >= 100:
            self.error = "Validation + test must leave rows for training."
        elif self.table.n_rows <= LIVE_PREPARE_ROWS:
            try:
                self.prepared = prepare(self.table, self.options())
            except DataError as e:
                self.error = in_dialog_words(str(e))
            except Exception as e:  # noqa: BLE001 - show, don't crash the dialog
                self.error = f"{type(e).__name__}: {e}"
        ok.setEnabled(self.error is None)
        self._mark_auto_dropped()
        self._mark_roles()
        self.summary_label.setText(self._summary_html())
        self.optionsChanged.emit()

    def _mark_auto_dropped(self) -> None:
        """Kind and "Use as" cells tell which feature columns ``prepare`` drops, and why."""
        gone = self.auto_dropped()
        for r, info in enumerate(self.table.columns):
            kind, combo = self.columns_table.item(r, 1), self._role_combos[info.name]
            feature_at = combo.findData("Feature")
            if info.name in gone:
                why = gone[info.name]
                keep = (
                    "To keep it, set its Kind to “categorical” (or 'Use as' to "
                    "'Feature (as categories)'): one input per value"
                    + (f" (at most {MAX_ONE_HOT})." if info.kind == "text" else ".")
                    if combo.findData("Categorical") >= 0
                    else "Nothing to learn from it; it is left out of the inputs."
                )
                tip = f"Dropped on import: {why}. {keep}"
                kind.setText(f"{info.kind} — dropped")
                kind.setForeground(QBrush(_GREY))
                combo.setItemText(feature_at, f"Drop (auto: {_AUTO_DROP.get(info.kind, 'unused')})")
                combo.setToolTip(tip)
            else:
                tip = _KIND_TIPS.get(info.kind, "")
                if self.role(info.name) == "Categorical":
                    tip = f"{info.unique:,} distinct values, one-hot encoded (one input per value)"
                kind.setText(info.kind)
                kind.setData(Qt.ItemDataRole.ForegroundRole, None)
                combo.setItemText(feature_at, "Feature")
                combo.setToolTip("")
            kind.setToolTip(tip)
            self._kind_combos[info.name].setToolTip(tip)

    def _summary_html(self) -> str:
        if self.error:
            return f"<span style='color:#D55E00'><b>Cannot import:</b> {_esc(self.error)}</span>"
        ds = self.prepared
        warn = self._skipped_empty_target()
        if ds is None:
            skip = set(self.targets()) | set(self.dropped()) | set(self.auto_dropped())
            feats = [c for c in self.table.columns if c.name not in skip]
            return (
                f"{len(feats)} feature column(s), target {', '.join(self.targets())}. "
                f"{self.table.n_rows:,} rows; the exact summary is computed on import."
            )
        n_train, n_val, n_test = len(ds.X_train), len(ds.X_val), len(ds.X_test)
        lines = [warn] if warn else []
        lines.append(f"<b>{ds.n_inputs}</b> input feature(s) after encoding → <b>{ds.task}</b>")
        if ds.task == "classification" and ds.classes is not None:
            shown = ", ".join(map(str, ds.classes[:12])) + (" …" if len(ds.classes) > 12 else "")
            lines.append(f"{len(ds.classes)} classes: {_esc(shown)}")
        else:
            lines.append(f"{ds.n_outputs} target(s): {_esc(', '.join(ds.target_names))}")
        rows = f"rows: train {n_train:,} · validation {n_val:,} · test {n_test:,}"
        if getattr(ds, "n_dropped", 0):
            rows += f" ({ds.n_dropped:,} dropped)"
        lines.append(rows)
        reader_notes = set(self.table.notes)  # already shown at the top
        for n in [n for n in getattr(ds, "notes", []) or [] if n not in reader_notes]:
            text = _esc(in_dialog_words(self._unprefixed(n)))
            lines.append(f"<span style='color:gray'>• {text}</span>")
        return "<br>".join(lines)

    def _skipped_empty_target(self) -> str:
        """A loud line when the target is the default and the default passed over an empty
        last column (a trailing delimiter, or a column the user meant and that has no values)."""
        cols = self.table.columns
        default = list(self.table.default_target)
        if not cols or cols[-1].kind != "empty" or self.targets() != default:
            return ""
        return (
            f"<span style='color:#D55E00'><b>The last column '{_esc(cols[-1].name)}' is empty</b>"
            f" (no values), so the target is '{_esc(self.targets()[0])}'. If you meant to "
            "predict the empty column, this file has nothing to learn it from.</span>"
        )

    def _unprefixed(self, note: str) -> str:
        """Notes start with the file name, which the dialog already shows at the top."""
        for prefix in {f"{self.table.name}: ", f"{Path(self.table.source).name}: "}:
            if note.startswith(prefix):
                return note[len(prefix) :]
        return note


def _drop_reason(info: Any) -> str:
    if info.kind == "text":
        return f"{info.unique:,} different text values (an ID or free text)"
    if info.kind == "constant":
        return "the same value in every row"
    if info.kind == "empty":
        return "it has no values"
    return "prepare leaves it out"


def _esc(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
