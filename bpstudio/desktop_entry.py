"""A launcher entry for the current user: ``bpstudio install-desktop [--uninstall]``.

Writes, under the user's XDG data folder (``$XDG_DATA_HOME``, else ``~/.local/share``), the files a
freedesktop desktop (GNOME, KDE, Xfce, …) reads to list an application in its launcher:

- ``applications/bpstudio.desktop``: ``Exec`` is the ``bpstudio`` that is running now (the console
  script beside this Python, the bundle's own binary, else ``python -m bpstudio``), quoted as the
  Desktop Entry Specification asks; ``Icon=bpstudio`` names the icon below;
- ``icons/hicolor/<n>x<n>/apps/bpstudio.png`` for each bundled size and
  ``icons/hicolor/scalable/apps/bpstudio.svg``.

``--uninstall`` removes exactly those files. Writes are atomic. No Qt here.
Leaves out: system-wide installs, file associations (the window takes no file argument), menus
on Windows and macOS, refreshing desktop caches (current desktops watch these folders).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bpstudio.errors import BPStudioError
from bpstudio.io.atomic import atomic_write_bytes
from bpstudio.resources import ICON_NAME, ICON_SIZES, icon_png, icon_svg

DESKTOP_FILE = f"{ICON_NAME}.desktop"
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")  # an argument holding one of these must be quoted


class DesktopEntryError(BPStudioError):
    """The launcher entry can't be written here (e.g. not a freedesktop system, no icons)."""


def data_home(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` when it is an absolute path (the spec ignores a relative one), else
    ``~/.local/share``."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """The command that starts this very installation of Backprop Studio."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: its binary is sys.executable
        return [os.path.abspath(sys.executable)]
    script = Path(sys.executable).with_name("bpstudio")  # venv / pipx console script
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    return [os.path.abspath(sys.executable), "-m", "bpstudio"]


def exec_value(argv: list[str]) -> str:
    """``argv`` as the value of an ``Exec`` key: reserved characters quoted, ``%`` doubled, then
    the string escapes every key gets (a backslash written twice)."""
    parts = []
    for arg in argv:
        arg = arg.replace("%", "%%")
        if any(ch in _RESERVED for ch in arg):
            inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
            arg = f'"{inner}"'
        parts.append(arg)
    return " ".join(parts).replace("\\", "\\\\")


def entry_text(argv: list[str]) -> str:
    """The ``.desktop`` file's text for a launcher that runs ``argv``."""
    from bpstudio import __version__

    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # the newest desktop-file-validate 0.26 knows
        "Name=Backprop Studio",
        "GenericName=Neural network trainer",
        "Comment=Watch backpropagation train a neural network, point and click",
        f"Exec={exec_value(argv)}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "StartupNotify=true",
        f"StartupWMClass={ICON_NAME}",
        "Categories=Education;ArtificialIntelligence;",
        "Keywords=neural network;backpropagation;machine learning;gradient descent;",
        f"X-BPStudio-Version={__version__}",
    ]
    return "\n".join(lines) + "\n"


def _targets(root: Path) -> tuple[Path, list[tuple[Path | None, Path]]]:
    icons_root = root / "icons" / "hicolor"
    icons = [
        (icon_png(n), icons_root / f"{n}x{n}" / "apps" / f"{ICON_NAME}.png") for n in ICON_SIZES
    ]
    icons.append((icon_svg(), icons_root / "scalable" / "apps" / f"{ICON_NAME}.svg"))
    return root / "applications" / DESKTOP_FILE, icons


def _check_platform() -> None:
    if sys.platform.startswith(("win", "darwin")):
        raise DesktopEntryError(
            "install-desktop writes a freedesktop launcher entry (Linux and BSD desktops); "
            f"this is {sys.platform}: start Backprop Studio with the bpstudio command instead"
        )


def install(root: Path | None = None, argv: list[str] | None = None) -> list[Path]:
    """Write the entry and icons under ``root`` (default ``data_home()``); returns the files
    written, the ``.desktop`` file first."""
    _check_platform()
    root = data_home() if root is None else Path(root)
    desktop, icons = _targets(root)
    missing = [dst.name for src, dst in icons if src is None]
    if missing:
        raise DesktopEntryError(
            "this installation has no icon files (bpstudio/resources/icons); reinstall bpstudio"
        )
    written = []
    for src, dst in icons:
        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dst, Path(src).read_bytes())
        written.append(dst)
    desktop.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(desktop, entry_text(argv or launch_command()).encode("utf-8"))
    desktop.chmod(0o755)  # some desktops only launch an entry marked executable
    return [desktop, *written]


def uninstall(root: Path | None = None) -> list[Path]:
    """Remove the entry and icons ``install`` writes; returns the ones that were there."""
    root = data_home() if root is None else Path(root)
    desktop, icons = _targets(root)
    removed = []
    for path in [desktop] + [dst for _, dst in icons]:
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def validator() -> str | None:
    """The path of ``desktop-file-validate`` (package desktop-file-utils), if installed."""
    return shutil.which("desktop-file-validate")


__all__ = [
    "DESKTOP_FILE",
    "DesktopEntryError",
    "data_home",
    "entry_text",
    "exec_value",
    "install",
    "launch_command",
    "uninstall",
    "validator",
]
