"""From a RawTable to engine-ready arrays, with every fitted transform kept in a Preprocessor.

``prepare`` chooses the target (default: the table's last column), decides classification vs
regression (text, bool or few-valued integer target → classification, else regression;
overridable), encodes features (numeric as is, few-valued text one-hot as ``island=Biscoe``, free
text / constant / empty columns dropped with a note), handles missing values (drop the row and
count it, or impute the training mean / most frequent value; rows without a target are always
dropped), splits train / val / test with a seed (stratified for classification) and fits scaling
on the training rows only.

Scaling touches numeric feature columns; one-hot columns stay 0/1. For regression the targets are
scaled the same way (standardize → zero mean, unit variance on the training rows; minmax → [0, 1];
none → raw) and ``Preprocessor.decode`` maps network outputs back to the original units.
Classification targets are one-hot with k ≥ 2 columns, classes in their original spelling.

The Preprocessor is JSON-safe (``to_dict`` / ``from_dict``): column order, kinds, one-hot
vocabularies, imputation values, scaling, class list and target scaling, so a saved model predicts
on a new raw CSV exactly as in training. Leaves out: feature selection, outliers, date parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bpstudio.data.errors import DataError
from bpstudio.data.table import (
    MAX_CATEGORIES,
    RawTable,
    as_labels,
    first_text_cell,
    is_numeric_series,
    sort_labels,
    to_numbers,
)
from bpstudio.heads import default_head, predicted_class

TASKS = ("auto", "classification", "regression")
MISSING_POLICIES = ("drop", "impute")
SCALINGS = ("standardize", "minmax", "none")
#: Forcing classification on a column with more distinct values than this is refused.
MAX_CLASSES = 100
#: A column forced categorical may have at most this many values (one input each).
MAX_ONE_HOT = 200
_FORMAT = "bpstudio.preprocessor"
_VERSION = 1


@dataclass
class DatasetOptions:
    """How to turn a table into arrays. ``categorical`` forces columns to one-hot (an addition)."""

    target: list[str] | None = None  # None = table.default_target
    task: str = "auto"  # "classification" | "regression"
    missing: str = "drop"  # "impute"
    scaling: str = "standardize"  # "minmax" | "none"
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    seed: int = 0
    drop_columns: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)


@dataclass
class FeatureSpec:
    """One raw input column: numeric (one input) or categorical (one input per category)."""

    name: str
    kind: str  # "numeric" | "categorical"
    impute: float | str | None = None
    categories: list[str] = field(default_factory=list)

    def output_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]


def _where(frame: pd.DataFrame, pos: int) -> str:
    if frame.index.name == "line":
        return f"line {frame.index[pos]}"
    return f"row {pos + 1}"


def _numeric(s: pd.Series, name: str, src: str, frame: pd.DataFrame, what: str) -> np.ndarray:
    """A column as float64 (non-finite → NaN), or DataError at the first cell that is text."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype="float64", copy=True)
    if is_numeric_series(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        v = to_numbers(s).to_numpy(dtype="float64", na_value=np.nan, copy=True)
        bad = np.isnan(v) & s.notna().to_numpy()
        if bad.any():
            pos = int(np.argmax(bad))
            todo = (
                "choose classification or another target, or clean the file"
                if what == "target"
                else "mark the column categorical, drop it, or clean the file"
            )
            raise DataError(
                f"{src}: {what} '{name}' has text '{s.iloc[pos]}' at {_where(frame, pos)}; {todo}"
            )
    v[~np.isfinite(v)] = np.nan
    return v


class Preprocessor:
    """Fitted transforms from a raw frame to engine arrays and back. Build it with ``prepare``."""

    def __init__(
        self,
        *,
        task: str,
        features: list[FeatureSpec],
        target_names: list[str],
        classes: list[str] | None = None,
        scaling: str = "standardize",
        offset: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        target_offset: np.ndarray | None = None,
        target_scale: np.ndarray | None = None,
        missing: str = "drop",
    ) -> None:
        self.task = task
        self.features = features
        self.target_names = list(target_names)
        self.classes = None if classes is None else list(classes)
        self.scaling = scaling
        self.missing = missing
        d = len(self.feature_names)
        self.offset = np.zeros(d) if offset is None else np.asarray(offset, dtype="float64")
        self.scale = np.ones(d) if scale is None else np.asarray(scale, dtype="float64")
        t = len(self.target_names)
        self.target_offset = (
            np.zeros(t) if target_offset is None else np.asarray(target_offset, dtype="float64")
        )
        self.target_scale = (
            np.ones(t) if target_scale is None else np.asarray(target_scale, dtype="float64")
        )

    # -- names ---------------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        return [n for f in self.features for n in f.output_names()]

    @property
    def input_columns(self) -> list[str]:
        """The raw columns a new file must have, in training order."""
        return [f.name for f in self.features]

    @property
    def n_inputs(self) -> int:
        return len(self.feature_names)

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" else len(self.target_names)

    # -- forward -------------------------------------------------------------------------------
    def transform(self, frame, *, missing: str = "impute", source: str | None = None) -> np.ndarray:
        """Raw frame (or RawTable) with the training feature columns → X (N, n_inputs) float64.

        Missing cells get the training imputation values (``missing="error"`` raises instead);
        categories never seen in training encode as all zeros.
        """
        frame, src = _frame_and_source(frame, source)
        X = self._raw_features(frame, src, missing)
        X -= self.offset
        X /= self.scale
        return X

    def transform_rows(
        self, frame, *, impute: bool, source: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Like ``transform``, row by row: (X, reasons). ``reasons[i]`` is "" for a usable row,
        else why row i can't be encoded (its X row is then zeros). Only a missing column is an
        error for the whole frame. Missing cells get the training fill-in when ``impute``."""
        frame, src = _frame_and_source(frame, source)
        absent = [f.name for f in self.features if f.name not in frame.columns]
        if absent:
            self._raw_features(frame, src, "error")  # raises the usual message
        n = len(frame)
        X = np.zeros((n, self.n_inputs), dtype="float64")
        reasons = np.full(n, "", dtype=object)

        def flag(bad: np.ndarray, why) -> None:
            new = bad & (reasons == "")
            for i in np.flatnonzero(new):
                reasons[i] = why(i)

        j = 0
        for f in self.features:
            s = frame[f.name]
            if f.kind == "numeric":
                if is_numeric_series(s) or pd.api.types.is_bool_dtype(s.dtype):
                    v = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
                    text = np.zeros(n, dtype=bool)
                else:
                    v = to_numbers(s).to_numpy(dtype="float64", copy=True)
                    text = np.isnan(v) & s.notna().to_numpy()
                flag(text, lambda i, f=f, s=s: f"'{f.name}' holds text {str(s.iloc[i])[:40]!r}")
                flag(np.isinf(v), lambda i, f=f: f"'{f.name}' is infinite")
                gaps = ~np.isfinite(v) & ~text
                if impute and f.impute is not None:
                    v[gaps & ~np.isinf(v)] = f.impute
                else:
                    flag(gaps, lambda i, f=f: f"'{f.name}' is missing")
                v[~np.isfinite(v)] = 0.0
                X[:, j] = v
                j += 1
            else:
                labels = as_labels(s)
                gaps = labels.isna().to_numpy()
                if gaps.any():
                    if impute and f.impute is not None:
                        labels = labels.where(~gaps, f.impute)
                    else:
                        flag(gaps, lambda i, f=f: f"'{f.name}' is missing")
                codes = pd.Index(f.categories, dtype=object).get_indexer(labels.to_numpy())
                rows = np.flatnonzero(codes >= 0)
                X[rows, j + codes[rows]] = 1.0
                j += len(f.categories)
        with np.errstate(over="ignore", invalid="ignore"):
            X -= self.offset
            X /= self.scale
        flag(~np.isfinite(X).all(axis=1), lambda i: "a value is too large to scale")
        X[reasons != ""] = 0.0
        return X, reasons

    def unseen_categories(self, frame) -> dict[str, list[str]]:
        """Categorical inputs whose values in ``frame`` never occurred in training (they encode as
        all zeros): column → those values, sorted. Lets a caller warn before predicting."""
        frame, _ = _frame_and_source(frame, None)
        unseen: dict[str, list[str]] = {}
        for f in self.features:
            if f.kind != "categorical" or f.name not in frame.columns:
                continue
            values = set(as_labels(frame[f.name]).dropna().tolist()) - set(f.categories)
            if values:
                unseen[f.name] = sorted(values)
        return unseen

    def _raw_features(self, frame: pd.DataFrame, src: str, missing: str) -> np.ndarray:
        absent = [f.name for f in self.features if f.name not in frame.columns]
        if absent:
            need = ", ".join(self.input_columns)
            raise DataError(
                f"{src}: has no column '{absent[0]}', which the model was trained on; "
                f"the file needs the columns {need}"
            )
        n = len(frame)
        X = np.zeros((n, self.n_inputs), dtype="float64")
        j = 0
        for f in self.features:
            s = frame[f.name]
            if f.kind == "numeric":
                v = _numeric(s, f.name, src, frame, "column")
                gaps = np.isnan(v)
                if gaps.any():
                    if missing == "error" or f.impute is None:
                        raise _missing_value(src, f.name, frame, gaps)
                    v[gaps] = f.impute
                X[:, j] = v
                j += 1
            else:
                labels = as_labels(s)
                gaps = labels.isna().to_numpy()
                if gaps.any():
                    if missing == "error" or f.impute is None:
                        raise _missing_value(src, f.name, frame, gaps)
                    labels = labels.where(~gaps, f.impute)
                codes = pd.Index(f.categories, dtype=object).get_indexer(labels.to_numpy())
                rows = np.flatnonzero(codes >= 0)
                X[rows, j + codes[rows]] = 1.0
                j += len(f.categories)
        return X

    def encode_targets(self, frame, *, source: str | None = None) -> np.ndarray:
        """Raw frame with the target column(s) → Y: one-hot (N, k) or scaled values (N, t)."""
        frame, src = _frame_and_source(frame, source)
        for t in self.target_names:
            if t not in frame.columns:
                raise DataError(
                    f"{src}: has no target column '{t}'; add it or choose another target"
                )
        if self.task == "classification":
            t = self.target_names[0]
            labels = as_labels(frame[t])
            codes = pd.Index(self.classes, dtype=object).get_indexer(labels.to_numpy())
            bad = codes < 0
            if bad.any():
                pos = int(np.argmax(bad))
                value = labels.iloc[pos]
                if pd.isna(value):
                    raise DataError(
                        f"{src}: target '{t}' is missing at {_where(frame, pos)}; fill it in or "
                        "drop the row"
                    )
                raise DataError(
                    f"{src}: target '{t}' has class '{value}' at {_where(frame, pos)}, which is "
                    f"not one of the trained classes ({', '.join(self.classes)}); remove those rows"
                )
            Y = np.zeros((len(frame), len(self.classes)), dtype="float64")
            Y[np.arange(len(frame)), codes] = 1.0
            return Y
        Y = np.empty((len(frame), len(self.target_names)), dtype="float64")
        for j, t in enumerate(self.target_names):
            v = _numeric(frame[t], t, src, frame, "target")
            if np.isnan(v).any():
                pos = int(np.argmax(np.isnan(v)))
                raise DataError(
                    f"{src}: target '{t}' is missing at {_where(frame, pos)}; fill it in or drop "
                    "the row"
                )
            Y[:, j] = v
        Y -= self.target_offset
        Y /= self.target_scale
        return Y

    # -- backward ------------------------------------------------------------------------------
    def decode(self, A) -> tuple[np.ndarray, np.ndarray | None]:
        """Network outputs → (labels, probabilities) for classification; (values, None) otherwise.

        Class labels are an object array of class names, shape (N,). Regression values are in the
        original units, shape (N,) for one target and (N, t) for several.
        """
        A = np.asarray(A, dtype="float64")
        if A.ndim == 1:
            A = A[:, None]
        if self.task == "classification":
            k = len(self.classes)
            predicted = predicted_class(A)
            if A.shape[1] == 1 and k == 2:  # a single sigmoid unit: P(second class)
                p = np.clip(A[:, 0], 0.0, 1.0)
                A = np.column_stack([1.0 - p, p])
            if A.shape[1] != k:
                raise DataError(f"outputs have {A.shape[1]} columns but there are {k} classes")
            P = np.clip(A, 0.0, None)
            total = P.sum(axis=1, keepdims=True)
            P = np.divide(P, total, out=np.full_like(P, 1.0 / k), where=total > 0)
            labels = np.asarray(self.classes, dtype=object)[predicted]
            return labels, P
        if A.shape[1] != len(self.target_names):
            raise DataError(
                f"outputs have {A.shape[1]} columns but there are {len(self.target_names)} targets"
            )
        values = A * self.target_scale + self.target_offset
        return (values[:, 0] if values.shape[1] == 1 else values), None

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe description of every fitted transform."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "task": self.task,
            "missing": self.missing,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "impute": (
                        None
                        if f.impute is None
                        else float(f.impute)
                        if f.kind == "numeric"
                        else str(f.impute)
                    ),
                    "categories": list(f.categories),
                }
                for f in self.features
            ],  # fmt: skip
            "feature_names": self.feature_names,
            "target_names": list(self.target_names),
            "classes": None if self.classes is None else list(self.classes),
            "scaling": self.scaling,
            "offset": [float(x) for x in self.offset],
            "scale": [float(x) for x in self.scale],
            "target_offset": [float(x) for x in self.target_offset],
            "target_scale": [float(x) for x in self.target_scale],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        try:
            if d.get("format") != _FORMAT or int(d.get("version", 0)) > _VERSION:
                raise DataError(
                    f"preprocessor: format {d.get('format')!r} version {d.get('version')!r} is not "
                    "one this version of bpstudio reads; re-export the model"
                )
            features = [
                FeatureSpec(
                    name=str(f["name"]),
                    kind=str(f["kind"]),
                    impute=f.get("impute"),
                    categories=[str(c) for c in f.get("categories", [])],
                )
                for f in d["features"]
            ]
            pre = cls(
                task=str(d["task"]),
                features=features,
                target_names=[str(t) for t in d["target_names"]],
                classes=None if d.get("classes") is None else [str(c) for c in d["classes"]],
                scaling=str(d.get("scaling", "none")),
                offset=np.asarray(d["offset"], dtype="float64"),
                scale=np.asarray(d["scale"], dtype="float64"),
                target_offset=np.asarray(d["target_offset"], dtype="float64"),
                target_scale=np.asarray(d["target_scale"], dtype="float64"),
                missing=str(d.get("missing", "drop")),
            )
        except DataError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(
                f"preprocessor: the saved settings are damaged ({exc}); re-export"
            ) from None
        scales = (pre.offset, pre.scale, pre.target_offset, pre.target_scale)
        ok = (
            pre.task in ("classification", "regression")
            and all(f.kind in ("numeric", "categorical") for f in features)
            and pre.offset.shape == pre.scale.shape == (pre.n_inputs,)
            and pre.target_offset.shape == pre.target_scale.shape == (len(pre.target_names),)
            and (pre.task == "regression" or (pre.classes and len(pre.target_names) == 1))
            and all(np.isfinite(a).all() for a in scales)
            and np.all(pre.scale != 0)
            and np.all(pre.target_scale != 0)
            and (pre.classes is None or len(set(pre.classes)) == len(pre.classes))
            and len(set(pre.target_names)) == len(pre.target_names)
            and all(len(set(f.categories)) == len(f.categories) for f in features)
            and all(_impute_fits(f) for f in features)
        )
        if not ok:
            raise DataError("preprocessor: the saved settings do not fit together; re-export")
        return pre

    def __repr__(self) -> str:
        return (
            f"Preprocessor(task={self.task!r}, inputs={self.n_inputs}, "
            f"targets={self.target_names}, classes={self.classes}, scaling={self.scaling!r})"
        )


def _impute_fits(f: FeatureSpec) -> bool:
    """A saved fill-in value of the feature's kind: a finite number, or one of the categories."""
    if f.impute is None:
        return True
    if f.kind == "numeric":
        ok = isinstance(f.impute, (int, float)) and not isinstance(f.impute, bool)
        return ok and bool(np.isfinite(f.impute))
    return isinstance(f.impute, str)


def _frame_and_source(obj, source: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(obj, RawTable):
        return obj.frame, source or _label(obj)
    if not isinstance(obj, pd.DataFrame):
        raise DataError(
            f"{source or 'data'}: expected a table (DataFrame), got {type(obj).__name__}"
        )
    return obj, source or "data"


def _label(table: RawTable) -> str:
    if table.source.startswith("builtin:"):
        return table.source
    return Path(table.source).name or table.name


@dataclass
class PreparedDataset:
    """Engine-ready arrays (float64) plus the fitted preprocessor; val/test may have 0 rows."""

    name: str
    task: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    classes: list[str] | None
    preprocessor: Preprocessor
    notes: list[str]
    n_rows: int  # rows in the table
    n_dropped: int  # rows dropped (no target, or missing values under the "drop" policy)
    # the table row (0-based position in ``RawTable.frame``) of each row of each split, in the
    # split's (shuffled) order: "train", "val", "test"
    source_rows: dict[str, np.ndarray] = field(default_factory=dict)

    def locate(self, row: int) -> tuple[str, int] | None:
        """Where table row ``row`` went: (split, index in that split), or None if it was
        dropped (or the dataset does not know its rows)."""
        for split in ("train", "val", "test"):
            hit = np.flatnonzero(self.source_rows.get(split, np.zeros(0, np.intp)) == int(row))
            if len(hit):
                return split, int(hit[0])
        return None

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.Y_train.shape[1]

    @property
    def X(self) -> np.ndarray:
        return np.concatenate([self.X_train, self.X_val, self.X_test])

    @property
    def Y(self) -> np.ndarray:
        return np.concatenate([self.Y_train, self.Y_val, self.Y_test])

    @property
    def default_output(self) -> str:
        return default_head(self.task, self.n_outputs)[0]

    @property
    def default_loss(self) -> str:
        return default_head(self.task, self.n_outputs)[1]


# --- prepare ---------------------------------------------------------------------------------


def _check_options(opts: DatasetOptions) -> DatasetOptions:
    def choice(value, allowed, what):
        if value not in allowed:
            raise DataError(f"options: {what}={value!r}; choose one of {', '.join(allowed)}")

    choice(opts.task, TASKS, "task")
    choice(opts.missing, MISSING_POLICIES, "missing")
    choice(opts.scaling, SCALINGS, "scaling")
    for name in ("val_fraction", "test_fraction"):
        v = getattr(opts, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
            raise DataError(f"options: {name}={v!r}; choose a number from 0 up to (not incl.) 1")
    if opts.val_fraction + opts.test_fraction >= 1.0:
        raise DataError(
            "options: val_fraction + test_fraction must stay below 1; lower one of them"
        )
    return opts


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _decide_task(src, frame, targets, task, kind) -> str:
    if len(targets) > 1:
        if task == "classification":
            raise DataError(
                f"{src}: classification takes one target column, got {', '.join(targets)}; "
                "choose one"
            )
        for t in targets:
            _numeric(frame[t], t, src, frame, "target")  # raises on text
        return "regression"
    t = targets[0]
    s = frame[t]
    if task == "regression":
        _numeric(s, t, src, frame, "target")
        return task
    if task == "classification":
        return task
    if pd.api.types.is_bool_dtype(s.dtype):
        return "classification"
    if not is_numeric_series(s):
        if kind == "numeric":  # numbers with a few words among them
            value, line = first_text_cell(s)
            where = f"line {line}" if frame.index.name == "line" else f"row {line}"
            raise DataError(
                f"{src}: target '{t}' holds numbers but has text '{value}' at {where}; clean the "
                "file, or set the task to classification"
            )
        return "classification"
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    v = v[np.isfinite(v)]
    if np.all(v == np.round(v)) and len(pd.unique(v)) <= MAX_CATEGORIES:
        return "classification"
    return "regression"


def _split(n: int, val: float, test: float, seed: int, strata: np.ndarray | None):
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == c)
                                                    for c in np.unique(strata)]  # fmt: skip
    parts: list[list[np.ndarray]] = [[], [], []]
    for g in groups:
        g = rng.permutation(g)
        m = len(g)
        n_test = int(round(m * test))
        n_val = int(round(m * val))
        while n_test + n_val >= m and (n_test or n_val):  # keep at least one training row
            if n_val >= n_test and n_val:
                n_val -= 1
            else:
                n_test -= 1
        parts[2].append(g[:n_test])
        parts[1].append(g[n_test : n_test + n_val])
        parts[0].append(g[n_test + n_val :])
    return [rng.permutation(np.concatenate(p)).astype(np.intp) for p in parts]


def prepare(
    table: RawTable,
    options: DatasetOptions | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> PreparedDataset:
    """Encode, clean, split and scale a table; see the module docstring for the rules.

    ``progress(fraction)`` is called between the steps and ``cancel()`` checked there: a True
    raises ``DataError("… preparing cancelled")`` (for a window running this in a thread).
    """

    def step(fraction: float) -> None:
        if cancel is not None and cancel():
            raise DataError(f"{_label(table)}: preparing cancelled")
        if progress is not None:
            progress(fraction)

    if not isinstance(table, RawTable):
        raise DataError(f"prepare: expected a RawTable, got {type(table).__name__}")
    opts = _check_options(options or DatasetOptions())
    src = _label(table)
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    notes: list[str] = list(table.notes)
    targets = _as_list(opts.target) or list(table.default_target)
    drops = _as_list(opts.drop_columns)
    forced = _as_list(opts.categorical)
    available = ", ".join(columns)
    for t in targets:
        if t not in columns:
            raise DataError(f"{src}: has no column '{t}' to predict; choose one of {available}")
    for c in drops + forced:
        if c not in columns:
            raise DataError(f"{src}: has no column '{c}'; choose among {available}")
    if not targets:
        raise DataError(f"{src}: no target column chosen; choose one of {available}")
    if set(targets) & set(drops):
        raise DataError(f"{src}: column '{sorted(set(targets) & set(drops))[0]}' is both the "
                        "target and dropped; keep it or choose another target")  # fmt: skip
    n_rows = len(frame)
    lossy = getattr(table, "lossy", None) or {}
    for c in targets:
        if c in lossy:
            raise DataError(f"{src}: {lossy[c]}; the target can't be learnt from such values — "
                            "rescale the column in the file or choose another target")  # fmt: skip

    step(0.05)
    # 1. rows without a target go, whatever the policy.
    keep = np.ones(n_rows, dtype=bool)
    for t in targets:
        s = frame[t]
        if is_numeric_series(s):
            keep &= np.isfinite(s.to_numpy(dtype="float64", na_value=np.nan))
        else:
            keep &= s.notna().to_numpy()
    if not keep.all():
        notes.append(f"{src}: dropped {int((~keep).sum())} row(s) with no value in the target "
                     f"{', '.join(repr(t) for t in targets)}")  # fmt: skip
    if not keep.any():
        raise DataError(f"{src}: target '{targets[0]}' has no values; choose another target")
    work = frame.iloc[np.flatnonzero(keep)] if not keep.all() else frame
    positions = np.flatnonzero(keep)  # each row of `work`: its position in the table
    infos = {c.name: c for c in table.columns}
    first = infos.get(targets[0])
    task = _decide_task(src, work, targets, opts.task, first.kind if first else None)
    t0 = work[targets[0]]
    auto_ints = is_numeric_series(t0) and not pd.api.types.is_bool_dtype(t0.dtype)
    if opts.task == "auto" and task == "classification" and auto_ints:
        notes.append(f"{src}: target '{targets[0]}' holds few whole numbers "
                     f"({int(t0.nunique())} values), so they are classes; set "
                     "task='regression' to predict them as values")  # fmt: skip

    step(0.15)
    # 2. classes (from every row, so no split meets an unknown one).
    classes = None
    codes = None
    if task == "classification":
        labels = as_labels(work[targets[0]])
        classes = sort_labels(pd.unique(labels.to_numpy()))
        if len(classes) < 2:
            raise DataError(
                f"{src}: target '{targets[0]}' has one class only ('{classes[0]}'); a classifier "
                "needs at least 2 — choose another target or add rows of another class"
            )
        if len(classes) > MAX_CLASSES:
            raise DataError(
                f"{src}: target '{targets[0]}' has {len(classes)} different values, too many "
                "classes; choose regression or another target"
            )
        codes = pd.Index(classes, dtype=object).get_indexer(labels.to_numpy())

    step(0.25)
    # 3. which columns feed the network, and how.
    features: list[FeatureSpec] = []
    constants: list[str] = []
    for c in columns:
        if c in targets or c in drops:
            continue
        info = infos.get(c)
        kind = info.kind if info is not None else "numeric"
        if c in lossy and c not in forced:
            raise DataError(f"{src}: {lossy[c]}; drop the column, mark it categorical, or "
                            "subtract a common offset in the file")  # fmt: skip
        if c in forced:
            n_values = int(work[c].nunique(dropna=True))
            if n_values > MAX_ONE_HOT:
                raise DataError(f"{src}: column '{c}' has {n_values} different values, too many "
                                "to encode as categories; drop it")  # fmt: skip
            features.append(FeatureSpec(c, "categorical"))
        elif kind == "numeric":
            _numeric(work[c], c, src, work, "column")  # text among numbers: say where
            features.append(FeatureSpec(c, "numeric"))
        elif kind == "categorical":
            features.append(FeatureSpec(c, "categorical"))
        elif kind == "text":
            notes.append(f"{src}: dropped column '{c}': {info.unique} different text values "
                         "(an ID or free text); mark it categorical to keep it")  # fmt: skip
        elif kind == "constant":
            constants.append(c)
        else:
            notes.append(f"{src}: dropped column '{c}': it is empty")
    if features or not constants:
        for c in constants:
            notes.append(f"{src}: dropped column '{c}': the same value in every row")
    else:  # e.g. a one-row file: every column is constant, keep them rather than fail
        for c in constants:
            kind = "numeric" if is_numeric_series(work[c]) else "categorical"
            features.append(FeatureSpec(c, kind))
        if len(work) > 1:
            notes.append(f"{src}: every feature column holds one value only "
                         f"({', '.join(repr(c) for c in constants[:5])}), so the network can't "
                         "tell the rows apart: it can only learn the "
                         + ("most frequent class" if task == "classification" else "mean target")
                         + "; add a column that varies")  # fmt: skip
    if not features:
        raise DataError(f"{src}: no usable feature columns besides the target "
                        f"{', '.join(targets)}; add numeric or categorical columns")  # fmt: skip

    step(0.45)
    # 4. missing feature values: drop the rows (default) or impute after the split.
    gaps = np.zeros(len(work), dtype=bool)
    for f in features:
        s = work[f.name]
        if f.kind == "numeric":
            gaps |= np.isnan(_numeric(s, f.name, src, work, "column"))
        else:
            gaps |= s.isna().to_numpy()
    n_gaps = int(gaps.sum())
    if n_gaps and opts.missing == "drop":
        first = work.index[int(np.argmax(gaps))]
        where = f"line {first}" if work.index.name == "line" else f"row {first}"
        notes.append(f"{src}: dropped {n_gaps} row(s) with missing values (first at {where}); "
                     "choose missing='impute' to keep them")  # fmt: skip
        if n_gaps == len(work):
            raise DataError(f"{src}: every row has a missing value; choose missing='impute' or "
                            "drop the emptiest columns")  # fmt: skip
        work = work.iloc[np.flatnonzero(~gaps)]
        positions = positions[~gaps]
        if codes is not None:
            codes = codes[~gaps]
            if len(np.unique(codes)) < 2:
                raise DataError(f"{src}: after dropping rows with missing values only one class "
                                "is left; choose missing='impute'")  # fmt: skip
    elif n_gaps:
        notes.append(f"{src}: filled {n_gaps} row(s) with missing values using training means "
                     "(numbers) or most frequent values (categories)")  # fmt: skip

    step(0.6)
    # 5. split, then fit everything on the training rows only.
    train, val, test = _split(len(work), opts.val_fraction, opts.test_fraction, opts.seed, codes)
    if opts.val_fraction > 0 and len(val) == 0:
        notes.append(f"{src}: too few rows for a validation split; all rows train")
    tr = work.iloc[train]
    for f in features:
        s = tr[f.name]
        if f.kind == "numeric":
            v = _numeric(s, f.name, src, tr, "column")
            v = v[~np.isnan(v)]
            if not len(v):
                v = _numeric(work[f.name], f.name, src, work, "column")
                v = v[~np.isnan(v)]
            f.impute = float(v.mean()) if len(v) else 0.0
        else:
            labels = as_labels(s).dropna()
            if labels.empty:
                labels = as_labels(work[f.name]).dropna()
            counts = labels.value_counts()
            f.impute = str(counts.index[0]) if len(counts) else ""
            f.categories = sort_labels(set(labels.tolist()) | {f.impute})
    pre = Preprocessor(task=task, features=features, target_names=targets, classes=classes,
                       scaling=opts.scaling, missing=opts.missing)  # fmt: skip
    step(0.7)
    X_all = pre._raw_features(work, src, "impute")
    X_parts = [X_all[idx] for idx in (train, val, test)]
    del X_all
    numeric_cols = np.zeros(pre.n_inputs, dtype=bool)
    j = 0
    for f in features:
        if f.kind == "numeric":
            numeric_cols[j] = True
        j += len(f.output_names())
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, by column
        pre.offset, pre.scale = _fit_scaling(X_parts[0], opts.scaling, numeric_cols)
        for X in X_parts:
            X -= pre.offset
            X /= pre.scale
    _require_finite([pre.offset[None], pre.scale[None], *X_parts], pre.feature_names, src)
    _require_resolution(X_parts[0], pre, numeric_cols, src)
    if task == "regression":
        Y_raw = np.column_stack([_numeric(work[t], t, src, work, "target") for t in targets])
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, by column
            pre.target_offset, pre.target_scale = _fit_scaling(
                Y_raw[train], opts.scaling, np.ones(len(targets), dtype=bool)
            )
            Y_all = (Y_raw - pre.target_offset) / pre.target_scale
        Y_check = [pre.target_offset[None], pre.target_scale[None], Y_all]
        _require_finite(Y_check, list(targets), src, what="target")
    else:
        Y_all = np.zeros((len(work), len(classes)), dtype="float64")
        Y_all[np.arange(len(work)), codes] = 1.0
    Y_parts = [Y_all[idx] for idx in (train, val, test)]
    step(1.0)
    return PreparedDataset(
        name=table.name,
        task=task,
        X_train=X_parts[0],
        Y_train=Y_parts[0],
        X_val=X_parts[1],
        Y_val=Y_parts[1],
        X_test=X_parts[2],
        Y_test=Y_parts[2],
        feature_names=pre.feature_names,
        target_names=list(targets),
        classes=classes,
        preprocessor=pre,
        notes=notes,
        n_rows=n_rows,
        n_dropped=n_rows - len(work),
        source_rows={
            k: positions[idx]
            for k, idx in zip(("train", "val", "test"), (train, val, test), strict=True)
        },
    )


def _missing_value(src: str, name: str, frame: pd.DataFrame, gaps: np.ndarray) -> DataError:
    pos = int(np.argmax(gaps))
    return DataError(
        f"{src}: column '{name}' is missing a value at {_where(frame, pos)}; "
        "fill it in or drop the row"
    )


def _require_finite(parts: list[np.ndarray], names: list[str], src: str, what="column") -> None:
    """Values near the float64 limit (1e308) or "inf" overflow when scaled; the network would
    only diverge on them, so name the column instead."""
    for X in parts:
        bad = ~np.isfinite(X).all(axis=0)
        if bad.any():
            name = names[int(np.argmax(bad))]
            todo = "rescale the column or drop it" if what == "column" else "rescale the column"
            raise DataError(
                f"{src}: {what} '{name}' has values too large to scale (infinite or near 1e308); "
                f"{todo}"
            )


#: A numeric feature whose spread is below this share of its magnitude has lost its information
#: to float rounding (1e30 + i: the differences are a few units in the last place).
_MIN_RELATIVE_SPREAD = 1e-10


def _require_resolution(X: np.ndarray, pre: Preprocessor, cols: np.ndarray, src: str) -> None:
    """Refuse numeric features whose values differ only in float rounding (1e30 + 1, 1e30 + 2)."""
    if pre.scaling == "none" or not len(X):
        return
    for j in np.flatnonzero(cols):
        spread = float(pre.scale[j])
        magnitude = abs(float(pre.offset[j]))
        if pre.scaling == "standardize" and spread == 1.0 and np.ptp(X[:, j]) == 0:
            continue  # constant: centred to exactly 0
        if 0 < spread < _MIN_RELATIVE_SPREAD * magnitude:
            raise DataError(
                f"{src}: column '{pre.feature_names[j]}' varies by only {spread:.3g} around "
                f"{pre.offset[j]:.6g}, below what a float can resolve there, so scaling would "
                "turn it into rounding noise; subtract a common offset in the file or drop it"
            )


def _fit_scaling(X: np.ndarray, mode: str, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = X.shape[1]
    offset, scale = np.zeros(d), np.ones(d)
    if mode == "none" or not len(X):
        return offset, scale
    sub = X if cols.all() else X[:, cols]
    if mode == "standardize":
        mu = sub.mean(axis=0)
        sq = np.zeros_like(mu)
        for start in range(0, len(sub), 65536):  # two-pass variance, in blocks: no (N, d) temporary
            block = sub[start : start + 65536] - mu
            sq += np.einsum("ij,ij->j", block, block)
        sd = np.sqrt(sq / len(sub))
        const = sub.max(axis=0) == sub.min(axis=0)
        # A constant column is centred on its value exactly (its mean may be off by rounding,
        # which at 1e30 would leave ±1e14 behind); any other spread, however small, is the scale
        # (``_require_resolution`` refuses spreads lost to rounding).
        mu = np.where(const, sub[0] if len(sub) else mu, mu)
        offset[cols], scale[cols] = mu, np.where(const | (sd == 0), 1.0, sd)
    else:  # minmax
        lo, hi = sub.min(axis=0), sub.max(axis=0)
        offset[cols], scale[cols] = lo, np.where(hi - lo > 0, hi - lo, 1.0)
    return offset, scale
