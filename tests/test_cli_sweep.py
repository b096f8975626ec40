"""`bpstudio sweep`: every sweepable setting, the results table and its order, equality with
separate `bpstudio train` runs, shared split and initial weights, export/metrics, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bpstudio.engine
from bpstudio.cli import main

SMALL = ["--samples", "120", "--epochs", "4", "-q"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table(out: str) -> list[list[str]]:
    """The rows of the results table (after its header line)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    return [line.split() for line in lines[start + 1 :] if line[:1].isdigit()]


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0]
    for word in words:
        assert word in lines[0]


@pytest.fixture
def spy(monkeypatch):
    """The nets and configs `sweep` hands to fit_many, initial weights copied before training."""
    seen: dict = {}
    real = bpstudio.engine.fit_many

    def fit_many(nets, X, Y, configs, **shared):
        seen["params"] = [net.get_params() for net in nets]
        seen["configs"] = [dict(c) for c in configs]
        seen["nets"] = nets
        return real(nets, X, Y, configs, **shared)

    monkeypatch.setattr(bpstudio.engine, "fit_many", fit_many)
    return seen


def test_lr_sweep_prints_one_row_per_value_sorted_by_val_accuracy(capsys, spy) -> None:
    code, out, err = run(capsys, "sweep", "builtin:moons", "--param", "lr=0.001,0.01,0.1", *SMALL)
    assert code == 0, err
    assert "sweep lr over 3 values" in out and "sorted by val accuracy" in out
    assert "trained 3 variants together" in out  # one kernel for all three
    rows = table(out)
    assert sorted(float(r[1]) for r in rows) == [0.001, 0.01, 0.1]
    accuracies = [float(r[2].rstrip("%")) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    # same initial weights for every variant; only α differs in what fit_many is asked
    for params in spy["params"][1:]:
        for name, value in spy["params"][0].items():
            np.testing.assert_array_equal(params[name], value)
    assert [c["lr"] for c in spy["configs"]] == [0.001, 0.01, 0.1]
    rest = [{k: v for k, v in c.items() if k != "lr"} for c in spy["configs"]]
    assert rest[0] == rest[1] == rest[2]


def test_log_range(capsys) -> None:
    code, out, _ = run(capsys, "sweep", "builtin:xor", "--param", "lr=log:1e-4:1e-1:4", *SMALL)
    assert code == 0
    assert sorted(float(r[1]) for r in table(out)) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])


def test_sweep_equals_separate_train_runs(capsys, tmp_path) -> None:
    """Same data split, same start, same numbers as `bpstudio train` with that one setting."""
    common = ["builtin:spirals", "--samples", "150", "--epochs", "5", "--dtype", "float64", "-q"]
    metrics = tmp_path / "sweep.json"
    code, _, _ = run(capsys, "sweep", *common, "--param", "lr=0.003,0.03", "--metrics", metrics)
    assert code == 0
    variants = json.loads(metrics.read_text())["variants"]
    assert len(variants) == 2
    for variant in variants:
        one = tmp_path / f"train-{variant['value']}.json"
        assert run(capsys, "train", *common, "--lr", variant["value"], "--metrics", one)[0] == 0
        alone = json.loads(one.read_text())
        assert (variant["epochs"], variant["steps"]) == (alone["epochs"], alone["steps"])
        for key in ("train_loss", "val_loss", "val_accuracy"):
            assert variant[key] == pytest.approx(alone[key], rel=1e-9), key
        np.testing.assert_allclose(
            variant["history"]["val_loss"], alone["history"]["val_loss"], rtol=1e-9
        )


@pytest.mark.parametrize(
    ("param", "values", "same_start"),
    [
        ("batch", ["8", "32"], True),
        ("width", ["4", "16"], False),
        ("width3", ["4", "8"], False),
        ("width2", ["3", "9"], False),
        ("activation", ["relu", "tanh", "sigmoid"], True),
        ("init", ["he", "xavier_normal"], False),
        ("optimizer", ["sgd", "momentum", "adam"], True),
        ("l2", ["0", "0.001", "0.1"], True),
        ("seed", ["0", "1", "2"], False),
    ],
)
def test_every_sweepable_setting(capsys, spy, param, values, same_start) -> None:
    code, out, err = run(
        capsys, "sweep", "builtin:blobs", "--hidden", "6,6", "--param",
        f"{param}={','.join(values)}", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(r[1] for r in table(out)) == sorted(values)
    params = spy["params"]
    if same_start:  # only the chosen setting differs: the start is shared
        assert all(np.array_equal(p["W2"], params[0]["W2"]) for p in params)
    nets = spy["nets"]
    if param == "width":
        assert [n.sizes[1:3] for n in nets] == [[4, 4], [16, 16]]
    if param == "width3":
        assert [n.sizes[1:3] for n in nets] == [[6, 4], [6, 8]]
    if param == "width2":  # W4 (the output layer) kept its shape: it starts alike in both
        assert [n.sizes[1:3] for n in nets] == [[3, 6], [9, 6]]
        np.testing.assert_array_equal(params[0]["W4"], params[1]["W4"])
        np.testing.assert_array_equal(params[0]["b3"], params[1]["b3"])
        assert "same initial weights where the shapes allow" in out
    together = param in ("l2", "seed", "init")  # same shapes, activations and optimiser
    assert ("variants together" in out) == together
    if param == "activation":
        assert [n.activations[0] for n in nets] == values
        assert "variants one by one" in out
        assert {n.init for n in nets} == {"he"}  # the base run's initialiser for all
    if param == "seed":  # new weights and shuffles, same data split
        assert not np.array_equal(params[0]["W2"], params[1]["W2"])
        assert [c["seed"] for c in spy["configs"]] == [0, 1, 2]


def test_regression_sorted_by_val_rmse_and_no_val_split_by_train_loss(capsys) -> None:
    code, out, _ = run(capsys, "sweep", "builtin:sine", "--param", "lr=0.0003,0.003,0.03", *SMALL)
    assert code == 0 and "sorted by val RMSE (y units)" in out
    rmse = [float(r[2]) for r in table(out)]
    assert rmse == sorted(rmse)
    code, out, _ = run(
        capsys, "sweep", "builtin:sine", "--param", "lr=0.0003,0.03", "--val-split", "0", *SMALL
    )
    assert code == 0 and "sorted by train loss" in out
    train = [float(r[2]) for r in table(out)]
    assert train == sorted(train)


def test_diverged_variants_go_last_and_all_diverged_exits_1(capsys) -> None:
    args = ["sweep", "builtin:sine", "--optimizer", "sgd", *SMALL]
    code, out, err = run(capsys, *args, "--param", "lr=1e9,0.01")
    assert code == 0
    rows = table(out)
    assert rows[0][1] == "0.01" and rows[-1][-1] == "diverged"
    assert "lr 1e+09: Training diverged" in err
    code, out, err = run(capsys, *args, "--param", "lr=1e9,1e10")
    assert code == 1
    assert [r[-1] for r in table(out)] == ["diverged", "diverged"]


def test_export_saves_the_best_variant_and_metrics_list_every_one(capsys, tmp_path) -> None:
    model, metrics = tmp_path / "best.npz", tmp_path / "sweep.json"
    code, out, _ = run(
        capsys, "sweep", "builtin:moons", "--param", "width=2,16", "--export", model,
        "--metrics", metrics, *SMALL,
    )  # fmt: skip
    assert code == 0
    report = json.loads(metrics.read_text())
    assert report["param"] == "width" and report["values"] == [2, 16]
    best = report["variants"][0]
    assert f"saved the best variant (width {best['value']})" in out
    accuracies = [v["val_accuracy"] for v in report["variants"]]
    assert accuracies == sorted(accuracies, reverse=True)
    code, out, _ = run(capsys, "info", model)
    assert code == 0
    assert f"network 2-{best['value']}-{best['value']}-2" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--param", "lr=0.1"], ["2-12 values"]),
        (["--param", ",".join(["lr=1"] + [str(i) for i in range(2, 14)])], ["2-12 values"]),
        (["--param", "momentum=0.1,0.9"], ["NAME=VALUES"]),
        (["--param", "batch=log:1:64:3"], ["log range only applies"]),
        (["--param", "lr=log:0.1:0.001:3"], ["0 < LOW < HIGH"]),
        (["--param", "lr=0.1,0.1"], ["listed twice"]),
        (["--param", "activation=relu,softmax"], ["unknown activation 'softmax'"]),
        (["--param", "lr=-1,1"], ["expected a number in"]),
        (["--param", "width9=2,3"], ["layer 9 is not a hidden layer"]),
        (["--param", "width=2,3", "--hidden", "none"], ["needs hidden layers"]),
        (["--param", "lr=0.1,1", "--project", "runs.bpproj"], ["ends in .bpstudio"]),
        ([], ["--param"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words) -> None:
    code, _, err = run(capsys, "sweep", "builtin:xor", *argv, *SMALL)
    assert_one_line_error(code, err, *words)


def test_help_lists_the_settings(capsys) -> None:
    assert main(["sweep", "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("lr", "batch", "width", "activation", "init", "optimizer", "l2", "seed"):
        assert name in out
    assert "--hidden" in out and "--epochs" in out  # train's options come along


def test_sweep_appends_every_variant_to_a_project(capsys, tmp_path) -> None:
    from bpstudio.session import Session

    project = tmp_path / "exp.bpstudio"
    code, out, err = run(capsys, "train", "builtin:moons", "--project", project, *SMALL)
    assert code == 0, err
    code, out, err = run(
        capsys, "sweep", "builtin:moons", "--param", "lr=0.001,0.1", "--project", project, *SMALL
    )
    assert code == 0, err
    assert "added run 2 (lr 0.001)" in out and "added run 3 (lr 0.1)" in out
    session = Session.open(project)
    assert [r.name for r in session.runs][1:] == ["lr 0.001", "lr 0.1"]
    # one sweep, as Compare… records it (it counts as one run in the memory bound)
    assert session.runs[0].sweep is None
    assert session.runs[1].sweep == session.runs[2].sweep == session.runs[1].id
    for run_, lr in zip(session.runs[1:], (0.001, 0.1), strict=True):
        assert run_.fit.lr == lr and run_.params is not None
        assert len(run_.history.epochs["train_loss"]) == 4  # the per-epoch history was recorded
    code, out, _ = run(capsys, "runs", project)
    assert code == 0 and len(out.strip().splitlines()) == 3
