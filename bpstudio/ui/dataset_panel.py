"""The dataset panel: pick a built-in dataset or open a CSV, see what was loaded.

``DatasetPanel`` lists the built-in datasets (with samples / noise / seed and any extra parameter
such as ``k`` for blobs) and the CSV files opened in this session. Opening a CSV reads it in a
``QThread`` running ``bpstudio.data.read_csv`` with a progress callback and a cancel flag (progress
bar + Cancel in the panel), then shows the ``ImportDialog`` non-blocking (``panel.import_dialog``
while open); on accept it runs ``prepare`` in another ``QThread`` (:class:`CsvPreparer`, the same
progress bar and Cancel: a 1M-row table takes seconds) and emits ``datasetChanged(PreparedDataset)``
when it is done. Any ``DataError`` goes to ``dialogs.show_error`` and the previous dataset stays.
Recent files are kept in ``QSettings`` under "recentFiles" (at most 8).

Below the summary, "Show rows" opens the table's rows (:mod:`bpstudio.ui.data_table`) with the
split each row went to; selecting one emits ``samplePicked(split, index)`` (the window makes it
the inspector's sample).

Leaves out: preparing built-ins off the GUI thread (they are small), editing built-in split
options (built-ins use 20 % validation), file watching.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.data import (
    BUILTIN_DATASETS,
    DataError,
    DatasetOptions,
    RawTable,
    make_builtin,
    prepare,
    read_csv,
)
from bpstudio.ui import dialogs
from bpstudio.ui.data_table import DataTableView
from bpstudio.ui.import_dialog import ImportDialog

DEFAULT_BUILTIN = "circles"
RECENT_KEY = "recentFiles"
RECENT_OPTIONS_KEY = "recentFileOptions"  # JSON: {absolute path: DatasetOptions as a dict}
MAX_RECENT = 8
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".data")
BUILTIN_VAL_FRACTION = 0.2


class CsvReader(QThread):
    """Reads one CSV in a background thread; emits ``loaded(RawTable)`` or ``failed(message)``."""

    progressed = Signal(int, int)  # percent, rows so far
    loaded = Signal(object)
    failed = Signal(str, bool)  # message, cancelled?

    def __init__(self, path: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.path = path
        self._cancel = threading.Event()
        self._last_percent = -1

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, fraction: float, rows: int) -> None:
        percent = int(max(0.0, min(1.0, fraction)) * 100)
        if percent != self._last_percent:  # emit only on change (≤ 101 signals per file)
            self._last_percent = percent
            self.progressed.emit(percent, int(rows))

    def run(self) -> None:
        try:
            table = read_csv(self.path, progress=self._progress, cancel=self._cancel.is_set)
        except DataError as e:
            self.failed.emit(str(e), self._cancel.is_set())
        except Exception as e:  # noqa: BLE001 - reported to the user, never crashes the GUI
            self.failed.emit(
                f"{self.path}: could not read the file ({type(e).__name__}: {e})", False
            )
        else:
            if self._cancel.is_set():
                self.failed.emit(f"{self.path}: loading cancelled", True)
            else:
                self.loaded.emit(table)


class CsvPreparer(QThread):
    """Runs ``prepare(table, options)`` in a background thread; emits ``prepared(ds)`` or
    ``failed(message, cancelled)``. Cancel is checked between prepare's steps."""

    progressed = Signal(int)  # percent
    prepared = Signal(object)
    failed = Signal(str, bool)

    def __init__(self, table: RawTable, options: DatasetOptions, path: str, parent=None) -> None:
        super().__init__(parent)
        self.table, self.options, self.path = table, options, path
        self._cancel = threading.Event()
        self._last_percent = -1

    def cancel(self) -> None:
        self._cancel.set()

    def _progress(self, fraction: float) -> None:
        percent = int(max(0.0, min(1.0, fraction)) * 100)
        if percent != self._last_percent:
            self._last_percent = percent
            self.progressed.emit(percent)

    def run(self) -> None:
        try:
            ds = prepare(
                self.table, self.options, progress=self._progress, cancel=self._cancel.is_set
            )
        except DataError as e:
            self.failed.emit(str(e), self._cancel.is_set())
        except Exception as e:  # noqa: BLE001 - reported to the user, never crashes the GUI
            self.failed.emit(f"{type(e).__name__}: {e}", False)
        else:
            if self._cancel.is_set():
                self.failed.emit("preparing cancelled", True)
            else:
                self.prepared.emit(ds)


class DatasetPanel(QWidget):
    """Built-in and CSV datasets; emits ``datasetChanged(PreparedDataset)`` after each change."""

    datasetChanged = Signal(object)
    samplePicked = Signal(str, int)  # a row selected in the table: its split, index in it
    recentFilesChanged = Signal()
    loadingChanged = Signal(bool)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
        builtin: str = DEFAULT_BUILTIN,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self._settings = settings
        self._current: Any = None
        self._table: RawTable | None = None
        self._source = ""
        self._params: dict[str, Any] = {}
        self._options: DatasetOptions | None = None
        self._csv: dict[str, tuple[RawTable, DatasetOptions]] = {}
        self._reader: CsvReader | None = None
        self._preparer: CsvPreparer | None = None
        self._pending_options: DatasetOptions | None = None
        self.import_dialog: ImportDialog | None = None
        self._locked = False
        self._quiet = 0
        self._has_separator = False

        self.combo = QComboBox()
        self.combo.setObjectName("datasetCombo")
        self.combo.setToolTip("Built-in datasets and the CSV files opened in this session")
        for spec in BUILTIN_DATASETS.values():
            self.combo.addItem(f"{spec.name} — {spec.description}", f"builtin:{spec.name}")
            self.combo.setItemData(self.combo.count() - 1, spec.task, Qt.ItemDataRole.ToolTipRole)
        self.combo.currentIndexChanged.connect(self._on_combo_activated)
        self.open_button = QPushButton("Open CSV…")
        self.open_button.setObjectName("openCsvButton")
        self.open_button.setToolTip(
            "Load your own table (CSV, TSV, …); you can also drop a file on the window"
        )
        self.open_button.clicked.connect(lambda: self.open_csv())
        top = QHBoxLayout()
        top.addWidget(self.combo, 1)
        top.addWidget(self.open_button)

        # Built-in parameters.
        self.samples_spin = QSpinBox()
        self.samples_spin.setObjectName("samplesSpin")
        self.samples_spin.setRange(10, 100_000)
        self.samples_spin.setSingleStep(50)
        self.samples_spin.setToolTip("Number of generated points")
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setObjectName("noiseSpin")
        self.noise_spin.setRange(0.0, 5.0)
        self.noise_spin.setDecimals(3)
        self.noise_spin.setSingleStep(0.01)
        self.noise_spin.setToolTip("Standard deviation of the Gaussian noise added to the points")
        self.data_seed_spin = QSpinBox()
        self.data_seed_spin.setObjectName("datasetSeedSpin")
        self.data_seed_spin.setRange(0, 2**31 - 1)
        self.data_seed_spin.setToolTip(
            "Seed of the generated points and of the train/validation split"
        )
        self.extra_spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.params_form = QFormLayout()
        self.params_form.addRow("Samples:", self.samples_spin)
        self.params_form.addRow("Noise:", self.noise_spin)
        self.params_form.addRow("Seed:", self.data_seed_spin)
        self.params_widget = QWidget()
        self.params_widget.setLayout(self.params_form)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        for s in (self.samples_spin, self.noise_spin, self.data_seed_spin):
            s.setKeyboardTracking(False)  # regenerate on Enter / arrows, not per keystroke
            s.valueChanged.connect(self._on_params_changed)

        # Background loading.
        self.progress = QProgressBar()
        self.progress.setObjectName("loadProgress")
        self.progress.setRange(0, 100)
        self.progress.setFormat("reading %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelLoadButton")
        self.cancel_button.clicked.connect(self.cancel_loading)
        self.progress_row = QWidget()
        pr = QHBoxLayout(self.progress_row)
        pr.setContentsMargins(0, 0, 0, 0)
        pr.addWidget(self.progress, 1)
        pr.addWidget(self.cancel_button)
        self.progress_row.hide()

        self.summary = QLabel()
        self.summary.setObjectName("datasetSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status = QLabel()
        self.status.setObjectName("datasetStatus")
        self.status.setWordWrap(True)
        self.status.hide()

        # the rows, to pick a sample from (closed by default: the side column is tight)
        self.table_toggle = QToolButton()
        self.table_toggle.setObjectName("datasetTableToggle")
        self.table_toggle.setText("Show rows (pick a sample to inspect)")
        self.table_toggle.setCheckable(True)
        self.table_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.table_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.table_toggle.setAutoRaise(True)
        self.table = DataTableView()
        self.table.setMinimumHeight(120)
        self.table.setMaximumHeight(260)
        self.table.setVisible(False)
        self.table_note = QLabel("")
        self.table_note.setObjectName("datasetTableNote")
        self.table_note.setWordWrap(True)
        self.table_note.setVisible(False)
        self.table_toggle.toggled.connect(self._on_table_toggled)
        self.table.samplePicked.connect(self.samplePicked)
        self.table.message.connect(self.table_note.setText)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.params_widget)
        lay.addWidget(self.progress_row)
        lay.addWidget(self.status)
        lay.addWidget(self.summary, 1)
        lay.addWidget(self.table_toggle)
        lay.addWidget(self.table)
        lay.addWidget(self.table_note)

        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if builtin not in BUILTIN_DATASETS:
            builtin = DEFAULT_BUILTIN
        self._load_builtin(builtin, {}, emit=False)

    # --- public API ---------------------------------------------------------------------------
    def current(self) -> Any:
        """The loaded ``PreparedDataset``."""
        return self._current

    def current_table(self) -> RawTable | None:
        return self._table

    def current_source(self) -> str:
        """ "builtin:NAME" or the CSV path."""
        return self._source

    def current_params(self) -> dict[str, Any]:
        """Built-in parameters (n_samples, noise, seed, extras) of the current built-in dataset."""
        return dict(self._params)

    def current_options(self) -> DatasetOptions | None:
        return self._options

    def select_builtin(self, name: str, **params: Any) -> bool:
        """Generate and load a built-in dataset; True on success (else an error dialog)."""
        key = str(name).removeprefix("builtin:")
        return self._load_builtin(key, params, emit=True)

    def open_csv(self, path: str | None = None, *, options: DatasetOptions | None = None) -> bool:
        """Read a CSV in the background, then show the import dialog (or use ``options`` directly).

        Returns False when nothing started (the file dialog was cancelled or the panel is locked).
        """
        if self._locked:
            return False
        if path is None:
            path = dialogs.get_open_csv_path(self)
            if not path:
                return False
        path = str(path)
        self.cancel_loading(wait=True)
        self._pending_options = options
        reader = CsvReader(path)
        reader.progressed.connect(self._on_progress)
        reader.loaded.connect(self._on_loaded)
        reader.failed.connect(self._on_failed)
        self._reader = reader
        self.progress.setValue(0)
        self.progress.setFormat(f"reading {Path(path).name}: %p%")
        self.progress_row.show()
        self.status.hide()
        self.open_button.setEnabled(False)
        self.loadingChanged.emit(True)
        reader.start()
        return True

    def is_loading(self) -> bool:
        """True while a CSV is read or prepared in the background."""
        return self._reader is not None or self._preparer is not None

    def cancel_loading(self, wait: bool = False) -> None:
        """Ask the background read or preparation to stop (within one read / between prepare's
        steps); with ``wait`` block until it has."""
        reader, preparer = self._reader, self._preparer
        for job in (reader, preparer):
            if job is not None:
                job.cancel()
        if wait:
            if reader is not None:
                reader.wait()
                self._finish_reader(reader)
            if preparer is not None:
                preparer.wait()
                self._finish_reader(preparer)

    def shutdown(self) -> None:
        """Stop a running read and wait for the thread (call before the window closes)."""
        self.cancel_loading(wait=True)
        if self.import_dialog is not None:
            self.import_dialog.reject()

    def recent_files(self) -> list[str]:
        value = self._qsettings().value(RECENT_KEY, [])
        if value is None:
            return []
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value][:MAX_RECENT]

    def clear_recent_files(self) -> None:
        self._qsettings().setValue(RECENT_KEY, [])
        self.recentFilesChanged.emit()

    @staticmethod
    def accepts_path(path: str) -> bool:
        """True for an existing file with a table-like suffix (for the window's drop handler)."""
        p = str(path)
        if p.startswith("file://"):
            from PySide6.QtCore import QUrl  # noqa: PLC0415

            p = QUrl(p).toLocalFile()
        return os.path.isfile(p) and Path(p).suffix.lower() in TABLE_SUFFIXES

    def set_locked(self, locked: bool) -> None:
        """While training: the dataset can't change."""
        self._locked = bool(locked)
        for w in (self.combo, self.open_button, self.params_widget):
            w.setEnabled(not self._locked)
        if self._reader is not None:
            self.open_button.setEnabled(False)

    def is_locked(self) -> bool:
        return self._locked

    # --- built-ins ----------------------------------------------------------------------------
    def _qsettings(self) -> QSettings:
        return self._settings if self._settings is not None else QSettings()

    def _load_builtin(self, name: str, params: dict[str, Any], *, emit: bool) -> bool:
        if name not in BUILTIN_DATASETS:
            dialogs.show_error(self, "Dataset", f"builtin:{name}: no such built-in dataset")
            return False
        spec = BUILTIN_DATASETS[name]
        full = {
            "n_samples": int(params.get("n_samples", spec.n_samples)),
            "noise": float(params.get("noise", spec.noise)),
            "seed": int(params.get("seed", self._params.get("seed", 0))),
        }
        for key, default in spec.extra.items():
            full[key] = params.get(key, default)
        try:
            gen = {k: v for k, v in full.items() if k != "seed"}
            table = make_builtin(name, seed=full["seed"], **gen)
            options = DatasetOptions(val_fraction=BUILTIN_VAL_FRACTION, seed=full["seed"])
            ds = prepare(table, options)
        except DataError as e:
            dialogs.show_error(self, "Dataset", str(e))
            self._show_params()  # put the spin boxes back to the loaded dataset
            return False
        self._set_current(ds, table, f"builtin:{name}", full, options)
        if emit:
            self.datasetChanged.emit(ds)
        return True

    def _show_params(self) -> None:
        """Show the spin boxes of the current built-in (hidden for CSV files)."""
        is_builtin = self._source.startswith("builtin:")
        self.params_widget.setVisible(is_builtin)
        if not is_builtin:
            return
        spec = BUILTIN_DATASETS[self._source.removeprefix("builtin:")]
        self._quiet += 1
        try:
            self.samples_spin.setValue(int(self._params["n_samples"]))
            self.noise_spin.setValue(float(self._params["noise"]))
            self.data_seed_spin.setValue(int(self._params["seed"]))
            for key, spin in list(self.extra_spins.items()):
                self.params_form.removeRow(spin)
                del self.extra_spins[key]
            for key, default in spec.extra.items():
                value = self._params.get(key, default)
                if isinstance(default, int) and not isinstance(default, bool):
                    spin: QSpinBox | QDoubleSpinBox = QSpinBox()
                    spin.setRange(1, 64)
                    spin.setValue(int(value))
                else:
                    spin = QDoubleSpinBox()
                    spin.setRange(0.0, 100.0)
                    spin.setDecimals(2)
                    spin.setSingleStep(0.25)
                    spin.setValue(float(value))
                spin.setObjectName(f"{key}Spin")
                spin.setKeyboardTracking(False)
                spin.valueChanged.connect(self._on_params_changed)
                self.extra_spins[key] = spin
                self.params_form.addRow(f"{key}:", spin)
        finally:
            self._quiet -= 1

    def _on_params_changed(self, *_: Any) -> None:
        if self._quiet or not self._source.startswith("builtin:"):
            return
        params = {
            "n_samples": self.samples_spin.value(),
            "noise": self.noise_spin.value(),
            "seed": self.data_seed_spin.value(),
        }
        for key, spin in self.extra_spins.items():
            params[key] = spin.value()
        self._load_builtin(self._source.removeprefix("builtin:"), params, emit=True)

    def _on_combo_activated(self, index: int) -> None:
        source = self.combo.itemData(index)
        if self._quiet or not source or source == self._source:
            return
        if source.startswith("builtin:"):
            self._load_builtin(source.removeprefix("builtin:"), {}, emit=True)
        elif source in self._csv:
            table, options = self._csv[source]
            self._prepare_and_set(table, options, source)
            return  # the combo shows the file while it is prepared; a failure puts it back
        self._sync_combo()

    # --- CSV ----------------------------------------------------------------------------------
    def _on_progress(self, percent: int, rows: int) -> None:
        self.progress.setValue(percent)
        self.progress.setFormat(f"reading: %p% ({rows:,} rows)")

    def _finish_reader(self, reader: CsvReader | CsvPreparer) -> None:
        if reader is self._preparer:
            self._preparer = None
        elif reader is self._reader:
            self._reader = None
        else:
            return
        reader.wait()
        reader.deleteLater()
        self.progress_row.hide()
        self.open_button.setEnabled(not self._locked)
        self.loadingChanged.emit(False)

    def _on_failed(self, message: str, cancelled: bool) -> None:
        reader = self.sender()
        if reader is not self._reader:  # a stale signal from a read already waited for
            return
        self._finish_reader(reader)
        if cancelled:
            self._set_status("Loading cancelled; the previous dataset stays.")
        else:
            dialogs.show_error(self, "Could not open the file", message)

    def _on_loaded(self, table: RawTable) -> None:
        reader = self.sender()
        if reader is not self._reader or not isinstance(reader, CsvReader):
            return
        path = reader.path
        self._finish_reader(reader)
        options, self._pending_options = self._pending_options, None
        if options is not None:
            self._prepare_and_set(table, options, path)
            return
        dialog = ImportDialog(table, self, options=self.remembered_options(path, table))
        self.import_dialog = dialog
        dialog.accepted.connect(lambda: self._on_import_accepted(dialog, path))
        dialog.rejected.connect(lambda: self._on_import_closed(dialog))
        dialog.open()

    def _on_import_closed(self, dialog: ImportDialog) -> None:
        if self.import_dialog is dialog:
            self.import_dialog = None
        dialog.deleteLater()

    def _on_import_accepted(self, dialog: ImportDialog, path: str) -> None:
        options = dialog.options()
        table = dialog.table
        self._on_import_closed(dialog)
        self._prepare_and_set(table, options, path)

    def _prepare_and_set(self, table: RawTable, options: DatasetOptions, path: str) -> bool:
        """Start preparing ``table`` in the background; the dataset changes when it is done."""
        self.cancel_loading(wait=True)
        preparer = CsvPreparer(table, options, path)
        preparer.progressed.connect(self._on_prepare_progress)
        preparer.prepared.connect(self._on_prepared)
        preparer.failed.connect(self._on_prepare_failed)
        self._preparer = preparer
        self.progress.setValue(0)
        self.progress.setFormat(f"preparing {Path(path).name}: %p%")
        self.progress_row.show()
        self.status.hide()
        self.open_button.setEnabled(False)
        self.loadingChanged.emit(True)
        preparer.start()
        return True

    def _on_prepare_progress(self, percent: int) -> None:
        if self.sender() is self._preparer:
            self.progress.setValue(percent)

    def _on_prepare_failed(self, message: str, cancelled: bool) -> None:
        preparer = self.sender()
        if preparer is not self._preparer:
            return
        self._finish_reader(preparer)
        self._sync_combo()  # back to the dataset that stays
        if cancelled:
            self._set_status("Preparing cancelled; the previous dataset stays.")
        else:
            dialogs.show_error(self, "Could not prepare the dataset", message)

    def _on_prepared(self, ds: Any) -> None:
        preparer = self.sender()
        if preparer is not self._preparer or not isinstance(preparer, CsvPreparer):
            return
        table, options, path = preparer.table, preparer.options, preparer.path
        self._finish_reader(preparer)
        self._csv[path] = (table, options)
        if self.combo.findData(path) < 0:
            if not self._has_separator:
                self.combo.insertSeparator(self.combo.count())
                self._has_separator = True
            self.combo.addItem(f"{Path(path).name} — CSV", path)
            self.combo.setItemData(self.combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self._set_current(ds, table, path, {}, options)
        self._add_recent(path, options)
        self.status.hide()
        self.datasetChanged.emit(ds)

    def _add_recent(self, path: str, options: DatasetOptions | None = None) -> None:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if os.path.abspath(p) != path]
        files = [path, *files][:MAX_RECENT]
        self._qsettings().setValue(RECENT_KEY, files)
        if options is not None:  # the choices made for this file, for the next time it opens
            saved = {k: v for k, v in self._saved_options().items() if k in files}
            saved[path] = dataclasses.asdict(options)
            self._qsettings().setValue(RECENT_OPTIONS_KEY, json.dumps(saved))
        self.recentFilesChanged.emit()

    def _saved_options(self) -> dict[str, Any]:
        try:
            saved = json.loads(str(self._qsettings().value(RECENT_OPTIONS_KEY, "") or "{}"))
        except ValueError:
            return {}
        return saved if isinstance(saved, dict) else {}

    def remembered_options(self, path: str, table: RawTable | None = None) -> DatasetOptions | None:
        """The import choices last made for ``path`` (None if none, or if they no longer fit
        the file's columns: the dialog then starts from its defaults)."""
        saved = self._saved_options().get(os.path.abspath(path))
        if not isinstance(saved, dict):
            return None
        known = {f.name for f in dataclasses.fields(DatasetOptions)}
        try:
            options = DatasetOptions(**{k: v for k, v in saved.items() if k in known})
        except TypeError:
            return None
        if table is not None:
            names = {c.name for c in table.columns}
            used = [*(options.target or []), *options.drop_columns, *options.categorical]
            if not set(used) <= names:
                return None
        return options

    # --- shared -------------------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _sync_combo(self) -> None:
        i = self.combo.findData(self._source)
        if i >= 0 and i != self.combo.currentIndex():
            self._quiet += 1
            try:
                self.combo.setCurrentIndex(i)
            finally:
                self._quiet -= 1

    def _set_current(
        self, ds: Any, table: RawTable, source: str, params: dict[str, Any], options: DatasetOptions
    ) -> None:
        self._current, self._table, self._source = ds, table, source
        self._params, self._options = dict(params), options
        self._sync_combo()
        self._show_params()
        self.summary.setText(summarize(ds, table, source))
        self.table.set_data(table, ds)
        self._update_table_note()

    def _on_table_toggled(self, on: bool) -> None:
        self.table.setVisible(on)
        self.table_note.setVisible(on)
        self.table_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.table_toggle.setText("Hide rows" if on else "Show rows (pick a sample to inspect)")

    def _update_table_note(self) -> None:
        hidden = self.table.model_.n_hidden_columns()
        more = f" ({hidden} more columns not shown)" if hidden else ""
        self.table_note.setText(f"Select a row: the inspector takes that sample{more}.")


def summarize(ds: Any, table: RawTable | None = None, source: str = "") -> str:
    """Rich-text summary: name, rows and split, features, classes or targets, notes."""
    esc = _esc
    if source.startswith("builtin:"):
        spec = BUILTIN_DATASETS.get(source.removeprefix("builtin:"))
        title = f"<b>{esc(ds.name)}</b> (built-in{': ' + esc(spec.description) if spec else ''})"
    else:
        title = f"<b>{esc(ds.name)}</b> <span style='color:gray'>{esc(source)}</span>"
    n_train, n_val, n_test = len(ds.X_train), len(ds.X_val), len(ds.X_test)
    n_used = n_train + n_val + n_test
    rows = f"{n_used:,} rows: train {n_train:,} · validation {n_val:,}"
    if n_test:
        rows += f" · test {n_test:,}"
    if getattr(ds, "n_dropped", 0):
        rows += f" ({ds.n_dropped:,} dropped)"
    names = list(ds.feature_names)
    shown = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
    lines = [title, rows, f"{ds.n_inputs} input feature(s): {esc(shown)}"]
    if ds.task == "classification" and ds.classes is not None:
        cl = ", ".join(map(str, ds.classes[:10])) + (" …" if len(ds.classes) > 10 else "")
        lines.append(f"classification, {len(ds.classes)} classes: {esc(cl)}")
    else:
        lines.append(
            f"regression, {ds.n_outputs} target(s): {esc(', '.join(map(str, ds.target_names)))}"
        )
    notes = list(getattr(ds, "notes", []) or [])
    if table is not None and not source.startswith("builtin:"):
        notes = list(dict.fromkeys([*table.notes, *notes]))  # reader notes first, no repeats
    for n in notes[:6]:
        lines.append(f"<span style='color:gray'>• {esc(n)}</span>")
    return "<br>".join(lines)


def _esc(s: Any) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
