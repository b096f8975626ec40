"""PyTorch export: the generated file, run as a script, writes what `bpstudio predict` writes
(classification with softmax, two sigmoids and one sigmoid unit; regression in original units;
categorical inputs with imputation); its layers follow the notation; names and errors."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bpstudio.cli import main
from bpstudio.data import load_table, prepare
from bpstudio.engine import Network, fit
from bpstudio.io import ModelFileError, load_model, save_model
from bpstudio.io import model_file as model_file_mod
from bpstudio.io.pytorch_export import build_pytorch_source
from bpstudio.resources import sample_data_dir

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_safetensors = pytest.mark.skipif(not HAS_SAFETENSORS, reason="safetensors not installed")
# float32 networks: torch and NumPy sum the layers' products in different orders, so outputs
# agree to float32 rounding: ≤ 1e-6 relative (probabilities ≤ 1e-6 absolute). float64: ~1e-12.
RTOL = 1e-6
SAMPLES = sample_data_dir()


def _train(tmp_path: Path, data: str, *extra: str, name: str = "model") -> Path:
    model = tmp_path / f"{name}.npz"
    args = ["train", data, "--epochs", "8", "--hidden", "16,8", "-q", "--export", str(model)]
    assert main([*args, *extra]) == 0
    return model


def _bpstudio_predict(model: Path, data: Path, out: Path, *extra: str) -> pd.DataFrame:
    assert main(["predict", str(model), str(data), "--out", str(out), *extra]) == 0
    return pd.read_csv(out)


def _export(model: Path, out: Path) -> None:
    assert main(["export", str(model), str(out)]) == 0


def _assert_same_table(ours: pd.DataFrame, theirs: pd.DataFrame, rtol: float = RTOL) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs)
    for column in theirs.columns:
        if theirs[column].dtype.kind == "f":
            np.testing.assert_allclose(ours[column], theirs[column], rtol=rtol, atol=rtol)
        else:  # class labels, exactly as spelled in the training data
            assert ours[column].astype(str).tolist() == theirs[column].astype(str).tolist()


# Runs each generated file as a script (``python model.py data.csv --out pred.csv``) in ONE
# child interpreter, so torch is imported once and never into the test process; for each file it
# also records the layers' class names and weights for the naming test.
_RUNNER = """
import contextlib, io, json, runpy, sys
for code, csv, out in json.loads(sys.argv[1]):
    sys.argv = [code, csv, "--out", out]
    err = io.StringIO()
    status = 0
    with contextlib.redirect_stderr(err):
        try:
            runpy.run_path(code, run_name="__main__")
        except SystemExit as stop:
            status = stop.code
    record = {"status": status, "stderr": err.getvalue()}
    if status == 0:
        net = runpy.run_path(code)["load"]()
        record["weights"] = {name: m.weight.detach().tolist()
                             for name, m in net.named_children() if hasattr(m, "weight")}
        record["acts"] = [type(m).__name__ for name, m in net.named_children()
                          if name.startswith("act")]
    json.dump(record, open(out + ".json", "w"))
"""


@dataclass
class Case:
    model: Path
    code: Path
    data: Path
    theirs: pd.DataFrame  # what bpstudio predict wrote
    out_path: Path | None = None

    @property
    def out(self) -> Path:
        return self.out_path or self.code.with_name(self.code.stem + "_pred.csv")

    def ours(self) -> pd.DataFrame:
        return pd.read_csv(self.out)

    def record(self) -> dict:
        """What the child recorded: exit status, stderr, layer classes and weights."""
        return json.loads(Path(str(self.out) + ".json").read_text())


def _case(tmp: Path, name: str, data: Path, train: list[str] | None, model: Path | None = None):
    model = model or _train(tmp, str(data), *(train or []), name=name)
    code = tmp / f"{name}.py"
    _export(model, code)
    return Case(model, code, data, _bpstudio_predict(model, data, tmp / f"{name}_bp.csv"))


def _one_sigmoid_unit(tmp: Path, csv: Path) -> Path:
    """Two classes from ONE sigmoid unit, P(second class), as the engine's API allows."""
    ds = prepare(load_table(str(csv)))
    net = Network([ds.n_inputs, 6, 1], activation="tanh", output="sigmoid", loss="cross_entropy")
    fit(net, ds.X_train, ds.Y_train[:, 1:], epochs=5, optimizer="adam", lr=0.05, seed=0)
    return save_model(tmp / "moons1.npz", net, ds.preprocessor)


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Case]:
    if not (HAS_TORCH and HAS_SAFETENSORS):
        pytest.skip("torch (and safetensors) not installed")
    tmp = tmp_path_factory.mktemp("pytorch_export")
    moons = tmp / "moons.csv"
    load_table("builtin:moons").frame.to_csv(moons, index=False)
    xor = tmp / "xor.csv"
    load_table("builtin:xor").frame.to_csv(xor, index=False)
    found = {
        "iris": _case(tmp, "iris", SAMPLES / "iris.csv", []),
        "houses32": _case(tmp, "houses32", SAMPLES / "houses.csv", ["--dtype", "float32"]),
        "houses64": _case(tmp, "houses64", SAMPLES / "houses.csv", ["--dtype", "float64"]),
        # BOM, "?"/"NA" gaps, text columns one-hot, imputation
        "fruit": _case(tmp, "fruit", SAMPLES / "fruit_messy.csv", ["--missing", "impute"]),
        "moons2": _case(tmp, "moons2", moons, ["--output", "sigmoid", "--loss", "cross_entropy"]),
        "moons1": _case(tmp, "moons1", moons, None, _one_sigmoid_unit(tmp, moons)),
        "xor": _case(tmp, "xor", xor, ["--activation", "tanh,elu"]),
    }
    # and one run on a file without the model's columns: a one-line error, exit 2
    found["wrong_file"] = Case(found["iris"].model, found["iris"].code, SAMPLES / "houses.csv",
                               found["iris"].theirs, tmp / "wrong_file.csv")  # fmt: skip
    jobs = [[str(c.code), str(c.data), str(c.out)] for c in found.values()]
    run = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(jobs)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
    )
    assert run.returncode == 0, run.stderr
    for name, case in found.items():
        assert case.record()["status"] == (2 if name == "wrong_file" else 0), case.record()
    return found


def test_a_file_without_the_columns_is_one_line_and_exit_2(cases) -> None:
    record = cases["wrong_file"].record()
    (line,) = record["stderr"].strip().splitlines()
    assert "no column 'sepal_length_cm'" in line
    assert not cases["wrong_file"].out.exists()


def test_softmax_classes_match_predict(cases) -> None:
    case = cases["iris"]
    assert (case.code.with_suffix(".safetensors")).is_file()
    ours = case.ours()
    assert list(ours.columns) == ["prediction", "p(setosa)", "p(versicolor)", "p(virginica)"]
    _assert_same_table(ours, case.theirs)


def test_regression_in_original_units_float32_and_float64(cases) -> None:
    for name, rtol in (("houses32", RTOL), ("houses64", 1e-10)):
        ours = cases[name].ours()
        assert list(ours.columns) == ["prediction"]
        assert 50 < float(ours["prediction"].mean()) < 1000  # thousands, not standardised units
        _assert_same_table(ours, cases[name].theirs, rtol)


def test_categorical_inputs_with_imputation(cases) -> None:
    case = cases["fruit"]
    source = case.code.read_text(encoding="utf-8")
    assert "('colour', 'categorical'," in source and "'colour=red'" in source
    assert "IMPUTE = True" in source
    _assert_same_table(case.ours(), case.theirs)


def test_two_sigmoid_units_and_one(cases) -> None:
    two, one = cases["moons2"], cases["moons1"]
    assert two.record()["acts"][-1] == "Sigmoid" and one.record()["acts"][-1] == "Sigmoid"
    _assert_same_table(two.ours(), two.theirs)
    assert list(one.theirs.columns)[1:] == ["p(A)", "p(B)"]  # two classes from one unit
    _assert_same_table(one.ours(), one.theirs)


def test_layers_are_named_after_the_notation(cases) -> None:
    case = cases["xor"]
    layers = case.record()
    assert layers["acts"] == ["Tanh", "ELU", "Softmax"]
    weights = load_model(case.model).net.get_params()
    assert sorted(layers["weights"]) == ["layer2", "layer3", "layer4"]
    for l in (2, 3, 4):
        np.testing.assert_array_equal(np.array(layers["weights"][f"layer{l}"]), weights[f"W{l}"])


@needs_safetensors
def test_weights_beside_the_code_are_a_bpstudio_model(tmp_path) -> None:
    model = _train(tmp_path, "builtin:circles")
    _export(model, tmp_path / "circles.py")
    source = (tmp_path / "circles.py").read_text(encoding="utf-8")
    compile(source, "circles.py", "exec")  # valid Python even where torch is absent
    assert "self.layer2 = nn.Linear(2, 16, dtype=DTYPE)" in source and "W2" in source
    again = load_model(tmp_path / "circles.safetensors")  # bpstudio reads the weights back
    for name, value in load_model(model).net.get_params().items():
        np.testing.assert_array_equal(again.net.get_params()[name], value)


def test_bad_names_and_missing_package_say_what_to_do(tmp_path, monkeypatch) -> None:
    ds = prepare(load_table("builtin:xor"))
    net = Network([2, 3, 2], output="softmax", loss="cross_entropy")
    with pytest.raises(ModelFileError, match="Python can import"):
        save_model(tmp_path / "my-model.py", net, ds.preprocessor)
    with pytest.raises(ModelFileError, match="preprocessing"):
        build_pytorch_source(net, None, "m.safetensors")
    monkeypatch.setattr(model_file_mod, "_safetensors_available", lambda: False)
    with pytest.raises(ModelFileError, match=r"pip install 'bpstudio\[export\]'"):
        save_model(tmp_path / "model.py", net, ds.preprocessor)
    assert not (tmp_path / "model.py").exists()
