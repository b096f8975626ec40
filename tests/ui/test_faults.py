"""The window under faults: the child is prewarmed, a child that stops answering is ended and the
window recovers, a bug shows a dialog with Copy details, SIGINT/SIGTERM quit cleanly, and a big
CSV is prepared off the GUI thread with Cancel."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QPushButton

import bpstudio.ui.dataset_panel as dp
from bpstudio.data import DataError
from bpstudio.ui import MainWindow, dialogs
from bpstudio.ui.app import install_excepthook
from tests.hostile import REPO

TIMEOUT = 30_000
posix_only = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX signals")


def _window(qtbot, tmp_path, show: bool):
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    if show:
        w.show()
        qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path, errors):
    w = _window(qtbot, tmp_path, show=True)
    yield w
    w.close()
    assert not w.worker_handle.thread.isRunning()


@pytest.fixture
def hidden_window(qtbot, tmp_path, errors):
    """Not shown: under heavy CPU load a shown window painting right after the SIGSTOP/SIGKILL
    sequence hung once in three runs inside Qt's raster thread pool (QSemaphore::acquire in
    QRasterPaintEngine::drawPolygon, pool threads idle); not understood yet, see the report."""
    w = _window(qtbot, tmp_path, show=False)
    yield w
    w.close()
    assert not w.worker_handle.thread.isRunning()


def test_the_child_is_prewarmed_before_the_first_train(qtbot, window):
    ready = []
    window.worker_handle.worker.childReady.connect(ready.append)
    qtbot.waitUntil(lambda: bool(ready), timeout=TIMEOUT)  # no Train pressed
    assert window.worker_handle.worker.child_pid is not None and window.state == "idle"


@posix_only
@pytest.mark.parametrize("press_stop", [True, False], ids=["then-stop", "no-action"])
def test_a_stopped_child_is_ended_and_the_window_recovers(qtbot, hidden_window, errors, press_stop):
    w = hidden_window
    w.worker_handle.worker.watchdog_s = 1.0  # the default is a few seconds
    w.training_panel.until_stopped_check.setChecked(True)
    got = []
    w.worker_handle.worker.progress.connect(got.append)
    w.action_train.trigger()
    qtbot.waitUntil(lambda: len(got) > 2 and w.state == "running", timeout=TIMEOUT)
    pid = w.worker_handle.worker.child_pid
    os.kill(pid, signal.SIGSTOP)
    try:
        if press_stop:
            w.findChild(QPushButton, "stopButton").click()
            assert w.state == "stopping" and not w.action_train.isEnabled()
        t0 = time.monotonic()
        qtbot.waitUntil(lambda: bool(errors), timeout=TIMEOUT)
        assert time.monotonic() - t0 < 10
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert errors[0][0] == "Training process stopped responding"
    assert w.state == "idle" and w.action_train.isEnabled()
    qtbot.waitUntil(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout=5000)
    # and training works again, in a fresh child
    w.training_panel.until_stopped_check.setChecked(False)
    w.training_panel.epochs_spin.setValue(2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.action_train.trigger()
    assert w.worker_handle.worker.child_pid not in (None, pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_bug_reaching_the_event_loop_shows_the_bug_dialog(qtbot, monkeypatch, window):
    seen = []
    monkeypatch.setattr(dialogs, "show_bug", lambda *a: seen.append(a))
    previous = install_excepthook(lambda: window)
    try:
        try:
            raise ZeroDivisionError("boom in a slot")
        except ZeroDivisionError:
            sys.excepthook(*sys.exc_info())
        try:
            raise DataError("people.csv: your mistake")
        except DataError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    parent, title, message, details = seen[0]
    assert parent is window and "internal error" in title
    assert "ZeroDivisionError: boom in a slot" in message and "Traceback" in details
    assert len(seen) == 1  # the user's mistake went to show_error, not the bug dialog


def test_bug_dialog_copies_its_details(qtbot, monkeypatch):
    shown = []

    def fake_exec(self):  # no real modal loop in a test: press the buttons, then close
        shown.append(self)
        self.findChild(QPushButton, "copyDetailsButton").click()
        assert self.result() == 0  # the copy button does not end the dialog
        return 0

    monkeypatch.setattr(QDialog, "exec", fake_exec)
    dialogs.show_bug(None, "Oops", "it broke", "Traceback (most recent call last):\n  x")
    box = shown[0]
    assert box.findChild(QPushButton, "copyDetailsButton").text() == "Copied"
    assert QGuiApplication.clipboard().text().startswith("Oops\nit broke\n\nTraceback")
    box.deleteLater()


_APP = """
import os, sys
from PySide6.QtCore import QTimer
import bpstudio.ui.main_window as mw
show = mw.MainWindow.show
def patched(self):
    show(self)
    if os.environ.get("TRAIN"):
        self.training_panel.until_stopped_check.setChecked(True)
        QTimer.singleShot(200, self.action_train.trigger)
    QTimer.singleShot(1200, lambda: print("ready", self.state, flush=True))
mw.MainWindow.show = patched
from bpstudio.ui.app import run_app
sys.exit(run_app([], dataset="builtin:spirals"))
"""


@posix_only
@pytest.mark.parametrize(
    "sig, train",
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, True)],
    ids=["ctrl-c-idle", "ctrl-c-training", "sigterm-training"],
)
def test_signals_quit_the_app_cleanly(tmp_path, sig, train):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    if train:
        env["TRAIN"] = "1"
    proc = subprocess.Popen([sys.executable, "-c", _APP], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stdout.readline().split() == ["ready", "running" if train else "idle"]
        children = _children(proc.pid)
        t0 = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert time.monotonic() - t0 < 10
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert not [p for p in children if os.path.exists(f"/proc/{p}") and not _zombie(p)]


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def test_prepare_runs_off_the_gui_thread_with_cancel(qtbot, tmp_path, monkeypatch, errors):
    panel = dp.DatasetPanel(settings=QSettings(str(tmp_path / "s.ini"),
                                               QSettings.Format.IniFormat))  # fmt: skip
    qtbot.addWidget(panel)
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(200)))
    started = threading.Event()
    threads = []

    def slow_prepare(table, options=None, *, progress=None, cancel=None):
        threads.append(threading.current_thread())
        started.set()
        n = 0
        while not cancel():
            n += 1
            progress(min(n / 1000, 0.99))
            threading.Event().wait(0.001)
        raise DataError("t.csv: preparing cancelled")

    monkeypatch.setattr(dp, "prepare", slow_prepare)
    before = panel.current()
    assert panel.open_csv(str(csv), options=dp.DatasetOptions())
    qtbot.waitUntil(started.is_set, timeout=TIMEOUT)
    assert threads[0] is not threading.main_thread()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=TIMEOUT)
    assert panel.is_loading() and "preparing" in panel.progress.format()
    t0 = time.monotonic()
    with qtbot.waitSignal(panel.loadingChanged, timeout=5000):
        panel.cancel_button.click()
    assert time.monotonic() - t0 < 2
    assert panel.current() is before and not panel.is_loading() and not errors
    assert "cancelled" in panel.status.text()
    panel.shutdown()
