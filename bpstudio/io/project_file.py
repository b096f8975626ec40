"""Project files (``.bpstudio``), the low level: one zip of ``project.json`` plus ``.npy`` arrays.

``write_project(path, document, arrays, blobs)`` writes, atomically (``atomic.py``):

- ``project.json``: ``{"format": "bpstudio-project", "schema_version": N, "bpstudio_version": …,
  "arrays": {name: {"member", "dtype", "shape"}}, "blobs": {name: {"member", "size",
  "sha256"}}, "document": {…}}``: the caller's JSON document plus a manifest of every member;
- ``arrays/<i>.npy``: one array each (NumPy's own format, never an object array), stored, or
  deflated when the caller asks (the session deflates histories, not weights);
- ``blobs/<i>``: raw bytes (an embedded CSV).

``read_project(path)`` returns ``(document, arrays, blobs)`` and refuses, with a one-line
``ProjectFileError``, anything it cannot trust: not a zip or truncated, a CRC mismatch (tampered
bytes), ``project.json`` that is not JSON or not a project, a schema newer than this version
reads, a missing member, a member larger than its declared size would need (checked on the zip
directory before inflating, and again while inflating, so a zip bomb stops at the declared size),
an array whose dtype or shape differs from the manifest, a blob whose hash differs. Arrays are
read with ``np.load(allow_pickle=False)``. The session layer builds the document
(``Session.save``); ``docs/project-format.md`` documents both. Leaves out: partial reads (a
project is read whole), encryption, signatures.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bpstudio.errors import BPStudioError
from bpstudio.io.atomic import atomic_open, json_safe

FORMAT_NAME = "bpstudio-project"
SCHEMA_VERSION = 1
SUFFIX = ".bpstudio"
DOCUMENT_MEMBER = "project.json"
MAX_DOCUMENT_BYTES = 64 * 2**20  # project.json larger than this is refused before inflating
MAX_NPY_HEADER = 1 << 16  # bytes allowed for a .npy header on top of the array's data
ALLOWED_DTYPES = ("<f8", "<f4", "<i8", "<i4", "|u1", "|b1")


class ProjectFileError(BPStudioError, ValueError):
    """A project file that can't be written or read; the message is one line for the user."""


def _dtype_str(a: np.ndarray) -> str:
    return a.dtype.str


def write_project(
    path: str | os.PathLike[str],
    document: dict[str, Any],
    arrays: dict[str, np.ndarray],
    blobs: dict[str, bytes] | None = None,
    *,
    compress: bool | Callable[[str], bool] = False,
) -> Path:
    """Write a project file atomically; returns its path. Arrays are stored little-endian as
    ``.npy``; ``compress`` (True, or a test of the array's name) deflates them too: histories
    shrink to about half, trained weights barely, at several times the cost."""
    target = Path(path)
    blobs = blobs or {}
    manifest_arrays: dict[str, dict[str, Any]] = {}
    payload: list[tuple[str, np.ndarray]] = []
    for i, (name, value) in enumerate(arrays.items()):
        a = np.asarray(value)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.dtype.str not in ALLOWED_DTYPES:
            raise ProjectFileError(
                f"{target}: array {name} has dtype {a.dtype}, which can't be saved"
            )
        member = f"arrays/{i}.npy"
        manifest_arrays[name] = {"member": member, "dtype": _dtype_str(a), "shape": list(a.shape)}
        payload.append((member, a))
    manifest_blobs: dict[str, dict[str, Any]] = {}
    for i, (name, data) in enumerate(blobs.items()):
        manifest_blobs[name] = {
            "member": f"blobs/{i}",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    from bpstudio import __version__

    head = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "bpstudio_version": __version__,
        "arrays": manifest_arrays,
        "blobs": manifest_blobs,
        "document": document,
    }
    try:
        text = json.dumps(json_safe(head), allow_nan=False, ensure_ascii=False, indent=1)
    except (TypeError, ValueError) as exc:
        raise ProjectFileError(f"{target}: the project can't be written as JSON ({exc})") from None
    deflate = compress if callable(compress) else (lambda _name: bool(compress))
    names = {manifest_arrays[name]["member"]: name for name in manifest_arrays}
    try:
        with (
            atomic_open(target, "wb") as handle,
            zipfile.ZipFile(handle, "w", allowZip64=True) as zf,
        ):
            zf.writestr(DOCUMENT_MEMBER, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            for member, a in payload:
                info = zipfile.ZipInfo(member, (1980, 1, 1, 0, 0, 0))
                a = np.ascontiguousarray(a)
                if deflate(names[member]):  # small arrays: through memory, at deflate level 1
                    buf = io.BytesIO()
                    np.lib.format.write_array(buf, a, allow_pickle=False)
                    zf.writestr(info, buf.getvalue(), zipfile.ZIP_DEFLATED, compresslevel=1)
                    continue
                big = a.nbytes > zipfile.ZIP64_LIMIT // 2
                with zf.open(info, "w", force_zip64=big) as out:  # stored, straight from memory
                    np.lib.format.write_array(out, a, allow_pickle=False)
            for name, data in blobs.items():
                zf.writestr(manifest_blobs[name]["member"], data, zipfile.ZIP_DEFLATED)
    except OSError as exc:
        raise ProjectFileError(
            f"{target}: can't write the project ({exc.strerror or exc})"
        ) from None
    return target


def _npy_limit(dtype: str, shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n * np.dtype(dtype).itemsize + MAX_NPY_HEADER


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytes:
    """Inflate at most ``limit`` bytes of a member; more is refused (a lying or bomb member)."""
    if info.file_size > limit:
        raise ProjectFileError(
            f"{where}: member {info.filename} is {info.file_size:,} bytes, more than its declared "
            f"contents allow ({limit:,}); the file was tampered with"
        )
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ProjectFileError(
            f"{where}: member {info.filename} inflates beyond its declared size; the file was "
            "tampered with"
        )
    return data


def _check_shape(shape: Any) -> list[int]:
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ValueError("bad shape")
    return shape


def read_project(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
    """Read and check a project file: (document, arrays by name, blobs by name)."""
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise ProjectFileError(f"{where}: no such project file")
    if p.is_dir():
        raise ProjectFileError(f"{where}: is a folder, not a project file")
    try:
        zf = zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        raise ProjectFileError(
            f"{where}: not a Backprop Studio project, or the file is truncated (not a complete zip)"
        ) from None
    except OSError as exc:
        raise ProjectFileError(f"{where}: can't read it ({exc.strerror or exc})") from None
    try:
        with zf:
            return _read_open(zf, where)
    except zipfile.BadZipFile as exc:
        raise ProjectFileError(f"{where}: the file is damaged ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise ProjectFileError(f"{where}: the file is damaged or truncated ({exc})") from None


def _read_open(
    zf: zipfile.ZipFile, where: str
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
    infos = {info.filename: info for info in zf.infolist()}
    if DOCUMENT_MEMBER not in infos:
        raise ProjectFileError(f"{where}: not a Backprop Studio project (no {DOCUMENT_MEMBER})")
    raw = _read_member(zf, infos[DOCUMENT_MEMBER], MAX_DOCUMENT_BYTES, where)
    try:
        head = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProjectFileError(f"{where}: {DOCUMENT_MEMBER} is not valid JSON ({exc})") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT_NAME:
        raise ProjectFileError(f"{where}: not a Backprop Studio project ({DOCUMENT_MEMBER})")
    version = head.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ProjectFileError(f"{where}: {DOCUMENT_MEMBER} has no valid schema_version")
    if version > SCHEMA_VERSION:
        raise ProjectFileError(
            f"{where}: made by a newer Backprop Studio ({head.get('bpstudio_version', '?')}, "
            f"project schema {version}); this version reads schema {SCHEMA_VERSION} at most: "
            "update Backprop Studio to open it"
        )
    manifest = head.get("arrays")
    blob_manifest = head.get("blobs", {})
    document = head.get("document")
    if (
        not isinstance(manifest, dict)
        or not isinstance(blob_manifest, dict)
        or not isinstance(document, dict)
    ):
        raise ProjectFileError(f"{where}: {DOCUMENT_MEMBER} is damaged (no arrays/document)")
    arrays: dict[str, np.ndarray] = {}
    for name, entry in manifest.items():
        try:
            member = str(entry["member"])
            dtype = str(entry["dtype"])
            shape = _check_shape(entry["shape"])
        except (KeyError, TypeError, ValueError):
            raise ProjectFileError(f"{where}: array {name} is described wrongly") from None
        if dtype not in ALLOWED_DTYPES:
            raise ProjectFileError(f"{where}: array {name} has a dtype ({dtype}) not allowed")
        info = infos.get(member)
        if info is None:
            raise ProjectFileError(f"{where}: array {name} ({member}) is missing from the file")
        data = _read_member(zf, info, _npy_limit(dtype, shape), where)
        try:
            a = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ProjectFileError(f"{where}: array {name} can't be read ({exc})") from None
        if a.dtype.str != dtype or list(a.shape) != shape:
            raise ProjectFileError(
                f"{where}: array {name} is {a.dtype.str} {list(a.shape)} but the project says "
                f"{dtype} {shape}; the file was tampered with"
            )
        arrays[str(name)] = a
    blobs: dict[str, bytes] = {}
    for name, entry in blob_manifest.items():
        try:
            member, size, digest = str(entry["member"]), int(entry["size"]), str(entry["sha256"])
        except (KeyError, TypeError, ValueError):
            raise ProjectFileError(f"{where}: embedded file {name} is described wrongly") from None
        info = infos.get(member)
        if info is None:
            raise ProjectFileError(f"{where}: embedded file {name} is missing from the file")
        data = _read_member(zf, info, size, where)
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise ProjectFileError(f"{where}: embedded file {name} does not match its hash")
        blobs[str(name)] = data
    return document, arrays, blobs


def is_project_path(path: str | os.PathLike[str]) -> bool:
    """Whether a path names a project: the suffix, or a zip holding ``project.json``."""
    p = Path(path)
    if p.suffix.lower() == SUFFIX:
        return True
    try:
        with zipfile.ZipFile(p) as zf:
            return DOCUMENT_MEMBER in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


__all__ = [
    "ALLOWED_DTYPES",
    "FORMAT_NAME",
    "SCHEMA_VERSION",
    "SUFFIX",
    "ProjectFileError",
    "is_project_path",
    "read_project",
    "write_project",
]
