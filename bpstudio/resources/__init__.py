"""Files shipped inside the package: the sample CSVs and the application icon.

``sample_data_dir()`` is the folder File → Open starts in when the user has no recent folder;
``icon_svg()`` / ``icon_png(size)`` are the icon drawn in ``icons/bpstudio.svg`` and its PNG
renderings (``ICON_SIZES``, made by ``scripts/render_icons.py``). Everything is found through
``importlib.resources``, so it works from a source checkout, an installed wheel and a PyInstaller
bundle alike. No Qt here (the window turns these paths into a ``QIcon`` itself).

Leaves out: zip-imported installs (the paths must be real files on disk; ``None`` otherwise).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The PNG sizes rendered from the SVG (the freedesktop hicolor theme's usual ones).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: The icon's name in a desktop's icon theme and the base name of the .desktop entry.
ICON_NAME = "bpstudio"
SAMPLE_FILES = ("fruit_messy.csv", "houses.csv", "iris.csv")


def _on_disk(*parts: str) -> Path | None:
    """``parts`` under this package as a real path, or None when it isn't a file/folder on disk."""
    path = Path(str(files(__name__).joinpath(*parts)))
    return path if path.exists() else None


def sample_data_dir() -> Path | None:
    """The folder holding the sample CSVs (``SAMPLE_FILES``)."""
    return _on_disk("sample_data")


def icon_svg() -> Path | None:
    """The icon's SVG source."""
    return _on_disk("icons", f"{ICON_NAME}.svg")


def icon_png(size: int) -> Path | None:
    """The icon rendered at ``size`` × ``size`` pixels (one of ``ICON_SIZES``)."""
    return _on_disk("icons", f"{ICON_NAME}-{int(size)}.png")


__all__ = ["ICON_NAME", "ICON_SIZES", "SAMPLE_FILES", "icon_png", "icon_svg", "sample_data_dir"]
