"""Datasets for Backprop Studio: robust CSV import, built-in toy sets, and preprocessing.

``load_table`` turns ``"builtin:NAME"`` or a CSV path into a :class:`RawTable` (columns with
kinds and missing counts, for the preview); ``prepare`` turns a table into engine-ready float64
arrays and a JSON-safe :class:`Preprocessor` that travels with the model. Every failure is a
:class:`DataError` with a one-line message. Pure Python / NumPy / pandas: no Qt here, and no
scikit-learn at runtime.
"""

from __future__ import annotations

from bpstudio.data.builtins import BUILTIN_DATASETS, BuiltinSpec, list_builtins, make_builtin
from bpstudio.data.csvio import read_csv
from bpstudio.data.errors import DataError
from bpstudio.data.prepare import (
    MISSING_POLICIES,
    SCALINGS,
    TASKS,
    DatasetOptions,
    FeatureSpec,
    PreparedDataset,
    Preprocessor,
    prepare,
)
from bpstudio.data.table import ColumnInfo, RawTable

__all__ = [
    "BUILTIN_DATASETS",
    "MISSING_POLICIES",
    "SCALINGS",
    "TASKS",
    "BuiltinSpec",
    "ColumnInfo",
    "DataError",
    "DatasetOptions",
    "FeatureSpec",
    "PreparedDataset",
    "Preprocessor",
    "RawTable",
    "describe_builtins",
    "list_builtins",
    "load_table",
    "make_builtin",
    "prepare",
    "read_csv",
]

BUILTIN_PREFIX = "builtin:"


def load_table(source, *, progress=None, cancel=None, **builtin_params) -> RawTable:
    """``"builtin:NAME"`` (with n_samples / noise / seed / extras) or a CSV path → RawTable."""
    text = str(source)
    if text.startswith(BUILTIN_PREFIX):
        table = make_builtin(text[len(BUILTIN_PREFIX) :], **builtin_params)
        if progress is not None:
            progress(1.0, table.n_rows)
        return table
    if builtin_params:
        names = ", ".join(sorted(builtin_params))
        raise DataError(f"{text}: {names} only apply to built-in datasets (builtin:NAME)")
    return read_csv(source, progress=progress, cancel=cancel)


def describe_builtins() -> str:
    """A table of the built-in datasets, one per line, for `bpstudio datasets`."""
    return "\n".join(spec.summary() for spec in list_builtins())
