"""Lessons in the window: the Lessons menu, the lesson dock, presets, hidden controls and facts.

:class:`LessonRunner` builds the **Lessons** menu (``lessonsMenu``): every bundled lesson
(:func:`bpstudio.session.lessons.bundled_lessons`) and "Open lesson file…" (the path asked
through :mod:`bpstudio.ui.dialogs`; a bad file is a dialog naming what is wrong). Starting a lesson
applies its preset — the built-in dataset with its parameters (``DatasetPanel.select_builtin``),
the network spec, the training settings over the current ones, the tab — as one baseline (not
as undoable edits), hides the controls its ``hide`` list names by objectName (with their form
labels) until the lesson closes, and shows the :class:`~bpstudio.ui.lesson_panel.LessonPanel`
(``lessonPanel``) in a dock (``lessonDock``).

:meth:`facts` computes every fact in :data:`bpstudio.session.lessons.FACTS` from the window; the
window calls :meth:`refresh` on each event a condition may ask about (a run ended, the network
or a setting edited, a tab changed, steps trained) and the panel moves on by itself.

Leaves out: writing lessons (they are plain files), and checking the facts' wording (the panel).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFormLayout, QMenu, QWidget

from bpstudio.session.lessons import FACTS, Lesson, LessonError, bundled_lessons, load_lesson
from bpstudio.ui import dialogs
from bpstudio.ui.lesson_panel import LessonPanel


class LessonRunner:
    """The window's lessons: menu, dock, preset, hidden controls, facts."""

    def __init__(self, window: Any) -> None:
        self.w = window
        self.lesson: Lesson | None = None
        self.runs_finished = 0  # since the lesson started
        self.last: dict[str, Any] = {}  # the last run's outcome facts
        self._hidden: list[QWidget] = []
        self.panel = LessonPanel()
        self.panel.closed.connect(self.close)
        self.dock = QDockWidget("Lesson", window)
        self.dock.setObjectName("lessonDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        try:
            self.bundled = bundled_lessons()
        except LessonError:  # a broken install: the menu still opens files
            self.bundled = []
        self.menu = QMenu("&Lessons", window)
        self.menu.setObjectName("lessonsMenu")
        self.actions: list[QAction] = []
        for i, lesson in enumerate(self.bundled):
            act = self.menu.addAction(f"&{i + 1} {lesson.title}")
            act.setObjectName(f"actionLesson{i + 1}")
            act.setToolTip(lesson.summary)
            act.triggered.connect(lambda _=False, les=lesson: self.start(les))
            self.actions.append(act)
        self.menu.addSeparator()
        self.open_action = self.menu.addAction("&Open lesson file…")
        self.open_action.setObjectName("actionOpenLesson")
        self.open_action.setToolTip("A lesson written as Markdown with a TOML preset")
        self.open_action.triggered.connect(lambda *_: self.open_file())

    # ------------------------------------------------------------------ starting and closing
    def open_file(self, path: str | None = None) -> bool:
        if path is None:
            path = dialogs.get_open_lesson_path(self.w)
            if not path:
                return False
        try:
            lesson = load_lesson(path)
        except LessonError as exc:
            dialogs.show_error(self.w, "Lesson", str(exc))
            return False
        return self.start(lesson)

    def start(self, lesson: Lesson) -> bool:
        """Apply ``lesson``'s preset, hide its controls, show its first step."""
        w = self.w
        if w.runs.busy():
            dialogs.show_info(w, "Lesson", "Stop the training first, then start the lesson.")
            return False
        if self.lesson is not None:
            self._show_hidden()
        if not self._apply_preset(lesson):
            return False
        self.lesson = lesson
        self.runs_finished = 0
        self.last = {}
        self._hide_controls(lesson.hide)
        self.dock.setWindowTitle(f"Lesson: {lesson.title}")
        self.dock.show()
        self.dock.raise_()
        w.resizeDocks([self.dock], [320], Qt.Orientation.Horizontal)
        self.panel.set_lesson(lesson, self.facts())
        w.statusBar().showMessage(f"Lesson: {lesson.title}", 5000)
        return True

    def close(self) -> None:
        """The lesson ends: the controls it hid come back."""
        self._show_hidden()
        self.lesson = None
        self.dock.hide()

    def _apply_preset(self, lesson: Lesson) -> bool:
        w = self.w
        rec = w.undo_recorder
        rec.muted += 1  # the preset is where the lesson starts, not an edit to undo
        try:
            if lesson.dataset_source is not None:
                name = lesson.dataset_source.removeprefix("builtin:")
                if not w.dataset_panel.select_builtin(name, **lesson.dataset_params):
                    return False  # the panel said why
            if lesson.network:
                spec = {**w.network_editor.spec().to_dict(), **lesson.network}
                w.network_editor.set_spec(spec)
            if lesson.training:
                values = {**w.training_panel.settings(), **lesson.training}
                if "epochs" in lesson.training:
                    values["until_stopped"] = False  # the lesson's epochs, not "until stopped"
                w.training_panel.apply_settings(values)
        finally:
            rec.muted -= 1
        rec.resync()
        if lesson.tab:
            w.set_current_tab(lesson.tab)
        return True

    def _hide_controls(self, names: tuple[str, ...]) -> None:
        self._hidden = []
        for name in names:
            widget = self.w.findChild(QWidget, name)
            if widget is None:
                continue  # a name this version does not have: nothing to hide
            self._hidden.append(widget)
        self.keep_hidden()

    def keep_hidden(self) -> None:
        """Hide the lesson's controls (again: a panel may show a control when a setting
        changes)."""
        for widget in self._hidden:
            for part in (widget, _form_label(widget)):
                if part is not None and not part.isHidden():
                    part.hide()

    def _show_hidden(self) -> None:
        for widget in self._hidden:
            for part in (widget, _form_label(widget)):
                if part is not None:
                    part.show()
        self._hidden = []
        tp = self.w.training_panel
        if hasattr(tp, "_update_visibility"):
            tp._update_visibility()  # controls that depend on a setting follow it again

    # ------------------------------------------------------------------ facts
    def on_run_finished(self, stop_reason: str, run: Any, loss_rose: bool) -> None:
        self.runs_finished += 1
        self.last = {
            "last_stop_reason": str(stop_reason),
            "last_train_loss": run.final("train_loss") if run is not None else None,
            "last_val_loss": run.final("val_loss") if run is not None else None,
            "last_val_accuracy": run.final("val_accuracy") if run is not None else None,
            "last_loss_rose": bool(loss_rose),
        }

    def facts(self) -> dict[str, Any]:
        """Every fact in ``FACTS``, as the window stands now."""
        w = self.w
        spec = w.network_editor.spec()
        acts = set(spec.activations)
        fit = w.training_panel.fit_config()
        ds = w.dataset
        facts: dict[str, Any] = {
            "runs": self.runs_finished,
            "hidden_layers": len(spec.hidden),
            "hidden_units": int(spec.hidden[0]) if spec.hidden else 0,
            "activation": acts.pop() if len(acts) == 1 else ("mixed" if acts else "none"),
            "output": spec.output,
            "loss": spec.loss,
            "init": spec.init,
            "lr": float(w.training_panel.learning_rate()),
            "optimizer": fit["optimizer"],
            "batch_size": int(fit["batch_size"]),
            "early_stopping": fit["patience"] is not None,
            "dataset": getattr(ds, "name", None),
            "tab": w.current_tab(),
            "epochs_trained": int(w.runs.epoch_offset),
            "steps_trained": int(
                max(w.runs.steps_done, w.last_step_seen) if w.runs.busy() else w.runs.steps_done
            ),
            "last_stop_reason": None,
            "last_train_loss": None,
            "last_val_loss": None,
            "last_val_accuracy": None,
            "last_loss_rose": None,
        }
        facts.update(self.last)
        # every name in FACTS has a line above (a test holds them equal); a fact missing here
        # would only keep its condition from holding
        return {k: v for k, v in facts.items() if k in FACTS}

    def refresh(self, *_: Any) -> None:
        """Something a condition may ask about changed: tell the panel."""
        if self.lesson is None:
            return
        self.keep_hidden()
        self.panel.update_facts(self.facts())


def _form_label(widget: QWidget) -> QWidget | None:
    """The label a QFormLayout shows beside ``widget``, if any."""
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    if isinstance(layout, QFormLayout):
        return layout.labelForField(widget)
    return None


__all__ = ["LessonRunner"]
