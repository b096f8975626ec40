"""The classic MNIST weight picture: each first-hidden-layer unit's incoming weights as an image.

``WeightTilesView`` (objectName ``weightTiles``) draws, for a network whose inputs are a square
image (64 = 8×8 or 784 = 28×28 pixels), one tile per unit j of layer 2: the row w²_j· of W² laid
out as the image, blue for positive and orange for negative weights, each tile scaled to its own
largest |w| (so every unit's pattern is visible). Hover a pixel for w²_jk; click it to emit
``weightClicked(2, j, k)`` (what the inspector's "where does this gradient come from?" takes).
Other input sizes show a note. Wide layers show their first ``MAX_TILES`` units.
API: ``set_network(net)``; ``tile_image(j)`` returns the QImage of unit j.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QToolTip, QWidget

from bpstudio.ui import theme
from bpstudio.ui.trace_view import NEGATIVE, NEGATIVE_DARK, POSITIVE, POSITIVE_DARK

IMAGE_SIDES = {64: 8, 784: 28}
MAX_TILES = 64
TILE_PX = 84  # drawn size of one tile
GAP = 6


class WeightTilesView(QWidget):
    """Incoming weights of each layer-2 unit as an image tile; see the module docstring."""

    weightClicked = Signal(int, int, int)  # layer (2), j, k — 0-based units

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightTiles")
        self.setMouseTracking(True)
        self.W: np.ndarray | None = None  # W² (n_2, n_1)
        self.side: int | None = None
        self._images: list[QImage] = []

    def set_network(self, net: Any) -> None:
        self._images = []
        self.W, self.side = None, None
        if net is not None and net.sizes[0] in IMAGE_SIDES and len(net.sizes) >= 2:
            self.side = IMAGE_SIDES[net.sizes[0]]
            self.W = np.array(net.params["W2"][:MAX_TILES], dtype=np.float64)
            self._images = [self._render(row) for row in self.W]
        self.updateGeometry()
        self.update()

    def _render(self, row: np.ndarray) -> QImage:
        s = self.side
        m = float(np.nanmax(np.abs(row))) if row.size else 0.0
        t = np.clip(np.abs(row) / m, 0, 1) if m > 0 and math.isfinite(m) else np.zeros_like(row)
        dark = theme.is_dark()
        bg = np.array(QColor(theme.plot_theme().background).getRgb()[:3], dtype=np.float64)
        pos = np.array(QColor(POSITIVE_DARK if dark else POSITIVE).getRgb()[:3], dtype=np.float64)
        neg = np.array(QColor(NEGATIVE_DARK if dark else NEGATIVE).getRgb()[:3], dtype=np.float64)
        base = np.where((row >= 0)[:, None], pos, neg)
        rgb = bg + t[:, None] * (base - bg)
        data = np.ascontiguousarray(np.round(rgb).astype(np.uint8).reshape(s, s, 3))
        return QImage(data.data, s, s, 3 * s, QImage.Format.Format_RGB888).copy()

    def tile_image(self, j: int) -> QImage:
        return self._images[j]

    def _cols(self) -> int:
        return max(1, (max(self.width(), TILE_PX + GAP) - GAP) // (TILE_PX + GAP))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        n = len(self._images) or 1
        cols = min(n, 8)
        rows = -(-n // cols)
        return QSize(cols * (TILE_PX + GAP) + GAP, rows * (TILE_PX + GAP + 14) + GAP)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        cols = max(1, (max(width, TILE_PX + GAP) - GAP) // (TILE_PX + GAP))
        rows = -(-max(1, len(self._images)) // cols)
        return rows * (TILE_PX + GAP + 14) + GAP

    def _tile_rect(self, j: int) -> QRect:
        cols = self._cols()
        r, c = divmod(j, cols)
        return QRect(
            GAP + c * (TILE_PX + GAP), GAP + r * (TILE_PX + GAP + 14) + 14, TILE_PX, TILE_PX
        )

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        t = theme.plot_theme()
        p.fillRect(self.rect(), QColor(t.background))
        p.setPen(QColor(t.foreground))
        if not self._images:
            p.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Weight tiles need image inputs (64 = 8×8 or 784 = 28×28 pixels).",
            )
            p.end()
            return
        for j, img in enumerate(self._images):
            rect = self._tile_rect(j)
            p.drawText(
                rect.adjusted(0, -14, 0, -TILE_PX), Qt.AlignmentFlag.AlignLeft, f"unit {j + 1}"
            )
            p.drawImage(rect, img)
        p.end()

    def pixel_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(j, k) of the weight under ``pos``: unit j of layer 2, input pixel k."""
        for j in range(len(self._images)):
            rect = self._tile_rect(j)
            if rect.contains(pos):
                s = self.side
                col = min(s - 1, (pos.x() - rect.x()) * s // rect.width())
                row = min(s - 1, (pos.y() - rect.y()) * s // rect.height())
                return j, int(row * s + col)
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        hit = self.pixel_at(event.position().toPoint())
        if hit is not None:
            j, k = hit
            r, c = divmod(k, self.side)
            QToolTip.showText(
                event.globalPosition().toPoint(),
                f"<p><i>w</i><sup>2</sup><sub>{j + 1},{k + 1}</sub> = {self.W[j, k]:.4g} "
                f"(pixel row {r + 1}, column {c + 1})</p>",
                self,
            )
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        hit = self.pixel_at(event.position().toPoint())
        if hit is not None:
            self.weightClicked.emit(2, *hit)
        super().mousePressEvent(event)


__all__ = ["WeightTilesView"]
