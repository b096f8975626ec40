"""What the window remembers between sessions, through ``QSettings``.

Window geometry and dock state, the splitters, the selected tab, the last dataset (a built-in with
its parameters, or a CSV with its import options), the network, the training settings, log scales
and the theme. :func:`restore` reads them into a window, :func:`save` writes them; a stale or
broken value is skipped, never an error.

Leaves out: runs and their histories (those belong to a project file, :mod:`bpstudio.session`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from bpstudio.data import DatasetOptions
from bpstudio.ui import theme

ORGANIZATION = "Backprop Studio"
APPLICATION = "bpstudio"


def default_settings() -> QSettings:
    app = QApplication.instance()
    if app is not None and app.organizationName():
        return QSettings()
    return QSettings(ORGANIZATION, APPLICATION)


def read_json(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _splitters(w: Any) -> tuple[tuple[str, Any], ...]:
    return (("main", w.main_splitter), ("plots", w.plot_splitter), ("top", w.top_splitter))


def restore(w: Any, s: QSettings) -> Any:
    """Restore the window's layout and panels; returns the saved network spec (a dict or None),
    applied once the dataset has set the network's inputs and outputs."""
    geo = s.value("window/geometry")
    if isinstance(geo, QByteArray | bytes) and geo:
        w.restoreGeometry(geo)
    state = s.value("window/state")
    if isinstance(state, QByteArray | bytes) and state:
        w.restoreState(state)
    for key, sp in _splitters(w):
        val = s.value(f"splitters/{key}")
        if isinstance(val, QByteArray | bytes) and val:
            sp.restoreState(val)
    training = read_json(s.value("training/settings"))
    if isinstance(training, dict):
        w.training_panel.apply_settings(training)
    w.loss_plot.set_log_y(str(s.value("view/logLoss", "false")).lower() == "true")
    w.grad_plot.set_log_y(str(s.value("view/logGrad", "true")).lower() == "true")
    tab = s.value("view/tab")
    if isinstance(tab, str):
        w.set_current_tab(tab)
    return read_json(s.value("network/spec"))


def saved_dataset_params(s: QSettings) -> Any:
    return read_json(s.value("dataset/params"))


def saved_csv_options(s: QSettings) -> DatasetOptions | None:
    saved = read_json(s.value("dataset/options"))
    if not isinstance(saved, dict):
        return None
    known = {f.name for f in dataclasses.fields(DatasetOptions)}
    try:
        return DatasetOptions(**{k: v for k, v in saved.items() if k in known})
    except TypeError:
        return None


def save(w: Any, s: QSettings) -> None:
    s.setValue("window/geometry", w.saveGeometry())
    s.setValue("window/state", w.saveState())
    for key, sp in _splitters(w):
        s.setValue(f"splitters/{key}", sp.saveState())
    s.setValue("view/tab", w.current_tab())
    source = w.dataset_panel.current_source()
    if source.startswith("builtin:"):
        s.setValue("dataset/last", source)
        s.setValue("dataset/params", json.dumps(w.dataset_panel.current_params()))
    elif source and w.dataset_panel.current_options() is not None:
        s.setValue("dataset/last", source)
        options = dataclasses.asdict(w.dataset_panel.current_options())
        s.setValue("dataset/options", json.dumps(options))
    s.setValue("network/spec", json.dumps(w.network_editor.spec().to_dict()))
    s.setValue("training/settings", json.dumps(w.training_panel.settings()))
    s.setValue("view/logLoss", "true" if w.loss_plot.log_y() else "false")
    s.setValue("view/logGrad", "true" if w.grad_plot.log_y() else "false")
    s.setValue("view/theme", theme.current_mode())
    s.sync()


def recent_projects(s: QSettings) -> list[str]:
    value = read_json(s.value("project/recent"))
    return [str(p) for p in value if isinstance(p, str)] if isinstance(value, list) else []


def remember_project(s: QSettings, path: str, limit: int = 8) -> list[str]:
    files = [path, *(p for p in recent_projects(s) if p != path)][:limit]
    s.setValue("project/recent", json.dumps(files))
    return files


def apply_initial_dataset(w: Any, source: str | None, *, restored: bool = False) -> None:
    """Open the dataset given on the command line, or the one of the last session: a
    built-in with its parameters, or a CSV file with the import options chosen then (no
    dialog; a file that has gone away is skipped)."""
    panel = w.dataset_panel
    params = saved_dataset_params(w._settings) if source else None
    if source and source.startswith("builtin:") and isinstance(params, dict) and params:
        # a stale setting must not stop the window opening
        with contextlib.suppress(Exception):
            panel.select_builtin(source, **params)
    ds = panel.current()
    if ds is not None and ds is not w._dataset:
        w._on_dataset_changed(ds)
    if source and not source.startswith("builtin:") and panel.accepts_path(source):
        options = saved_csv_options(w._settings) if restored else None
        if restored and (options is None or not os.path.isfile(source)):
            return
        QTimer.singleShot(0, lambda: panel.open_csv(source, options=options))


__all__ = [
    "apply_initial_dataset",
    "default_settings",
    "read_json",
    "recent_projects",
    "remember_project",
    "restore",
    "save",
    "saved_csv_options",
    "saved_dataset_params",
]
