"""Model files: round trips per format, atomic writes, and safe rejection of bad files."""

from __future__ import annotations

import importlib.util
import json
import pickle
import zipfile

import numpy as np
import pytest

from bpstudio.engine import Network
from bpstudio.io import (
    EXPORT_FORMATS,
    FORMAT_VERSION,
    ModelFileError,
    atomic_write_json,
    load_model,
    model_file,
    save_model,
)

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
FORMATS = [
    ".npz",
    ".json",
    pytest.param(
        ".safetensors",
        marks=pytest.mark.skipif(not HAS_SAFETENSORS, reason="optional safetensors not installed"),
    ),
]


def make_net(dtype: str = "float64") -> Network:
    return Network(
        [3, 5, 4, 2],
        activation=["tanh", "relu"],
        output="softmax",
        loss="cross_entropy",
        seed=3,
        dtype=dtype,
    )


@pytest.fixture
def X() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(7, 3))


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_same_outputs(tmp_path, X, suffix, dtype):
    net = make_net(dtype)
    path = save_model(tmp_path / f"model{suffix}", net, extra={"epochs": 3, "val_loss": 0.5})
    loaded = load_model(path)
    assert loaded.net.config() == net.config()
    assert loaded.metadata["extra"] == {"epochs": 3, "val_loss": 0.5}
    assert loaded.metadata["format_version"] == FORMAT_VERSION
    assert loaded.preprocessor is None
    for name, value in net.get_params().items():
        np.testing.assert_array_equal(loaded.net.get_params()[name], value)
    np.testing.assert_array_equal(loaded.net.forward(X.astype(dtype)), net.forward(X.astype(dtype)))


def test_npz_layout_is_the_seeds(tmp_path):
    net = make_net()
    save_model(tmp_path / "m.npz", net)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W2", "W3", "W4", "b2", "b3", "b4", "metadata"]
        assert archive["W2"].shape == (5, 3)  # (n_2, n_1)
        assert archive["W3"].shape == (4, 5)
        assert archive["b4"].shape == (2,)
        assert archive["W2"].flags.c_contiguous
        meta = json.loads(str(archive["metadata"]))
    assert meta["network"]["sizes"] == [3, 5, 4, 2]
    assert meta["param_shapes"]["W4"] == [2, 4]


def test_json_is_plain_json(tmp_path):
    net = make_net()
    save_model(tmp_path / "m.json", net)
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["format"] == "bpstudio-model"
    assert np.array(doc["params"]["W3"]).shape == (4, 5)
    assert doc["network"]["output"] == "softmax"


def test_export_formats_lists_what_this_install_writes():
    assert ".npz" in EXPORT_FORMATS and ".json" in EXPORT_FORMATS
    assert (".safetensors" in EXPORT_FORMATS) == HAS_SAFETENSORS


def test_unknown_suffix(tmp_path):
    with pytest.raises(ModelFileError, match="unknown model format"):
        save_model(tmp_path / "m.pt", make_net())
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------ atomicity


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"model{suffix}"
    save_model(path, make_net())
    before = path.read_bytes()

    class Boom(RuntimeError):
        pass

    def failing_fsync(fd):
        raise Boom("disk full")

    # The temp file has been fully written when fsync runs: fail at the last moment.
    monkeypatch.setattr("bpstudio.io.atomic.os.fsync", failing_fsync)
    with pytest.raises(Boom):
        save_model(path, Network([3, 2], output="sigmoid", seed=9))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failure_midway_through_npz_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "new.npz"

    def half_then_fail(handle, **arrays):
        handle.write(b"PK\x03\x04 partial")
        raise OSError("simulated failure midway")

    monkeypatch.setattr(model_file.np, "savez", half_then_fail)
    with pytest.raises(OSError, match="midway"):
        save_model(path, make_net())
    assert list(tmp_path.iterdir()) == []


def test_atomic_json_is_strict(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"a": float("nan"), "b": np.float32(1.5), "c": (1, 2)})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": None, "b": 1.5, "c": [1, 2]}


def test_saved_file_permissions_follow_umask(tmp_path):
    path = save_model(tmp_path / "m.npz", make_net())
    assert path.stat().st_mode & 0o644 == 0o644


# ------------------------------------------------------------------------------------ rejection


def assert_one_line(err: pytest.ExceptionInfo) -> None:
    message = str(err.value)
    assert message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file") as err:
        load_model(tmp_path / "nope.npz")
    assert_one_line(err)


def test_rejects_pickle_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"W2": np.zeros((2, 2))}))
    with pytest.raises(ModelFileError, match="pickle") as err:
        load_model(path)
    assert_one_line(err)


def test_rejects_object_array_in_npz(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(
        path, metadata=np.array(json.dumps({"format": "x"})), W2=np.array([{"a": 1}], dtype=object)
    )
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    assert_one_line(err)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01garbage bytes" * 10, b"hello, world\n1,2,3\n", b'{"not": "a model"}'],
    ids=["empty", "binary", "csv", "other-json"],
)
def test_rejects_garbage(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    assert_one_line(err)


@pytest.mark.parametrize("suffix", FORMATS)
def test_rejects_truncated(tmp_path, suffix):
    path = save_model(tmp_path / f"m{suffix}", make_net())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    assert_one_line(err)


def test_rejects_npy(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ModelFileError, match="npy"):
        load_model(path)


def _meta(net: Network, **changes) -> dict:
    meta = model_file.build_metadata(net)
    meta.update(changes)
    return meta


def test_rejects_wrong_shapes(tmp_path):
    net = make_net()
    params = net.get_params()
    params["W3"] = np.zeros((5, 4))  # transposed
    path = tmp_path / "m.npz"
    np.savez(path, metadata=np.array(json.dumps(_meta(net))), **params)
    with pytest.raises(ModelFileError, match=r"W3 has shape \(5, 4\), expected \(4, 5\)") as err:
        load_model(path)
    assert_one_line(err)


def test_rejects_missing_and_extra_arrays(tmp_path):
    net = make_net()
    params = net.get_params()
    del params["b3"]
    path = tmp_path / "m.npz"
    np.savez(path, metadata=np.array(json.dumps(_meta(net))), **params)
    with pytest.raises(ModelFileError, match="b3 is missing"):
        load_model(path)
    params = net.get_params()
    params["W9"] = np.zeros((1, 1))
    np.savez(path, metadata=np.array(json.dumps(_meta(net))), **params)
    with pytest.raises(ModelFileError, match="W9"):
        load_model(path)


def test_rejects_newer_format_version(tmp_path):
    net = make_net()
    path = tmp_path / "m.npz"
    meta = _meta(net, format_version=FORMAT_VERSION + 1)
    np.savez(path, metadata=np.array(json.dumps(meta)), **net.get_params())
    with pytest.raises(ModelFileError, match="newer"):
        load_model(path)


def test_rejects_non_finite_weights(tmp_path):
    net = make_net()
    params = net.get_params()
    params["W2"][0, 0] = np.nan
    path = tmp_path / "m.npz"
    np.savez(path, metadata=np.array(json.dumps(_meta(net))), **params)
    with pytest.raises(ModelFileError, match="NaN"):
        load_model(path)


def test_rejects_bad_network_config(tmp_path):
    net = make_net()
    meta = _meta(net)
    meta["network"]["output"] = "no_such_activation"
    path = tmp_path / "m.npz"
    np.savez(path, metadata=np.array(json.dumps(meta)), **net.get_params())
    with pytest.raises(ModelFileError, match="rebuild the network") as err:
        load_model(path)
    assert_one_line(err)


def test_npz_without_metadata(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, W2=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match="without bpstudio metadata"):
        load_model(path)


def test_zip_that_is_not_npz(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ModelFileError):
        load_model(path)
