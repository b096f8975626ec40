"""Built-in datasets: each one generates, is deterministic per seed and validates its arguments."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bpstudio.data import (
    BUILTIN_DATASETS,
    DataError,
    describe_builtins,
    list_builtins,
    load_table,
    make_builtin,
)

NAMES = ["xor", "circles", "moons", "spirals", "blobs", "checkerboard", "sine", "plane",
         "gaussian_bump"]  # fmt: skip


def test_all_names_present():
    assert list(BUILTIN_DATASETS) == NAMES
    assert [s.name for s in list_builtins()] == NAMES
    lines = describe_builtins().splitlines()
    assert len(lines) == len(NAMES) and lines[0].startswith("xor")


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_per_seed_and_shaped(name):
    spec = BUILTIN_DATASETS[name]
    a = make_builtin(name, seed=7)
    b = load_table(f"builtin:{name}", seed=7)
    c = make_builtin(name, seed=8)
    assert a.frame.equals(b.frame)
    assert not a.frame.equals(c.frame)
    assert len(a.frame) == spec.n_samples
    features = ["x"] if name == "sine" else ["x1", "x2"]
    target = "label" if spec.task == "classification" else "y"
    assert list(a.frame.columns) == features + [target]
    assert a.default_target == [target]
    assert a.source == f"builtin:{name}"
    assert np.isfinite(a.frame[features].to_numpy()).all()


def test_sizes_noise_and_extras():
    t = make_builtin("blobs", n_samples=50, noise=0.0, k=5, seed=1)
    assert len(t.frame) == 50 and sorted(t.frame["label"].unique()) == list("ABCDE")
    assert len(make_builtin("checkerboard", cells=2).frame) == 800
    clean = make_builtin("sine", noise=0.0).frame
    np.testing.assert_allclose(clean["y"], np.sin(clean["x"]))


def test_classes_balanced():
    t = make_builtin("spirals", n_samples=101)
    counts = t.frame["label"].value_counts()
    assert abs(counts["A"] - counts["B"]) <= 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="nope"), "no such built-in dataset; choose one of xor, circles"),
        (dict(name="xor", n_samples=1), "n_samples=1; choose a whole number from 2"),
        (dict(name="xor", noise=-1), "noise=-1"),
        (dict(name="xor", k=3), "unknown parameter 'k'"),
        (dict(name="blobs", k=1), "k=1 is not a whole number from 2 to 26"),
    ],
)
def test_bad_arguments(kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(DataError, match=message):
        make_builtin(name, **kwargs)


def test_builtin_params_with_a_path_are_refused():
    with pytest.raises(DataError, match="only apply to built-in datasets"):
        load_table("some.csv", n_samples=10)


def test_data_package_imports_no_qt_and_no_sklearn():
    code = (
        "import sys, bpstudio.data as d; d.prepare(d.load_table('builtin:xor')); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'sklearn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
