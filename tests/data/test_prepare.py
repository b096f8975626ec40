"""prepare(): task detection, encoding, missing values, train-only scaling, splits, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bpstudio.data import (
    DataError,
    DatasetOptions,
    Preprocessor,
    RawTable,
    load_table,
    prepare,
    read_csv,
)
from bpstudio.data.table import default_target_of, describe_columns

FILES = Path(__file__).parent / "files"


def table_of(frame: pd.DataFrame, name: str = "t") -> RawTable:
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    cols = describe_columns(frame)
    return RawTable(frame, name, f"{name}.csv", cols, default_target_of(cols))


def penguins(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    mass = rng.normal(4000, 500, n).round(0)
    bill = rng.normal(40, 5, n).round(1)
    species = np.where(mass > 4100, "Gentoo", np.where(bill > 40, "Chinstrap", "Adelie"))
    return pd.DataFrame({"island": island, "bill": bill, "mass": mass, "species": species})


def test_classification_defaults_last_column_one_hot():
    d = prepare(table_of(penguins()))
    assert d.task == "classification"
    assert d.target_names == ["species"]
    assert d.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert d.n_outputs == 3 and d.n_inputs == 5
    assert (d.default_output, d.default_loss) == ("softmax", "cross_entropy")
    assert d.X_train.dtype == np.float64 and d.Y_train.dtype == np.float64
    assert len(d.X_train) + len(d.X_val) + len(d.X_test) == 120
    np.testing.assert_array_equal(d.Y.sum(axis=1), 1.0)


def test_scaling_is_fitted_on_training_rows_only():
    d = prepare(table_of(penguins()), DatasetOptions(val_fraction=0.3))
    j = d.feature_names.index("mass")
    assert abs(d.X_train[:, j].mean()) < 1e-12 and abs(d.X_train[:, j].std() - 1) < 1e-12
    assert abs(d.X_val[:, j].mean()) > 1e-6  # val rows are scaled with the training statistics
    m = prepare(table_of(penguins()), DatasetOptions(scaling="minmax"))
    assert m.X_train[:, j].min() == 0.0 and m.X_train[:, j].max() == 1.0
    n = prepare(table_of(penguins()), DatasetOptions(scaling="none"))
    assert set(n.X[:, j]) <= set(penguins()["mass"])


def test_stratified_split_keeps_class_shares():
    frame = pd.DataFrame({"x": np.arange(200.0), "label": ["rare"] * 20 + ["common"] * 180})
    d = prepare(table_of(frame), DatasetOptions(val_fraction=0.25, test_fraction=0.25, seed=3))
    k = d.classes.index("rare")
    assert d.Y_train[:, k].sum() == 10 and d.Y_val[:, k].sum() == 5 and d.Y_test[:, k].sum() == 5
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (100, 50, 50)
    again = prepare(table_of(frame), DatasetOptions(val_fraction=0.25, test_fraction=0.25, seed=3))
    np.testing.assert_array_equal(d.X_val, again.X_val)
    other = prepare(table_of(frame), DatasetOptions(val_fraction=0.25, test_fraction=0.25, seed=4))
    assert not np.array_equal(d.X_val, other.X_val)


def test_regression_targets_scaled_and_decoded_back():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": 1000 + 50 * x[:, 0]})
    d = prepare(table_of(frame))
    assert d.task == "regression" and d.classes is None and d.n_outputs == 1
    assert (d.default_output, d.default_loss) == ("linear", "mse")
    assert abs(d.Y_train.mean()) < 1e-9
    values, probs = d.preprocessor.decode(d.Y_train)
    assert probs is None and values.shape == (len(d.Y_train),)
    raw = d.preprocessor.encode_targets(frame)
    np.testing.assert_allclose(d.preprocessor.decode(raw)[0], frame["y"].to_numpy())


def test_integer_targets_with_few_values_are_classes_and_override_works():
    frame = pd.DataFrame({"x": np.arange(40.0), "grade": np.arange(40) % 4 + 1})
    assert prepare(table_of(frame)).classes == ["1", "2", "3", "4"]
    assert prepare(table_of(frame), DatasetOptions(task="regression")).task == "regression"
    floats = pd.DataFrame({"x": np.arange(40.0), "y": np.linspace(0, 1, 40)})
    assert prepare(table_of(floats)).task == "regression"


def test_regression_on_text_target_is_refused():
    with pytest.raises(DataError) as e:
        prepare(table_of(penguins()), DatasetOptions(task="regression"))
    assert "target 'species' has text" in str(e.value) and "at line 2" in str(e.value)


def test_multiple_regression_targets():
    frame = pd.DataFrame(
        {"x": np.arange(30.0), "y1": np.arange(30.0) ** 2, "y2": np.sin(np.arange(30.0))}
    )
    d = prepare(table_of(frame), DatasetOptions(target=["y1", "y2"]))
    assert d.n_outputs == 2 and d.feature_names == ["x"]
    values, _ = d.preprocessor.decode(d.preprocessor.encode_targets(frame))
    np.testing.assert_allclose(values, frame[["y1", "y2"]].to_numpy(), atol=1e-9)


def test_bad_options_and_columns():
    t = table_of(penguins())
    with pytest.raises(DataError, match="has no column 'nope' to predict; choose one of island"):
        prepare(t, DatasetOptions(target=["nope"]))
    with pytest.raises(DataError, match="scaling='zscore'; choose one of standardize, minmax"):
        prepare(t, DatasetOptions(scaling="zscore"))
    with pytest.raises(DataError, match="must stay below 1"):
        prepare(t, DatasetOptions(val_fraction=0.5, test_fraction=0.5))
    with pytest.raises(DataError, match="classification takes one target column"):
        prepare(t, DatasetOptions(target=["bill", "mass"], task="classification"))


def test_decode_classification():
    d = prepare(table_of(penguins()))
    pre = d.preprocessor
    labels, probs = pre.decode(np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]]))
    assert labels.tolist() == ["Chinstrap", "Adelie"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_impute_uses_training_statistics():
    frame = pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 5.0] * 10,
            "c": ["u", "v", None, "u"] * 10,
            "label": ["A", "B"] * 20,
        }
    )
    d = prepare(table_of(frame), DatasetOptions(missing="impute", scaling="none", val_fraction=0.0))
    assert d.n_dropped == 0
    spec = {f.name: f for f in d.preprocessor.features}
    assert spec["x"].impute == pytest.approx(3.0) and spec["c"].impute == "u"
    assert any("filled 20 row(s)" in n for n in d.notes)


def test_round_trip_through_json_on_a_new_raw_file(tmp_path):
    train = read_csv(FILES / "text_features.csv")
    d = prepare(train, DatasetOptions(val_fraction=0.0))
    blob = json.dumps(d.preprocessor.to_dict())
    pre = Preprocessor.from_dict(json.loads(blob))
    assert pre.feature_names == d.feature_names and pre.classes == d.classes
    # the same rows, reordered columns, other delimiter, one unseen island and an extra column
    new = tmp_path / "new.csv"
    new.write_text(
        "species;mass;note;sex;island\n"
        "Adelie;3750;hello;male;Biscoe\n"
        "Gentoo;5000;x;female;Atlantis\n"
        "Adelie;3250;y;female;Torgersen\n"
    )
    t = read_csv(new)
    X = pre.transform(t)
    expect = d.preprocessor.transform(train.frame)
    np.testing.assert_allclose(X[0], expect[0])
    np.testing.assert_allclose(X[2], expect[2])
    assert X[1, :3].tolist() == [0.0, 0.0, 0.0]  # unknown island: all zeros
    np.testing.assert_allclose(pre.encode_targets(t), d.preprocessor.encode_targets(t))
    # the training arrays themselves are reproduced from the raw frame
    np.testing.assert_allclose(pre.transform(train.frame), d.preprocessor.transform(train.frame))
    np.testing.assert_allclose(np.sort(expect, axis=0), np.sort(d.X, axis=0))


def test_transform_errors_name_the_column_and_line(tmp_path):
    d = prepare(read_csv(FILES / "text_features.csv"))
    p = tmp_path / "bad.csv"
    p.write_text("island,sex,species\nBiscoe,male,Adelie\n")
    with pytest.raises(DataError) as e:
        d.preprocessor.transform(read_csv(p))
    assert str(e.value).startswith("bad.csv: has no column 'mass', which the model was trained on")
    p.write_text("island,sex,mass,species\nBiscoe,male,3750,Adelie\nDream,male,heavy,Emperor\n")
    t = read_csv(p)
    with pytest.raises(DataError, match="column 'mass' has text 'heavy' at line 3"):
        d.preprocessor.transform(t)
    with pytest.raises(DataError, match="class 'Emperor' at line 3"):
        d.preprocessor.encode_targets(t)


def test_from_dict_rejects_damaged_input():
    with pytest.raises(DataError, match="preprocessor"):
        Preprocessor.from_dict({"format": "bpstudio.preprocessor", "version": 1})
    with pytest.raises(DataError, match="preprocessor"):
        Preprocessor.from_dict({"format": "something else"})


def test_builtin_through_load_table_and_prepare():
    d = prepare(load_table("builtin:blobs", n_samples=90, k=3, seed=2))
    assert d.classes == ["A", "B", "C"] and d.n_outputs == 3
    assert len(d.X) == 90


def test_few_whole_number_target_says_it_became_classes() -> None:
    # e.g. prices rounded to 100k: 4 whole numbers are read as classes; the note says how to undo it
    frame = pd.DataFrame(
        {"area": np.arange(40.0), "price": [100_000, 200_000, 300_000, 400_000] * 10}
    )
    ds = prepare(table_of(frame), DatasetOptions(target="price"))
    assert ds.task == "classification"
    assert any("target 'price' holds few whole numbers (4 values)" in n for n in ds.notes)
    assert any("task='regression'" in n for n in ds.notes)
    ds = prepare(table_of(frame), DatasetOptions(target="price", task="regression"))
    assert not any("whole numbers" in n for n in ds.notes)


def test_values_too_large_to_scale_name_the_column(tmp_path):
    p = tmp_path / "huge.csv"
    p.write_text("a,b,label\n1,1e308,A\n2,-1e308,B\n3,1e308,A\n4,2,B\n")
    with pytest.raises(DataError, match="column 'b' has values too large to scale"):
        prepare(read_csv(p))


def test_source_rows_map_each_split_row_to_its_table_row_after_shuffling_and_drops():
    """Rows without a target and rows with a gap are dropped; the rest is shuffled into three
    splits. source_rows / locate say which table row each split row is, both ways."""
    frame = penguins(60, seed=3)
    frame["bill"] = frame["bill"].astype(float)
    frame.loc[[4, 17], "bill"] = np.nan  # dropped under missing="drop"
    frame.loc[9, "species"] = None  # no target: dropped
    t = table_of(frame)
    ds = prepare(t, DatasetOptions(target="species", val_fraction=0.2, test_fraction=0.2,
                                   scaling="none", seed=5))  # fmt: skip
    got = {s: ds.source_rows[s] for s in ("train", "val", "test")}
    assert sum(len(v) for v in got.values()) == 57 and ds.n_dropped == 3
    assert len(ds.X_val) == len(got["val"]) and len(ds.X_test) == len(got["test"]) > 0
    cols = ds.feature_names
    j = cols.index("bill")
    for split, X in (("train", ds.X_train), ("val", ds.X_val), ("test", ds.X_test)):
        rows = got[split]
        assert not np.array_equal(rows, np.sort(rows))  # shuffled, not in file order
        np.testing.assert_array_equal(X[:, j], frame["bill"].to_numpy()[rows])
        for i in (0, len(rows) - 1):
            assert ds.locate(int(rows[i])) == (split, i)
    for dropped in (4, 9, 17):
        assert ds.locate(dropped) is None
