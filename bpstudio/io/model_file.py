"""Model files: save a trained network (+ its preprocessor) and load it back, safely.

Formats, chosen by the file suffix when saving and by the file's first bytes when loading:

- ``.npz``: arrays ``W2, b2, W3, b3, …`` in the seed's shapes ``(n_l, n_{l-1})`` / ``(n_l,)``,
  C-contiguous, plus ``metadata``: a 0-d NumPy unicode array holding one JSON document.
- ``.json``: the same metadata plus ``"params": {"W2": [[…], …], …}`` as nested lists, so any
  language can read it.
- ``.safetensors``: only when the optional ``safetensors`` package is importable; the same
  arrays, with the metadata JSON in the header's ``__metadata__`` under ``"bpstudio"``.
- ``.onnx``: export only, when the optional ``onnx`` package is importable: a runnable graph
  (input scaling, ``Gemm`` per layer, activations, target unscaling) for onnxruntime, Netron,
  OpenCV DNN, …; see ``bpstudio.io.onnx_export``. ``load_model`` refuses it with a hint.
- ``.py``: export only, PyTorch code: a standalone module that rebuilds the network as a
  ``torch.nn.Module`` and reads its weights from the ``.safetensors`` file written beside it
  (so it needs the optional ``safetensors`` package); see ``bpstudio.io.pytorch_export``.

The metadata document (``FORMAT_NAME``, ``FORMAT_VERSION``; built in ``metadata.py``, shared with
``onnx_export``) holds the network config
(``Network.config()``), the parameter shapes, the preprocessor dict (``Preprocessor.to_dict()``:
feature columns, scaling, class labels in their original spelling), the class labels again for
readers that don't parse the preprocessor, and ``extra`` (the training summary).

Every write is atomic (temp file + ``os.replace``). Loading never unpickles
(``np.load(allow_pickle=False)``) and trusts nothing in the file before it is checked, in this
order: only a regular file is opened (a FIFO would block); the metadata document is validated as a
whole against :data:`METADATA_SCHEMA` (types, lengths, unique class names, finite non-zero scales,
bounded nesting) and the network's size is bounded (:data:`MAX_LAYERS`, :data:`MAX_PARAMS`)
before anything is allocated; in a ``.npz`` the declared (inflated) size of every member is
compared with what the shapes allow *before* any member is read, so a zip bomb is refused at the
cost of reading its directory; weights must be finite and, for a float32 model, within float32's
range. Every refusal is a ``ModelFileError`` with one line that quotes at most a few dozen
characters of the file, escaped. Leaves out: projects (dataset + UI state), optimiser state (a
loaded model predicts; training restarts with fresh moments).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from bpstudio.io.atomic import atomic_write_bytes, atomic_write_with
from bpstudio.io.cells import printable
from bpstudio.io.metadata import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFileError,
    build_metadata,
    param_names,
)

if TYPE_CHECKING:
    from bpstudio.data import Preprocessor
    from bpstudio.engine import Network

METADATA_KEY = "metadata"
SAFETENSORS_METADATA_KEY = "bpstudio"
#: Bounds on what a model file may declare, checked before anything is allocated.
MAX_LAYERS = 1000
MAX_UNITS = 10_000_000
MAX_PARAMS = 2**28  # 2 GiB of float64 weights
MAX_METADATA_BYTES = 64 * 2**20
MAX_NESTING = 64  # of the free-form "extra" document
_NPY_HEADER_SLACK = 64 * 1024  # an .npy member's header is ≤ a few hundred bytes
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _safetensors_available() -> bool:
    return importlib.util.find_spec("safetensors") is not None


def _onnx_available() -> bool:
    return importlib.util.find_spec("onnx") is not None


#: The optional packages behind some formats, as the user installs them.
EXPORT_EXTRA_HINT = "pip install 'bpstudio[export]'"

EXPORT_FORMATS: dict[str, str] = {
    ".npz": "NumPy archive (*.npz)",
    ".json": "JSON, readable from any language (*.json)",
}
if _safetensors_available():
    EXPORT_FORMATS[".safetensors"] = "safetensors (*.safetensors)"
if _onnx_available():
    EXPORT_FORMATS[".onnx"] = "ONNX, for onnxruntime / Netron / OpenCV, export only (*.onnx)"
#: The formats this install can't write, each saying which package it needs (for save dialogs:
#: choosing one gives the ModelFileError that says how to install it).
MISSING_EXPORT_FORMATS: dict[str, str] = {
    suffix: f"{name}: needs {EXPORT_EXTRA_HINT} (*{suffix})"
    for suffix, name in ((".safetensors", "safetensors"), (".onnx", "ONNX"))
    if suffix not in EXPORT_FORMATS
}


@dataclass
class LoadedModel:
    """What ``load_model`` returns: the network, its preprocessor (if saved) and the metadata."""

    net: Network
    preprocessor: Preprocessor | None
    metadata: dict[str, Any]
    path: str = ""
    format: str = ""
    classes: list[str] | None = field(default=None)

    @property
    def extra(self) -> dict[str, Any]:
        return self.metadata.get("extra") or {}


# --------------------------------------------------------------------------------------- saving


def _contiguous_params(net: Network) -> dict[str, np.ndarray]:
    params = net.get_params()
    # safetensors 0.8.0 writes the raw buffer of a non-contiguous array (garbage); copy to be sure.
    return {name: np.ascontiguousarray(value) for name, value in params.items()}


def _format_for_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix == ".json":
        return "json"
    if suffix == ".safetensors":
        if not _safetensors_available():
            raise ModelFileError(
                f"{path}: saving .safetensors needs the optional 'safetensors' package "
                f"({EXPORT_EXTRA_HINT}); or save as .npz or .json"
            )
        return "safetensors"
    if suffix == ".onnx":
        if not _onnx_available():
            raise ModelFileError(
                f"{path}: saving .onnx needs the optional 'onnx' package ({EXPORT_EXTRA_HINT}); "
                "or save as .npz or .json"
            )
        return "onnx"
    if suffix == ".py":
        return "pytorch"
    known = ", ".join([*EXPORT_FORMATS, ".py (PyTorch code)"])
    raise ModelFileError(f"{path}: unknown model format '{suffix or '(no suffix)'}'; use {known}")


def export_pytorch(
    path: str | os.PathLike[str],
    net: Network,
    preprocessor: Any = None,
    extra: dict | None = None,
) -> list[Path]:
    """Write ``path`` (PyTorch code, see ``pytorch_export``) and the ``.safetensors`` model file
    beside it that the code loads; returns both paths. Needs the optional ``safetensors`` package
    (to write the weights), not torch."""
    from bpstudio.io.pytorch_export import pytorch_source_for

    path = Path(path)
    weights, source = pytorch_source_for(path, net, preprocessor)
    if not _safetensors_available():
        raise ModelFileError(
            f"{path}: the PyTorch export writes its weights as .safetensors, which needs the "
            f"optional 'safetensors' package: {EXPORT_EXTRA_HINT}"
        )
    save_model(weights, net, preprocessor, extra=extra)
    atomic_write_bytes(path, source.encode("utf-8"))
    return [path, weights]


def save_model(
    path: str | os.PathLike[str],
    net: Network,
    preprocessor: Any = None,
    extra: dict | None = None,
) -> Path:
    """Save ``net`` (+ ``preprocessor`` object or dict, + ``extra`` summary) atomically.

    The format follows the suffix (see ``EXPORT_FORMATS``). Returns the path written.
    Raises ``ModelFileError`` for an unknown suffix, ``OSError`` if the folder can't be written.
    """
    path = Path(path)
    fmt = _format_for_suffix(path)
    metadata = build_metadata(net, preprocessor, extra)
    params = _contiguous_params(net)
    if fmt == "npz":

        def write(handle: IO[bytes]) -> None:
            np.savez(handle, **params, **{METADATA_KEY: np.array(json.dumps(metadata))})

        atomic_write_with(path, write)
    elif fmt == "json":
        bad = [name for name, value in params.items() if not np.all(np.isfinite(value))]
        if bad:
            raise ModelFileError(
                f"{path}: weights {', '.join(bad)} hold NaN/inf, which JSON can't store; "
                "save as .npz"
            )
        doc = dict(metadata)
        doc["params"] = {name: value.tolist() for name, value in params.items()}
        text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
        atomic_write_bytes(path, (text + "\n").encode("utf-8"))
    elif fmt == "onnx":
        from bpstudio.io.onnx_export import export_onnx

        export_onnx(path, net, preprocessor, metadata)
    elif fmt == "pytorch":
        export_pytorch(path, net, preprocessor, extra)
    else:
        from safetensors.numpy import save as st_save

        blob = st_save(
            params, metadata={"format": FORMAT_NAME, SAFETENSORS_METADATA_KEY: json.dumps(metadata)}
        )
        atomic_write_bytes(path, blob)
    return path


# -------------------------------------------------------------------------------------- loading


def _one_line(exc: BaseException) -> str:
    return shown(" ".join(str(exc).split()) or type(exc).__name__, 200)


def shown(value: Any, limit: int = 60) -> str:
    """Text from a file, safe to print: control characters escaped, at most ``limit`` chars."""
    return printable(value if isinstance(value, str) else repr(value), limit)


# ------------------------------------------------------------------------- the metadata schema
#
# A schema is a tuple: ("str",), ("int", lo, hi), ("num",) (finite), ("bool",), ("any",),
# ("null", inner) (None or inner), ("list", item, max_len, unique), ("dict", {key: (required,
# schema)}) (other keys allowed), ("enum", values), ("one_of", a, b), ("str_or_list", item schema).

_NAME = ("str",)
_NAMES = ("list", _NAME, MAX_UNITS, True)
_NUMS = ("list", ("num",), MAX_UNITS, False)
_FEATURE = (
    "dict",
    {
        "name": (True, _NAME),
        "kind": (True, ("enum", ("numeric", "categorical"))),
        "impute": (False, ("null", ("one_of", ("num",), ("str",)))),
        "categories": (False, _NAMES),
    },
)
PREPROCESSOR_SCHEMA = (
    "dict",
    {
        "format": (True, ("str",)),
        "version": (True, ("int", 0, 1000)),
        "task": (True, ("enum", ("classification", "regression"))),
        "missing": (False, ("enum", ("drop", "impute"))),
        "features": (True, ("list", _FEATURE, MAX_UNITS, False)),
        "feature_names": (False, _NAMES),
        "target_names": (True, ("list", _NAME, 10_000, True)),
        "classes": (False, ("null", ("list", _NAME, 100_000, True))),
        "scaling": (False, ("enum", ("standardize", "minmax", "none"))),
        "offset": (True, _NUMS),
        "scale": (True, _NUMS),
        "target_offset": (True, _NUMS),
        "target_scale": (True, _NUMS),
    },
)
NETWORK_SCHEMA = (
    "dict",
    {
        "sizes": (True, ("list", ("int", 1, MAX_UNITS), MAX_LAYERS + 1, False)),
        "activations": (False, ("str_or_list", ("str",))),
        "activation": (False, ("str_or_list", ("str",))),
        "output": (False, ("str",)),
        "loss": (False, ("str",)),
        "init": (False, ("str",)),
        "seed": (False, ("null", ("int", -(2**63), 2**64))),
        "dtype": (False, ("enum", ("float32", "float64"))),
    },
)
_MAYBE_NUM = ("null", ("num",))
#: The training summary is free-form; the keys readers use must have the right type.
EXTRA_SCHEMA = (
    "dict",
    {
        "feature_names": (False, ("null", ("list", ("any",), MAX_UNITS, False))),
        "target_names": (False, ("null", ("list", ("any",), MAX_UNITS, False))),
        "classes": (False, ("null", ("list", ("any",), MAX_UNITS, False))),
        "train_loss": (False, _MAYBE_NUM),
        "val_loss": (False, _MAYBE_NUM),
        "train_accuracy": (False, _MAYBE_NUM),
        "val_accuracy": (False, _MAYBE_NUM),
        "train_rmse": (False, ("null", ("list", _MAYBE_NUM, MAX_UNITS, False))),
        "val_rmse": (False, ("null", ("list", _MAYBE_NUM, MAX_UNITS, False))),
        "epochs": (False, ("null", ("int", 0, 2**62))),
    },
)
METADATA_SCHEMA = (
    "dict",
    {
        "format": (True, ("enum", (FORMAT_NAME,))),
        "format_version": (True, ("int", 1, 10**6)),
        "bpstudio_version": (False, ("null", ("str",))),
        "network": (True, NETWORK_SCHEMA),
        "param_shapes": (False, ("null", ("dict", {}))),
        "preprocessor": (False, ("null", PREPROCESSOR_SCHEMA)),
        "classes": (False, ("null", ("list", _NAME, 100_000, True))),
        "extra": (False, ("null", EXTRA_SCHEMA)),
    },
)


class _Said(str):
    """Text the checker wrote itself ("1,000,001"), shown as is; file content goes via shown()."""


class _SchemaError(Exception):
    def __init__(self, where: str, what: str, value: Any) -> None:
        super().__init__(where)
        self.where, self.what, self.value = where, what, value


def _check(value: Any, schema: tuple, where: str) -> None:
    kind = schema[0]
    if kind == "any":
        return
    if kind == "null":
        if value is not None:
            _check(value, schema[1], where)
        return
    if kind == "str":
        if not isinstance(value, str):
            raise _SchemaError(where, "text", value)
        return
    if kind == "bool":
        if not isinstance(value, bool):
            raise _SchemaError(where, "true or false", value)
        return
    if kind == "int":
        lo, hi = schema[1], schema[2]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _SchemaError(where, f"a whole number from {lo:,} to {hi:,}", value)
        return
    if kind == "num":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(float(value)):
            raise _SchemaError(where, "a finite number", value)
        return
    if kind == "enum":
        if not isinstance(value, str) or value not in schema[1]:
            raise _SchemaError(where, "one of " + ", ".join(schema[1]), value)
        return
    if kind == "one_of":
        try:
            _check(value, schema[1], where)
        except _SchemaError:
            _check(value, schema[2], where)
        return
    if kind == "str_or_list":
        if isinstance(value, str):
            return
        _check(value, ("list", schema[1], MAX_LAYERS, False), where)
        return
    if kind == "list":
        item, max_len, unique = schema[1], schema[2], schema[3]
        if not isinstance(value, list):
            raise _SchemaError(where, "a list", value)
        if len(value) > max_len:
            raise _SchemaError(
                where, f"a list of at most {max_len:,} items", _Said(f"{len(value):,}")
            )
        for i, v in enumerate(value):
            _check(v, item, f"{where}[{i}]")
        if unique and len(set(value)) < len(value):
            seen: set = set()
            dup = next(v for v in value if v in seen or seen.add(v))
            raise _SchemaError(where, "a list without repeats", _Said(f"{shown(dup)} twice"))
        return
    if kind == "dict":
        if not isinstance(value, dict):
            raise _SchemaError(where, "an object", value)
        for key, (required, sub) in schema[1].items():
            if key not in value:
                if required:
                    raise _SchemaError(f"{where}.{key}", "present", _Said("nothing"))
                continue
            _check(value[key], sub, f"{where}.{key}")
        return
    raise AssertionError(kind)


def _nesting(value: Any, limit: int) -> int:
    """Depth of nested lists/dicts, counted without recursion and stopped past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((c, depth + 1) for c in (v.values() if isinstance(v, dict) else v))
    return deepest


def validate_metadata(path: Path | str, meta: Any) -> dict[str, Any]:
    """Check the whole metadata document; returns the network config or raises ModelFileError."""
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    if meta.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{path}: not a bpstudio model (format is {shown(meta.get('format'))})"
        )
    version = meta.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by a newer Backprop Studio (model format {version}; this version "
            f"reads up to {FORMAT_VERSION}); update bpstudio"
        )
    try:
        _check(meta, METADATA_SCHEMA, "metadata")
    except _SchemaError as exc:
        got = exc.value if isinstance(exc.value, _Said) else shown(exc.value)
        raise ModelFileError(
            f"{path}: {shown(exc.where, 80)} must be {exc.what}, not {got}; the file is damaged "
            "or not a bpstudio model"
        ) from None
    if _nesting(meta.get("extra"), MAX_NESTING) > MAX_NESTING:
        raise ModelFileError(f"{path}: metadata.extra is nested more than {MAX_NESTING} deep")
    config = meta["network"]
    sizes = config["sizes"]
    if len(sizes) < 2:
        raise ModelFileError(f"{path}: the network needs at least 2 layers, not {len(sizes)}")
    if len(sizes) - 1 > MAX_LAYERS:
        raise ModelFileError(f"{path}: {len(sizes):,} layers, more than {MAX_LAYERS:,}")
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    if n_params > MAX_PARAMS:
        raise ModelFileError(
            f"{path}: the network declares {n_params:,} parameters ({n_params * 8 / 2**30:,.1f} "
            f"GiB as float64), more than the {MAX_PARAMS:,} bpstudio loads"
        )
    pre = meta.get("preprocessor")
    if pre is not None:
        _check_preprocessor_fits(path, pre, sizes)
    return config


def _check_preprocessor_fits(path: Path | str, pre: dict, sizes: list[int]) -> None:
    """The preprocessor's widths and scales against the network's input and output layers."""
    n_in = sum(
        1 if f["kind"] == "numeric" else len(f.get("categories") or []) for f in pre["features"]
    )
    problems = []
    if n_in != sizes[0]:
        problems.append(f"its features make {n_in} inputs but the network has {sizes[0]}")
    for key in ("offset", "scale"):
        if len(pre[key]) != n_in:
            problems.append(f"{key} has {len(pre[key])} values for {n_in} inputs")
    n_t = len(pre["target_names"])
    for key in ("target_offset", "target_scale"):
        if len(pre[key]) != n_t:
            problems.append(f"{key} has {len(pre[key])} values for {n_t} targets")
    for key in ("scale", "target_scale"):
        zero = [i for i, v in enumerate(pre[key]) if v == 0]
        if zero:
            problems.append(f"{key}[{zero[0]}] is 0 (every input would divide by zero)")
    classes = pre.get("classes")
    if pre["task"] == "classification":
        if not classes or len(classes) < 2:
            problems.append("a classifier needs at least 2 classes")
        elif sizes[-1] not in (len(classes), 1 if len(classes) == 2 else len(classes)):
            problems.append(f"{len(classes)} classes but {sizes[-1]} output units")
        if n_t != 1:
            problems.append(f"a classifier has 1 target, not {n_t}")
    elif sizes[-1] != n_t:
        problems.append(f"{n_t} targets but {sizes[-1]} output units")
    for i, f in enumerate(pre["features"]):
        imp = f.get("impute")
        if f["kind"] == "numeric" and isinstance(imp, str):
            problems.append(f"feature {i} is numeric but its fill-in value is text")
        if f["kind"] == "categorical" and imp is not None and not isinstance(imp, str):
            problems.append(f"feature {i} is categorical but its fill-in value is a number")
        if f["kind"] == "categorical" and not f.get("categories"):
            problems.append(f"feature {i} is categorical with no categories")
    if problems:
        raise ModelFileError(
            f"{path}: the preprocessor does not fit the network: {shown(problems[0], 120)}; "
            "re-export the model"
        )


def _check_regular(path: Path) -> int:
    """The file's size; refuses folders and non-regular files (a FIFO would block forever)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: can't read ({_one_line(exc)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelFileError(f"{path}: is a folder, not a model file")
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(
            f"{path}: is not a regular file (a pipe, device or socket); save the model to a file"
        )
    return info.st_size


def _sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(64)
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError(f"{path}: the file is empty, not a bpstudio model")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "npz"
    if head.startswith(b"\x93NUMPY"):
        raise ModelFileError(f"{path}: a single NumPy array (.npy), not a bpstudio model (.npz)")
    # safetensors: u64 little-endian header length, then the JSON header.
    if len(head) >= 9 and head[8:9] == b"{":
        (header_len,) = struct.unpack("<Q", head[:8])
        if 8 + header_len <= size:
            return "safetensors"
    if head[:1] == b"\x80" or head.startswith((b"(dp", b"(lp", b"cnumpy")):
        raise ModelFileError(f"{path}: pickled data; bpstudio never unpickles model files")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "json"
    raise ModelFileError(
        f"{path}: not a bpstudio model file (expected .npz, .json"
        + (" or .safetensors)" if _safetensors_available() else ")")
    )


def _check_npy_header(path: Path, zf: zipfile.ZipFile, member: str, shape: tuple) -> None:
    """Read only the .npy header of ``member``: a numeric dtype and the network's shape, so that
    no array of some other (possibly enormous) shape is ever allocated."""
    name = member.removesuffix(".npy")
    with zf.open(member) as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                got, _, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                got, _, dtype = np.lib.format.read_array_header_2_0(handle)
        except (ValueError, SyntaxError, OSError, EOFError, TypeError):
            raise ModelFileError(f"{path}: member {shown(member)} is not a NumPy array") from None
    if dtype.kind not in "fiu" or dtype.hasobject:
        raise ModelFileError(f"{path}: array {name} has dtype {shown(str(dtype))}, not numbers")
    if tuple(got) != tuple(shape):
        raise ModelFileError(
            f"{path}: array {name} has shape {shown(tuple(got))}, expected {tuple(shape)}"
        )


def _check_npz_members(path: Path, infos: list[zipfile.ZipInfo], sizes: list[int]) -> None:
    """Every member's declared (inflated) size against the largest its shape allows."""
    expected = {f"{name}.npy": math.prod(shape) for name, shape in param_names(sizes)}
    for info in infos:
        if info.filename == f"{METADATA_KEY}.npy":
            continue
        n = expected.get(info.filename)
        if n is None:
            raise ModelFileError(
                f"{path}: member {shown(info.filename)} doesn't belong to a "
                f"{shown('-'.join(map(str, sizes)))} network"
            )
        limit = n * 16 + _NPY_HEADER_SLACK  # ≤ 16 bytes a number (complex128 is refused later)
        if info.file_size > limit:
            raise ModelFileError(
                f"{path}: member {shown(info.filename)} declares {info.file_size:,} bytes "
                f"inflated, but its shape allows at most {limit:,}; the file is damaged or a "
                "zip bomb"
            )


def _read_npz(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > 2 * MAX_LAYERS + 1:
                raise ModelFileError(f"{path}: {len(infos):,} members, too many for a model")
            by_name = {info.filename: info for info in infos}
            meta_info = by_name.get(f"{METADATA_KEY}.npy")
            if meta_info is None:
                raise ModelFileError(f"{path}: a .npz archive without bpstudio metadata")
            if meta_info.file_size > MAX_METADATA_BYTES:
                raise ModelFileError(
                    f"{path}: the metadata declares {meta_info.file_size:,} bytes inflated, more "
                    f"than {MAX_METADATA_BYTES:,}; the file is damaged or a zip bomb"
                )
        with np.load(path, allow_pickle=False) as archive:
            meta_array = archive[METADATA_KEY]
            if meta_array.dtype.kind != "U" or meta_array.size != 1:
                raise ModelFileError(f"{path}: the 'metadata' entry is not a JSON string")
            meta = _parse_metadata_text(path, str(meta_array.reshape(()).item()))
            config = validate_metadata(path, meta)
            _check_npz_members(path, infos, config["sizes"])
            shapes = dict(param_names(config["sizes"]))
            with zipfile.ZipFile(path) as zf:
                for name in archive.files:
                    if name != METADATA_KEY:
                        _check_npy_header(path, zf, f"{name}.npy", shapes[name])
            names = [name for name in archive.files if name != METADATA_KEY]
            arrays = {name: archive[name] for name in names}
            bad = [name for name, a in arrays.items() if not isinstance(a, np.ndarray)]
            if bad:
                raise ModelFileError(f"{path}: member {shown(bad[0])} is not a NumPy array")
    except ModelFileError:
        raise
    except Exception as exc:  # zipfile/zlib/numpy errors on damaged files: report, don't crash
        raise ModelFileError(f"{path}: damaged or not a model archive ({_one_line(exc)})") from None
    return meta, arrays


def _parse_metadata_text(path: Path, text: str) -> dict[str, Any]:
    if len(text) > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: metadata of {len(text):,} characters is too large")
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"{path}: metadata is not valid JSON ({_one_line(exc)})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: metadata is nested too deeply to be a model") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    return meta


def _read_json(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    size = path.stat().st_size
    # Bounded by the largest network a model may declare (≤ ~25 characters a number in JSON).
    if size > MAX_METADATA_BYTES + MAX_PARAMS * 25:
        raise ModelFileError(f"{path}: {size:,} bytes, too large for a bpstudio JSON model")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not UTF-8 text, so not a bpstudio JSON model") from None
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"{path}: not valid JSON ({_one_line(exc)})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: JSON nested too deeply to be a model") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: a JSON file, but not a bpstudio model")
    raw = meta.pop("params", None)
    if not isinstance(raw, dict):
        if meta.get("format") == FORMAT_NAME:
            raise ModelFileError(f"{path}: the JSON model has no 'params' object")
        raise ModelFileError(f"{path}: a JSON file, but not a bpstudio model")
    config = validate_metadata(path, meta)
    expected = dict(param_names(config["sizes"]))
    arrays: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name not in expected:
            raise ModelFileError(
                f"{path}: parameter {shown(name)} doesn't belong to a "
                f"{shown('-'.join(map(str, config['sizes'])))} network"
            )
        shape = expected[name]
        if _nesting(value, len(shape)) != len(shape):
            raise ModelFileError(f"{path}: parameter {name} is not a {len(shape)}-d array")
        try:
            arrays[name] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise ModelFileError(f"{path}: parameter {name} is not a numeric array") from None
    return meta, arrays


def _read_safetensors(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not _safetensors_available():
        raise ModelFileError(
            f"{path}: reading .safetensors needs the optional 'safetensors' package "
            f"({EXPORT_EXTRA_HINT})"
        )
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as handle:
            header = handle.metadata() or {}
            text = header.get(SAFETENSORS_METADATA_KEY)
            if text is not None:  # shapes against the metadata before reading a tensor
                meta = _parse_metadata_text(path, text)
                expected = dict(param_names(validate_metadata(path, meta)["sizes"]))
                for name in handle.keys():  # noqa: SIM118
                    shape = tuple(handle.get_slice(name).get_shape())
                    if expected.get(name) != shape:
                        raise ModelFileError(
                            f"{path}: tensor {shown(name)} has shape {shown(shape)}, not the "
                            f"{shown(expected.get(name))} the network needs"
                        )
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except ModelFileError:
        raise
    except Exception as exc:  # safetensors raises its own error type for damaged headers
        raise ModelFileError(f"{path}: damaged safetensors file ({_one_line(exc)})") from None
    text = header.get(SAFETENSORS_METADATA_KEY)
    if text is None:
        raise ModelFileError(f"{path}: a safetensors file without bpstudio metadata")
    meta = _parse_metadata_text(path, text)
    validate_metadata(path, meta)
    return meta, arrays


def _check_arrays(
    path: Path, sizes: list[int], arrays: dict[str, np.ndarray], dtype: str | None
) -> dict[str, np.ndarray]:
    expected = param_names(sizes)
    expected_names = {name for name, _ in expected}
    extra = sorted(set(arrays) - expected_names)
    net_name = shown("-".join(map(str, sizes)))
    if extra:
        raise ModelFileError(
            f"{path}: arrays {shown(', '.join(extra))} don't belong to a {net_name} network"
        )
    params: dict[str, np.ndarray] = {}
    for name, shape in expected:
        if name not in arrays:
            raise ModelFileError(f"{path}: array {name} is missing")
        value = arrays[name]
        if value.dtype.kind not in "fiu":
            raise ModelFileError(f"{path}: array {name} has dtype {value.dtype}, not numbers")
        if value.shape != shape:
            raise ModelFileError(
                f"{path}: array {name} has shape {shown(value.shape)}, expected {shape} "
                f"for a {net_name} network"
            )
        if value.dtype.kind == "f" and value.dtype.itemsize > 8:
            raise ModelFileError(f"{path}: array {name} has dtype {value.dtype}, not float64")
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
            if dtype == "float32" and value.size:
                peak = float(np.max(np.abs(value)))
                if peak > _FLOAT32_MAX:
                    raise ModelFileError(
                        f"{path}: array {name} holds values up to {peak:.3g}, beyond float32's "
                        f"range ({_FLOAT32_MAX:.3g}) the model is stored in; re-export it as "
                        "float64"
                    )
        params[name] = np.ascontiguousarray(value, dtype=dtype or np.float64)
    return params


def load_model(path: str | os.PathLike[str]) -> LoadedModel:
    """Read a model file written by ``save_model``; raises ``ModelFileError`` (one line) if bad."""
    path = Path(path)
    _check_regular(path)
    if path.suffix.lower() == ".onnx":
        raise ModelFileError(
            f"{path}: ONNX files are export-only; load the .npz/.json/.safetensors file "
            "it was exported from"
        )
    try:
        fmt = _sniff(path)
    except OSError as exc:
        raise ModelFileError(f"{path}: can't read ({_one_line(exc)})") from None
    reader = {"npz": _read_npz, "json": _read_json, "safetensors": _read_safetensors}[fmt]
    try:
        meta, arrays = reader(path)
    except OSError as exc:
        raise ModelFileError(f"{path}: can't read ({_one_line(exc)})") from None
    config = validate_metadata(path, meta)
    dtype = config.get("dtype") if config.get("dtype") in ("float32", "float64") else None
    params = _check_arrays(path, list(config["sizes"]), arrays, dtype)

    from bpstudio.engine import Network

    try:
        net = Network.from_config(config, params)
    except Exception as exc:  # EngineError (bad activation name, …) or a malformed config
        raise ModelFileError(f"{path}: can't rebuild the network ({_one_line(exc)})") from None

    preprocessor = None
    pre_dict = meta.get("preprocessor")
    if pre_dict is not None:
        from bpstudio.data import Preprocessor

        try:
            preprocessor = Preprocessor.from_dict(pre_dict)
        except Exception as exc:  # DataError/KeyError on a malformed dict
            raise ModelFileError(
                f"{path}: can't rebuild the preprocessor ({_one_line(exc)})"
            ) from None
    classes = meta.get("classes")
    if classes is None and preprocessor is not None:
        classes = getattr(preprocessor, "classes", None)
    return LoadedModel(
        net=net,
        preprocessor=preprocessor,
        metadata=meta,
        path=str(path),
        format=fmt,
        classes=list(classes) if classes is not None else None,
    )
