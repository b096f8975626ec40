"""PyTorch export: the generated module rebuilds the network and predicts what `bpstudio predict`
writes (classification with softmax, two sigmoids and one sigmoid unit; regression in original
units; categorical inputs with imputation), as a script and as an import; names and errors."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
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
needs_torch = pytest.mark.skipif(
    not (HAS_TORCH and HAS_SAFETENSORS), reason="torch (and safetensors) not installed"
)
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


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_same_table(ours: pd.DataFrame, theirs: pd.DataFrame, rtol: float = RTOL) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs)
    for column in theirs.columns:
        if theirs[column].dtype.kind == "f":
            np.testing.assert_allclose(ours[column], theirs[column], rtol=rtol, atol=rtol)
        else:  # class labels, exactly as spelled in the training data
            assert ours[column].astype(str).tolist() == theirs[column].astype(str).tolist()


def _export(model: Path, out: Path) -> None:
    assert main(["export", str(model), str(out)]) == 0


@needs_torch
def test_softmax_classes_as_a_script_match_predict(tmp_path) -> None:
    iris = SAMPLES / "iris.csv"
    model = _train(tmp_path, str(iris))
    code = tmp_path / "iris_model.py"
    _export(model, code)
    assert (tmp_path / "iris_model.safetensors").is_file()
    theirs = _bpstudio_predict(model, iris, tmp_path / "bp.csv")
    run = subprocess.run(
        [sys.executable, str(code), str(iris), "--out", str(tmp_path / "pt.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    ours = pd.read_csv(tmp_path / "pt.csv")
    assert list(ours.columns) == ["prediction", "p(setosa)", "p(versicolor)", "p(virginica)"]
    _assert_same_table(ours, theirs)


@needs_torch
def test_regression_in_original_units_float32_and_float64(tmp_path) -> None:
    houses = SAMPLES / "houses.csv"
    for dtype, rtol in (("float32", RTOL), ("float64", 1e-10)):
        model = _train(tmp_path, str(houses), "--dtype", dtype, name=f"houses_{dtype}")
        code = tmp_path / f"houses_{dtype}.py"
        _export(model, code)
        theirs = _bpstudio_predict(model, houses, tmp_path / f"bp_{dtype}.csv")
        module = _import(code)
        assert module.main([str(houses), "--out", str(tmp_path / f"pt_{dtype}.csv")]) == 0
        ours = pd.read_csv(tmp_path / f"pt_{dtype}.csv")
        assert list(ours.columns) == ["prediction"]
        assert 50 < float(ours["prediction"].mean()) < 1000  # thousands, not standardised units
        _assert_same_table(ours, theirs, rtol)


@needs_torch
def test_categorical_inputs_with_imputation(tmp_path) -> None:
    fruit = SAMPLES / "fruit_messy.csv"  # BOM, "?"/"NA" gaps, text columns one-hot
    model = _train(tmp_path, str(fruit), "--missing", "impute")
    code = tmp_path / "fruit.py"
    _export(model, code)
    module = _import(code)
    assert module.COLUMNS[2][:2] == ("colour", "categorical")
    assert "colour=red" in module.FEATURE_NAMES
    theirs = _bpstudio_predict(model, fruit, tmp_path / "bp.csv")
    assert module.main([str(fruit), "--out", str(tmp_path / "pt.csv")]) == 0
    _assert_same_table(pd.read_csv(tmp_path / "pt.csv"), theirs)


@needs_torch
def test_two_sigmoid_units_and_one(tmp_path) -> None:
    table = load_table("builtin:moons")
    csv = tmp_path / "moons.csv"
    table.frame.to_csv(csv, index=False)
    model = _train(tmp_path, str(csv), "--output", "sigmoid", "--loss", "cross_entropy")
    _export(model, tmp_path / "moons2.py")
    theirs = _bpstudio_predict(model, csv, tmp_path / "bp2.csv")
    module = _import(tmp_path / "moons2.py")
    assert isinstance(module.load().act4, module.nn.Sigmoid)
    _assert_same_table(_run(module, csv, tmp_path), theirs)

    # one sigmoid unit for two classes: P(second class), as the window may build it
    ds = prepare(table)
    net = Network([ds.n_inputs, 6, 1], activation="tanh", output="sigmoid", loss="cross_entropy")
    fit(net, ds.X_train, ds.Y_train[:, 1:], epochs=5, optimizer="adam", lr=0.05, seed=0)
    one = save_model(tmp_path / "moons1.npz", net, ds.preprocessor)
    _export(one, tmp_path / "moons1.py")
    theirs = _bpstudio_predict(one, csv, tmp_path / "bp1.csv")
    assert list(theirs.columns)[1:] == [f"p({c})" for c in ds.classes]
    _assert_same_table(_run(_import(tmp_path / "moons1.py"), csv, tmp_path), theirs)


def _run(module, csv: Path, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / f"pt_{module.__name__}.csv"
    assert module.main([str(csv), "--out", str(out)]) == 0
    return pd.read_csv(out)


@needs_torch
def test_layers_are_named_after_the_notation(tmp_path) -> None:
    model = _train(tmp_path, "builtin:xor", "--activation", "tanh,elu")
    _export(model, tmp_path / "xor.py")
    module = _import(tmp_path / "xor.py")
    net = module.load()
    weights = load_model(model).net.get_params()
    for l in (2, 3, 4):
        layer = getattr(net, f"layer{l}")
        np.testing.assert_array_equal(layer.weight.detach().numpy(), weights[f"W{l}"])
        np.testing.assert_array_equal(layer.bias.detach().numpy(), weights[f"b{l}"])
    kinds = [type(getattr(net, f"act{l}")).__name__ for l in (2, 3, 4)]
    assert kinds == ["Tanh", "ELU", "Softmax"]


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
