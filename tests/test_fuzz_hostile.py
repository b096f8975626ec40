"""Fuzzing the three ways in: CSV bytes, model files and CLI arguments. Nothing may escape but a
``BPStudioError`` (the CLI turns it into exit 2 and one line); any other exception is a bug and
fails the test. Bounded: ``max_examples`` per test, no deadline, no example database.

Examples per run: CSV 250 + 200, model bytes 300, npz members 30 (every member × action),
model JSON 500, CLI 300: 1,580 in all, ~15 s on one core. ``BPSTUDIO_FUZZ_SCALE=10`` multiplies
them for a longer campaign by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpstudio.data import load_table, prepare
from bpstudio.errors import BPStudioError
from bpstudio.io import load_model
from tests.hostile import flowers_csv, run_inprocess, small_model

FUZZ = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))
SCALE = max(1, int(os.environ.get("BPSTUDIO_FUZZ_SCALE", "1")))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-base")
    small_model(folder, ".npz")
    small_model(folder, ".json")
    return folder


def _check_cli(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and re.match(r"bpstudio( \w+)?: error: ", lines[0]), err
        assert "\x1b" not in err and len(lines[0]) < 600
    assert "Traceback" not in err and "Warning" not in err


class _Scratch:
    """A throw-away folder per example (hypothesis can't use function-scoped fixtures)."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="bpstudio-fuzz-"))
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# --- CSV bytes --------------------------------------------------------------------------------

HOSTILE_CELLS = st.one_of(
    st.sampled_from([
        "", "NA", "?", "1", "-1", "0", "2.5", '"1,234"', '"12,345.5"', "1,5", str(10**400),
        str(-(10**30) - 7), "1e308", "-1e308", "1e-320", "inf", "nan", "=SUM(A1)", "@x", "+1",
        "a", "b", '"', '""', "\x1b[31m", "\x00", "é", " ", "1e30", "True", "x" * 300,
    ]),
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)  # fmt: skip


def _train_and_predict(csv: Path, folder: Path, model: Path) -> None:
    code, out, err = run_inprocess("train", csv, "--epochs", "1", "--hidden", "3", "-q",
                                   "--val-split", "0.25", "--export", folder / "m.npz")  # fmt: skip
    _check_cli(code, out, err)
    code, out, err = run_inprocess("predict", model, csv, "--out", folder / "p.csv")
    _check_cli(code, out, err)


@settings(max_examples=250 * SCALE, **FUZZ)
@given(
    header=st.lists(HOSTILE_CELLS, min_size=1, max_size=5),
    rows=st.lists(st.lists(HOSTILE_CELLS, min_size=1, max_size=6), max_size=25),
    sep=st.sampled_from([",", ";", "\t", "|"]),
)
def test_fuzz_csv_through_the_cli(base, header, rows, sep):
    with _Scratch() as folder:
        csv = folder / "in.csv"
        text = "\n".join(sep.join(r) for r in [header, *rows]) + "\n"
        csv.write_bytes(text.encode("utf-8", "surrogatepass"))
        _train_and_predict(csv, folder, base / "model.npz")


@settings(max_examples=200 * SCALE, **FUZZ)
@given(st.binary(max_size=3000), st.integers(0, 3))
def test_fuzz_csv_bytes_load_and_prepare(data, prefix):
    heads = [b"", b"a,b,y\n", b"\xef\xbb\xbfx;y\n", b"sep=|\nx|y\n"]
    with _Scratch() as folder:
        csv = folder / "in.csv"
        csv.write_bytes(heads[prefix] + data)
        try:
            prepare(load_table(csv))
        except BPStudioError as exc:
            assert "\n" not in str(exc)


# --- model files ----------------------------------------------------------------------------


def _load_and_use(path: Path, folder: Path) -> None:
    try:
        model = load_model(path)
    except BPStudioError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
        return
    # A file that loads must be usable: info and predict give a result or one line.
    flowers = flowers_csv(folder / "flowers.csv", rows_per_class=3)
    for argv in (["info", path], ["predict", path, flowers, "--out", folder / "p.csv"]):
        _check_cli(*run_inprocess(*argv))
    assert np.all(np.isfinite(model.net.get_params()["W2"]))


@settings(max_examples=300 * SCALE, **FUZZ)
@given(
    which=st.sampled_from(["model.npz", "model.json"]),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=6),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_fuzz_model_bytes_flips_and_truncation(base, which, flips, cut):
    data = bytearray((base / which).read_bytes())
    for where, xor in flips:
        data[int(where * len(data))] ^= xor
    if cut is not None:
        data = data[: int(cut * len(data))]
    with _Scratch() as folder:
        path = folder / which
        path.write_bytes(bytes(data))
        _load_and_use(path, folder)


@settings(max_examples=60 * SCALE, **FUZZ)
@given(
    member=st.sampled_from(["metadata.npy", "W2.npy", "b2.npy", "W3.npy", "b3.npy"]),
    action=st.sampled_from(["drop", "swap", "garbage", "huge-shape", "object", "dup"]),
)
def test_fuzz_npz_members(base, member, action):
    with zipfile.ZipFile(base / "model.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    if action == "drop":
        members.pop(member)
    elif action == "swap":
        other = "b2.npy" if member != "b2.npy" else "W2.npy"
        members[member], members[other] = members[other], members[member]
    elif action == "garbage":
        members[member] = os.urandom(64)
    elif action == "huge-shape":
        members[member] = (
            b"\x93NUMPY\x01\x00v\x00"
            + (b"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999,), }").ljust(117)
            + b"\n"
        )
    elif action == "object":
        members[member] = (
            b"\x93NUMPY\x01\x00v\x00"
            + (b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }").ljust(117)
            + b"\n"
            + b"\x80\x04N."
        )
    else:
        members["extra_" + member] = members[member]
    with _Scratch() as folder:
        path = folder / "m.npz"
        with zipfile.ZipFile(path, "w") as z:
            for name, blob in members.items():
                z.writestr(name, blob)
        _load_and_use(path, folder)


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
        st.sampled_from(["float32", "float64", "softmax", "relu", "numeric", "categorical",
                         "classification", "regression", "\x1b[2J", "=cmd()", ""]),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


def _paths(doc, prefix=()):
    """Every (path) to a value in a JSON document, params excluded (they are big)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k != "params":
                yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:4]):
            yield from _paths(v, (*prefix, i))


@settings(max_examples=500 * SCALE, **FUZZ)
@given(data=st.data())
def test_fuzz_model_metadata_json_aware(base, data):
    doc = json.loads((base / "model.json").read_text())
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        how = data.draw(st.sampled_from(["set", "delete", "wrap", "grow", "numeric"]))
        key = path[-1]
        try:
            if how == "set":
                parent[key] = data.draw(JSON_VALUES)
            elif how == "delete":
                del parent[key]
            elif how == "wrap":
                parent[key] = [parent[key]]
            elif how == "grow" and isinstance(parent[key], list):
                parent[key] = parent[key] + parent[key][:1] * data.draw(st.integers(1, 3))
            elif how == "numeric":
                parent[key] = data.draw(st.sampled_from([0, -1, 1e308, 2**63, 10**6, 0.5]))
        except (KeyError, IndexError, TypeError):
            continue
    with _Scratch() as folder:
        path = folder / "m.json"
        path.write_text(json.dumps(doc))
        _load_and_use(path, folder)


# --- CLI arguments -----------------------------------------------------------------------------

ARG_VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "1e308", "-1e308", "nan", "inf", "1e-320", "3.5",
                     "100000000", "99999999999999999999", "", "none", "a,b", "2,,3", "relu,tanh",
                     "softmax", "sigmoid", "mse", "cross_entropy", "float16", "x" * 200,
                     "\x1b[31m", "builtin:xor", "builtin:nope"]),
    st.integers(-5, 50).map(str),
    st.text(max_size=6),
)  # fmt: skip
# --epochs stays 1 (a fuzzed 10^8 epochs is a correct, endless run, not a bug to find here).
TRAIN_OPTIONS = ["--hidden", "--activation", "--output", "--loss", "--init", "--optimizer", "--lr",
                 "--momentum", "--schedule", "--batch-size", "--seed", "--val-split",
                 "--patience", "--weight-decay", "--scaling", "--missing", "--dtype", "--samples",
                 "--noise", "--target", "--drop", "--categorical", "--task"]  # fmt: skip


@settings(max_examples=300 * SCALE, **FUZZ)
@given(
    command=st.sampled_from(["train", "predict", "info", "export", "gradcheck"]),
    options=st.lists(st.tuples(st.sampled_from(TRAIN_OPTIONS), ARG_VALUES), max_size=4),
    data=st.sampled_from(["builtin:xor", "builtin:sine", "flowers", "nope.csv", "model"]),
)
def test_fuzz_cli_arguments(base, command, options, data):
    with _Scratch() as folder:
        flowers = flowers_csv(folder / "flowers.csv", rows_per_class=5)
        files = {"flowers": flowers, "nope.csv": folder / "nope.csv", "model": base / "model.npz"}
        target = files.get(data, data)
        argv: list[object] = [command]
        if command == "train":
            argv += [target, "--epochs", "1", "--samples", "40", "-q"]
        elif command == "predict":
            argv += [base / "model.npz", target, "--out", folder / "p.csv"]
        elif command in ("info", "export"):
            argv += [target] + ([folder / "out.json"] if command == "export" else [])
        for flag, value in options:
            if command == "gradcheck" and flag not in ("--activation", "--output", "--loss"):
                flag = "--sizes" if flag == "--hidden" else "--samples"
            argv += [flag, value]
        if command == "train" and "--hidden" not in [f for f, _ in options]:
            argv += ["--hidden", "4"]  # keep each example fast
        _check_cli(*run_inprocess(*argv))
