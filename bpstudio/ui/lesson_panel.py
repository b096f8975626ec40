"""The lesson side panel: one step of a guided experiment at a time.

``LessonPanel`` (``lessonPanel``) shows a :class:`~bpstudio.session.lessons.Lesson`: its title,
"Step i of n", the step's text (Markdown) and what it waits for. The window calls
``update_facts(facts)`` whenever something a condition may ask about changes (a run ended, the
network or a setting was edited, a tab opened); when the current step's condition holds the panel
ticks it and moves on to the next step by itself. Back and Next always work, so a person can
re-read a step or skip ahead. ``closed`` is emitted when the person closes the lesson (the window
then shows the controls the lesson hid).

Leaves out: applying the lesson's preset (the window does that: it owns the dataset, network and
training panels) and any timer — nothing here runs on its own.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from bpstudio.session.lessons import FACTS, Clause, Lesson

_OP_TEXT = {"==": "is", "!=": "is not", ">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def describe_condition(clauses: tuple[Clause, ...]) -> str:
    """Plain words for a step's condition, e.g. 'runs finished since the lesson started ≥ 1'."""
    parts = []
    for c in clauses:
        what = FACTS.get(c.fact, c.fact)
        if c.op == "changed":
            parts.append(f"{what} changes")
            continue
        value = c.value
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        parts.append(f"{what} {_OP_TEXT[c.op]} {value}")
    return "; ".join(parts)


class LessonPanel(QWidget):
    """Shows a lesson's steps and advances them as the person does what they say."""

    stepChanged = Signal(int)
    lessonCompleted = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.lesson: Lesson | None = None
        self.index = 0
        self._done: list[bool] = []
        self._facts: dict[str, Any] = {}
        self._start: dict[str, Any] = {}

        self.title_label = QLabel()
        self.title_label.setObjectName("lessonTitle")
        self.title_label.setWordWrap(True)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("lessonProgress")
        self.text = QTextBrowser()
        self.text.setObjectName("lessonText")
        self.text.setOpenExternalLinks(False)
        self.waiting_label = QLabel()
        self.waiting_label.setObjectName("lessonWaiting")
        self.waiting_label.setWordWrap(True)
        self.back_button = QPushButton("◀ Back")
        self.back_button.setObjectName("lessonBackButton")
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("lessonNextButton")
        self.next_button.clicked.connect(self.next)
        self.close_button = QPushButton("Close lesson")
        self.close_button.setObjectName("lessonCloseButton")
        self.close_button.clicked.connect(self._on_close)

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title_label)
        lay.addWidget(self.progress_label)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.waiting_label)
        lay.addLayout(buttons)
        self.setMinimumWidth(300)

    # --- lesson ------------------------------------------------------------------------------
    def set_lesson(self, lesson: Lesson, facts: dict[str, Any] | None = None) -> None:
        self.lesson = lesson
        self._done = [False] * len(lesson.steps)
        self._facts = dict(facts or {})
        self.title_label.setText(f"<b>{_escape(lesson.title)}</b>")
        self.title_label.setToolTip(lesson.summary)
        self._go(0)

    def completed(self) -> bool:
        return bool(self._done) and all(self._done)

    def step_done(self, index: int | None = None) -> bool:
        i = self.index if index is None else index
        return 0 <= i < len(self._done) and self._done[i]

    def update_facts(self, facts: dict[str, Any]) -> None:
        """New facts from the window: tick the current step when its condition holds, then go
        on (several steps at once when their conditions already hold)."""
        self._facts = dict(facts)
        if self.lesson is None:
            return
        while True:
            step = self.lesson.steps[self.index]
            if self._done[self.index] or not step.done(self._facts, self._start):
                break
            self._done[self.index] = True
            if self.index + 1 < len(self.lesson.steps):
                self._go(self.index + 1)
            else:
                self._render()
                self.lessonCompleted.emit()
                break

    def next(self) -> None:
        if self.lesson is not None and self.index + 1 < len(self.lesson.steps):
            if not self.lesson.steps[self.index].when:
                self._done[self.index] = True  # a reading step is done when you move on
            self._go(self.index + 1)

    def back(self) -> None:
        if self.lesson is not None and self.index > 0:
            self._go(self.index - 1)

    # --- drawing -----------------------------------------------------------------------------
    def _go(self, index: int) -> None:
        self.index = index
        self._start = dict(self._facts)  # 'changed FACT' compares with the facts as of now
        self._render()
        self.stepChanged.emit(index)

    def _render(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        step = lesson.steps[self.index]
        n = len(lesson.steps)
        self.progress_label.setText(f"Step {self.index + 1} of {n}: <b>{_escape(step.title)}</b>")
        self.text.setMarkdown(step.text)
        if self._done[self.index]:
            last = self.index == n - 1
            self.waiting_label.setText("✓ Lesson complete." if last else "✓ Done.")
        elif step.when:
            self.waiting_label.setText(f"Next step when: {describe_condition(step.when)}.")
        else:
            self.waiting_label.setText("Read, then press Next.")
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index + 1 < n)

    def _on_close(self) -> None:
        self.lesson = None
        self.closed.emit()


def _escape(text: str) -> str:
    return re.sub(r"[&<>]", lambda m: {"&": "&amp;", "<": "&lt;", ">": "&gt;"}[m.group()], text)


__all__ = ["LessonPanel", "describe_condition"]
