"""GUI test fixtures: QSettings in a temporary folder, and a leak check after every GUI test.

A test fails if it leaves a QThread running (the training worker, a CSV reader), an active QTimer
on any top-level widget, or a training child process alive: the app must end all of them on close.
"""

from __future__ import annotations

import gc
import multiprocessing as mp

import pytest
from PySide6.QtCore import QSettings, QThread, QTimer

from bpstudio.ui import dialogs
from bpstudio.ui import worker as worker_mod


@pytest.fixture
def settings(tmp_path):
    """QSettings in an ini file of the test's own folder."""
    return QSettings(str(tmp_path / "bpstudio.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def errors(monkeypatch):
    """Record error dialogs (title, message) instead of opening them; info boxes do nothing."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, t, m: seen.append((t, m)))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, t, m: None)
    return seen


@pytest.fixture(autouse=True)
def _quiet_project_dialogs(monkeypatch):
    """Closing a window with unsaved runs asks Save / Discard / Cancel, and a start after a
    crash offers the recovery file: by default a test discards and declines (never a real modal
    dialog); a test that cares patches these again."""
    from bpstudio.ui import dialogs

    monkeypatch.setattr(dialogs, "ask_save_discard_cancel", lambda *a: "discard")
    monkeypatch.setattr(dialogs, "ask_restore_recovery", lambda *a: False)


@pytest.fixture(autouse=True)
def _no_leaks(qapp, tmp_path):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    yield
    qapp.processEvents()
    # A closed window is held only by reference cycles (its views and helpers point back at
    # it); collect them here, at a safe point, not inside a later test's Qt calls, where
    # deleting a top-level widget mid-iteration crashed the interpreter.
    gc.collect()
    qapp.processEvents()
    handles = [h for h in list(worker_mod._live_handles) if h.thread.isRunning()]
    main = qapp.thread()
    threads = [
        o for o in gc.get_objects() if isinstance(o, QThread) and o is not main and _running(o)
    ]
    timers = [
        f"{w.objectName() or type(w).__name__}/{t.objectName() or 'QTimer'}"
        for w in qapp.topLevelWidgets()
        for t in w.findChildren(QTimer)
        if t.isActive()
    ]
    children = mp.active_children()
    for h in handles:  # clean up so one leak does not cascade into the next tests
        h.close()
    for t in threads:
        t.requestInterruption()
        t.quit()
        t.wait(5000)
    for p in children:
        p.kill()
        p.join(5)
    assert not handles, "a training worker thread is still running"
    assert not threads, f"QThreads still running: {threads}"
    assert not timers, f"timers still active: {timers}"
    assert not children, f"training processes still alive: {children}"


def _running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is already gone
        return False
