"""Hostile model files: the whole metadata checked before use, bombs and giants refused cheaply,
values that would predict garbage refused at load, temp files never left behind."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from bpstudio.io import ModelFileError, load_model
from bpstudio.io.atomic import atomic_write_bytes, clean_stale_temps
from tests.hostile import small_model


@pytest.fixture
def doc(tmp_path) -> dict:
    return json.loads(small_model(tmp_path, ".json").read_text())


def _write(tmp_path, doc, name="m.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def _set(path: str, value):
    def apply(d):
        keys = path.split(".")
        for k in keys[:-1]:
            d = d[int(k)] if isinstance(d, list) else d[k]
        last = keys[-1]
        if isinstance(d, list):
            d[int(last)] = value
        else:
            d[last] = value

    return apply


# (mutation, a fragment of the message)
CASES = {
    "classes-int": (_set("classes", 5), "metadata.classes must be a list"),
    "extra-str": (_set("extra", "text"), "metadata.extra must be an object"),
    "extra-list": (_set("extra", [1, 2]), "metadata.extra must be an object"),
    "feature-names-int": (_set("extra.feature_names", 7), "extra.feature_names must be a list"),
    "dup-classes": (
        lambda d: [
            _set("classes", ["a", "a", "b"])(d),
            _set("preprocessor.classes", ["a", "a", "b"])(d),
        ],
        "without repeats",
    ),  # fmt: skip
    "dup-categories": (_set("preprocessor.features.0.categories", ["x", "x"]), "without repeats"),
    "text-impute": (_set("preprocessor.features.0.impute", "oops"), "fill-in value is text"),
    "scale-zero": (_set("preprocessor.scale.0", 0.0), "scale[0] is 0"),
    "scale-null": (_set("preprocessor.scale.0", None), "scale[0] must be a finite number"),
    "target-scale-zero": (_set("preprocessor.target_scale", [0.0]), "target_scale[0] is 0"),
    "sizes-bool": (_set("network.sizes", [2, True, 3]), "sizes[1] must be a whole number"),
    "huge-layer": (_set("network.sizes", [2, 100_000_000, 3]), "must be a whole number"),
    "giant-net": (_set("network.sizes", [2, 9_000_000, 9_000_000, 3]), "parameters"),
    "million-layers": (_set("network.sizes", [2] + [3] * 1_000_000), "at most 1,001 items"),
    "dtype-odd": (_set("network.dtype", "float16"), "network.dtype must be one of"),
    "task-odd": (_set("preprocessor.task", "clustering"), "preprocessor.task must be one of"),
    "features-dict": (_set("preprocessor.features", {"a": 1}), "features must be a list"),
    "offset-short": (_set("preprocessor.offset", [0.0]), "offset has 1 values for 2 inputs"),
    "inputs-mismatch": (_set("network.sizes", [5, 4, 3]), "the preprocessor does not fit"),
    "deep-extra": (_set("extra", {"a": json.loads("[" * 200 + "]" * 200)}), "nested more than"),
    "version-str": (_set("format_version", "1"), "format_version must be a whole number"),
    "no-network": (lambda d: d.pop("network"), "metadata.network must be present"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_metadata_schema_refuses_with_one_line(tmp_path, doc, case):
    mutate, fragment = case
    mutate(doc)
    with pytest.raises(ModelFileError) as e:
        load_model(_write(tmp_path, doc))
    message = str(e.value)
    assert fragment in message and "\n" not in message and len(message) < 400


def test_deeply_nested_json_is_refused(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text('{"format": "bpstudio-model", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ModelFileError, match="nested too deeply"):
        load_model(p)


def test_control_characters_in_a_message_are_escaped(tmp_path, doc):
    doc["network"]["output"] = "\x1b[31mred\x1b[0m" * 10_000
    with pytest.raises(ModelFileError) as e:
        load_model(_write(tmp_path, doc))
    assert "\x1b" not in str(e.value) and len(str(e.value)) < 400


def test_float64_weights_beyond_float32_refused_for_a_float32_model(tmp_path, doc):
    doc["network"]["dtype"] = "float32"
    doc["params"]["W2"][0][0] = 1e300
    with pytest.raises(ModelFileError, match="beyond float32's range"):
        load_model(_write(tmp_path, doc))
    doc["network"]["dtype"] = "float64"
    assert load_model(_write(tmp_path, doc)).net.dtype == "float64"  # fine in float64


def test_a_fifo_model_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(fifo)
    assert time.perf_counter() - t0 < 1


def _bomb(tmp_path, inflated: int) -> os.PathLike:
    """A real model's metadata plus a W2 member declaring ``inflated`` bytes of zeros."""
    good = small_model(tmp_path, ".npz")
    with zipfile.ZipFile(good) as z:
        meta = z.read("metadata.npy")
    bomb = tmp_path / "bomb.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (inflated // 8,)}
    )
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.npy", meta)
        with z.open("W2.npy", "w", force_zip64=True) as w:
            w.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(inflated >> 20):
                w.write(zeros)
    return bomb


def test_zip_bomb_is_refused_from_its_declared_size_before_inflating(tmp_path):
    bomb = _bomb(tmp_path, 64 << 20)  # 64 MiB of zeros, ~64 KB on disk
    assert bomb.stat().st_size < 1 << 20
    code = (
        "import resource, sys; from bpstudio.io import load_model, ModelFileError\n"
        "try: load_model(sys.argv[1])\n"
        "except ModelFileError as e: print(e)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True,
                         text=True, timeout=60).stdout.splitlines()  # fmt: skip
    assert "zip bomb" in out[0] and "declares 67,108,992 bytes inflated" in out[0]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # this process, for scale
    assert int(out[1]) < 64 * 1024 + base  # KiB: never held the 64 MiB


def test_stale_temp_of_a_killed_writer_is_removed_at_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    stale = tmp_path / f".model.npz.{dead.pid}-abcd1234.tmp"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".other.csv.{os.getpid()}-efgh5678.tmp"  # a writer still running
    live.write_bytes(b"y")
    unrelated = tmp_path / ".notes.tmp"
    unrelated.write_bytes(b"z")
    atomic_write_bytes(tmp_path / "new.bin", b"data")
    assert not stale.exists() and live.exists() and unrelated.exists()
    assert (tmp_path / "new.bin").read_bytes() == b"data"
    assert clean_stale_temps(tmp_path) == []


def test_a_failed_write_leaves_no_temp_and_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    class Boom(Exception):
        pass

    def writer(handle):
        handle.write(b"half")
        raise Boom

    from bpstudio.io.atomic import atomic_write_with

    with pytest.raises(Boom):
        atomic_write_with(target, writer)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_writing_to_a_device_writes_in_place_and_names_it(tmp_path):
    with pytest.raises(OSError) as e:
        atomic_write_bytes("/dev/full", b"x" * 10)
    assert e.value.filename == "/dev/full"
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")  # not replaced
