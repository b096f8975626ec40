"""bpstudio install-desktop: the .desktop entry and icons under $XDG_DATA_HOME, and --uninstall."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from bpstudio import desktop_entry
from bpstudio.cli import main
from bpstudio.resources import ICON_SIZES


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(root))
    return root


def _entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


def test_install_writes_entry_and_icons_under_xdg_data_home(xdg, capsys) -> None:
    assert main(["install-desktop"]) == 0
    desktop = xdg / "applications" / "bpstudio.desktop"
    entry = _entry(desktop)
    assert entry["Name"] == "Backprop Studio" and entry["Icon"] == "bpstudio"
    # Exec starts this installation: an existing executable (console script or python -m)
    command = shlex.split(entry["Exec"])
    assert os.access(command[0], os.X_OK)
    for n in ICON_SIZES:
        png = xdg / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "bpstudio.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = xdg / "icons" / "hicolor" / "scalable" / "apps" / "bpstudio.svg"
    assert b"<svg" in svg.read_bytes()
    assert str(desktop) in capsys.readouterr().out


def test_relative_xdg_data_home_is_ignored(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop_entry.data_home({"XDG_DATA_HOME": "rel/share"}) == Path.home() / ".local/share"
    assert desktop_entry.data_home({"XDG_DATA_HOME": "/x/share"}) == Path("/x/share")


@pytest.mark.skipif(
    desktop_entry.validator() is None,
    reason="desktop-file-validate is not installed (apt package desktop-file-utils)",
)
def test_entry_passes_desktop_file_validate(tmp_path) -> None:
    # a path that needs quoting, to check the Exec escaping too
    (written, *_) = desktop_entry.install(tmp_path, ["/opt/my apps/bp$studio", "gui"])
    run = subprocess.run(
        [desktop_entry.validator(), str(written)], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "error" not in (run.stdout + run.stderr).lower()
    assert _entry(written)["Exec"] == '"/opt/my apps/bp\\\\$studio" gui'


def test_exec_value_follows_the_spec() -> None:
    assert desktop_entry.exec_value(["/usr/bin/bpstudio"]) == "/usr/bin/bpstudio"
    assert desktop_entry.exec_value(["/a b/x", "50%"]) == '"/a b/x" 50%%'
    assert desktop_entry.exec_value(['say"hi']) == '"say\\\\"hi"'


def test_uninstall_removes_exactly_what_install_wrote(xdg, capsys) -> None:
    keep = xdg / "applications" / "other.desktop"
    keep.parent.mkdir(parents=True)
    keep.write_text("[Desktop Entry]\n")
    assert main(["install-desktop"]) == 0
    written = [p for p in xdg.rglob("*") if p.is_file() and p != keep]
    assert len(written) == len(ICON_SIZES) + 2
    capsys.readouterr()
    assert main(["install-desktop", "--uninstall"]) == 0
    out = capsys.readouterr().out
    assert out.count("removed ") == len(written)
    assert [p for p in xdg.rglob("*") if p.is_file()] == [keep]
    assert main(["install-desktop", "--uninstall"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_not_a_freedesktop_system_is_one_line_and_exit_2(xdg, monkeypatch, capsys) -> None:
    monkeypatch.setattr(desktop_entry.sys, "platform", "darwin")
    assert main(["install-desktop"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "freedesktop" in line and "darwin" in line
    assert not xdg.exists()
