"""ONNX export: onnxruntime gives the engine's outputs; names follow the notation; CLI, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from bpstudio.cli import main  # noqa: E402
from bpstudio.data import load_table, make_builtin, prepare  # noqa: E402
from bpstudio.engine import Network  # noqa: E402
from bpstudio.engine.activations import HIDDEN_ACTIVATIONS  # noqa: E402
from bpstudio.io import EXPORT_FORMATS, ModelFileError, load_model, save_model  # noqa: E402

TOL = 1e-5


def run_onnx(path, X: np.ndarray) -> tuple[np.ndarray, str]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.get_outputs()
    (result,) = session.run(None, {"x": np.ascontiguousarray(X, dtype=np.float32)})
    return result, output.name


def raw_inputs(pre, frame) -> np.ndarray:
    """What the ONNX input expects: the engine's inputs before scaling (one-hot stays 0/1)."""
    return pre.transform(frame) * pre.scale + pre.offset


def props(path) -> dict:
    model = onnx.load(str(path))
    return {p.key: json.loads(p.value) for p in model.metadata_props}


def test_onnx_is_an_export_format():
    assert ".onnx" in EXPORT_FORMATS


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid", "tanh", "linear"])
def test_classification_matches_forward(tmp_path, hidden, output):
    table = make_builtin("spirals", n_samples=80)
    ds = prepare(table)
    loss = "cross_entropy" if output in ("softmax", "sigmoid") else "mse"
    net = Network([2, 7, 5, 2], activation=hidden, output=output, loss=loss, seed=4)
    path = save_model(tmp_path / "spirals.onnx", net, ds.preprocessor)
    got, name = run_onnx(path, table.frame[ds.feature_names].to_numpy())
    assert name == "probabilities"
    expected = net.forward(ds.preprocessor.transform(table.frame))
    np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_every_hidden_activation_matches_forward(tmp_path, hidden):
    table = make_builtin("spirals", n_samples=60)
    ds = prepare(table)
    net = Network([2, 6, 2], activation=hidden, output="softmax", loss="cross_entropy", seed=2)
    # larger weights so negative pre-activations (leaky slope, ELU, softplus tails) are exercised
    net.set_params({k: 3.0 * v for k, v in net.get_params().items()})
    path = save_model(tmp_path / "m.onnx", net, ds.preprocessor)
    got, _ = run_onnx(path, table.frame[ds.feature_names].to_numpy())
    expected = net.forward(ds.preprocessor.transform(table.frame))
    np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("scaling", ["standardize", "minmax", "none"])
@pytest.mark.parametrize("output", ["linear", "tanh", "sigmoid"])
@pytest.mark.parametrize("name", ["sine", "plane"])
def test_regression_matches_decode_in_original_units(tmp_path, name, output, scaling):
    from bpstudio.data import DatasetOptions

    table = make_builtin(name, n_samples=60)
    ds = prepare(table, DatasetOptions(scaling=scaling))
    pre = ds.preprocessor
    net = Network([ds.n_inputs, 8, 1], activation="elu", output=output, loss="mse", seed=1)
    path = save_model(tmp_path / f"{name}.onnx", net, pre)
    got, out_name = run_onnx(path, table.frame[ds.feature_names].to_numpy())
    assert out_name == "y"
    values, _ = pre.decode(net.forward(pre.transform(table.frame)))
    np.testing.assert_allclose(got[:, 0], values, rtol=TOL, atol=TOL)


def test_float32_network_and_no_preprocessor(tmp_path):
    net = Network(
        [3, 4, 2], activation="relu", output="linear", loss="mse", seed=0, dtype="float32"
    )
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    path = save_model(tmp_path / "bare.onnx", net)
    got, name = run_onnx(path, X)
    assert name == "output"
    np.testing.assert_allclose(got, net.forward(X), rtol=TOL, atol=TOL)


def test_initializers_follow_the_notation(tmp_path):
    ds = prepare(make_builtin("spirals", n_samples=40))
    net = Network([2, 5, 4, 2], activation=["tanh", "relu"], output="softmax",
                  loss="cross_entropy", seed=3)  # fmt: skip
    path = save_model(tmp_path / "m.onnx", net, ds.preprocessor)
    model = onnx.load(str(path))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert sorted(inits) == sorted(
        ["input_offset", "input_scale", "W2", "b2", "W3", "b3", "W4", "b4"]
    )
    assert inits["W2"].shape == (5, 2)  # (n_2, n_1)
    assert inits["W3"].shape == (4, 5)
    assert inits["W4"].shape == (2, 4)
    assert inits["b3"].shape == (4,)
    for name, value in net.get_params().items():
        assert inits[name].dtype == np.float32
        np.testing.assert_array_equal(inits[name], value.astype(np.float32))  # not folded
    np.testing.assert_array_equal(inits["input_offset"], ds.preprocessor.offset.astype(np.float32))
    nodes = [(n.name, n.op_type) for n in model.graph.node]
    assert nodes == [
        ("x_centered", "Sub"), ("a1", "Div"),
        ("z2", "Gemm"), ("a2", "Tanh"),
        ("z3", "Gemm"), ("a3", "Relu"),
        ("z4", "Gemm"), ("a4", "Softmax"),
    ]  # fmt: skip
    assert [i.name for i in model.graph.input] == ["x"]
    assert [o.name for o in model.graph.output] == ["probabilities"]
    meta = props(path)
    assert meta["feature_names"] == ["x1", "x2"]
    assert meta["classes"] == ds.classes
    assert meta["network"]["sizes"] == [2, 5, 4, 2]
    assert meta["bpstudio"]["format"] == "bpstudio-model"
    assert "x1, x2" in model.graph.doc_string
    onnx.checker.check_model(model)


def test_categorical_features_one_hot_width_and_names(tmp_path):
    csv = tmp_path / "penguins.csv"
    rng = np.random.default_rng(0)
    islands = rng.choice(["Biscoe", "Dream", "Torgersen"], size=40)
    rows = ["bill,island,mass"] + [
        f"{rng.normal(40, 5):.2f},{isl},{rng.normal(4000, 300) + 200 * (isl == 'Dream'):.1f}"
        for isl in islands
    ]
    csv.write_text("\n".join(rows) + "\n")
    table = load_table(csv)
    ds = prepare(table)
    pre = ds.preprocessor
    assert pre.feature_names == ["bill", "island=Biscoe", "island=Dream", "island=Torgersen"]
    net = Network([4, 6, 1], activation="tanh", output="linear", loss="mse", seed=0)
    path = save_model(tmp_path / "penguins.onnx", net, pre)
    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[1].dim_value == 4
    assert props(path)["feature_names"] == pre.feature_names
    got, _ = run_onnx(path, raw_inputs(pre, table.frame))
    values, _ = pre.decode(net.forward(pre.transform(table.frame)))
    np.testing.assert_allclose(got[:, 0], values, rtol=TOL, atol=TOL)


def test_load_model_refuses_onnx_in_one_line(tmp_path):
    path = save_model(tmp_path / "m.onnx", Network([2, 3, 2], output="softmax", seed=0))
    with pytest.raises(ModelFileError, match="export-only") as info:
        load_model(path)
    assert "\n" not in str(info.value)
    assert ".npz" in str(info.value)


def test_cli_export_to_onnx(tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert main(["train", "builtin:moons", "--epochs", "2", "--export", str(model), "-q"]) == 0
    target = tmp_path / "m.onnx"
    assert main(["export", str(model), str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    loaded = load_model(model)
    table = make_builtin("moons")
    pre = loaded.preprocessor
    got, name = run_onnx(target, table.frame[pre.feature_names].to_numpy())
    assert name == "probabilities"
    expected = loaded.net.forward(pre.transform(table.frame))
    np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)
    assert main(["info", str(target)]) == 2
    err = capsys.readouterr().err
    assert "export-only" in err and len(err.strip().splitlines()) == 1


def test_bad_preprocessor_width_is_a_model_file_error(tmp_path):
    ds = prepare(make_builtin("spirals", n_samples=40))
    net = Network([3, 4, 2], output="softmax", seed=0)
    with pytest.raises(ModelFileError, match="inputs"):
        save_model(tmp_path / "m.onnx", net, ds.preprocessor)
    assert not (tmp_path / "m.onnx").exists()
