"""The confusion matrix of a classifier on the training, validation or test split.

``ConfusionMatrixView`` (objectName ``confusionMatrix``) shows a table with one row per true class
and one column per predicted class (class names from the dataset), each cell the count and its
share of the row, the diagonal highlighted, plus per-class precision and recall and the accuracy.
The predicted class is the engine's one rule (`bpstudio.heads.predicted_class`, through
`diagnostics.confusion`), so the numbers agree with the Accuracy plot. API: ``set_network(net)``,
``set_dataset(ds)`` (needs ``X_train``/``Y_train``, optional ``X_val``/``Y_val``/``X_test``/
``Y_test`` and ``classes``), ``set_split("train" | "val" | "test")``, ``refresh()``;
``confusion`` holds the last result. Left out: normalisation choices, regression tasks (hidden).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpstudio.engine.diagnostics import Confusion, confusion
from bpstudio.engine.training import looks_like_classes
from bpstudio.ui import theme

SPLITS = (("train", "training"), ("val", "validation"), ("test", "test"))


class ConfusionMatrixView(QWidget):
    """True class × predicted class counts with precision and recall."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.net: Any = None
        self.dataset: Any = None
        self.confusion: Confusion | None = None
        self.split_combo = QComboBox()
        self.split_combo.setObjectName("confusionSplitCombo")
        self.summary = QLabel("")
        self.summary.setObjectName("confusionSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("confusionTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Split:"))
        top.addWidget(self.split_combo)
        top.addWidget(self.summary, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(
            QLabel(
                "Rows: the true class. Columns: the class the network predicts (largest output)."
            )
        )
        lay.addWidget(self.table, 1)
        self.split_combo.currentIndexChanged.connect(lambda *_: self.refresh())

    def set_dataset(self, ds: Any) -> None:
        self.dataset = ds
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        for key, label in SPLITS:
            X = getattr(ds, f"X_{key}", None) if ds is not None else None
            if X is not None and len(X):
                self.split_combo.addItem(label, key)
        self.split_combo.blockSignals(False)
        self.refresh()

    def set_network(self, net: Any) -> None:
        self.net = net
        self.refresh()

    def set_split(self, key: str) -> None:
        i = self.split_combo.findData(key)
        if i >= 0:
            self.split_combo.setCurrentIndex(i)

    def class_names(self, n: int) -> list[str]:
        names = getattr(self.dataset, "classes", None)
        if names and len(names) == n:
            return [str(c) for c in names]
        return [f"class {i + 1}" for i in range(n)]

    def refresh(self) -> Confusion | None:
        ds, net = self.dataset, self.net
        key = self.split_combo.currentData()
        self.confusion = None
        if ds is None or net is None or key is None:
            self.summary.setText("No network or data yet.")
            self.table.setRowCount(0)
            return None
        X, Y = getattr(ds, f"X_{key}"), getattr(ds, f"Y_{key}")
        if X.shape[1] != net.sizes[0] or Y.shape[1] != net.sizes[-1] or not looks_like_classes(Y):
            self.summary.setText(
                "A confusion matrix needs a classification dataset that fits the net."
            )
            self.table.setRowCount(0)
            return None
        with np.errstate(all="ignore"):
            c = confusion(net.forward(X), Y)
        self.confusion = c
        self._fill(c)
        self.summary.setText(
            f"{c.total} rows of the {self.split_combo.currentText()} split; accuracy "
            f"{100 * c.accuracy:.1f} %."
        )
        return c

    def _fill(self, c: Confusion) -> None:
        n = c.matrix.shape[0]
        names = self.class_names(n)
        self.table.setRowCount(n + 1)
        self.table.setColumnCount(n + 1)
        self.table.setHorizontalHeaderLabels([f"→ {s}" for s in names] + ["recall"])
        self.table.setVerticalHeaderLabels(names + ["precision"])
        dark = theme.is_dark()
        base = QColor("#3DA5F4" if dark else "#0072B2")
        bad = QColor("#F26B1D" if dark else "#D55E00")
        row_tot = c.matrix.sum(axis=1)
        for i in range(n):
            for j in range(n):
                v = int(c.matrix[i, j])
                share = v / row_tot[i] if row_tot[i] else 0.0
                item = QTableWidgetItem(f"{v}  ({100 * share:.0f} %)")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                tint = QColor(base if i == j else bad)
                tint.setAlphaF(0.1 + 0.6 * share if v else 0.0)
                item.setBackground(QBrush(tint))
                self.table.setItem(i, j, item)
            self.table.setItem(i, n, self._pct(c.recall[i]))
        for j in range(n):
            self.table.setItem(n, j, self._pct(c.precision[j]))
        self.table.setItem(n, n, QTableWidgetItem(""))

    @staticmethod
    def _pct(v: float) -> QTableWidgetItem:
        item = QTableWidgetItem("—" if math.isnan(v) else f"{100 * v:.1f} %")
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        item.setToolTip("precision: right / predicted as this class; recall: found / of this class")
        return item


__all__ = ["ConfusionMatrixView"]
