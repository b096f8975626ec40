"""Vertical room on small screens (1366×768 laptops): what scrolls, what collapses, what shrinks.

- :func:`scrolling` puts a tab's content in a scroll area with a minimum height, so the Backprop
  inspector scrolls instead of squeezing its small diagram to a line and its stage card to three
  lines when the window is short.
- :class:`CollapsibleDockTitle` is a dock's title bar with a ▾/▸ button (and float / close):
  collapsed, the Runs dock keeps only its title row, and gives its rows back to the views.
- :func:`fit_to_screen` picks the first split between the plots and the tabs from the screen's
  height (the tabs get the larger share on a short screen), and collapses the Runs dock when the
  window is shorter than :data:`SHORT_SCREEN`.

Leaves out: remembering the collapsed state across sessions (the dock's visibility is saved with
the window layout already).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStyle,
    QToolButton,
    QWidget,
)

SHORT_SCREEN = 820  # px of available height below which the Runs dock starts collapsed
_NO_MAX = 16_777_215  # QWIDGETSIZE_MAX


def scrolling(content: QWidget, min_height: int, name: str) -> QScrollArea:
    """``content`` in a vertical scroll area: it stretches when there is room and scrolls below
    ``min_height``."""
    content.setMinimumHeight(int(min_height))
    area = QScrollArea()
    area.setObjectName(name)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(content)
    return area


class CollapsibleDockTitle(QWidget):
    """A dock title bar: ▾ collapses the dock to this row, ▸ opens it again."""

    def __init__(self, dock: QDockWidget, window: Any) -> None:
        super().__init__(dock)
        self.dock, self.window_ = dock, window
        self.setObjectName(f"{dock.objectName()}Title")
        self._height = 120  # the dock's height before it collapsed
        self.toggle = QToolButton(self)
        self.toggle.setObjectName(f"{dock.objectName()}Collapse")
        self.toggle.setAutoRaise(True)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setToolTip("Collapse to this row / open again")
        self.label = QLabel(dock.windowTitle(), self)
        self.label.setObjectName(f"{dock.objectName()}TitleLabel")
        style = self.style()
        self.float_button = QToolButton(self)
        self.float_button.setAutoRaise(True)
        self.float_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarNormalButton))
        self.float_button.setToolTip("Float this panel in its own window")
        self.close_button = QToolButton(self)
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Close (View → Runs panel opens it again)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(2)
        lay.addWidget(self.toggle)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.float_button)
        lay.addWidget(self.close_button)
        self.toggle.clicked.connect(lambda: self.set_collapsed(not self.collapsed()))
        self.float_button.clicked.connect(lambda: dock.setFloating(not dock.isFloating()))
        self.close_button.clicked.connect(dock.close)
        dock.windowTitleChanged.connect(self.label.setText)
        dock.topLevelChanged.connect(lambda floating: floating and self.set_collapsed(False))

    def collapsed(self) -> bool:
        w = self.dock.widget()
        return w is not None and w.isHidden()

    def set_collapsed(self, on: bool) -> None:
        w = self.dock.widget()
        if w is None or on == self.collapsed():
            return
        if on:
            self._height = max(self.dock.height(), 80)
            w.hide()
            self.dock.setMaximumHeight(self.sizeHint().height() + 4)
        else:
            self.dock.setMaximumHeight(_NO_MAX)
            w.show()
            self.window_.resizeDocks([self.dock], [self._height], Qt.Orientation.Vertical)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow if on else Qt.ArrowType.DownArrow)


def collapsible(dock: QDockWidget, window: Any) -> CollapsibleDockTitle:
    title = CollapsibleDockTitle(dock, window)
    dock.setTitleBarWidget(title)
    return title


def fit_to_screen(window: Any) -> None:
    """First sizes for a short screen: more of the height for the tabs than for the plots, and
    the Runs dock collapsed to its title row."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    h = min(screen.availableGeometry().height(), window.height())
    if h < SHORT_SCREEN:
        total = max(300, h - 140)
        window.plot_splitter.setSizes([int(total * 0.3), int(total * 0.7)])
        window.runs_dock_title.set_collapsed(True)


__all__ = ["SHORT_SCREEN", "CollapsibleDockTitle", "collapsible", "fit_to_screen", "scrolling"]
