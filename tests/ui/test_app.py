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


def test_app_icon_has_every_size(qapp) -> None:
    from bpstudio.resources import ICON_SIZES
    from bpstudio.ui.app import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert sorted(s.width() for s in icon.availableSizes()) == sorted(ICON_SIZES)


def test_open_dialog_starts_in_the_samples_without_a_recent_folder(qapp, monkeypatch) -> None:
    from bpstudio.resources import sample_data_dir
    from bpstudio.ui import dialogs

    asked = []

    def fake_open(parent, title, start, filters):
        asked.append(start)
        return "", ""

    monkeypatch.setattr(dialogs.QFileDialog, "getOpenFileName", fake_open)
    assert dialogs.get_open_csv_path(None) is None  # fresh QSettings (conftest): no last folder
    assert asked == [str(sample_data_dir())]


def test_quit_after_env_opens_the_window_and_exits_cleanly(tmp_path) -> None:
    import os
    import subprocess

    from bpstudio.ui.app import QUIT_AFTER_ENV

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", QUIT_AFTER_ENV: "100"}
    env["XDG_CONFIG_HOME"] = str(tmp_path)  # QSettings of this run stay in tmp_path
    run = subprocess.run(
        [sys.executable, "-m", "bpstudio"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert "window shown (Backprop Studio" in run.stderr
