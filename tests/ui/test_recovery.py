"""Autosave and recovery across a crash: the window's process is killed (SIGKILL) after it has
autosaved, and the next start offers the recovery file back; accepted, the runs return.

Both windows run in subprocesses (offscreen); the second one answers the recovery question by a
patched ``bpstudio.ui.dialogs`` inside the subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from bpstudio.ui import dialogs
    from bpstudio.ui.main_window import MainWindow

    mode, ini = sys.argv[1], sys.argv[2]
    app = QApplication([])
    dialogs.show_error = lambda parent, title, text: print("ERROR", title, text, flush=True)
    dialogs.show_info = lambda *a: None
    if mode == "restore":
        dialogs.ask_restore_recovery = lambda parent, text: print("ASKED", flush=True) or True
        dialogs.ask_save_discard_cancel = lambda *a: "discard"
    w = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat), dataset="builtin:xor")
    w.show()
    folder = w.project.recovery_folder()

    if mode == "train":
        w.training_panel.until_stopped_check.setChecked(False)
        w.training_panel.epochs_spin.setValue(3)
        import time

        ended = []
        w.runEnded.connect(lambda reason: ended.append(time.time()))

        def poll():
            if ended and w.project.last_autosave is not None and any(folder.glob("*.bpstudio")):
                if w.project.last_autosave > ended[0]:  # written after the run ended
                    print("AUTOSAVED", len(w.session.runs), w.session.runs[-1].epochs, flush=True)
                    return  # and wait to be killed
            QTimer.singleShot(50, poll)

        QTimer.singleShot(300, w.toggle_training)
        QTimer.singleShot(50, poll)
    else:
        def report():
            runs = w.session.runs
            print("RUNS", len(runs), runs[0].epochs if runs else 0, flush=True)
            left = sorted(p.name for p in folder.glob("recovery-*.bpstudio"))
            print("LEFT", " ".join(left) or "-", flush=True)
            w.close()
            app.quit()

        QTimer.singleShot(1500, report)
    app.exec()
    """
)


def _read_until(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        if line.startswith("ERROR"):
            raise AssertionError(line)
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no {prefix!r} line from the window process")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_autosave_survives_kill_9_and_is_offered_back(tmp_path):
    script = tmp_path / "window.py"
    script.write_text(SCRIPT)
    ini = str(tmp_path / "bpstudio.ini")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BPSTUDIO_AUTOSAVE_MS": "200"}
    cmd = [sys.executable, str(script)]
    first = subprocess.Popen(
        [*cmd, "train", ini], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        line = _read_until(first, "AUTOSAVED", 60)
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: no close event, no quit
        first.wait(10)
    _, n_runs, epochs = line.split()
    assert (int(n_runs), int(epochs)) == (1, 3)
    assert list((tmp_path / "recovery").glob("recovery-*.bpstudio"))

    second = subprocess.run(
        [*cmd, "restore", ini], capture_output=True, text=True, env=env, timeout=60
    )
    out = second.stdout
    assert "ASKED" in out, out + second.stderr
    assert "RUNS 1 3" in out  # the run is back, with its three epochs
    # the dead process's file is gone (the restored work lives in the new process's file)
    assert f"recovery-{first.pid}.bpstudio" not in out
