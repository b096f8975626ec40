"""Atomic writes: a Ctrl+C or SIGTERM that lands the instant the temp file exists still removes
it (the handler raises in Python code; before the fix it could land outside the clean-up)."""

from __future__ import annotations

import os
import signal
import tempfile

import pytest

from bpstudio.io import atomic


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_a_signal_right_after_the_temp_file_is_made_still_removes_it(tmp_path, monkeypatch):
    real = tempfile.mkstemp

    def mkstemp_then_ctrl_c(*args, **kwargs):
        made = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # arrives the moment the temp exists
        return made

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp_then_ctrl_c)
    (tmp_path / "x.bin").write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write_bytes(tmp_path / "x.bin", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]  # no temp left behind
    assert (tmp_path / "x.bin").read_bytes() == b"old"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # unblocked again
