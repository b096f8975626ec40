"""The decision surface: the data over the network's prediction on a plane of its inputs.

``DecisionSurfaceView`` draws the prediction on a 100×100 grid with the data points over it, or
the data and the predicted curve (1 input). With two inputs the plane is the input space; with
more it is a :class:`~bpstudio.ui.surface_plane.Plane` chosen with :meth:`set_plane` — the first
two principal components (the default) or two features with the others at their training mean, in
the standardised space the model sees. Training and validation points are filled dots; test points
(when there is a test split) are hollow diamonds in their class colour. ``set_discrete(True)``
colours each cell by its predicted class (classification) or by one of ten bands (regression)
instead of a smooth shade. A regression surface has a colour bar with the target's range.

The grid points, the RGBA buffer and the one ``ImageItem`` are made once per dataset and plane, so
an update (≤ 10 Hz while training) is a forward pass plus a colour mapping. Class colours are in
the title, not in a legend box over the data. The predicted class comes from the engine's one
rule, ``bpstudio.heads.predicted_class``.

Leaves out: a colour bar for classification surfaces (the title names the class colours), and the
controls (``bpstudio.ui.surface_panel`` puts the plane combos and the toggle above the plot).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from bpstudio.heads import predicted_class, target_class
from bpstudio.ui import theme
from bpstudio.ui.plots import HOVER_RATE, format_value, readout_stylesheet, unshadow_clear
from bpstudio.ui.surface_plane import Plane, feature_plane, input_plane, pca_plane

_CMAP = "CET-D1"  # regression surfaces and targets
_BANDS = 10  # discretised regression surface
_SURFACE_MIX = 0.6  # a regression surface's colour strength over the background


def dataset_points(ds: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, Y) of the training + validation rows, and (X, Y) of the test rows (may be empty)."""
    if ds is None:
        z = np.zeros((0, 0))
        return z, z, z, z
    if hasattr(ds, "X_train"):
        X = np.concatenate([ds.X_train, ds.X_val])
        Y = np.concatenate([ds.Y_train, ds.Y_val])
        Xt, Yt = np.asarray(ds.X_test), np.asarray(ds.Y_test)
    else:  # a minimal dataset-like object: everything is "training"
        X, Y = np.asarray(ds.X), np.asarray(ds.Y)
        Xt, Yt = X[:0], Y[:0]
    return X, _cols(Y), Xt, _cols(Yt)


def _cols(Y: np.ndarray) -> np.ndarray:
    Y = np.asarray(Y)
    return Y[:, None] if Y.ndim == 1 else Y


class DecisionSurfaceView(pg.PlotWidget):
    """The data over the network's prediction: a surface (≥ 2 inputs) or a curve (1 input)."""

    GRID = 100

    def __init__(self, parent: QWidget | None = None, *, grid: int = GRID) -> None:
        super().__init__(parent, background=theme.plot_theme().background)
        unshadow_clear(self)
        self.setObjectName("decisionSurface")
        self.grid = grid
        self.paint_seconds = 0.0  # duration of the last paint event
        self.dataset: Any = None
        self.plane: Plane | None = None
        self.discrete = False
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
        self._scatter_test: list[bool] = []  # test-split scatter (hollow marker)
        # regression surfaces: the target's colour scale, right of the plot (hidden otherwise)
        self.color_bar = pg.ColorBarItem(
            values=(0.0, 1.0), width=14, interactive=False, colorMapMenu=False
        )
        item.layout.addItem(self.color_bar, 2, 5)
        self.color_bar.setVisible(False)
        self.prediction: np.ndarray | None = None
        self._A: np.ndarray | None = None  # last raw prediction on the grid (recolour on theme)
        self._y_range = (0.0, 1.0)  # regression: the colour scale's range (the targets')
        # Per dataset and plane: view bounds, grid points and the RGBA buffer (allocated once).
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
        if ds.n_inputs >= 2:
            return "surface"
        if ds.n_inputs == 1:
            return "curve"
        return "none"

    def _classification(self) -> bool:
        return getattr(self.dataset, "task", "") == "classification"

    def clear(self) -> None:  # type: ignore[override]
        """Remove the prediction (keeps the dataset's points)."""
        self.image.clear()
        self.image.setVisible(False)
        self.curve.setData([], [])
        self.prediction = None
        self._A = None
        self._net_sizes = None

    def set_dataset(self, ds: Any, plane: Plane | None = None) -> None:
        """Show ``ds`` (a PreparedDataset): its points, and later the prediction over them.

        More than two inputs: the plane of the first two principal components unless ``plane``
        says otherwise (see :meth:`set_plane`)."""
        self.dataset = ds
        if ds is not None and ds.n_inputs > 2 and plane is None:
            X, _, _, _ = dataset_points(ds)
            plane = pca_plane(np.asarray(getattr(ds, "X_train", X)))
        elif ds is not None and ds.n_inputs == 2:
            plane = input_plane(2, getattr(ds, "feature_names", None))
        self.plane = plane if ds is not None and ds.n_inputs >= 2 else None
        self._rebuild()

    def set_plane(self, kind: str, i: int = 0, j: int = 1) -> Plane | None:
        """More than two inputs: ``"pca"`` or ``"features"`` (features ``i`` and ``j`` vary)."""
        ds = self.dataset
        if ds is None or ds.n_inputs <= 2:
            return self.plane
        X, _, _, _ = dataset_points(ds)
        X_train = np.asarray(getattr(ds, "X_train", X))
        names = list(getattr(ds, "feature_names", []) or [])
        if kind == "pca":
            self.plane = pca_plane(X_train)
        elif kind == "features":
            self.plane = feature_plane(X_train, i, j, names)
        else:
            raise ValueError(f"plane kind must be 'pca' or 'features', not {kind!r}")
        self._rebuild()
        return self.plane

    def project(self, X: np.ndarray) -> np.ndarray:
        """Rows of inputs → the plot's (x, y) (the plane's coordinates); 1 input: (x, 0)."""
        X = np.asarray(X, dtype=np.float64)
        if self.plane is None:
            return np.column_stack([X[:, 0], np.zeros(len(X))])
        return self.plane.project(X)

    def set_discrete(self, on: bool) -> None:
        """Colour by predicted class / value band (True) or a smooth confidence shade."""
        self.discrete = bool(on)
        if self.color_bar.isVisible():
            self.color_bar.setColorMap(self._bar_colormap())
        self._show_surface()

    def _rebuild(self) -> None:
        """Points, labels, bounds and buffers for the current dataset and plane."""
        ds = self.dataset
        item = self.getPlotItem()
        for sc in self.scatters:
            item.removeItem(sc)
        self.scatters.clear()
        self._scatter_class.clear()
        self._scatter_test.clear()
        self.clear()
        self._readout.hide()
        mode = self._mode()
        self._grid_points = self._rgba = None  # built at the first set_network
        X, Y, Xt, Yt = dataset_points(ds)
        self._bounds_cache = self._bounds() if mode in ("surface", "curve") else None
        if mode == "surface":
            assert self.plane is not None
            units = "scaled" if self.plane.kind != "pca" else None
            item.setLabel("bottom", self.plane.labels[0], units=units)
            item.setLabel("left", self.plane.labels[1], units=units)
            self.setToolTip(self.plane.note)
            P, Pt = self.plane.project(X), self.plane.project(Xt)
            if self._classification():
                k = Y.shape[1] if Y.shape[1] > 1 else 2
                cls, cls_t = target_class(Y), target_class(Yt)
                for j in range(k):
                    self._add_points(P[cls == j], j, test=False)
                for j in range(k):
                    self._add_points(Pt[cls_t == j], j, test=True)
            else:
                y, yt = Y[:, 0], Yt[:, 0]
                both = np.concatenate([y, yt])
                lo, hi = (float(np.nanmin(both)), float(np.nanmax(both))) if both.size else (0, 1)
                self._y_range = (lo, hi if hi > lo else lo + 1.0)
                self._add_points(P, None, test=False, values=y)
                self._add_points(Pt, None, test=True, values=yt)
        elif mode == "curve":
            names = list(getattr(ds, "feature_names", []) or [])
            item.setLabel("bottom", names[0] if names else "x", units="scaled")
            targets = list(getattr(ds, "target_names", []) or [])
            item.setLabel("left", targets[0] if targets else "y", units="scaled")
            self.setToolTip("")
            for Xs, Ys, test in ((X, Y, False), (Xt, Yt, True)):
                if len(Xs) == 0:
                    continue
                sc = pg.ScatterPlotItem(
                    Xs[:, 0],
                    Ys[:, 0],
                    size=7 if test else 5,
                    symbol="d" if test else "o",
                    brush=None if test else pg.mkBrush(theme.series_color(4)),
                    pen=pg.mkPen(theme.series_color(1), width=1.5) if test else None,
                    name="test" if test else "data",
                )
                self._add_scatter(sc, None, test)
        self.color_bar.setVisible(mode == "surface" and not self._classification())
        self._restyle()
        if mode in ("surface", "curve"):
            item.vb.autoRange()
            item.vb.enableAutoRange(enable=True)

    def _add_points(
        self,
        P: np.ndarray,
        class_index: int | None,
        *,
        test: bool,
        values: np.ndarray | None = None,
    ) -> None:
        if len(P) == 0:
            return
        fg = theme.plot_theme().foreground
        if values is not None:
            fill: Any = self._value_brushes(values, *self._y_range)
        else:
            fill = pg.mkBrush(theme.class_colors(max(2, class_index + 1))[class_index])
        if test:  # hollow diamonds: the test rows are never trained on
            pens = (
                [pg.mkPen(b.color(), width=2.0) for b in fill]
                if isinstance(fill, list)
                else pg.mkPen(fill.color(), width=2.0)
            )
            sc = pg.ScatterPlotItem(
                P[:, 0], P[:, 1], size=9, symbol="d", brush=pg.mkBrush(0, 0, 0, 0), pen=pens
            )
        else:
            sc = pg.ScatterPlotItem(
                P[:, 0], P[:, 1], size=7, brush=fill, pen=pg.mkPen(fg, width=0.6)
            )
        self._add_scatter(sc, class_index, test)

    def _add_scatter(
        self, sc: pg.ScatterPlotItem, class_index: int | None = None, test: bool = False
    ) -> None:
        self.getPlotItem().addItem(sc)
        self.scatters.append(sc)
        self._scatter_class.append(class_index)
        self._scatter_test.append(test)

    def _title_html(self) -> str:
        """The title: what the view shows, with each class (or series) in its colour."""
        ds, mode = self.dataset, self._mode()

        def dot(color: str, label: str, mark: str = "●") -> str:
            return f"<span style='color:{color}'>{mark}</span>&nbsp;{label}"

        has_test = any(self._scatter_test)
        test = f"&nbsp;&nbsp;{dot(theme.plot_theme().foreground, 'test', '◇')}" if has_test else ""
        if mode == "surface" and self._classification():
            _, Y, _, _ = dataset_points(ds)
            k = Y.shape[1] if Y.shape[1] > 1 else 2
            labels = list(getattr(ds, "classes", None) or [str(i) for i in range(k)])
            colors = theme.class_colors(k)
            shown = "&nbsp;&nbsp;".join(dot(colors[j], str(labels[j])) for j in range(min(k, 8)))
            more = f"&nbsp;&nbsp;… {k} classes" if k > 8 else ""
            return f"Decision surface&nbsp;&nbsp;{shown}{more}{test}"
        if mode == "surface":
            return f"Prediction surface&nbsp;&nbsp;(points: target, colour = value){test}"
        if mode == "curve":
            t = f"&nbsp;&nbsp;{dot(theme.series_color(1), 'test', '◇')}" if has_test else ""
            return (
                f"Prediction&nbsp;&nbsp;{dot(theme.series_color(4), 'data')}&nbsp;&nbsp;"
                f"{dot(theme.series_color(0), 'prediction', '━')}{t}"
            )
        return "Decision surface"

    @staticmethod
    def _value_brushes(values: np.ndarray, lo: float, hi: float) -> list:
        cmap = pg.colormap.get(_CMAP)
        span = (hi - lo) or 1.0
        rgba = cmap.map(np.clip((values - lo) / span, 0, 1), mode="byte")
        return [pg.mkBrush(*c) for c in rgba]

    def _bounds(self) -> tuple[float, float, float, float]:
        X, _, Xt, _ = dataset_points(self.dataset)
        X = np.concatenate([X, Xt]) if len(Xt) else X
        P = self.project(X) if len(X) else np.zeros((1, 2))
        lo, hi = np.nanmin(P, axis=0), np.nanmax(P, axis=0)
        pad = 0.08 * np.maximum(hi - lo, 1e-9)
        lo, hi = lo - pad, hi + pad
        if self._mode() == "curve":
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
        if self._grid_points is None:  # once per dataset and plane
            if mode == "curve":
                self._grid_points = np.linspace(x0, x1, 4 * g)[:, None]
            else:
                assert self.plane is not None
                gx = np.linspace(x0, x1, g)
                gy = np.linspace(y0, y1, g)
                xx, yy = np.meshgrid(gx, gy, indexing="ij")  # image axis 0 = x
                self._grid_points = self.plane.to_inputs(np.column_stack([xx.ravel(), yy.ravel()]))
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

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """The plotted plane's (x0, x1, y0, y1): where the grid (the image) lies."""
        return self._bounds_cache

    def grid_plane_points(self) -> np.ndarray | None:
        """The grid's points in the model's input space (rows; None before the first network)."""
        return self._grid_points

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
        bg = np.array(QColor(theme.plot_theme().background).getRgb()[:3], dtype=np.float64)
        if self._classification():
            k = max(A.shape[1], 2)
            cols = np.array(
                [QColor(c).getRgb()[:3] for c in theme.class_colors(k)], dtype=np.float64
            )
            if self.discrete:  # the predicted class, full strength: the boundary is an edge
                rgb = bg + 0.45 * (cols[predicted_class(np.nan_to_num(A))] - bg)
            else:
                P = self._class_shares(A)
                rgb = P @ cols
                # Confidence → saturation: 1/k (undecided) shows the background, 1 the colour.
                conf = (P.max(axis=1, keepdims=True) - 1.0 / k) / (1 - 1.0 / k)
                strength = 0.15 + 0.4 * conf
                rgb = bg + strength * (rgb - bg)
        else:
            lo, hi = self._y_range
            t = np.clip((np.nan_to_num(A[:, 0]) - lo) / (hi - lo), 0, 1)
            if self.discrete:  # ten bands: the value's level sets, like contour lines
                t = (np.minimum(np.floor(t * _BANDS), _BANDS - 1) + 0.5) / _BANDS
            rgb = pg.colormap.get(_CMAP).map(t, mode="float")[:, :3] * 255
            rgb = bg + _SURFACE_MIX * (rgb - bg)
        if out is None:
            out = np.empty((A.shape[0], 4), dtype=np.ubyte)
            out[:, 3] = 255
        np.clip(rgb, 0, 255, out=rgb)
        out[:, :3] = rgb  # unsafe cast float → ubyte, in place
        return out

    @staticmethod
    def _class_shares(A: np.ndarray) -> np.ndarray:
        """Outputs → a share per class summing to 1 (one sigmoid unit: P(class 1))."""
        if A.shape[1] == 1:
            p = np.clip(A[:, 0], 0, 1)
            P = np.column_stack([1 - p, p])
        else:
            P = np.clip(A, 0, None)
            s = P.sum(axis=1, keepdims=True)
            P = np.where(s > 0, P / np.where(s > 0, s, 1), 1.0 / A.shape[1])
        return np.nan_to_num(P, nan=1.0 / P.shape[1])

    def _bar_colormap(self) -> pg.ColorMap:
        """The regression colour map as the surface shows it (mixed with the background)."""
        bg = np.array(QColor(theme.plot_theme().background).getRgb()[:3], dtype=np.float64)
        pos = np.linspace(0, 1, 64)
        rgb = pg.colormap.get(_CMAP).map(pos, mode="float")[:, :3] * 255
        if self.discrete:
            pos = np.repeat(np.linspace(0, 1, _BANDS + 1), 2)[1:-1]
            mids = (np.arange(_BANDS) + 0.5) / _BANDS
            rgb = np.repeat(pg.colormap.get(_CMAP).map(mids, mode="float")[:, :3] * 255, 2, 0)
        rgb = np.clip(bg + _SURFACE_MIX * (rgb - bg), 0, 255).astype(np.ubyte)
        return pg.ColorMap(pos, rgb)

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
            if self._classification():
                classes = list(getattr(ds, "classes", None) or [])
                c = int(predicted_class(a.reshape(1, -1))[0])
                prob = float(self._class_shares(a.reshape(1, -1))[0, c])
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
        self.curve.setPen(pg.mkPen(theme.series_color(0), width=2.5))
        # the palette's class colours differ between light and dark: recolour points and surface
        if self.scatters and self._classification():
            _, Y, _, _ = dataset_points(self.dataset)
            colors = theme.class_colors(max(Y.shape[1], 2))
            marks = zip(self.scatters, self._scatter_class, self._scatter_test, strict=True)
            for sc, j, test in marks:
                if j is None:
                    continue
                if test:
                    sc.setPen(pg.mkPen(colors[j], width=2.0))
                else:
                    sc.setBrush(pg.mkBrush(colors[j]))
                    sc.setPen(pg.mkPen(t.foreground, width=0.6))
        elif self._mode() == "surface":
            for sc, test in zip(self.scatters, self._scatter_test, strict=True):
                if not test:
                    sc.setPen(pg.mkPen(t.foreground, width=0.6))
        if self.color_bar.isVisible():
            self.color_bar.setColorMap(self._bar_colormap())
            self.color_bar.setLevels(self._y_range)
            self.color_bar.axis.setTextPen(t.foreground)
            self.color_bar.axis.setPen(t.foreground)
        self._show_surface()
        self._readout.setStyleSheet(readout_stylesheet())
