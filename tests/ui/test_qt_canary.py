"""Canary for the PySide6 pin: 6.12.0 on Python 3.11 lowered None's refcount on every void Qt call,
so the process aborted with ``none_dealloc`` after a few thousand paints. This fails loudly if an
upgrade brings the bug back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject


def test_void_qt_calls_keep_none_refcount() -> None:
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(10_000):
        obj.setObjectName("canary")
    after = sys.getrefcount(None)
    # Other threads may touch None a little; the bug moved it by exactly -10 000.
    assert abs(after - before) < 100, f"None refcount drifted by {after - before}"
