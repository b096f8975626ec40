"""Start the GUI: ``run_app(argv, dataset)`` creates the QApplication, applies the saved theme and
the application icon (``app_icon``), shows the main window and runs the event loop. The CLI calls it
when ``bpstudio`` has no subcommand. ``BPSTUDIO_QUIT_AFTER_MS`` (milliseconds) closes the window
that long after it shows: a smoke check for bundles and installs, e.g. ``QT_QPA_PLATFORM=offscreen
BPSTUDIO_QUIT_AFTER_MS=500 bpstudio``.

Leaves out: single-instance handling and command-line options of its own (Qt's, such as
``-platform``, pass through ``argv``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

QUIT_AFTER_ENV = "BPSTUDIO_QUIT_AFTER_MS"


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


def app_icon() -> Any:
    """The application icon as a ``QIcon``: every bundled PNG size, else the SVG (may be null)."""
    from PySide6.QtGui import QIcon

    from bpstudio.resources import ICON_SIZES, icon_png, icon_svg

    icon = QIcon()
    for size in ICON_SIZES:
        path = icon_png(size)
        if path is not None:
            icon.addFile(str(path))
    svg = icon_svg()
    if icon.isNull() and svg is not None:
        icon.addFile(str(svg))
    return icon


def _quit_after_ms() -> int | None:
    text = os.environ.get(QUIT_AFTER_ENV, "").strip()
    try:
        return max(0, int(text)) if text else None
    except ValueError:
        print(f"bpstudio: ignoring {QUIT_AFTER_ENV}={text!r} (not milliseconds)", file=sys.stderr)
        return None


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
    app.setDesktopFileName("bpstudio")  # Wayland matches the window to bpstudio.desktop by this
    app.setWindowIcon(app_icon())
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
    quit_after = _quit_after_ms()
    if quit_after is not None:
        from PySide6.QtCore import QTimer

        def smoke_quit() -> None:
            print(f"bpstudio: window shown ({window.windowTitle()}), quitting", file=sys.stderr)
            window.close()

        QTimer.singleShot(quit_after, smoke_quit)
    code = app.exec()
    window.shutdown()
    return int(code)


__all__ = ["QUIT_AFTER_ENV", "app_icon", "run_app"]
