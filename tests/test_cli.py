"""The headless CLI, run in-process through ``bpstudio.cli.main`` (plus one real subprocess)."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from bpstudio import cli
from bpstudio.cli import main
from bpstudio.data import load_table

REPO = Path(__file__).resolve().parents[1]
HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "error" in lines[0]


@pytest.fixture
def iris_like_csv(tmp_path) -> Path:
    """Three well-separated classes with text labels, and a text feature column."""
    rng = np.random.default_rng(1)
    rows = []
    names = ["Iris setosa", "versicolor", "virginica"]
    for k, name in enumerate(names):
        for _ in range(40):
            x1, x2 = rng.normal(loc=(3.0 * k, -2.0 * k), scale=0.4)
            rows.append({"sepal": round(x1, 3), "petal": round(x2, 3), "species": name})
    path = tmp_path / "flowers.csv"
    pd.DataFrame(rows).sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------------ datasets


def test_datasets_lists_builtins(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for name in ("xor", "circles", "moons", "spirals", "blobs", "sine"):
        assert f"builtin:{name}" in out
    assert "classification" in out and "regression" in out


# ------------------------------------------------------------------------------------ gradcheck


def test_gradcheck_default(capsys):
    code, out, _ = run(capsys, "gradcheck")
    assert code == 0
    for name in ("W2", "b2", "W3", "b3"):
        assert name in out
    assert "OK" in out


def test_gradcheck_chosen_architecture(capsys):
    code, out, _ = run(
        capsys, "gradcheck", "--sizes", "3,4,4,3", "--activation", "elu,softplus",
        "--output", "softmax", "--loss", "cross_entropy",
    )  # fmt: skip
    assert code == 0
    assert "W4" in out


def test_gradcheck_exits_nonzero_above_tolerance(capsys):
    code, out, _ = run(capsys, "gradcheck", "--tol", "1e-300")
    assert code == 1
    assert "FAILED" in out


def test_gradcheck_all_combinations(capsys):
    code, out, _ = run(capsys, "gradcheck", "--all", "--sizes", "2,3,2")
    assert code == 0, out
    assert "passed" in out


# ---------------------------------------------------------------------------------------- train


def test_train_export_predict_builtin(capsys, tmp_path):
    model, metrics, preds = tmp_path / "m.npz", tmp_path / "metrics.json", tmp_path / "p.csv"
    code, out, err = run(
        capsys, "train", "builtin:xor", "--epochs", "15", "--hidden", "8",
        "--export", model, "--metrics", metrics,
    )  # fmt: skip
    assert code == 0, err
    assert "val accuracy" in out and "finished 15 epochs" in out
    data = json.loads(metrics.read_text())
    for key in ("train_loss", "val_loss", "val_accuracy", "epochs", "seconds", "stop_reason"):
        assert key in data
    assert data["epochs"] == 15 and data["stop_reason"] == "finished"
    assert len(data["history"]["train_loss"]) == 15
    assert 0.0 <= data["val_accuracy"] <= 1.0

    code, out, err = run(capsys, "predict", model, "builtin:xor", "--out", preds)
    assert code == 0, err
    frame = pd.read_csv(preds, dtype=str)
    table = load_table("builtin:xor")
    assert len(frame) == len(table.frame)
    classes = sorted(table.frame["label"].astype(str).unique())
    assert set(frame["prediction"]) <= set(classes)
    prob_cols = [f"p({c})" for c in classes]
    assert list(frame.columns) == ["prediction", *prob_cols]
    probs = frame[prob_cols].astype(float).to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert "accuracy on builtin:xor" in out


def test_csv_with_text_labels_round_trip(capsys, tmp_path, iris_like_csv):
    model = tmp_path / "flowers.json"
    code, out, err = run(
        capsys, "train", iris_like_csv, "--target", "species", "--epochs", "30",
        "--hidden", "8", "--export", model, "-q",
    )  # fmt: skip
    assert code == 0, err
    assert "3 classes" in out

    new_rows = pd.DataFrame({"sepal": [0.0, 3.1, 5.9], "petal": [0.1, -2.0, -4.1]})
    new_csv = tmp_path / "new.csv"
    new_rows.to_csv(new_csv, index=False)
    preds = tmp_path / "preds.csv"
    code, _, err = run(capsys, "predict", model, new_csv, "--out", preds, "--keep-columns")
    assert code == 0, err
    frame = pd.read_csv(preds)
    assert list(frame["prediction"]) == ["Iris setosa", "versicolor", "virginica"]
    assert {"sepal", "petal", "p(Iris setosa)", "p(versicolor)", "p(virginica)"} <= set(
        frame.columns
    )


def test_integer_labels_keep_their_spelling(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "cls": np.where(X[:, 0] > 0, 7, 3)})
    path = tmp_path / "ints.csv"
    frame.to_csv(path, index=False)
    model = tmp_path / "m.npz"
    assert main(["train", str(path), "--target", "cls", "--epochs", "20", "--export", str(model),
                 "-q"]) == 0  # fmt: skip
    capsys.readouterr()
    code, out, err = run(capsys, "predict", model, path)  # CSV to stdout
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out), dtype=str)
    assert set(result["prediction"]) <= {"3", "7"}
    assert "p(3)" in result.columns and "p(7)" in result.columns


def test_regression_round_trip(capsys, tmp_path):
    model, metrics = tmp_path / "sine.npz", tmp_path / "m.json"
    code, out, err = run(
        capsys, "train", "builtin:sine", "--epochs", "10", "--export", model, "--metrics", metrics
    )
    assert code == 0, err
    assert "accuracy" not in out
    data = json.loads(metrics.read_text())
    assert data["task"] == "regression" and data["val_accuracy"] is None
    assert data["network"]["output"] == "linear" and data["network"]["loss"] == "mse"
    preds = tmp_path / "p.csv"
    assert main(["predict", str(model), "builtin:sine", "--out", str(preds)]) == 0
    frame = pd.read_csv(preds)
    assert list(frame.columns) == ["prediction"]
    assert np.isfinite(frame["prediction"]).all()


def test_defaults_pick_softmax_cross_entropy(capsys, tmp_path):
    metrics = tmp_path / "m.json"
    assert main(["train", "builtin:blobs", "--epochs", "2", "--metrics", str(metrics), "-q"]) == 0
    data = json.loads(metrics.read_text())
    assert data["network"]["output"] == "softmax"
    assert data["network"]["loss"] == "cross_entropy"


def test_spirals_reach_95_percent_with_defaults(capsys, tmp_path):
    metrics = tmp_path / "m.json"
    code, out, err = run(capsys, "train", "builtin:spirals", "--metrics", metrics)
    assert code == 0, err
    data = json.loads(metrics.read_text())
    assert data["val_accuracy"] >= 0.95, out


def test_early_stopping_and_patience(capsys, tmp_path):
    metrics = tmp_path / "m.json"
    code, _, err = run(
        capsys, "train", "builtin:xor", "--epochs", "200", "--patience", "3", "--lr", "0.5",
        "--optimizer", "sgd", "--metrics", metrics, "-q",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(metrics.read_text())
    assert data["stop_reason"] in ("early_stopped", "finished")


def test_divergence_exits_1_and_keeps_no_model(capsys, tmp_path):
    model, metrics = tmp_path / "m.npz", tmp_path / "m.json"
    code, out, err = run(
        capsys, "train", "builtin:plane", "--optimizer", "sgd", "--lr", "1e4", "--epochs", "5",
        "--export", model, "--metrics", metrics,
    )  # fmt: skip
    assert code == 1
    assert "diverged" in out and "learning rate" in err and "Traceback" not in err
    assert json.loads(metrics.read_text())["stop_reason"] == "diverged"
    assert not model.exists()


def test_export_converts_and_info_describes(capsys, tmp_path):
    model = tmp_path / "m.npz"
    assert main(["train", "builtin:moons", "--epochs", "3", "--export", str(model), "-q"]) == 0
    targets = [tmp_path / "m.json"] + ([tmp_path / "m.safetensors"] if HAS_SAFETENSORS else [])
    outputs = []
    for target in [model, *targets]:
        if target != model:
            assert main(["export", str(model), str(target)]) == 0
        preds = tmp_path / f"{target.suffix[1:]}.csv"
        assert main(["predict", str(target), "builtin:moons", "--out", str(preds)]) == 0
        outputs.append(preds.read_text())
    assert all(text == outputs[0] for text in outputs)
    capsys.readouterr()
    code, out, _ = run(capsys, "info", targets[0])
    assert code == 0
    assert "network 2-32-32-2" in out


# ------------------------------------------------------------------------------------ bad input


@pytest.fixture
def bad_files(tmp_path, iris_like_csv) -> SimpleNamespace:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00\x01\x02 not a model" * 20)
    with_missing = tmp_path / "missing_values.csv"
    with_missing.write_text("sepal,petal\n1.0,\n2.0,3.0\n")
    return SimpleNamespace(garbage=garbage, csv=iris_like_csv, with_missing=with_missing)


BAD_ARGS = {
    "no-data": ["train"],
    "unknown-command": ["frobnicate"],
    "unknown-builtin": ["train", "builtin:nope"],
    "missing-csv": ["train", "{tmp}/nope.csv"],
    "negative-lr": ["train", "builtin:xor", "--lr", "-1"],
    "bad-hidden": ["train", "builtin:xor", "--hidden", "a,b"],
    "bad-activation": ["train", "builtin:xor", "--activation", "swish"],
    "bad-target": ["train", "{csv}", "--target", "nope"],
    "ce-with-linear": ["train", "builtin:xor", "--output", "linear", "--loss", "cross_entropy"],
    "patience-no-val": ["train", "builtin:xor", "--val-split", "0", "--patience", "3"],
    "val-split-1": ["train", "builtin:xor", "--val-split", "1"],
    "missing-model": ["predict", "{tmp}/nope.npz", "{csv}"],
    "garbage-model": ["predict", "{garbage}", "{csv}"],
    "gradcheck-one-layer": ["gradcheck", "--sizes", "3"],
}


@pytest.mark.parametrize("argv", BAD_ARGS.values(), ids=BAD_ARGS.keys())
def test_bad_arguments_exit_2_with_one_line(capsys, tmp_path, bad_files, argv):
    subs = {"tmp": tmp_path, "csv": bad_files.csv, "garbage": bad_files.garbage}
    code, _, err = run(capsys, *[a.format(**subs) for a in argv])
    assert_one_line_error(code, err)


def test_predict_rows_it_cannot_use(capsys, tmp_path, bad_files):
    model = tmp_path / "m.npz"
    assert main(["train", str(bad_files.csv), "--epochs", "2", "--export", str(model), "-q"]) == 0
    capsys.readouterr()
    code, out, err = run(
        capsys, "predict", model, bad_files.with_missing, "--out", tmp_path / "p.csv"
    )
    # One gap holds no row hostage: every row is written, the one with the gap empty + a reason.
    assert code == 0 and err == ""
    assert "wrote 1 predictions" in out and "1 row(s) could not be predicted" in out
    assert "line 2" in out and "--impute" in out
    frame = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert len(frame) == 2
    assert list(frame["reason"]) == ["'petal' is missing", ""]
    assert frame["prediction"][0] == "" and frame["prediction"][1] != ""
    assert all(frame[c][0] == "" for c in frame.columns if c.startswith("p("))


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--hidden" in out


# ------------------------------------------------------------------------------------------ gui


def test_no_command_opens_the_window(monkeypatch):
    calls = []

    def fake_run_app(argv=None, dataset=None):
        calls.append(dataset)
        return 0

    monkeypatch.setattr(cli, "_import_run_app", lambda: fake_run_app)
    assert main([]) == 0
    assert main(["gui", "--dataset", "builtin:spirals"]) == 0
    assert calls == [None, "builtin:spirals"]


def test_gui_import_failure_is_one_line(monkeypatch, capsys):
    def broken():
        raise ImportError("No module named 'PySide6'")

    monkeypatch.setattr(cli, "_import_run_app", broken)
    code, _, err = run(capsys)
    assert_one_line_error(code, err)
    assert "PySide6" in err


# ------------------------------------------------------------------------------------- progress


def test_progress_bar_draws_after_a_second(monkeypatch):
    stream = io.StringIO()
    bar = cli._Progress(stream, epochs=4, enabled=True)
    epoch = SimpleNamespace(
        epoch=1, train_loss=0.5, val_loss=0.6, val_accuracy=0.75, train_accuracy=None
    )
    bar(epoch)
    assert stream.getvalue() == ""  # nothing in the first second
    bar.start -= 2.0
    bar(epoch)
    bar.close()
    text = stream.getvalue()
    assert "epoch 1/4" in text and "acc 75.0%" in text and text.endswith("\n")


def test_first_ctrl_c_requests_a_stop():
    import os
    import signal

    control = SimpleNamespace(stop_requested=False)
    control.request_stop = lambda: setattr(control, "stop_requested", True)
    with cli._stop_on_ctrl_c(control):
        os.kill(os.getpid(), signal.SIGINT)
        assert control.stop_requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)


# ----------------------------------------------------------------------------------- subprocess


def test_headless_commands_load_no_qt():
    code = (
        "import sys; from bpstudio.cli import main; import bpstudio.io; "
        "assert main(['datasets']) == 0; "
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))], 'Qt loaded'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_python_m_bpstudio_round_trip(tmp_path):
    model, preds = tmp_path / "m.npz", tmp_path / "p.csv"
    cmd = [sys.executable, "-m", "bpstudio"]
    train = subprocess.run(
        [*cmd, "train", "builtin:circles", "--epochs", "3", "--export", str(model)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    assert "val accuracy" in train.stdout
    predict = subprocess.run(
        [*cmd, "predict", str(model), "builtin:circles", "--out", str(preds)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert predict.returncode == 0, predict.stderr
    assert preds.read_text().startswith("prediction,")
    bad = subprocess.run(
        [*cmd, "train", "builtin:circles", "--epochs", "zero"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


# ------------------------------------------------------------------------------- QA additions


def test_regression_summary_and_metrics_give_rmse_in_target_units(capsys, tmp_path):
    """The loss is on standardised targets; the RMSE must be in the target's own units."""
    rng = np.random.default_rng(0)
    area = rng.uniform(40, 300, 400)
    price = 1500 * area + 100_000 + rng.normal(0, 20_000, 400)  # house prices, noise 20k
    path = tmp_path / "prices.csv"
    pd.DataFrame({"area": area, "price": price}).to_csv(path, index=False)
    metrics, model = tmp_path / "m.json", tmp_path / "m.npz"
    code, out, err = run(capsys, "train", path, "-q", "--metrics", metrics, "--export", model)
    assert code == 0, err
    assert "val RMSE" in out and "(price units)" in out
    data = json.loads(metrics.read_text())
    assert 10_000 < data["val_rmse"][0] < 40_000  # near the noise, in dollars
    assert 10_000 < data["train_rmse"][0] < 40_000
    code, out, _ = run(capsys, "info", model)
    assert code == 0 and "val RMSE" in out


def test_train_prints_the_data_notes(capsys, tmp_path, iris_like_csv):
    frame = pd.read_csv(iris_like_csv)
    frame.insert(0, "id", [f"row-{i}" for i in range(len(frame))])  # an ID column gets dropped
    path = tmp_path / "with_id.csv"
    frame.to_csv(path, index=False)
    code, out, err = run(capsys, "train", path, "--epochs", "2", "-q")
    assert code == 0, err
    assert "note:" in out and "dropped column 'id'" in out


def test_info_shows_accuracy_as_a_percentage(capsys, tmp_path, iris_like_csv):
    model = tmp_path / "m.json"
    assert main(["train", str(iris_like_csv), "--epochs", "30", "-q", "--export", str(model)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "info", model)
    assert code == 0
    assert "val_accuracy 100.0%" in out


def test_predict_missing_column_does_not_suggest_impute(capsys, tmp_path, iris_like_csv):
    model = tmp_path / "m.npz"
    assert main(["train", str(iris_like_csv), "--epochs", "2", "-q", "--export", str(model)]) == 0
    other = tmp_path / "other.csv"
    pd.read_csv(iris_like_csv).drop(columns=["petal"]).to_csv(other, index=False)
    capsys.readouterr()
    code, _, err = run(capsys, "predict", model, other)
    assert_one_line_error(code, err)
    assert "has no column 'petal'" in err and "--impute" not in err


def test_softmax_on_one_output_is_a_clear_error(capsys):
    code, _, err = run(capsys, "train", "builtin:sine", "--output", "softmax", "-q")
    assert_one_line_error(code, err)
    assert "softmax output needs at least 2 units" in err


def test_finished_run_with_patience_says_it_kept_the_best_weights(capsys):
    # builtin:checkerboard at this α peaks at epoch 29 of 40; patience 39 never fires
    code, out, err = run(capsys, "train", "builtin:checkerboard", "--lr", "0.05", "--epochs", "40",
                         "--patience", "39", "-q")  # fmt: skip
    assert code == 0, err
    assert "finished 40 epochs" in out
    assert "kept the best weights (lowest val loss, epoch 29)" in out


def test_predict_scores_the_labelled_rows_when_some_labels_are_missing(
    capsys, tmp_path, iris_like_csv
):
    model = tmp_path / "m.npz"
    assert main(["train", str(iris_like_csv), "--epochs", "30", "-q", "--export", str(model)]) == 0
    frame = pd.read_csv(iris_like_csv)
    frame.loc[[3, 7], "species"] = np.nan
    path = tmp_path / "some_unlabelled.csv"
    frame.to_csv(path, index=False)
    out_csv = tmp_path / "p.csv"
    capsys.readouterr()
    code, out, err = run(capsys, "predict", model, path, "--out", out_csv)
    assert code == 0, err
    assert len(pd.read_csv(out_csv)) == len(frame)  # still one row per input row
    assert f"of {len(frame) - 2} rows" in out and "accuracy on" in out


def test_predict_notes_categories_never_seen_in_training(capsys, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=90)
    colour = np.array(["red", "green", "blue"])[np.arange(90) % 3]
    train = pd.DataFrame({"x": x, "colour": colour, "label": np.where(x > 0, "hi", "lo")})
    path = tmp_path / "train.csv"
    train.to_csv(path, index=False)
    model = tmp_path / "m.npz"
    assert main(["train", str(path), "--epochs", "5", "--export", str(model), "-q"]) == 0
    capsys.readouterr()
    new = tmp_path / "new.csv"
    pd.DataFrame({"x": [0.5, -0.5], "colour": ["red", "purple"]}).to_csv(new, index=False)
    code, out, err = run(capsys, "predict", model, new, "--out", tmp_path / "p.csv")
    assert code == 0, err
    assert "note: column 'colour' has values the model never saw in training ('purple')" in out
    assert len(pd.read_csv(tmp_path / "p.csv")) == 2


def test_categorical_option_keeps_a_many_valued_text_column(capsys, tmp_path):
    n = 60
    frame = pd.DataFrame(
        {
            "x": np.linspace(-1, 1, n),
            "tag": [f"t{i}" for i in range(n)],  # one value per row: dropped by default
            "label": ["a", "b"] * (n // 2),
        }
    )
    path = tmp_path / "tags.csv"
    frame.to_csv(path, index=False)
    code, out, err = run(capsys, "train", path, "--epochs", "1")
    assert code == 0, err
    assert "1 inputs" in out and "dropped column 'tag'" in out
    code, out, err = run(capsys, "train", path, "--epochs", "1", "--categorical", "tag")
    assert code == 0, err
    # one input per category seen in the training split (80 % of the rows), plus x
    assert f"{1 + int(0.8 * n)} inputs" in out and "dropped column 'tag'" not in out
