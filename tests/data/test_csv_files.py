"""Each small tricky CSV in tests/data/files: what it loads as, or the exact error it gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bpstudio.data import DataError, DatasetOptions, load_table, prepare, read_csv

FILES = Path(__file__).parent / "files"


def kinds(table) -> dict[str, str]:
    return {c.name: c.kind for c in table.columns}


def test_semicolons():
    t = read_csv(FILES / "semicolons.csv")
    assert t.delimiter == ";"
    assert list(t.frame.columns) == ["sepal", "petal", "species"]
    d = prepare(t)
    assert d.task == "classification"
    assert d.classes == ["setosa", "versicolor"]


@pytest.mark.parametrize("name, delimiter", [("tabs.csv", "\t"), ("pipes.csv", "|")])
def test_other_delimiters(name, delimiter):
    t = read_csv(FILES / name)
    assert t.delimiter == delimiter
    assert t.frame.shape == (2, 3)


def test_bom_is_not_part_of_first_name():
    t = read_csv(FILES / "bom.csv")
    assert list(t.frame.columns) == ["x1", "x2", "y"]
    assert t.encoding == "utf-8"
    assert prepare(t).task == "regression"


def test_quoted_commas_stay_in_one_cell():
    t = read_csv(FILES / "quoted_commas.csv")
    assert t.frame.shape == (4, 3)
    assert t.frame["name"].iloc[0] == "Smith, John"
    d = prepare(t)
    assert d.feature_names == ["x"]  # 4 distinct names in 4 rows: free text, dropped
    assert any("dropped column 'name'" in n for n in d.notes)


def test_missing_values_are_counted_and_dropped():
    t = read_csv(FILES / "missing_values.csv")
    info = {c.name: c for c in t.columns}
    assert (info["x1"].missing, info["x2"].missing, info["label"].missing) == (
        1,
        2,
        1,
    )  # "", NA, null, ?
    d = prepare(t)
    assert d.n_rows == 7 and d.n_dropped == 4
    assert any("dropped 1 row(s) with no value in the target 'label'" in n for n in d.notes)
    assert any("dropped 3 row(s) with missing values (first at line 3)" in n for n in d.notes)


def test_missing_values_impute_keeps_rows_with_a_target():
    d = prepare(read_csv(FILES / "missing_values.csv"), DatasetOptions(missing="impute"))
    assert d.n_dropped == 1  # only the row without a label
    assert np.isfinite(d.X).all()


def test_short_rows_reported_with_line_numbers():
    t = read_csv(FILES / "short_rows.csv")
    assert any("1 row(s) have fewer values than the header (line 3)" in n for n in t.notes)
    assert t.frame.loc[3, "label"] != t.frame.loc[3, "label"]  # NaN at file line 3


def test_long_row_is_an_error_naming_the_line():
    with pytest.raises(DataError) as e:
        read_csv(FILES / "long_rows.csv")
    assert str(e.value) == (
        "long_rows.csv: line 3 has 4 values but the header has 3; remove the extra values or put "
        "quotes around text that contains the comma"
    )


def test_header_only():
    with pytest.raises(DataError) as e:
        read_csv(FILES / "header_only.csv")
    assert (
        str(e.value)
        == "header_only.csv: has a header but no data rows; add at least one row of values"
    )


def test_empty():
    with pytest.raises(DataError) as e:
        read_csv(FILES / "empty.csv")
    assert str(e.value) == "empty.csv: the file is empty; choose a CSV with a header and data rows"


def test_no_header_names_columns_x1_to_xn():
    t = read_csv(FILES / "no_header.csv")
    assert not t.has_header
    assert list(t.frame.columns) == ["x1", "x2", "x3"]
    assert len(t.frame) == 4 and t.frame.index[0] == 1  # line 1 is data
    d = prepare(t)
    assert d.task == "classification" and d.classes == ["0", "1"]  # few integer values


def test_decimal_comma():
    t = read_csv(FILES / "decimal_comma.csv")
    assert t.delimiter == ";"
    np.testing.assert_allclose(t.frame["a"].to_numpy(), [1.5, 2.5, 3.0])
    np.testing.assert_allclose(t.frame["b"].to_numpy(), [2.0, 3.0, 4.25])
    assert any("decimal comma" in n for n in t.notes)


def test_text_features_one_hot_and_text_labels():
    t = read_csv(FILES / "text_features.csv")
    assert kinds(t) == {
        "island": "categorical", "sex": "categorical", "mass": "numeric", "species": "categorical"
    }  # fmt: skip
    d = prepare(t, DatasetOptions(val_fraction=0.0))
    assert d.feature_names == [
        "island=Biscoe", "island=Dream", "island=Torgersen", "sex=female", "sex=male", "mass"
    ]  # fmt: skip
    assert d.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert d.Y.shape == (6, 3) and set(d.Y.sum(axis=1)) == {1.0}
    onehot = d.X[:, :5]
    assert set(np.unique(onehot)) <= {0.0, 1.0}  # one-hot columns are not scaled


def test_single_class_is_an_error():
    with pytest.raises(DataError) as e:
        prepare(read_csv(FILES / "single_class.csv"))
    assert str(e.value) == (
        "single_class.csv: target 'label' has one class only ('A'); a classifier needs at least 2 "
        "— choose another target or add rows of another class"
    )


def test_one_row_loads_but_cannot_train_a_classifier():
    t = read_csv(FILES / "one_row.csv")
    assert t.frame.shape == (1, 3)
    assert all(c.kind == "constant" for c in t.columns)
    with pytest.raises(DataError, match="one class only"):
        prepare(t)


def test_one_row_regression_trains_on_that_row():
    opts = DatasetOptions(target=["x2"], drop_columns=["label"], task="regression")
    d = prepare(read_csv(FILES / "one_row.csv"), opts)
    assert d.task == "regression"
    assert len(d.X_train) == 1 and len(d.X_val) == 0
    assert d.X_train.tolist() == [[0.0]]  # constant column: centred, scale 1


def test_binary_garbage():
    with pytest.raises(DataError) as e:
        read_csv(FILES / "binary_garbage.bin")
    assert str(e.value) == (
        "binary_garbage.bin: looks like a binary file, not text; choose a CSV text file"
    )


def test_latin1_fallback_with_note():
    t = read_csv(FILES / "latin1.csv")
    assert t.encoding == "cp1252"
    assert "café" in t.frame.columns
    assert t.notes == ["latin1.csv is not valid UTF-8; read it as Windows-1252 (Latin-1)"]


def test_windows_1252_euro_and_quotes_and_pure_latin1(tmp_path):
    p = tmp_path / "win.csv"
    p.write_bytes("price,note,label\n3,\u201cgood\u201d 5\u20ac,A\n4,ok,B\n".encode("cp1252"))
    t = read_csv(p)
    assert t.encoding == "cp1252" and t.frame["note"].iloc[0] == "\u201cgood\u201d 5\u20ac"
    p.write_bytes(b"a,b,label\n1,2,\x81x\n3,4,y\n")  # 0x81 is undefined in Windows-1252
    t = read_csv(p)
    assert t.encoding == "latin-1" and t.frame["label"].iloc[0] == "\x81x"


def test_single_column():
    with pytest.raises(DataError) as e:
        read_csv(FILES / "one_column.csv")
    assert "a dataset needs at least 2 columns" in str(e.value)
    assert str(e.value).startswith("one_column.csv: line 1 has a single column")


def test_stray_text_in_numeric_column_names_line_and_value():
    t = read_csv(FILES / "stray_text.csv")
    assert kinds(t)["age"] == "numeric"
    with pytest.raises(DataError) as e:
        prepare(t)
    assert str(e.value) == (
        "stray_text.csv: column 'age' has text 'unknown' at line 4; mark the column categorical, "
        "drop it, or clean the file"
    )
    d = prepare(t, DatasetOptions(drop_columns=["age"]))
    assert d.feature_names == ["x"]
    d = prepare(t, DatasetOptions(categorical=["age"], val_fraction=0.0))
    assert "age=unknown" in d.feature_names and "age=20" in d.feature_names


def test_id_column_dropped_with_note():
    d = prepare(read_csv(FILES / "id_column.csv"))
    assert d.feature_names == ["x"]
    assert any("dropped column 'id': 6 different text values" in n for n in d.notes)


def test_blank_lines_skipped_and_lines_kept():
    t = read_csv(FILES / "blank_lines.csv")
    assert list(t.frame.index) == [2, 4, 5]
    assert t.notes == ["blank_lines.csv: skipped 2 empty line(s)"]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="no such file; check the path"):
        load_table(str(tmp_path / "nope.csv"))
    with pytest.raises(DataError, match="is a folder"):
        load_table(str(tmp_path))


def test_excel_file_is_named(tmp_path):
    p = tmp_path / "book.xlsx"
    p.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(DataError, match="Excel .xlsx workbook; save the sheet as CSV"):
        read_csv(p)


def test_utf16_with_bom(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("a,b,label\n1,2,X\n3,4,Y\n".encode("utf-16"))
    t = read_csv(p)
    assert t.encoding == "utf-16" and list(t.frame.columns) == ["a", "b", "label"]


def test_header_shorter_than_rows(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="names 2 columns but the rows have 3 values"):
        read_csv(p)


def test_unclosed_quote(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('a,b\n1,"2\n3,4\n')
    with pytest.raises(DataError, match="never ends"):
        read_csv(p)


def test_chunked_and_whole_reads_agree():
    for path in sorted(FILES.glob("*.csv")):
        try:
            whole = read_csv(path)
        except DataError as exc:
            message = str(exc)
            with pytest.raises(DataError) as again:
                read_csv(path, progress=lambda f, n: None)
            assert str(again.value) == message
            continue
        chunked = read_csv(path, cancel=lambda: False)
        assert whole.frame.equals(chunked.frame), path.name
        assert whole.notes == chunked.notes and whole.columns == chunked.columns


def test_progress_and_cancel(tmp_path, monkeypatch):
    import bpstudio.data.csvio as csvio

    monkeypatch.setattr(csvio, "CHUNK_BYTES", 1)  # 1000-row chunks
    p = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    lines = ["a,b,label"] + [f"{x:.3f},{y:.3f},{'AB'[i % 2]}" for i, (x, y) in
                             enumerate(rng.standard_normal((5000, 2)))]  # fmt: skip
    p.write_text("\n".join(lines) + "\n")
    seen = []
    t = read_csv(p, progress=lambda f, n: seen.append((f, n)))
    assert len(t.frame) == 5000
    assert [n for _, n in seen][:5] == [1000, 2000, 3000, 4000, 5000]
    assert seen[-1] == (1.0, 5000)
    assert all(0.0 <= f <= 1.0 for f, _ in seen)
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    with pytest.raises(DataError) as e:
        read_csv(p, cancel=lambda: True)
    assert str(e.value) == "big.csv: loading cancelled after 0 rows"  # within the first read


def test_non_utf8_after_first_64kb_falls_back_to_latin1(tmp_path):
    p = tmp_path / "late.csv"
    body = "".join(f"{i},{i % 3},A\n" for i in range(12000))  # > 64 KB of ASCII
    p.write_bytes(("x,y,label\n" + body).encode() + "1,2,caf\xe9\n".encode("latin-1"))
    t = read_csv(p)
    assert t.encoding == "cp1252"
    assert t.frame["label"].iloc[-1] == "café"
    assert any("after the first 64 KB; read it as Windows-1252" in n for n in t.notes)


def test_excel_sep_line(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_text("sep=;\na;b;label\n1,5;2;x\n2,5;3;y\n")
    t = read_csv(p)
    assert t.delimiter == ";" and list(t.frame.columns) == ["a", "b", "label"]
    assert t.frame.index[0] == 3
    np.testing.assert_allclose(t.frame["a"], [1.5, 2.5])


def test_text_in_a_later_chunk(tmp_path, monkeypatch):
    import bpstudio.data.csvio as csvio

    monkeypatch.setattr(csvio, "CHUNK_BYTES", 1)  # 1000-row chunks
    rows = [f"{i},{i % 7},{'AB'[i % 2]}" for i in range(3000)]
    rows[2500] = "oops,1,A"
    p = tmp_path / "late_text.csv"
    p.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    chunked = read_csv(p, progress=lambda f, n: None)  # callbacks: the chunked path
    whole = read_csv(p)  # no callbacks: one pandas call
    for t in (chunked, whole):
        assert t.column("a").kind == "numeric" and len(t.frame) == 3000
        assert float(t.frame["a"].iloc[10]) == 10
        with pytest.raises(DataError, match="column 'a' has text 'oops' at line 2502"):
            prepare(t)
        d = prepare(t, DatasetOptions(drop_columns=["a"]))
        assert d.feature_names == ["b"]
    np.testing.assert_array_equal(prepare(chunked, DatasetOptions(drop_columns=["a"])).X,
                                  prepare(whole, DatasetOptions(drop_columns=["a"])).X)  # fmt: skip


def test_empty_last_field_is_missing_not_short(tmp_path):
    p = tmp_path / "trail.csv"
    p.write_text("a,b,label\n1,2,\n3,4,B\n5,6,A\n7,8\n")
    t = read_csv(p)
    assert t.column("label").missing == 2
    assert [n for n in t.notes if "fewer values" in n] == [
        "trail.csv: 1 row(s) have fewer values than the header (line 5); the missing values count "
        "as missing"
    ]


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_old_mac_and_windows_line_ends(tmp_path, newline):
    p = tmp_path / "nl.csv"
    p.write_bytes(newline.join(["a,b,label", "1,2,A", "3,4,B"]).encode() + newline.encode())
    t = read_csv(p)
    assert t.frame["label"].tolist() == ["A", "B"] and list(t.frame.index) == [2, 3]


def test_spaces_after_delimiters(tmp_path):
    p = tmp_path / "spaced.csv"
    p.write_text('a, b, label\n1, 2, "x, y"\n3, NA, B\n')
    t = read_csv(p)
    assert list(t.frame.columns) == ["a", "b", "label"]
    assert t.frame["label"].tolist() == ["x, y", "B"]
    assert t.column("b").missing == 1
