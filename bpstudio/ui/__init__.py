"""Everything Qt: the main window, its widgets, the training worker.

``MainWindow`` and ``run_app`` are imported lazily so that ``import bpstudio.ui`` stays cheap
(the CLI imports it only to start the GUI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bpstudio.ui.app import run_app
    from bpstudio.ui.main_window import MainWindow

__all__ = ["MainWindow", "run_app"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from bpstudio.ui.main_window import MainWindow

        return MainWindow
    if name == "run_app":
        from bpstudio.ui.app import run_app

        return run_app
    raise AttributeError(f"module 'bpstudio.ui' has no attribute {name!r}")
