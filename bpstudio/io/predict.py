"""Predictions of a loaded model on a table, as the columns ``bpstudio predict`` writes.

:func:`predict_frame` is the one implementation behind the CLI's ``predict`` and the window's
File → Predict on CSV…: it transforms the table with the model's preprocessor (imputing missing
cells only when the model was trained to, or when asked), runs the network forward, and builds the
output frame: ``prediction`` (the class label as spelled in the training data, or the value in the
target's units; ``prediction(<target>)`` per target for several), then ``p(<class>)`` per class,
after the input columns when ``keep_columns``. It also lists notes for the person (categories the
model never saw in training).

Leaves out: reading and writing files (the callers do, atomically), and scoring against a target
column (the CLI's score line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpstudio.data import DataError
from bpstudio.io.model_file import ModelFileError


def class_column(name: str) -> str:
    return f"p({name})"


@dataclass
class Prediction:
    frame: Any  # pandas.DataFrame, one row per input row
    outputs: np.ndarray  # the network's outputs a^L (N, k)
    labels: np.ndarray  # decoded predictions (classes or values in original units)
    notes: list[str] = field(default_factory=list)


def predict_frame(
    model: Any, frame: Any, *, source: str, keep_columns: bool = False, impute: bool = False
) -> Prediction:
    """Predict every row of ``frame`` (a pandas DataFrame) with ``model`` (``load_model``'s
    result, or anything with ``.net`` and ``.preprocessor``)."""
    import pandas as pd

    from bpstudio.engine.threads import one_blas_thread

    pre = model.preprocessor
    if pre is None:
        raise ModelFileError("the model has no preprocessor; export it with bpstudio train")
    n_rows = len(frame)
    # Missing feature cells: fill them as in training only if the model was trained to impute
    # (or the caller says so); a model trained on complete rows reports the first gap instead.
    impute = impute or getattr(pre, "missing", "drop") == "impute"
    try:
        X = pre.transform(frame, missing="impute" if impute else "error", source=source)
    except DataError as exc:
        if impute or "is missing a value" not in str(exc):  # --impute fills cells, not columns
            raise
        raise DataError(f"{exc}, or pass --impute to fill gaps as the training data would") from exc
    if X.shape[0] != n_rows:
        raise DataError(
            f"{source}: only {X.shape[0]} of {n_rows} rows could be used "
            "(missing or unreadable feature values); clean the file"
        )
    with one_blas_thread():
        A = model.net.forward(X)
    labels, probabilities = pre.decode(A)
    labels = np.asarray(labels)

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
        probabilities = np.asarray(probabilities)
        for j, name in enumerate(classes):
            result[class_column(str(name))] = probabilities[:, j]
    notes = []
    for column, values in pre.unseen_categories(frame).items():
        shown = ", ".join(f"'{v}'" for v in values[:3]) + (" …" if len(values) > 3 else "")
        notes.append(
            f"column '{column}' has values the model never saw in training ({shown}); "
            "those rows were predicted with that input all zeros"
        )
    return Prediction(result, A, labels, notes)


__all__ = ["Prediction", "class_column", "predict_frame"]
