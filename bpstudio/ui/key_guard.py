"""Let a focused button (or check box, combo box, list) have the Space key.

Space is the window's Train / pause shortcut. Qt offers a key to the focused widget first as a
``ShortcutOverride`` event, and only text fields and spin boxes accept it for a printable key:
so with a button focused (after a click or Tab), Space toggled training instead of pressing the
button. ``SpaceGuard.protect(root)`` installs a filter on every button, combo box and item view
under ``root`` that accepts the override for a plain Space, so the widget gets the key and the
shortcut does not fire; anywhere else Space still trains. Call ``protect`` again after adding
widgets (it skips the ones already guarded).

Leaves out: other shortcuts (none of them is a key that a button uses).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QComboBox, QWidget

_GUARDED = "_bpstudio_space_guarded"
_TYPES = (QAbstractButton, QComboBox, QAbstractItemView)


class SpaceGuard(QObject):
    """Event filter: a plain Space on a focused button-like widget is the widget's, not a
    shortcut's."""

    def protect(self, root: QWidget) -> int:
        """Guard the button-like widgets under ``root`` (and root); returns how many were new."""
        n = 0
        widgets = [root, *root.findChildren(QWidget)]
        for w in widgets:
            if isinstance(w, _TYPES) and not w.property(_GUARDED):
                w.installEventFilter(self)
                w.setProperty(_GUARDED, True)
                n += 1
        return n

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and event.key() == Qt.Key.Key_Space
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
            and isinstance(obj, QWidget)
            and obj.hasFocus()
        ):
            event.accept()  # the widget takes the key; the shortcut map then leaves it alone
            return True
        return False


__all__ = ["SpaceGuard"]
