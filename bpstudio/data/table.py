"""The raw table: a parsed CSV or generated dataset before any encoding, plus per-column facts.

:class:`RawTable` is what the GUI's preview shows and what :func:`bpstudio.data.prepare` consumes.
:func:`describe_columns` sorts each column into a kind (numeric / categorical / text / constant /
empty) and counts its missing and distinct values. Counting distinct values exactly costs a hash of
every cell, so for numeric columns with many values ``unique`` is measured on a sample and
reported as a lower bound (it is exact whenever it is at most :data:`MAX_CATEGORIES`).
:func:`to_numbers` is the one text → float conversion: it never raises (integers beyond the float
range become ±inf instead of an ``OverflowError``). ``RawTable.lossy`` names the columns whose
values a float cannot hold faithfully (too large, or distinct integers that become equal floats);
``prepare`` refuses to use them. Leaves out: any encoding or scaling (see ``prepare.py``) and file
parsing (see ``csvio.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: A text column with at most this many distinct values is categorical (one-hot); more is free text.
MAX_CATEGORIES = 20
#: Numeric columns are counted on this many rows first; past MAX_CATEGORIES values the count stops.
_UNIQUE_SAMPLE = 5000
#: A text column whose cells parse as numbers at least this often is numeric with stray words.
_NUMERIC_SHARE = 0.9

KINDS = ("numeric", "categorical", "text", "constant", "empty")


@dataclass
class ColumnInfo:
    """What the preview needs about one column."""

    name: str
    kind: str  # one of KINDS
    missing: int
    unique: int


@dataclass
class RawTable:
    """A parsed table. ``frame.index`` holds the 1-based file line of each row (named "line")."""

    frame: pd.DataFrame
    name: str
    source: str
    columns: list[ColumnInfo]
    default_target: list[str]
    notes: list[str] = field(default_factory=list)
    delimiter: str | None = None
    encoding: str | None = None
    has_header: bool = True
    #: column → why its float values are not the file's values (``prepare`` refuses to use it)
    lossy: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnInfo:
        for info in self.columns:
            if info.name == name:
                return info
        raise KeyError(name)

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def is_numeric_series(s: pd.Series) -> bool:
    """True for int/float columns (bool is not numeric here: it is a two-class categorical)."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _cell_to_float(v: object) -> float:
    if v is None or isinstance(v, bool):
        return float(v) if isinstance(v, bool) else math.nan
    if isinstance(v, int):
        try:
            return float(v)
        except OverflowError:  # an integer literal beyond 1.8e308
            return -math.inf if v < 0 else math.inf
    try:
        return float(str(v).strip())
    except (TypeError, ValueError, OverflowError):
        return math.nan


def to_numbers(s: pd.Series) -> pd.Series:
    """Cells as float64, NaN where a cell is not a number; never raises (huge integers → ±inf)."""
    try:
        as_num = pd.to_numeric(s, errors="coerce")
        return as_num.astype("float64")
    except (OverflowError, TypeError, ValueError):
        values = np.fromiter((_cell_to_float(v) for v in s.to_numpy()), "float64", len(s))
        return pd.Series(values, index=s.index, name=s.name)


def numeric_share(s: pd.Series) -> tuple[pd.Series, int]:
    """Parse a text column as numbers: (floats, NaN where parsing failed; count of text cells)."""
    as_num = to_numbers(s)
    stray = int((as_num.isna() & s.notna()).sum())
    return as_num.astype("float64"), stray


def first_text_cell(s: pd.Series) -> tuple[str, object]:
    """(value, line) of the first present cell of ``s`` that does not parse as a number."""
    as_num = to_numbers(s)
    bad = as_num.isna() & s.notna()
    pos = int(np.argmax(bad.to_numpy()))
    return str(s.iloc[pos]), s.index[pos]


def _mostly_numbers(s: pd.Series, present: int) -> bool:
    """True if ≥ 90 % of the present cells parse as numbers; a 1,000-cell sample decides first."""
    head = s.head(1000)
    _, stray = numeric_share(head)
    if stray > (1.0 - _NUMERIC_SHARE) * int(head.notna().sum()) + 1:
        return False  # clearly text: spare parsing a million labels
    _, stray = numeric_share(s)
    return stray <= (1.0 - _NUMERIC_SHARE) * present


def _count_unique_numeric(values: np.ndarray) -> int:
    head = values[:_UNIQUE_SAMPLE]
    n_head = (
        len(pd.unique(head[~np.isnan(head)])) if head.dtype.kind == "f" else len(pd.unique(head))
    )
    if n_head > MAX_CATEGORIES or len(values) <= _UNIQUE_SAMPLE:
        return n_head  # exact for short columns; a lower bound (> MAX_CATEGORIES) otherwise
    if values.dtype.kind == "f":
        lo, hi = np.nanmin(values), np.nanmax(values)
        if lo == hi:
            return 1
    return int(pd.Series(values).nunique(dropna=True))


def describe_column(name: str, s: pd.Series) -> ColumnInfo:
    n = len(s)
    missing = int(s.isna().sum())
    present = n - missing
    if present == 0:
        return ColumnInfo(name, "empty", missing, 0)
    if is_numeric_series(s):
        unique = _count_unique_numeric(s.to_numpy())
        return ColumnInfo(name, "constant" if unique == 1 else "numeric", missing, unique)
    unique = int(s.nunique(dropna=True))
    if unique == 1:
        return ColumnInfo(name, "constant", missing, unique)
    if not pd.api.types.is_bool_dtype(s.dtype) and _mostly_numbers(s, present):
        return ColumnInfo(name, "numeric", missing, unique)  # numbers with a few stray words
    if unique <= MAX_CATEGORIES and unique <= max(2, present // 2):
        return ColumnInfo(name, "categorical", missing, unique)
    return ColumnInfo(name, "text", missing, unique)


def describe_columns(frame: pd.DataFrame) -> list[ColumnInfo]:
    return [describe_column(str(c), frame[c]) for c in frame.columns]


#: Column names that say "this is what to predict" (compared case-insensitively, as words).
LABEL_NAMES = frozenset(
    {
        "label",
        "labels",
        "class",
        "classes",
        "target",
        "y",
        "species",
        "category",
        "outcome",
        "diagnosis",
        "type",
        "kind",
        "response",
        "result",
        "quality",
        "grade",
        "survived",
        "churn",
        "digit",
    }  # fmt: skip
)


def _looks_like_label(name: str) -> bool:
    words = {w for w in "".join(c if c.isalnum() else " " for c in name.lower()).split() if w}
    return bool(words & LABEL_NAMES)


def default_target_of(columns: list[ColumnInfo]) -> list[str]:
    """The column a user most likely wants to predict: the last one named like a label
    ("species", "class", "target", …) that holds few values (categorical, or few whole
    numbers), else the last column that holds anything (a trailing delimiter makes an empty
    last column). An integer like ``year`` after ``species`` is then not the default target."""
    for info in reversed(columns):
        few = info.kind == "categorical" or (
            info.kind == "numeric" and 2 <= info.unique <= MAX_CATEGORIES
        )
        if few and _looks_like_label(info.name):
            return [info.name]
    for info in reversed(columns):
        if info.kind != "empty":
            return [info.name]
    return [columns[-1].name] if columns else []


def as_labels(s: pd.Series) -> pd.Series:
    """Cells as label strings in their original spelling (NaN stays NaN): 1.0 -> "1", " a " -> "a".

    Formats each distinct value once (factorize), so a million rows of three labels stay cheap.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values = np.asarray(uniques, dtype=object)
    if pd.api.types.is_bool_dtype(s.dtype):
        names = [str(bool(v)) for v in values]
    elif is_numeric_series(s):
        v = np.asarray(uniques, dtype="float64")
        if np.all(v == np.round(v)) and np.all(np.abs(v) < 2**53):
            names = [str(int(x)) for x in v]
        else:
            names = [repr(float(x)) for x in v]
    else:
        names = [str(x).strip() for x in values]
    table = np.array(names + [np.nan], dtype=object)  # code -1 (missing) picks the trailing NaN
    return pd.Series(table[codes], index=s.index, dtype=object)


def sort_labels(labels) -> list[str]:
    """Classes in a natural order: numerically if they all read as numbers, else alphabetically."""
    labels = list(labels)
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)
