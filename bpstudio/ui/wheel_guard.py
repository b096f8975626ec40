"""Stop the mouse wheel from changing settings while someone scrolls the side panel.

Qt's spin boxes and combo boxes take the wheel even when they do not have focus, so scrolling
the (long) side panel with the pointer passing over "Optimizer" switched SGD to Momentum and
nudged the momentum. ``WheelGuard.protect(root)`` gives every spin box and combo box under
``root`` a click/tab focus policy and hands a wheel event that reaches an unfocused one to the
scroll area instead; once the field has focus (clicked, tabbed to), the wheel edits it as usual.
Call ``protect`` again after adding widgets (it skips the ones already guarded).

Leaves out: sliders and other wheel-sensitive widgets (the side panel has none).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget

_GUARDED = "_bpstudio_wheel_guarded"


class WheelGuard(QObject):
    """Event filter: a wheel over an unfocused field scrolls ``scroll_area`` instead."""

    def __init__(self, scroll_area: QAbstractScrollArea) -> None:
        super().__init__(scroll_area)
        self._scroll_area = scroll_area

    def protect(self, root: QWidget) -> int:
        """Guard the spin and combo boxes under ``root``; returns how many were new."""
        n = 0
        for cls in (QAbstractSpinBox, QComboBox):
            for w in root.findChildren(cls):
                if w.property(_GUARDED):
                    continue
                w.setProperty(_GUARDED, True)
                w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus
                w.installEventFilter(self)
                n += 1
        return n

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            event.type() == QEvent.Type.Wheel
            and isinstance(obj, QWidget)
            and not obj.hasFocus()
            and not (isinstance(obj, QComboBox) and obj.view().isVisible())
        ):
            QCoreApplication.sendEvent(self._scroll_area.verticalScrollBar(), event)
            return True
        return False


__all__ = ["WheelGuard"]
