"""Start the GUI: ``run_app(argv, dataset)`` creates the QApplication, applies the saved theme,
shows the main window and runs the event loop. The CLI calls it when ``bpstudio`` has no subcommand.

Leaves out: single-instance handling and command-line options of its own (Qt's, such as
``-platform``, pass through ``argv``).
"""

from __future__ import annotations

import os
import sys


def _no_display() -> str | None:
    """Why Qt could not open a window here, or None. Qt itself aborts the process (SIGABRT)
    when no platform plugin can start, so say it in one line before Qt gets the chance."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "bpstudio: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
        "run it in a desktop session or under xvfb-run, or use the headless commands "
        "(bpstudio train --help)"
    )


def run_app(
    argv: list[str] | None = None, dataset: str | None = None, project: str | None = None
) -> int:
    """Open Backprop Studio; ``dataset`` is "builtin:NAME" or a CSV path (opens the import dialog),
    ``project`` a ``.bpstudio`` file (``MainWindow.open_project``).

    Returns the event loop's exit code (2 when there is no display).
    """
    problem = _no_display()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bpstudio.engine.threads import limit_blas_threads
    from bpstudio.ui import theme
    from bpstudio.ui.main_window import MainWindow
    from bpstudio.ui.window_settings import APPLICATION, ORGANIZATION

    limit_blas_threads()  # the GUI does small array work; the training child has its own core
    app = QApplication.instance()
    owns_app = app is None
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "bpstudio", *(argv or [])])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Backprop Studio")
    mode = str(QSettings().value("view/theme", "auto"))
    theme.apply_theme(app, mode if mode in ("auto", "light", "dark") else "auto")
    window = MainWindow(dataset=dataset)
    window.show()
    if project is not None:
        opener = getattr(window, "open_project", None)
        if opener is None:
            print(f"bpstudio: this window can't open projects yet ({project})", file=sys.stderr)
        else:
            opener(project)
    if not owns_app:
        return 0
    code = app.exec()
    window.shutdown()
    return int(code)


__all__ = ["run_app"]
