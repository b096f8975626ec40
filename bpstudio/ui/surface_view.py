"""The decision surface: the training data over the network's prediction.

``DecisionSurfaceView`` draws the training points over the network's prediction on a 100×100 grid
(2 inputs), or the data and the predicted curve (1 input), or a short note (more inputs). The grid
points and the RGBA buffer are allocated once per dataset and the one ``ImageItem`` is reused, so
an update (≤ 5 Hz while training) is a forward pass plus a colour mapping. Class colours are in
the title, not in a legend box over the data.

Leaves out: a colour bar for classification surfaces.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from bpstudio.heads import predicted_class_one, target_class
from bpstudio.ui import theme
from bpstudio.ui.plots import HOVER_RATE, format_value, readout_stylesheet, unshadow_clear


class DecisionSurfaceView(pg.PlotWidget):
    """The data over the network's prediction: a surface (2 inputs), a curve (1 input) or a note."""

    GRID = 100

    def __init__(self, parent: QWidget | None = None, *, grid: int = GRID) -> None:
        super().__init__(parent, background=theme.plot_theme().background)
        unshadow_clear(self)
        self.setObjectName("decisionSurface")
        self.grid = grid
        self.paint_seconds = 0.0  # duration of the last paint event
        self.dataset: Any = None
        self._net_sizes: list[int] | None = None
        item = self.getPlotItem()
        item.showGrid(x=False, y=False)
        item.setMenuEnabled(True)
        # No legend box: it covered data points. The title names the classes in their colours.
        self.legend = None
        self.setMinimumSize(220, 220)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        item.addItem(self.image)
        self.curve = pg.PlotDataItem()  # 1-input regression
        item.addItem(self.curve)
        self.scatters: list[pg.ScatterPlotItem] = []
        self._scatter_class: list[int | None] = []  # class index of each scatter (for restyling)
        self.note = pg.TextItem("", anchor=(0.5, 0.5))
        item.addItem(self.note, ignoreBounds=True)
        self.prediction: np.ndarray | None = None
        self._A: np.ndarray | None = None  # last raw prediction on the grid (recolour on theme)
        # Per dataset: view bounds, grid points and the RGBA buffer (allocated once).
        self._bounds_cache: tuple[float, float, float, float] | None = None
        self._grid_points: np.ndarray | None = None
        self._rgba: np.ndarray | None = None
        self._readout = QLabel(self)
        self._readout.setObjectName("plotReadout")
        self._readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._readout.hide()
        self._hover_proxy = pg.SignalProxy(
            self.scene().sigMouseMoved,
            rateLimit=HOVER_RATE,
            slot=lambda a: self._on_mouse_moved(a[0]),
        )
        theme.notifier().themeChanged.connect(self._restyle)
        self._restyle()
        self.clear()

    # --- data ---------------------------------------------------------------------------------
    def _mode(self) -> str:
        ds = self.dataset
        if ds is None:
            return "none"
        if ds.n_inputs == 2:
            return "surface"
        if ds.n_inputs == 1:
            return "curve"
        return "note"

    def clear(self) -> None:  # type: ignore[override]
        """Remove the prediction (keeps the dataset's points)."""
        self.image.clear()
        self.image.setVisible(False)
        self.curve.setData([], [])
        self.prediction = None
        self._A = None
        self._net_sizes = None

    def set_dataset(self, ds: Any) -> None:
        """Show ``ds`` (a PreparedDataset): its points, and later the prediction over them."""
        self.dataset = ds
        item = self.getPlotItem()
        for s in self.scatters:
            item.removeItem(s)
        self.scatters.clear()
        self._scatter_class.clear()
        self.clear()
        self._readout.hide()
        self.note.setText("")
        mode = self._mode()
        self._bounds_cache = self._bounds() if mode in ("surface", "curve") else None
        self._grid_points = self._rgba = None  # built at the first set_network
        X, Y = (np.asarray(ds.X), np.asarray(ds.Y)) if ds is not None else (None, None)
        names = list(getattr(ds, "feature_names", []) or [])
        classification = getattr(ds, "task", "") == "classification"
        if mode == "surface":
            item.setLabel("bottom", names[0] if names else "x1", units="scaled")
            item.setLabel("left", names[1] if len(names) > 1 else "x2", units="scaled")
            if classification:
                k = Y.shape[1] if Y.ndim == 2 and Y.shape[1] > 1 else 2
                cls = target_class(Y.reshape(len(Y), -1))
                colors = theme.class_colors(k)
                labels = list(getattr(ds, "classes", None) or [str(i) for i in range(k)])
                for j in range(k):
                    m = cls == j
                    sc = pg.ScatterPlotItem(
                        X[m, 0],
                        X[m, 1],
                        size=7,
                        brush=pg.mkBrush(colors[j]),
                        pen=pg.mkPen(theme.plot_theme().foreground, width=0.6),
                        name=f"class {labels[j]}",
                    )
                    self._add_scatter(sc, j)
            else:
                y = Y[:, 0] if Y.ndim == 2 else Y
                brushes = self._value_brushes(y, float(np.nanmin(y)), float(np.nanmax(y)))
                sc = pg.ScatterPlotItem(
                    X[:, 0],
                    X[:, 1],
                    size=7,
                    brush=brushes,
                    pen=pg.mkPen(theme.plot_theme().foreground, width=0.6),
                    name="target",
                )
                self._add_scatter(sc)
        elif mode == "curve":
            item.setLabel("bottom", names[0] if names else "x", units="scaled")
            targets = list(getattr(ds, "target_names", []) or [])
            item.setLabel("left", targets[0] if targets else "y", units="scaled")
            y = Y[:, 0] if Y.ndim == 2 else Y
            sc = pg.ScatterPlotItem(
                X[:, 0],
                y,
                size=5,
                brush=pg.mkBrush(theme.series_color(4)),
                pen=None,
                name="data",
            )
            self._add_scatter(sc)
        elif mode == "note":
            item.setLabel("bottom", "")
            item.setLabel("left", "")
            n = ds.n_inputs
            self.note.setText(
                f"The decision surface needs 1 or 2 inputs;\nthis dataset has {n} features.\n"
                "Loss, gradient norms and the other tabs work for any number."
            )
            self.note.setPos(0.5, 0.5)
            item.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        # empty 0…1 axes around the note only look like a broken plot (setLabel shows them)
        for side in ("left", "bottom"):
            item.showAxis(side, mode != "note")
        self._restyle()
        if mode in ("surface", "curve"):
            item.vb.autoRange()
            item.vb.enableAutoRange(enable=True)

    def _add_scatter(self, sc: pg.ScatterPlotItem, class_index: int | None = None) -> None:
        self.getPlotItem().addItem(sc)
        self.scatters.append(sc)
        self._scatter_class.append(class_index)

    def _title_html(self) -> str:
        """The title: what the view shows, with each class (or series) in its colour."""
        ds, mode = self.dataset, self._mode()

        def dot(color: str, label: str, mark: str = "●") -> str:
            return f"<span style='color:{color}'>{mark}</span>&nbsp;{label}"

        if mode == "surface" and getattr(ds, "task", "") == "classification":
            Y = np.asarray(ds.Y)
            k = Y.shape[1] if Y.ndim == 2 and Y.shape[1] > 1 else 2
            labels = list(getattr(ds, "classes", None) or [str(i) for i in range(k)])
            colors = theme.class_colors(k)
            shown = "&nbsp;&nbsp;".join(dot(colors[j], str(labels[j])) for j in range(min(k, 8)))
            more = f"&nbsp;&nbsp;… {k} classes" if k > 8 else ""
            return f"Decision surface&nbsp;&nbsp;{shown}{more}"
        if mode == "surface":
            return "Prediction surface&nbsp;&nbsp;(points: target, colour = value)"
        if mode == "curve":
            return (
                f"Prediction&nbsp;&nbsp;{dot(theme.series_color(4), 'data')}&nbsp;&nbsp;"
                f"{dot(theme.series_color(0), 'prediction', '━')}"
            )
        return "Decision surface"

    @staticmethod
    def _value_brushes(values: np.ndarray, lo: float, hi: float) -> list:
        cmap = pg.colormap.get("CET-D1")
        span = (hi - lo) or 1.0
        rgba = cmap.map(np.clip((values - lo) / span, 0, 1), mode="byte")
        return [pg.mkBrush(*c) for c in rgba]

    def _bounds(self) -> tuple[float, float, float, float]:
        X = np.asarray(self.dataset.X)
        lo, hi = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        pad = 0.08 * np.maximum(hi - lo, 1e-9)
        lo, hi = lo - pad, hi + pad
        if X.shape[1] == 1:
            return float(lo[0]), float(hi[0]), 0.0, 0.0
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def set_network(self, net: Any) -> None:
        """Recompute the prediction with ``net``'s current weights (GUI thread; ~10k forwards)."""
        mode = self._mode()
        if mode not in ("surface", "curve") or net is None:
            return
        sizes = list(getattr(net, "sizes", []))
        if not sizes or sizes[0] != self.dataset.n_inputs:
            self.clear()  # a network for another dataset (transient while switching)
            return
        if self._bounds_cache is None:
            self._bounds_cache = self._bounds()
        x0, x1, y0, y1 = self._bounds_cache
        g = self.grid
        if self._grid_points is None:  # once per dataset
            if mode == "curve":
                self._grid_points = np.linspace(x0, x1, 4 * g)[:, None]
            else:
                gx = np.linspace(x0, x1, g)
                gy = np.linspace(y0, y1, g)
                xx, yy = np.meshgrid(gx, gy, indexing="ij")  # image axis 0 = x
                self._grid_points = np.column_stack([xx.ravel(), yy.ravel()])
                self._rgba = np.empty((g * g, 4), dtype=np.ubyte)
                self._rgba[:, 3] = 255
        with np.errstate(all="ignore"):
            A = np.asarray(net.forward(self._grid_points), dtype=np.float64)
        if mode == "curve":
            self.prediction = A
            self.curve.setData(self._grid_points[:, 0], A[:, 0])
            return
        self.prediction = A.reshape(g, g, -1)
        self._A = A
        self._show_surface()
        self._net_sizes = sizes

    def _show_surface(self) -> None:
        """Colour the last prediction into the RGBA buffer and hand it to the (one) ImageItem."""
        if self._A is None or self._rgba is None or self._bounds_cache is None:
            return
        g = self.grid
        x0, x1, y0, y1 = self._bounds_cache
        first = not self.image.isVisible()
        self.image.setImage(
            self._surface_rgba(self._A, out=self._rgba).reshape(g, g, 4),
            autoLevels=False,
            levels=(0, 255),
        )
        if first:
            self.image.setRect(x0, y0, x1 - x0, y1 - y0)
            self.image.setVisible(True)

    def _surface_rgba(self, A: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        ds = self.dataset
        bg = np.array(QColor(theme.plot_theme().background).getRgb()[:3], dtype=np.float64)
        if getattr(ds, "task", "") == "classification":
            if A.shape[1] == 1:  # one sigmoid unit: P(class 1)
                p = np.clip(A[:, 0], 0, 1)
                P = np.column_stack([1 - p, p])
            else:
                P = np.clip(A, 0, None)
                s = P.sum(axis=1, keepdims=True)
                P = np.where(s > 0, P / np.where(s > 0, s, 1), 1.0 / A.shape[1])
            P = np.nan_to_num(P, nan=1.0 / P.shape[1])
            k = P.shape[1]
            cols = np.array(
                [QColor(c).getRgb()[:3] for c in theme.class_colors(k)], dtype=np.float64
            )
            rgb = P @ cols
            # Confidence → saturation: 1/k (undecided) shows the background, 1 the class colour.
            conf = (P.max(axis=1, keepdims=True) - 1.0 / k) / (1 - 1.0 / k)
            strength = 0.15 + 0.4 * conf
            rgb = bg + strength * (rgb - bg)
        else:
            y = np.nan_to_num(A[:, 0])
            Y = np.asarray(ds.Y)
            lo, hi = float(np.nanmin(Y)), float(np.nanmax(Y))
            cmap = pg.colormap.get("CET-D1")
            rgb = cmap.map(np.clip((y - lo) / ((hi - lo) or 1.0), 0, 1), mode="float")[:, :3] * 255
            rgb = bg + 0.6 * (rgb - bg)
        if out is None:
            out = np.empty((A.shape[0], 4), dtype=np.ubyte)
            out[:, 3] = 255
        np.clip(rgb, 0, 255, out=rgb)
        out[:, :3] = rgb  # unsafe cast float → ubyte, in place
        return out

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - t0

    # --- hover --------------------------------------------------------------------------------
    def _on_mouse_moved(self, pos: QPointF) -> None:
        if self.getPlotItem() is None:  # closed
            return
        vb = self.getPlotItem().vb
        if self.prediction is None or not vb.sceneBoundingRect().contains(pos):
            self._readout.hide()
            return
        p = vb.mapSceneToView(pos)
        self.show_readout_at(p.x(), p.y())

    def leaveEvent(self, event: Any) -> None:  # noqa: N802
        self._readout.hide()
        super().leaveEvent(event)

    def show_readout_at(self, x: float, y: float) -> str:
        ds = self.dataset
        if self.prediction is None or ds is None:
            return ""
        x0, x1, y0, y1 = self._bounds_cache or self._bounds()
        if self._mode() == "curve":
            A = self.prediction
            i = int(
                np.clip(round((x - x0) / ((x1 - x0) or 1) * (A.shape[0] - 1)), 0, A.shape[0] - 1)
            )
            text = f"x = {x:.3g}: prediction {format_value(float(A[i, 0]))}"
        else:
            g = self.grid
            i = int(np.clip(round((x - x0) / ((x1 - x0) or 1) * (g - 1)), 0, g - 1))
            j = int(np.clip(round((y - y0) / ((y1 - y0) or 1) * (g - 1)), 0, g - 1))
            a = self.prediction[i, j]
            text = f"({x:.3g}, {y:.3g})  "
            if getattr(ds, "task", "") == "classification":
                classes = list(getattr(ds, "classes", None) or [])
                c = predicted_class_one(a)
                if a.size == 1:
                    prob = float(a[0]) if c else 1 - float(a[0])
                else:
                    prob = float(a[c] / (a.sum() or 1))
                name = classes[c] if c < len(classes) else str(c)
                text += f"class <b>{name}</b> (p = {prob:.2f})"
            else:
                text += f"prediction <b>{format_value(float(a[0]))}</b>"
        self._readout.setText(text)
        self._readout.adjustSize()
        corner = self.mapFromScene(self.getPlotItem().vb.sceneBoundingRect().topLeft())
        self._readout.move(corner.x() + 6, corner.y() + 6)
        self._readout.show()
        return text

    def _restyle(self, *_: Any) -> None:
        if self.getPlotItem() is None:  # closed: pyqtgraph drops the plot item on close()
            return
        t = theme.plot_theme()
        self.getPlotItem().setTitle(self._title_html(), size="10pt")
        theme.style_plot(self)
        self.note.setColor(t.foreground)
        self.curve.setPen(pg.mkPen(theme.series_color(0), width=2.5))
        # the palette's class colours differ between light and dark: recolour points and surface
        ds = self.dataset
        if self.scatters and getattr(ds, "task", "") == "classification":
            k = len(self._scatter_class)
            colors = theme.class_colors(max(k, 2))
            for sc, j in zip(self.scatters, self._scatter_class, strict=True):
                if j is not None:
                    sc.setBrush(pg.mkBrush(colors[j]))
        for sc in self.scatters:
            if self._mode() == "surface":
                sc.setPen(pg.mkPen(t.foreground, width=0.6))
        self._show_surface()
        self._readout.setStyleSheet(readout_stylesheet())
