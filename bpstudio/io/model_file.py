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
(``np.load(allow_pickle=False)``), checks every array against the metadata and raises
``ModelFileError`` with a one-line message for anything wrong. Leaves out: projects (dataset +
UI state), optimiser state (a loaded model predicts; training restarts with fresh moments).
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from bpstudio.io.atomic import atomic_write_bytes, atomic_write_with
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
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."


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


def _read_npz(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if METADATA_KEY not in names:
                raise ModelFileError(f"{path}: a .npz archive without bpstudio metadata")
            meta_array = archive[METADATA_KEY]
            if meta_array.dtype.kind != "U" or meta_array.size != 1:
                raise ModelFileError(f"{path}: the 'metadata' entry is not a JSON string")
            meta_text = str(meta_array.reshape(()).item())
            arrays = {name: archive[name] for name in names if name != METADATA_KEY}
    except ModelFileError:
        raise
    except Exception as exc:  # zipfile/zlib/numpy errors on damaged files: report, don't crash
        raise ModelFileError(f"{path}: damaged or not a model archive ({_one_line(exc)})") from None
    return _parse_metadata_text(path, meta_text), arrays


def _parse_metadata_text(path: Path, text: str) -> dict[str, Any]:
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"{path}: metadata is not valid JSON ({_one_line(exc)})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    return meta


def _read_json(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not UTF-8 text, so not a bpstudio JSON model") from None
    meta = _parse_metadata_text(path, text)
    raw = meta.pop("params", None)
    if not isinstance(raw, dict):
        if meta.get("format") == FORMAT_NAME:
            raise ModelFileError(f"{path}: the JSON model has no 'params' object")
        raise ModelFileError(f"{path}: a JSON file, but not a bpstudio model")
    arrays: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        try:
            arrays[str(name)] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelFileError(f"{path}: parameter '{name}' is not a numeric array") from None
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
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error type for damaged headers
        raise ModelFileError(f"{path}: damaged safetensors file ({_one_line(exc)})") from None
    text = header.get(SAFETENSORS_METADATA_KEY)
    if text is None:
        raise ModelFileError(f"{path}: a safetensors file without bpstudio metadata")
    return _parse_metadata_text(path, text), arrays


def _check_metadata(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    if meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a bpstudio model (format is {meta.get('format')!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: bad format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by a newer Backprop Studio (model format {version}; this version "
            f"reads up to {FORMAT_VERSION}); update bpstudio"
        )
    config = meta.get("network")
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: metadata has no network config")
    sizes = config.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise ModelFileError(f"{path}: bad layer sizes in metadata: {sizes!r}")
    return config


def _check_arrays(
    path: Path, sizes: list[int], arrays: dict[str, np.ndarray], dtype: str | None
) -> dict[str, np.ndarray]:
    expected = param_names(sizes)
    expected_names = {name for name, _ in expected}
    extra = sorted(set(arrays) - expected_names)
    if extra:
        raise ModelFileError(
            f"{path}: arrays {', '.join(extra)} don't belong to a {'-'.join(map(str, sizes))} "
            "network"
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
                f"{path}: array {name} has shape {value.shape}, expected {shape} "
                f"for a {'-'.join(map(str, sizes))} network"
            )
        if not np.all(np.isfinite(value)):
            raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
        params[name] = np.ascontiguousarray(value, dtype=dtype or np.float64)
    return params


def load_model(path: str | os.PathLike[str]) -> LoadedModel:
    """Read a model file written by ``save_model``; raises ``ModelFileError`` (one line) if bad."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
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
    config = _check_metadata(path, meta)
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
