"""Save image / Copy image from every view's right-click menu, PNG and SVG at a chosen size."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication, QImage

from bpstudio.ui import MainWindow, dialogs


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(dialogs, "show_error", lambda *a: None)
    w = MainWindow(
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), restore=False
    )
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


@pytest.mark.parametrize("view", ["loss_plot", "surface_view", "network_view", "inspector"])
def test_save_image_png_at_a_chosen_size_and_svg(window, tmp_path, monkeypatch, view):
    widget = getattr(window, view)
    window.set_current_tab({"surface_view": "surface", "inspector": "trace"}.get(view, "network"))
    png, svg = tmp_path / "v.png", tmp_path / "v.svg"
    paths = iter([str(png), str(svg)])
    monkeypatch.setattr(dialogs, "get_save_image_path", lambda *a: next(paths))
    monkeypatch.setattr(dialogs, "get_image_size", lambda parent, default: (640, 360))
    before = widget.size()
    widget.save_image_action.trigger()
    image = QImage(str(png))
    assert (image.width(), image.height()) == (640, 360)
    assert widget.size() == before  # laid out at the asked size only while painting
    widget.save_image_action.trigger()
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and 'width="' in text


def test_copy_image_puts_the_view_on_the_clipboard(window):
    window.grad_plot.copy_image_action.trigger()
    image = QGuiApplication.clipboard().image()
    assert not image.isNull() and image.width() > 50
