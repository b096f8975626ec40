"""Render the application icon's PNG sizes from its SVG source with Qt's QSvgRenderer.

    .venv/bin/python scripts/render_icons.py

Reads ``bpstudio/resources/icons/bpstudio.svg`` and writes ``bpstudio-<size>.png`` beside it for
every size in ``bpstudio.resources.ICON_SIZES`` (transparent background, antialiased). Run it
again after editing the SVG and commit the PNGs. Leaves out: hand-tuned pixel art for 16 px.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from bpstudio.resources import ICON_NAME, ICON_SIZES, icon_svg  # noqa: E402


def render(svg: str, size: int, out: str) -> None:
    renderer = QSvgRenderer(svg)
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    if not image.save(out, "PNG"):
        raise SystemExit(f"{out}: could not be written")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - keeps Qt up
    svg = icon_svg()
    if svg is None:
        raise SystemExit("bpstudio/resources/icons/bpstudio.svg is missing")
    for size in ICON_SIZES:
        out = svg.with_name(f"{ICON_NAME}-{size}.png")
        render(str(svg), size, str(out))
        print(f"wrote {out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
