"""Nothing crashes on any file: random bytes and CSV-like text give a table or a DataError."""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpstudio.data import DataError, DatasetOptions, load_table, prepare

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

CELLS = st.one_of(
    st.sampled_from(["", "NA", "?", "null", "nan", "1", "0", "-1", "2.5", "1,5", "1e3", "inf",
                     "A", "B", "yes", "x y", '"q,t"', '"', "True", "é", "Ünï", " 3 ", "1;2"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-1000, 1000).map(str),
    st.text(alphabet="ab,;\t|\"' .-0123456789\r", max_size=6),
)  # fmt: skip
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=6), min_size=0, max_size=12)


def _exercise(data: bytes) -> None:
    fd, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            table = load_table(path)
            for options in (DatasetOptions(), DatasetOptions(missing="impute", scaling="minmax",
                                                             task="regression")):  # fmt: skip
                try:
                    d = prepare(table, options)
                    d.preprocessor.transform(table.frame)
                except DataError:
                    pass
        except DataError as exc:
            assert "\n" not in str(exc)
    finally:
        os.unlink(path)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    _exercise(data)


@SETTINGS
@given(ROWS, st.sampled_from([",", ";", "\t", "|"]), st.sampled_from(["\n", "\r\n"]),
       st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))  # fmt: skip
def test_random_csv_like_text(rows, delimiter, newline, encoding):
    text = newline.join(delimiter.join(r) for r in rows)
    _exercise(text.encode(encoding, errors="replace"))


@SETTINGS
@given(st.integers(2, 5), st.data())
def test_random_tables_with_a_header(n_cols, data):
    names = [f"c{j}" for j in range(n_cols)]
    rows = data.draw(st.lists(st.lists(CELLS, min_size=n_cols, max_size=n_cols), min_size=1,
                              max_size=15))  # fmt: skip
    text = "\n".join([",".join(names)] + [",".join(r) for r in rows]) + "\n"
    _exercise(text.encode())
