"""A one-line, non-modal notice above the plots (run ended, diverged, …) with a close button.

Also :func:`first_clause`, which cuts a long message for the one-line status bar.

Leaves out: modal messages (:mod:`bpstudio.ui.dialogs`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

COLORS = {"info": "#2E7D32", "warning": "#E69F00", "error": "#D55E00"}


def first_clause(text: str, limit: int = 90) -> str:
    """A long message cut at its first ':' or sentence end (for the one-line status bar)."""
    if len(text) <= limit:
        return text
    cuts = [i for i in (text.find(": "), text.find(". ")) if i > 0]
    end = min(cuts) if cuts else limit
    return text[: min(end, limit)].rstrip(" .,;:") + " (details above the plots)."


class NoticeBar(QFrame):
    """A one-line notice with a dismiss button; hidden until :meth:`show_message`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        self.setStyleSheet(
            f"#noticeBar {{ border: 1px solid {COLORS.get(kind, '#888')}; border-radius: 4px; }}"
        )
        self.label.setText(text)
        self.show()


__all__ = ["NoticeBar", "first_clause"]
