"""The CLI's project contract, end to end: train --project, runs (--csv), export --run, and opening
a project in the window (``bpstudio EXP.bpstudio``, ``bpstudio gui EXP.bpstudio``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bpstudio import cli
from bpstudio.io import load_model
from bpstudio.session import Session
from tests.test_cli import assert_one_line_error, run


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Two runs in one project: spirals (classes), then sine (values) under a chosen name."""
    path = tmp_path_factory.mktemp("proj") / "exp.bpstudio"
    assert (
        cli.main(["train", "builtin:spirals", "--epochs", "8", "--project", str(path), "-q"]) == 0
    )
    assert not path.with_suffix(".bpstudio.tmp").exists()
    code = cli.main(
        ["train", "builtin:sine", "--epochs", "5", "--hidden", "16", "--lr", "0.02"]
        + ["--project", str(path), "--run-name", "sine fit", "-q"]
    )
    assert code == 0
    return path


def test_train_appends_runs_with_history_and_weights(project):
    session = Session.open(project)
    assert [r.name for r in session.runs] == ["Run 1", "sine fit"]
    spirals, sine = session.runs
    assert len(spirals.history) == 8 and spirals.epochs == 8
    assert spirals.history.n_steps == spirals.steps == 8 * 15  # 480 rows / batch 32
    assert spirals.fit.optimizer == "adam" and spirals.fit.lr == 0.01
    assert spirals.dataset.source == "builtin:spirals"
    assert set(spirals.params) == {"W2", "b2", "W3", "b3", "W4", "b4"}
    assert spirals.params["W2"].shape == (32, 2)
    assert spirals.history.grad_norms["W2"].n_points > 0
    assert sine.fit.lr == 0.02 and sine.sizes == [1, 16, 1]
    rmse = sine.history.epoch_values("val_rmse")
    assert rmse.shape == (5,) and np.all(np.isfinite(rmse))
    # the final val RMSE the run reports is the CLI's (final weights, target units)
    assert sine.final("val_rmse") == pytest.approx(sine.summary["val_rmse"][0])
    assert len(spirals.checkpoints) >= 1 and spirals.checkpoints.best is not None


def test_runs_prints_one_line_per_run(capsys, project):
    code, out, _ = run(capsys, "runs", project)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    first, second = lines
    assert first.startswith("1  Run 1  2-32-32-2 relu  adam  α 0.01  batch 32  8 epochs  ")
    assert "train loss " in first and "val loss " in first and "val accuracy " in first
    assert first.endswith("%")
    assert second.startswith("2  sine fit  1-16-1 relu  adam  α 0.02  batch 32  5 epochs  ")
    assert "val RMSE " in second
    session = Session.open(project)
    acc = session.runs[0].summary["val_accuracy"]
    assert f"val accuracy {acc:.1%}" in first


def test_runs_csv_is_long_format_that_pandas_reads(capsys, project, tmp_path):
    out = tmp_path / "history.csv"
    code, _, _ = run(capsys, "runs", project, "--csv", out)
    assert code == 0
    frame = pd.read_csv(out)
    assert len(frame) == 8 + 5
    for column in ("run", "epoch", "step", "train_loss", "val_loss", "val_accuracy", "val_rmse"):
        assert column in frame.columns
    assert "lr" in frame.columns and "grad_norm_W2" in frame.columns
    assert frame.groupby("run").size().to_dict() == {1: 8, 2: 5}
    spirals = frame[frame.run == 1]
    assert spirals.val_rmse.isna().all() and spirals.val_accuracy.between(0, 1).all()
    assert spirals.epoch.tolist() == list(range(1, 9))
    sine = frame[frame.run == 2]
    assert sine.val_accuracy.isna().all() and (sine.val_rmse > 0).all()
    assert sine.grad_norm_W4.isna().all()  # the sine net has no layer 4


def test_export_run_n_writes_that_runs_model(capsys, project, tmp_path):
    for suffix in (".npz", ".json"):
        target = tmp_path / f"sine{suffix}"
        code, out, _ = run(capsys, "export", project, target, "--run", "2")
        assert code == 0, out
        model = load_model(target)
        session = Session.open(project)
        for name, value in session.runs[1].params.items():
            assert np.array_equal(model.net.params[name], value)
        assert model.preprocessor is not None and model.extra["run_name"] == "sine fit"
    # the exported model predicts like the CLI's own export would
    code, _, err = run(capsys, "predict", tmp_path / "sine.npz", "builtin:sine")
    assert code == 0 and "RMSE" in err


def test_bad_or_missing_projects_exit_2_with_one_line(capsys, project, tmp_path):
    garbage = tmp_path / "garbage.bpstudio"
    garbage.write_bytes(b"not a zip at all")
    cases = [
        ("runs", tmp_path / "missing.bpstudio"),
        ("runs", garbage),
        ("export", project, tmp_path / "m.npz", "--run", "3"),
        ("export", project, tmp_path / "m.npz"),  # two runs: which one?
        ("export", project, tmp_path / "m.npz", "--run", "0"),
        ("train", "builtin:xor", "--epochs", "1", "--project", garbage),
        ("train", "builtin:xor", "--epochs", "1", "--project", tmp_path / "no" / "p.bpstudio"),
        ("train", "builtin:xor", "--epochs", "1", "--project", tmp_path / "p.zip"),
        ("gui", garbage),
        (garbage,),
    ]
    for argv in cases:
        code, _, err = run(capsys, *argv)
        assert_one_line_error(code, err)
    assert Session.open(project).runs  # the good project is untouched


def test_a_project_opens_in_the_window(monkeypatch, project):
    calls = []

    def fake_run_app(argv=None, dataset=None, project=None):
        calls.append(project)
        return 0

    monkeypatch.setattr(cli, "_import_run_app", lambda: fake_run_app)
    assert cli.main([str(project)]) == 0
    assert cli.main(["gui", str(project)]) == 0
    assert calls == [str(project), str(project)]
