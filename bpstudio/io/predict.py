"""Predictions of a loaded model on a table, as the columns ``bpstudio predict`` writes.

:func:`predict_frame` is the one implementation behind the CLI's ``predict`` and the window's
File → Predict on CSV…: it transforms the table with the model's preprocessor (imputing missing
cells only when the model was trained to, or when asked), runs the network forward, and builds the
output frame: ``prediction`` (the class label as spelled in the training data, or the value in the
target's units; ``prediction(<target>)`` per target for several), then ``p(<class>)`` per class,
after the input columns when ``keep_columns``, and ``reason`` when some rows could not be
predicted (their prediction is empty). Text cells are made inert for spreadsheets
(``cells.neutralise_formulas``). It also lists notes for the person (categories the model never
saw in training).

Leaves out: reading and writing files (the callers do, atomically), and scoring against a target
column (the CLI's score line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpstudio.io.cells import neutralise_formulas, printable
from bpstudio.io.model_file import ModelFileError


def class_column(name: str) -> str:
    return f"p({name})"


@dataclass
class Prediction:
    frame: Any  # pandas.DataFrame, one row per input row (formula-like text cells made inert)
    outputs: np.ndarray  # the network's outputs a^L (N, k); NaN rows where it could not predict
    labels: np.ndarray  # decoded predictions (classes or values in original units); None = none
    ok: np.ndarray  # (N,) bool: the rows that were predicted
    reasons: np.ndarray  # (N,) str: why a row was not predicted ("" where it was)
    notes: list[str] = field(default_factory=list)
    imputed: bool = False  # missing cells were filled as in training

    @property
    def n_failed(self) -> int:
        return int((~self.ok).sum())

    def skipped_text(self, index: Any) -> str:
        """For a summary line: "; N row(s) could not be predicted … (first at line L: why)"."""
        if not self.n_failed:
            return ""
        first = int(np.argmax(~self.ok))
        where = (
            f"line {index[first]}" if getattr(index, "name", None) == "line" else f"row {first + 1}"
        )
        return (
            f"; {self.n_failed} row(s) could not be predicted and have an empty prediction and a "
            f"reason (first at {where}: {printable(self.reasons[first], 80)})"
            + ("" if self.imputed else "; --impute fills missing values as the training data did")
        )


def predict_frame(
    model: Any, frame: Any, *, source: str, keep_columns: bool = False, impute: bool = False
) -> Prediction:
    """Predict every row of ``frame`` (a pandas DataFrame) with ``model`` (``load_model``'s
    result, or anything with ``.net`` and ``.preprocessor``).

    Every row is written: a row that can't be predicted (a missing cell the model was not trained
    to fill, an unreadable number, a non-finite output) gets an empty prediction and a ``reason``
    column says why — one gap never holds the other rows hostage."""
    import pandas as pd

    from bpstudio.engine.threads import one_blas_thread

    pre = model.preprocessor
    if pre is None:
        raise ModelFileError("the model has no preprocessor; export it with bpstudio train")
    n_rows = len(frame)
    # Missing feature cells: fill them as in training only if the model was trained to impute
    # (or the caller says so); otherwise those rows get an empty prediction and a reason.
    impute = impute or getattr(pre, "missing", "drop") == "impute"
    X, reasons = pre.transform_rows(frame, impute=impute, source=source)
    ok = reasons == ""
    A = np.full((n_rows, model.net.sizes[-1]), np.nan)
    if ok.any():
        with one_blas_thread(), np.errstate(all="ignore"):
            A[ok] = model.net.forward(X[ok])
        lost = ok & ~np.isfinite(A).all(axis=1)
        reasons[lost] = "the network's output is not finite"
        ok &= ~lost
    labels, probabilities = pre.decode(np.where(ok[:, None], A, 0.0))
    labels = np.asarray(labels, dtype=object)
    labels[~ok] = None  # an empty cell, never a made-up class or value

    result = frame.copy() if keep_columns else pd.DataFrame(index=frame.index)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 1:
        result["prediction"] = labels
    else:
        for j, name in enumerate(pre.target_names):
            result[f"prediction({name})"] = labels[:, j]
    classes = list(pre.classes or [])
    if probabilities is not None and classes:
        probabilities = np.asarray(probabilities, dtype=float)
        probabilities[~ok] = np.nan
        for j, name in enumerate(classes):
            result[class_column(str(name))] = probabilities[:, j]
    if not ok.all():
        result["reason"] = np.where(ok, "", reasons)
    result = neutralise_formulas(result)
    notes = []
    for column, values in pre.unseen_categories(frame).items():
        shown = ", ".join(f"'{printable(v, 40)}'" for v in values[:3])
        shown += " …" if len(values) > 3 else ""
        notes.append(
            f"column '{printable(column, 80)}' has values the model never saw in training "
            f"({shown}); those rows were predicted with that input all zeros"
        )
    return Prediction(result, A, labels, ok, reasons, notes, imputed=impute)


__all__ = ["Prediction", "class_column", "predict_frame"]
