"""run_app: with no display it says so in one line instead of letting Qt abort the process."""

from __future__ import annotations

import sys

import pytest

from bpstudio.ui.app import run_app


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="display variables are X11/Wayland"
)
def test_no_display_is_one_line_and_exit_2(monkeypatch, capsys) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert run_app([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no display" in err[0]
