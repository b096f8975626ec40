"""Start the GUI: ``run_app(argv, dataset)`` creates the QApplication, applies the saved theme and
the application icon (``app_icon``), shows the main window and runs the event loop. The CLI calls it
when ``bpstudio`` has no subcommand. ``BPSTUDIO_QUIT_AFTER_MS`` (milliseconds) closes the window
that long after it shows: a smoke check for bundles and installs, e.g. ``QT_QPA_PLATFORM=offscreen
BPSTUDIO_QUIT_AFTER_MS=500 bpstudio``.

Faults: SIGINT (Ctrl-C in the terminal) and SIGTERM quit the way closing the window does (dialogs
closed, settings saved, the training child and threads ended; exit code 130 / 143), idle or not.
Python runs a signal handler only when the interpreter gets control, which an idle Qt event loop
never gives it, so the handlers are woken through ``signal.set_wakeup_fd`` and a
``QSocketNotifier`` on the other end of a socket pair. An exception that reaches the event loop
(a bug in a slot or a timer) goes to ``sys.excepthook``, installed here: a user's mistake
(``BPStudioError``) is shown as a plain error, anything else in ``dialogs.show_bug`` with the
traceback and a "Copy details" button — and printed to stderr as before — never only a console
traceback while the window carries on as if nothing happened.

Leaves out: single-instance handling and command-line options of its own (Qt's, such as
``-platform``, pass through ``argv``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
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
    previous_hook = install_excepthook(lambda: window)
    received: list[int] = []
    restore = install_quit_signals(app, lambda signum: _quit(app, window, received, signum))
    quit_after = _quit_after_ms()
    if quit_after is not None:
        from PySide6.QtCore import QTimer

        def smoke_quit() -> None:
            print(f"bpstudio: window shown ({window.windowTitle()}), quitting", file=sys.stderr)
            window.close()

        QTimer.singleShot(quit_after, smoke_quit)
    try:
        code = app.exec()
    finally:
        restore()
        sys.excepthook = previous_hook
        window.shutdown()
    if received:
        return 128 + received[0]
    return int(code)


def _quit(app: Any, window: Any, received: list[int], signum: int) -> None:
    """Quit as closing the window does: dialogs first (their nested event loops), then the
    window (its closeEvent saves settings and ends the worker; unsaved runs are written to the
    recovery file instead of asking), then the event loop."""
    from PySide6.QtWidgets import QDialog

    if received:
        return
    received.append(signum)
    for widget in app.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    # no question about unsaved runs (nobody may be there to answer): they go to recovery
    getattr(window, "quit_keeping_work", window.close)()
    app.quit()


def install_quit_signals(app: Any, on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Call ``on_signal(signum)`` in the GUI thread on SIGINT/SIGTERM, even while Qt is idle.
    Returns a function that puts the previous handlers back."""
    from PySide6.QtCore import QSocketNotifier, QTimer

    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)
    try:
        old_fd = signal.set_wakeup_fd(writer.fileno())
    except ValueError:  # not the main thread: leave signals alone
        reader.close()
        writer.close()
        return lambda: None
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(512)  # returning to Python here runs the pending signal handler

    notifier.activated.connect(drain)

    def handler(signum: int, frame: Any) -> None:
        QTimer.singleShot(0, lambda: on_signal(signum))

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
        signal.set_wakeup_fd(old_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()

    return restore


def install_excepthook(parent: Callable[[], Any]) -> Callable[..., Any]:
    """Route exceptions that reach the event loop to a dialog; returns the previous hook."""
    previous = sys.excepthook
    busy: list[bool] = []

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        from bpstudio.errors import is_user_error
        from bpstudio.ui import dialogs

        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        print(details, file=sys.stderr, end="")
        if busy:  # one dialog at a time: a bug in a timer must not stack up dialogs
            return
        busy.append(True)
        try:
            if is_user_error(exc):
                dialogs.show_error(parent(), "Backprop Studio", str(exc))
            else:
                dialogs.show_bug(
                    parent(),
                    "Backprop Studio: internal error",
                    f"Something went wrong inside Backprop Studio ({exc_type.__name__}: "
                    f"{str(exc)[:300]}). This is a bug, not a problem with your data; the window "
                    "keeps working, but save your model. Copy the details into a bug report.",
                    details,
                )
        except Exception:  # noqa: BLE001 - the dialog itself failed: the console has the details
            pass
        finally:
            busy.clear()

    sys.excepthook = hook
    return previous


__all__ = ["QUIT_AFTER_ENV", "app_icon", "install_excepthook", "install_quit_signals", "run_app"]
