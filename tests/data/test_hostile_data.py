"""Hostile CSV files: each class of issue 11 that belongs to reading and preparing a table."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from bpstudio.data import DataError, DatasetOptions, load_table, prepare, read_csv
from bpstudio.data.csvio import MAX_LINE_BYTES, unique_names


def _csv(tmp_path, text: str, name: str = "t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# --- header names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [["a", "a", "a.1"], ["a", "a.1", "a", "a"], ["x", "x", "x.1", "x.2", "x"], ["b.1", "b", "b"]],
)
def test_repeated_names_become_unique(names):
    out = unique_names(names)
    assert len(set(out)) == len(out) and out[0] == names[0]


def test_names_equal_after_stripping_and_dedup_load_and_train(tmp_path):
    rows = "\n".join(f"{i},{i * 2},{i % 3},{i % 2}" for i in range(30))
    table = load_table(_csv(tmp_path, "a,a ,a.1,y\n" + rows + "\n"))
    assert len(set(table.frame.columns)) == 4
    assert any("repeat" in n for n in table.notes)
    prepare(table)


# --- numbers a float can't hold -------------------------------------------------------------


def test_integer_beyond_float_range_is_refused_by_name(tmp_path):
    big = str(10**400)
    table = load_table(_csv(tmp_path, f"x,z,y\n{big},1,0\n2,2,1\n3,3,0\n4,4,1\n"))
    with pytest.raises(DataError, match=r"column 'x' has a number too large for a float \(401"):
        prepare(table)
    ok = prepare(table, DatasetOptions(drop_columns=["x"]))  # dropping it is the way out
    assert ok.feature_names == ["z"]


def test_huge_integer_target_is_refused(tmp_path):
    table = load_table(_csv(tmp_path, f"x,y\n1,{-(10**500)}\n2,1\n3,2\n"))
    with pytest.raises(DataError, match="target can't be learnt"):
        prepare(table, DatasetOptions(task="regression"))


def test_distinct_integers_that_round_to_one_float_are_refused(tmp_path):
    lines = [f"{10**30 + i},{i % 2}" for i in range(40)]
    table = load_table(_csv(tmp_path, "x,y\n" + "\n".join(lines) + "\n"))
    with pytest.raises(DataError, match="too long for a float to tell apart"):
        prepare(table)


def test_features_below_float_resolution_are_refused(tmp_path):
    lines = [f"{1e30 + i * 1e15!r},{i % 2}" for i in range(40)]  # distinct floats, 1e-15 apart
    table = load_table(_csv(tmp_path, "x,y\n" + "\n".join(lines) + "\n"))
    with pytest.raises(DataError, match="below what a float can resolve"):
        prepare(table)


def test_a_huge_but_constant_feature_is_centred_to_exact_zeros(tmp_path):
    lines = [f"1e30,{i},{i % 2}" for i in range(40)]
    ds = prepare(load_table(_csv(tmp_path, "c,x,y\n" + "\n".join(lines) + "\n")))
    assert "c" not in ds.feature_names  # dropped as constant, with a note
    lines = [f"1e30,{i % 2}" for i in range(40)]
    ds = prepare(load_table(_csv(tmp_path, "c,y\n" + "\n".join(lines) + "\n")))
    assert np.all(ds.X_train == 0.0)  # kept (nothing else), but no 1e14 rounding residue


def test_all_constant_features_say_the_network_cannot_learn(tmp_path):
    lines = [f"5,a,{i % 2}" for i in range(30)]
    ds = prepare(load_table(_csv(tmp_path, "c,d,y\n" + "\n".join(lines) + "\n")))
    assert any("every feature column holds one value only" in n for n in ds.notes)
    assert any("most frequent class" in n for n in ds.notes)


# --- thousands separators ------------------------------------------------------------------


def test_thousands_separators_read_as_numbers(tmp_path):
    rows = "\n".join(f'"{1000 + 37 * i:,}",{i},{i % 2}' for i in range(30))
    table = load_table(_csv(tmp_path, "amount,x,y\n" + rows + "\n"))
    assert table.column("amount").kind == "numeric"
    assert table.frame["amount"].iloc[1] == 1037.0
    assert any("thousands separators" in n for n in table.notes)
    assert "amount" in prepare(table).feature_names


def test_thousands_with_decimal_comma(tmp_path):
    rows = "\n".join(f"{1000 + i}.{i % 10}00,5;{i};{i % 2}" for i in range(1, 30))
    table = load_table(_csv(tmp_path, "amount;x;y\n" + rows.replace(".", "X") + "\n"))
    assert table.column("amount").kind != "numeric"  # "1001X100,5" is text: nothing guessed
    rows = "\n".join(f"1.{100 + i},5;{i},5;{i % 2}" for i in range(1, 30))
    table = load_table(_csv(tmp_path, "amount;x;y\n" + rows + "\n"))
    assert table.frame["amount"].iloc[0] == pytest.approx(1101.5)


def test_text_that_only_looks_numeric_stays_text(tmp_path):
    rows = "\n".join(f'"1,{i:03d}",{i % 2}' if i % 5 else f"id{i},{i % 2}" for i in range(30))
    table = load_table(_csv(tmp_path, "code,y\n" + rows + "\n"))
    assert table.frame["code"].dtype.kind not in "fi"


# --- bounds: non-regular files, long lines, many columns, prompt cancel -----------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    done = []
    t = threading.Thread(target=lambda: done.append(_refusal(fifo)), daemon=True)
    t.start()
    t.join(5)
    assert done and "not a regular file" in done[0]


def _refusal(path) -> str:
    try:
        read_csv(path)
    except DataError as exc:
        return str(exc)
    return "read"


@pytest.mark.parametrize("where", ["first", "later"])
def test_an_over_long_line_is_refused_quickly(tmp_path, where):
    p = tmp_path / "long.csv"
    with open(p, "wb") as f:
        f.write(b"a,b\n")
        if where == "later":
            f.write(b"1,2\n" * 50_000)
        f.write(b"1," * (MAX_LINE_BYTES // 2 + 1000) + b"\n")
    t0 = time.perf_counter()
    for kw in ({}, {"progress": lambda f, n: None}):
        with pytest.raises(DataError, match=r"line \d+ is longer than 8 MB"):
            read_csv(p, **kw)
    assert time.perf_counter() - t0 < 5


def test_too_many_columns_refused(tmp_path, monkeypatch):
    import bpstudio.data.csvio as csvio

    monkeypatch.setattr(csvio, "MAX_COLUMNS", 5000)  # the real bound (100,000) the same way
    n = 5001
    header = ",".join(f"c{i}" for i in range(n))
    (tmp_path / "in_sample.csv").write_text(header + "\n" + ",".join(["1"] * n) + "\n")
    long_header = ",".join(f"column_number_{i:06d}" for i in range(n))  # > the 64 KB sample
    (tmp_path / "past_sample.csv").write_text(long_header + "\n" + ",".join(["1"] * n) + "\n")
    for name in ("in_sample.csv", "past_sample.csv"):
        for kw in ({}, {"cancel": lambda: False}):
            with pytest.raises(DataError, match="5,001 columns, more than the 5,000"):
                read_csv(tmp_path / name, **kw)


def test_cancel_acts_within_one_read_not_after_a_chunk(tmp_path, monkeypatch):
    import bpstudio.data.csvio as csvio

    monkeypatch.setattr(csvio, "CHUNK_BYTES", 1 << 40)  # one huge chunk: old cancel never ran
    p = tmp_path / "big.csv"
    p.write_bytes(b"a,b,c\n" + b"1.5,2.5,x\n" * 400_000)
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2  # the third check, a few MB in

    with pytest.raises(DataError, match="loading cancelled"):
        read_csv(p, cancel=cancel)
