"""The window's action table: every menu and toolbar command, its shortcut and its tip.

``ACTIONS`` lists each command as an :class:`ActionSpec` (attribute name on the window, Qt
objectName that tests and automation use, text, the window method it calls, shortcuts, tip);
``MENUS`` and ``TOOLBAR`` say where they appear. :func:`build_actions` creates the ``QAction``s on
a window and :func:`build_menus` the menu bar and toolbar. The help dialog's shortcut list is
generated from the same table (:func:`shortcut_rows`), so the two cannot drift.

Leaves out: checkable view toggles bound to a plot (log scales, theme), which the window wires
itself because they follow a widget's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

K = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    attr: str  # the window attribute holding the QAction
    name: str  # objectName
    text: str
    slot: str  # the window method it calls
    shortcuts: tuple[Any, ...] = ()
    tip: str = ""
    help: str = ""  # the shortcut list's wording (empty: not listed)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "action_open_any",
        "actionOpen",
        "&Open…",
        "open_file",
        (K.Open,),
        "Open a project (.bpstudio), a model file (.npz, .json, .safetensors) or a CSV table "
        "(Ctrl+O)",
        "Open a project, a model or a CSV…",
    ),
    ActionSpec(
        "action_open_project",
        "actionOpenProject",
        "Open &project…",
        "open_project",
        (),
        "Open a saved project (.bpstudio)",
    ),
    ActionSpec(
        "action_save_project",
        "actionSaveProject",
        "&Save project",
        "save_project",
        (K.Save,),
        "Save the runs, the dataset reference and the views (Ctrl+S)",
        "Save project",
    ),
    ActionSpec(
        "action_save_project_as",
        "actionSaveProjectAs",
        "Save project &as…",
        "save_project_as",
        ("Ctrl+Shift+S",),
        "Save the project under a new name (Ctrl+Shift+S)",
        "Save project as…",
    ),
    ActionSpec(
        "action_open",
        "actionOpenCsv",
        "Open &CSV…",
        "open_csv",
        (),
        "Open a CSV table through the import dialog",
    ),
    ActionSpec(
        "action_export",
        "actionExport",
        "&Export weights…",
        "export_weights",
        ("Ctrl+E",),
        "Save the trained network and its preprocessing (Ctrl+E)",
        "Export weights…",
    ),
    ActionSpec(
        "action_export_pytorch",
        "actionExportPyTorch",
        "Export &PyTorch code…",
        "export_pytorch",
        (),
        "Write the network as a torch.nn.Module (model.py) with its weights beside it",
    ),
    ActionSpec(
        "action_export_history",
        "actionExportHistory",
        "Export &history…",
        "export_history",
        (),
        "The per-epoch history of the selected runs as CSV (long format)",
    ),
    ActionSpec(
        "action_predict",
        "actionPredictCsv",
        "&Predict on CSV…",
        "predict_csv",
        (),
        "Run the selected run's network on a CSV table and save its predictions",
    ),
    ActionSpec("action_quit", "actionQuit", "&Quit", "close", ("Ctrl+Q",), "", "Quit"),
    # Space is a window shortcut: a focused spin box or line edit accepts the ShortcutOverride
    # for a printable key, so typing a space there never starts training.
    ActionSpec(
        "action_train",
        "actionTrain",
        "&Train",
        "toggle_training",
        ("Space", "F5", "Ctrl+Return"),
        "Train / pause (Space, F5, Ctrl+Return)",
        "Train / pause / resume",
    ),
    ActionSpec(
        "action_step",
        "actionStep",
        "&Step",
        "step",
        ("Ctrl+Right",),
        "Train one mini-batch (Ctrl+→)",
        "Step one mini-batch",
    ),
    ActionSpec(
        "action_step_epoch",
        "actionStepEpoch",
        "Step &epoch",
        "step_epoch",
        ("Ctrl+Shift+Right",),
        "Train to the end of the epoch (Ctrl+Shift+→)",
        "Step one epoch",
    ),
    ActionSpec(
        "action_stop", "actionStop", "St&op", "stop", ("Ctrl+.",), "End the run (Ctrl+.)", "Stop"
    ),
    ActionSpec(
        "action_reset",
        "actionReset",
        "&Reset weights",
        "reset_weights",
        ("Ctrl+R",),
        "Re-initialise the network: the next training is a new run (Ctrl+R)",
        "Reset weights",
    ),
    ActionSpec(
        "action_delete_run",
        "actionDeleteRun",
        "&Delete run",
        "delete_selected_runs",
        (),
        "Delete the runs selected in the Runs panel (Delete there)",
    ),
    ActionSpec(
        "action_reset_views",
        "actionResetViews",
        "Reset plot &views",
        "reset_plot_views",
        ("Ctrl+0",),
        "",
        "Reset plot views",
    ),
    ActionSpec("action_shortcuts", "actionShortcuts", "&Keyboard shortcuts", "show_shortcuts"),
    ActionSpec("action_about", "actionAbout", "&About Backprop Studio", "show_about"),
)

# menu title → action attributes (None: a separator; "recent_menu" etc.: a submenu attribute);
# a plain string is the attribute of a menu built elsewhere (the lessons' menu)
MENUS: tuple[tuple[str, tuple[str | None, ...]] | str, ...] = (
    (
        "&File",
        (
            "action_open_any",
            "recent_projects_menu",
            "action_open_project",
            "action_open",
            "recent_menu",
            None,
            "action_save_project",
            "action_save_project_as",
            "action_embed_csv",
            None,
            "action_export",
            "action_export_pytorch",
            "action_export_history",
            "action_predict",
            None,
            "action_quit",
        ),
    ),
    ("&Edit", ("action_undo", "action_redo", None, "action_delete_run")),
    (
        "&Training",
        ("action_train", "action_step", "action_step_epoch", "action_stop", "action_reset"),
    ),
    (
        "&View",
        (
            "theme_menu",
            None,
            "action_log_loss",
            "action_log_grad",
            "action_x_epochs",
            "action_reset_views",
            None,
            "runs_dock_action",
        ),
    ),
    "lessons_menu",
    ("&Help", ("action_shortcuts", "action_about")),
)

TOOLBAR: tuple[str | None, ...] = (
    "action_open_any",
    "action_save_project",
    "action_export",
    None,
    "action_train",
    "action_step",
    "action_step_epoch",
    "action_stop",
    None,
    "action_reset",
)

MOUSE_HELP = ("Mouse on a plot", "Drag to pan, wheel to zoom, right-click for log-y / save image")


def build_actions(window: Any) -> None:
    """Create every ``QAction`` of :data:`ACTIONS` on ``window`` (as attributes)."""
    for spec in ACTIONS:
        act = QAction(spec.text, window)
        act.setObjectName(spec.name)
        if spec.shortcuts:
            act.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if spec.tip:
            act.setToolTip(spec.tip)
            act.setStatusTip(spec.tip)
        slot = getattr(window, spec.slot)
        act.triggered.connect(lambda _checked=False, f=slot: f())
        window.addAction(act)
        setattr(window, spec.attr, act)


def build_menus(window: Any) -> None:
    """The menu bar and the toolbar from :data:`MENUS` and :data:`TOOLBAR`."""
    mb = window.menuBar()
    for entry in MENUS:
        if isinstance(entry, str):
            ready = getattr(window, entry, None)
            if ready is not None:
                mb.addMenu(ready)
            continue
        title, items = entry
        menu = mb.addMenu(title)
        menu.setObjectName(title.replace("&", "").lower() + "Menu")
        for attr in items:
            if attr is None:
                menu.addSeparator()
                continue
            item = getattr(window, attr, None)
            if item is None:
                continue
            if isinstance(item, QAction):
                menu.addAction(item)
            else:
                menu.addMenu(item)
    tb = window.addToolBar("Main")
    tb.setObjectName("mainToolBar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for attr in TOOLBAR:
        if attr is None:
            tb.addSeparator()
        elif getattr(window, attr, None) is not None:
            tb.addAction(getattr(window, attr))


def shortcut_rows(window: Any) -> list[tuple[str, str]]:
    """(keys, what) for the help dialog, read from the actions as they are now."""
    rows = []
    for spec in ACTIONS:
        act = getattr(window, spec.attr, None)
        if act is None or not spec.help or not act.shortcuts():
            continue
        keys = ", ".join(
            s.toString(QKeySequence.SequenceFormat.NativeText) for s in act.shortcuts()
        )
        rows.append((keys, spec.help))
    for attr, what in (("action_undo", "Undo"), ("action_redo", "Redo")):
        act = getattr(window, attr, None)
        if act is not None and act.shortcuts():
            rows.append((act.shortcut().toString(QKeySequence.SequenceFormat.NativeText), what))
    rows.append(MOUSE_HELP)
    return rows


__all__ = [
    "ACTIONS",
    "MENUS",
    "TOOLBAR",
    "ActionSpec",
    "build_actions",
    "build_menus",
    "shortcut_rows",
]
