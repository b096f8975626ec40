"""Export what you see: any view as a PNG or SVG at a chosen size, or to the clipboard.

:func:`render_image` paints a widget into an image of the size asked for (the widget is laid out
at that size for the moment of painting, so a larger image gets more room, not blurrier pixels);
:func:`save_image` writes PNG or SVG (``QSvgGenerator``: vector lines and text);
:func:`install_image_actions` gives a view "Save image…" and "Copy image" in its right-click menu
(a pyqtgraph plot's own menu, or the widget's context menu). The path and the size are asked
through :mod:`bpstudio.ui.dialogs` (``get_save_image_path``, ``get_image_size``). A plot's hover
crosshair and read-out are hidden while it is painted.

Leaves out: exporting the data behind a plot (File → Export history does that), multi-page output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QWidget

from bpstudio.ui import dialogs

MAX_SIDE = 8000  # px: larger images are refused by the size dialog


def _paint(widget: QWidget, painter: QPainter, size: QSize) -> None:
    """Lay the widget out at ``size``, paint it, put it back."""
    old = widget.size()
    hide = getattr(widget, "_hide_hover", None)
    if callable(hide):
        hide()
    resized = size != old and not widget.isWindow()
    if resized:
        widget.resize(size)
        QGuiApplication.processEvents()  # let layouts and plots follow the new size
    try:
        QWidget.render(widget, painter, QPoint(0, 0))  # the widget, not a graphics scene
    finally:
        if resized:
            widget.resize(old)


def render_image(widget: QWidget, size: QSize | None = None) -> QImage:
    size = QSize(size) if size is not None else widget.size()
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    try:
        _paint(widget, painter, size)
    finally:
        painter.end()
    return image


def save_image(widget: QWidget, path: str, size: QSize | None = None) -> str:
    """Write ``widget`` to ``path`` (.svg: vector, else PNG); returns the path."""
    size = QSize(size) if size is not None else widget.size()
    if Path(path).suffix.lower() == ".svg":
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(size)
        gen.setViewBox(QRect(0, 0, size.width(), size.height()))
        gen.setTitle(widget.objectName() or "Backprop Studio view")
        painter = QPainter(gen)
        try:
            _paint(widget, painter, size)
        finally:
            painter.end()
        return str(path)
    if not render_image(widget, size).save(str(path)):
        raise OSError(f"could not write {path}")
    return str(path)


def ask_and_save(widget: QWidget) -> str | None:
    """Save image…: ask where and at which size, then write."""
    name = (widget.objectName() or "view").removesuffix("Plot").removesuffix("View") + ".png"
    path = dialogs.get_save_image_path(widget, name)
    if not path:
        return None
    size = dialogs.get_image_size(widget, (widget.width(), widget.height()))
    if size is None:
        return None
    try:
        return save_image(widget, path, QSize(*size))
    except OSError as exc:
        dialogs.show_error(widget, "Save image", str(exc))
        return None


def copy_image(widget: QWidget) -> None:
    QGuiApplication.clipboard().setImage(render_image(widget))


def install_image_actions(widget: Any) -> None:
    """Save image… / Copy image in the view's right-click menu (replacing a plot's own)."""
    save = getattr(widget, "save_image_action", None)
    copy = getattr(widget, "copy_image_action", None)
    if save is not None and copy is not None:  # a plot that has them: ask for the size too
        save.triggered.disconnect()
        save.triggered.connect(lambda *_: ask_and_save(widget))
        return
    save, copy = QAction("Save image…", widget), QAction("Copy image", widget)
    save.setToolTip("Save this view as PNG or SVG at a size you choose")
    save.triggered.connect(lambda *_: ask_and_save(widget))
    copy.triggered.connect(lambda *_: copy_image(widget))
    widget.save_image_action, widget.copy_image_action = save, copy
    plot_item = getattr(widget, "getPlotItem", None)
    if callable(plot_item):  # a pyqtgraph plot: its view box menu
        menu = plot_item().vb.menu
        menu.addSeparator()
        menu.addAction(save)
        menu.addAction(copy)
    else:
        widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        widget.addAction(save)
        widget.addAction(copy)


__all__ = ["ask_and_save", "copy_image", "install_image_actions", "render_image", "save_image"]
