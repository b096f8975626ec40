"""Undo / redo: every edit of the network, the training settings and the dataset choice, and
deleting runs, as ``QUndoCommand``s on one ``QUndoStack``.

The panels stay the editors: when one reports a change, :class:`UndoRecorder` compares the new
state with the last one it saw and pushes a command holding both (the change is already applied,
so the first ``redo`` does nothing). Undoing puts the old state back through the panel's own
setter, while the recorder is muted so that this does not record a new edit. Consecutive edits of
the same setting (typing α digit by digit, a spin box held down) merge into one command.

Each command is named for what it does ("add layer", "change α", "delete run 2"), so the Edit
menu reads "Undo add layer".

Leaves out: undoing training itself (a run's history is a record, not an edit), view state
(zoom, selected tab).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

SETTING_NAMES = {
    "optimizer": "optimiser",
    "lr": "α",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "beta1": "β₁",
    "beta2": "β₂",
    "batch_size": "batch size",
    "epochs": "epochs",
    "until_stopped": "train until stopped",
    "weight_decay": "L2",
    "schedule": "α schedule",
    "step_size": "schedule step",
    "gamma": "schedule γ",
    "early_stopping": "early stopping",
    "patience": "patience",
}
_IDS = {"network": 1, "settings": 2, "dataset": 3}


def describe_spec_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A few words for a change of the network spec (``NetworkSpec.to_dict``)."""
    oh, nh = list(old.get("hidden", [])), list(new.get("hidden", []))
    if len(nh) > len(oh):
        return "add layer"
    if len(nh) < len(oh):
        return "remove layer"
    if sorted(oh) == sorted(nh) and oh != nh:
        return "move layer"
    if oh != nh:
        return "change layer size"
    if old.get("activations") != new.get("activations"):
        return "change activation"
    for key, words in (("output", "output"), ("loss", "loss"), ("init", "initialiser")):
        if old.get(key) != new.get(key):
            return f"change {words}"
    if old.get("seed") != new.get("seed"):
        return "change seed"
    return "edit network"


def describe_settings_change(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, str]:
    """(text, key) for a change of the training settings; key is the first changed setting."""
    changed = [k for k in new if old.get(k) != new.get(k)]
    if not changed:
        return "change settings", ""
    key = changed[0]
    if len(changed) > 1:
        return "change training settings", "+".join(changed)
    return f"change {SETTING_NAMES.get(key, key)}", key


class AppliedCommand(QUndoCommand):
    """A command pushed after its change was made (the push's own ``redo`` does nothing): later
    redos set ``after`` and undos ``before`` through :meth:`apply_value`; a later command of the
    same type merges into it when :meth:`can_merge` says so (one step for a drag or a typing run).
    """

    def __init__(self, text: str, before: Any, after: Any) -> None:
        super().__init__(text)
        self.before, self.after = before, after
        self._applied = True

    def apply_value(self, value: Any, how: str) -> None:  # how: "redo" | "undo"
        raise NotImplementedError

    def can_merge(self, other: AppliedCommand) -> bool:
        return False

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if type(other) is not type(self) or not self.can_merge(other):  # type: ignore[arg-type]
            return False
        self.after = other.after  # type: ignore[attr-defined]
        return True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.apply_value(self.after, "redo")

    def undo(self) -> None:
        self.apply_value(self.before, "undo")


class StateCommand(AppliedCommand):
    """Switch one piece of state between ``before`` and ``after`` through ``apply``."""

    def __init__(
        self,
        kind: str,
        text: str,
        before: Any,
        after: Any,
        apply: Callable[[Any], None],
        merge_key: str = "",
    ) -> None:
        super().__init__(text, before, after)  # pushed after the panel made the change
        self.kind, self.apply = kind, apply
        self.merge_key = merge_key

    def id(self) -> int:
        return _IDS.get(self.kind, -1) if self.merge_key else -1

    def can_merge(self, other: AppliedCommand) -> bool:
        return other.merge_key == self.merge_key  # type: ignore[attr-defined]

    def apply_value(self, value: Any, how: str) -> None:
        self.apply(value)


class DeleteRunsCommand(QUndoCommand):
    """Delete runs from the session (by object); undo puts them back where they were."""

    def __init__(self, owner: Any, runs: list[Any], text: str) -> None:
        super().__init__(text)
        self.owner = owner  # has remove_runs(runs) -> positions and insert_runs(placed)
        self.runs = list(runs)
        self.positions: list[int] = []

    def redo(self) -> None:
        self.positions = self.owner.remove_runs(self.runs)

    def undo(self) -> None:
        self.owner.insert_runs(list(zip(self.positions, self.runs, strict=True)))


class UndoRecorder:
    """Watches the panels and pushes a :class:`StateCommand` for each edit."""

    def __init__(self, stack: QUndoStack) -> None:
        self.stack = stack
        self._last: dict[str, Any] = {}
        self._getters: dict[str, Callable[[], Any]] = {}
        self._setters: dict[str, Callable[[Any], None]] = {}
        self.muted = 0

    def watch(self, kind: str, get: Callable[[], Any], set_: Callable[[Any], None]) -> None:
        self._getters[kind], self._setters[kind] = get, set_
        self._last[kind] = get()

    def resync(self, kind: str | None = None) -> None:
        """Take the current state as the base without recording an edit (a project opened,
        the dataset fixed the network's inputs)."""
        for k in [kind] if kind else list(self._getters):
            self._last[k] = self._getters[k]()

    def changed(self, kind: str) -> None:
        """A panel says it changed: record the edit, if it is one."""
        if self.muted or kind not in self._getters:
            return
        new = self._getters[kind]()
        old = self._last.get(kind)
        if new == old:
            return
        self._last[kind] = new
        merge = ""
        if kind == "network":
            text = describe_spec_change(old or {}, new)
        elif kind == "settings":
            text, merge = describe_settings_change(old or {}, new)
        else:
            text = "change dataset"
        self.stack.push(StateCommand(kind, text, old, new, self._applier(kind), merge))

    def _applier(self, kind: str) -> Callable[[Any], None]:
        def apply(value: Any) -> None:
            self.muted += 1
            try:
                self._setters[kind](value)
            finally:
                self.muted -= 1
            # a CSV loads in the background: its change arrives later and must match this
            self._last[kind] = value if kind == "dataset" else self._getters[kind]()

        return apply


class UndoKeyFilter(QObject):
    """Ctrl+Z / Ctrl+Shift+Z reach Edit → Undo / Redo from a focused field that has nothing of
    its own to undo. A spin box or line edit claims those keys for its text (so, right after
    Add layer, which focuses the new row's size, Ctrl+Z did nothing visible); typed text is still
    undone by the field first.

    It watches only the field that has the focus (installed on it as the focus moves): a filter
    on the whole application would see every event of every widget — paints, timers, moves —
    and each one crossing into Python cost the window time on long runs."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self._on: QObject | None = None  # the field the filter is installed on
        self._app: QApplication | None = None  # whose focus it follows

    def follow_focus(self, _old: Any, new: Any) -> None:
        """``QApplication.focusChanged``: watch the newly focused field, if it is one."""
        self.detach()
        if isinstance(new, QLineEdit | QAbstractSpinBox) and self.window.isAncestorOf(new):
            new.installEventFilter(self)
            self._on = new
            new.destroyed.connect(self._forget)

    def _forget(self, *_: Any) -> None:
        self._on = None

    def watch(self, app: QApplication) -> None:
        """Follow the application's focus from now on (until :meth:`close`)."""
        self._app = app
        app.focusChanged.connect(self.follow_focus)
        self.follow_focus(None, app.focusWidget())

    def close(self) -> None:
        """Stop following the focus (the window closes). Idempotent."""
        app, self._app = self._app, None
        if app is not None:
            app.focusChanged.disconnect(self.follow_focus)
        self.detach()

    def detach(self) -> None:
        if self._on is not None:
            with contextlib.suppress(RuntimeError):  # the widget is being deleted
                self._on.removeEventFilter(self)
                self._on.destroyed.disconnect(self._forget)
            self._on = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        redo = event.matches(QKeySequence.StandardKey.Redo) or (
            event.key() == Qt.Key.Key_Z and event.modifiers() == ctrl_shift
        )
        if not (redo or event.matches(QKeySequence.StandardKey.Undo)):
            return False
        edit = obj.lineEdit() if isinstance(obj, QAbstractSpinBox) else obj
        if not isinstance(edit, QLineEdit) or not self.window.isAncestorOf(edit):
            return False
        own = edit.isRedoAvailable() if redo else edit.isUndoAvailable()
        return not own  # filtered, not accepted: the window's shortcut runs


def build_undo(window: Any) -> tuple[QUndoStack, UndoRecorder]:
    """The window's undo stack, the recorder watching its panels, and Edit → Undo / Redo
    (``actionUndo`` Ctrl+Z, ``actionRedo`` Ctrl+Shift+Z; their text names the edit)."""
    from PySide6.QtGui import QAction

    from bpstudio.data import DatasetOptions
    from bpstudio.engine.spec import NetworkSpec

    panel = window.dataset_panel

    def dataset_choice() -> tuple[str, dict[str, Any]]:
        source = panel.current_source()
        if source.startswith("builtin:"):
            return source, dict(panel.current_params())
        options = panel.current_options()
        return source, (dataclasses.asdict(options) if options is not None else {})

    def set_dataset_choice(choice: tuple[str, dict[str, Any]]) -> None:
        source, params = choice
        if source.startswith("builtin:"):
            panel.select_builtin(source, **params)
        elif source:
            panel.open_csv(source, options=DatasetOptions(**params))

    stack = QUndoStack(window)
    stack.setObjectName("undoStack")
    recorder = UndoRecorder(stack)
    editor, training = window.network_editor, window.training_panel
    recorder.watch(
        "network",
        lambda: editor.spec().to_dict(),
        lambda d: editor.set_spec(NetworkSpec.from_dict(d)),
    )
    recorder.watch("settings", training.settings, training.apply_settings)
    recorder.watch("dataset", dataset_choice, set_dataset_choice)
    undo, redo = QAction("&Undo", window), QAction("&Redo", window)
    undo.setObjectName("actionUndo")
    undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
    redo.setObjectName("actionRedo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for act, slot in ((undo, window.undo), (redo, window.redo)):
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _=False, f=slot: f())
        window.addAction(act)
    window.action_undo, window.action_redo = undo, redo
    window.undo_key_filter = UndoKeyFilter(window)
    app = QApplication.instance()
    if app is not None:
        window.undo_key_filter.watch(app)
    return stack, recorder


__all__ = [
    "UndoKeyFilter",
    "build_undo",
    "DeleteRunsCommand",
    "StateCommand",
    "UndoRecorder",
    "describe_settings_change",
    "describe_spec_change",
]
