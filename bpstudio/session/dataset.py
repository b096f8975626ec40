"""``DatasetRef``: which data a session (or a run) trained on, and whether it is still there.

A built-in is named with its parameters (``builtin:spirals`` + ``n_samples``, ``noise``, ``seed``…:
regenerating it gives the same table). A CSV is named by its path, byte size and SHA-256, so a
file that moved or changed is noticed when a project is reopened. Both carry the import options
(``DatasetOptions``: target, task, missing values, scaling, split). A CSV up to
``embed_limit`` bytes (default ``DEFAULT_EMBED_LIMIT``) may travel inside the project file
(``embedded``); the project then opens on another machine too.

``check()`` says what became of the file (``DatasetStatus``); ``load_table()`` reads it, raising
``DatasetMissingError`` (offer "locate it": ``relocate(path)``) or ``DatasetChangedError`` (offer
"it changed, continue?": ``accept_current()``) — both ``BPStudioError``s whose message is one line.
Leaves out: datasets that are neither a built-in nor a CSV file (URLs, databases).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from bpstudio.data import BUILTIN_PREFIX, DatasetOptions, RawTable, load_table
from bpstudio.errors import BPStudioError

DEFAULT_EMBED_LIMIT = 2 * 2**20  # bytes: CSVs up to this size are embedded when asked
_HASH_CHUNK = 1 << 20


class DatasetStatus(StrEnum):
    BUILTIN = "builtin"  # regenerated from its parameters: always available
    OK = "ok"  # the CSV is where it was, same size and hash
    EMBEDDED = "embedded"  # the CSV is gone or changed, but the project holds a copy
    MISSING = "missing"  # the CSV is not at its path (and no copy): ask where it went
    CHANGED = "changed"  # a file is at the path, but its size or hash differ: ask


class DatasetMissingError(BPStudioError, FileNotFoundError):
    """The project's CSV is not where it was saved; ``ref`` is the reference to relocate."""

    def __init__(self, ref: DatasetRef) -> None:
        super().__init__(
            f"{ref.path}: the project's data file is not there any more (moved or deleted); "
            "locate it, or choose another dataset"
        )
        self.ref = ref


class DatasetChangedError(BPStudioError, ValueError):
    """The CSV at the project's path is not the file the runs trained on."""

    def __init__(self, ref: DatasetRef, size: int, sha256: str) -> None:
        super().__init__(
            f"{ref.path}: the data file changed since the project was saved ({ref.size:,} → "
            f"{size:,} bytes, hash {ref.sha256[:12]} → {sha256[:12]}); continue with the new "
            "contents or locate the original"
        )
        self.ref = ref
        self.size = size
        self.sha256 = sha256


def file_digest(path: str | Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex) of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def options_to_dict(options: DatasetOptions) -> dict[str, Any]:
    return asdict(options)


def options_from_dict(values: dict[str, Any]) -> DatasetOptions:
    """``DatasetOptions`` from ``options_to_dict``; unknown keys are a ``ValueError``."""
    known = {f.name for f in fields(DatasetOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown dataset option(s) {', '.join(unknown)}")
    return DatasetOptions(**values)


@dataclass
class DatasetRef:
    """A built-in (``builtin`` name + ``params``) or a CSV (``path``, ``size``, ``sha256``)."""

    kind: str  # "builtin" | "csv"
    name: str = ""  # built-in name (without the prefix), or the CSV's file name
    params: dict[str, Any] = field(default_factory=dict)  # built-in parameters
    path: str = ""  # the CSV's path as saved (absolute)
    size: int = 0
    sha256: str = ""
    options: DatasetOptions = field(default_factory=DatasetOptions)
    embedded: bytes | None = field(default=None, repr=False)  # the CSV's bytes, if embedded

    # --- making ----------------------------------------------------------------------------------
    @classmethod
    def builtin(
        cls, name: str, params: dict[str, Any] | None = None, options: DatasetOptions | None = None
    ) -> DatasetRef:
        return cls(
            kind="builtin",
            name=str(name).removeprefix(BUILTIN_PREFIX),
            params=dict(params or {}),
            options=options or DatasetOptions(),
        )

    @classmethod
    def csv(
        cls,
        path: str | Path,
        options: DatasetOptions | None = None,
        *,
        embed: bool = False,
        embed_limit: int = DEFAULT_EMBED_LIMIT,
    ) -> DatasetRef:
        """Reference a CSV file (its size and hash are taken now); embed it if asked and small."""
        p = Path(path).expanduser().resolve()
        size, digest = file_digest(p)
        ref = cls(
            kind="csv",
            name=p.name,
            path=str(p),
            size=size,
            sha256=digest,
            options=options or DatasetOptions(),
        )
        if embed and size <= embed_limit:
            ref.embedded = p.read_bytes()
        return ref

    @classmethod
    def from_source(
        cls,
        source: str | Path,
        params: dict[str, Any] | None = None,
        options: DatasetOptions | None = None,
        **kw: Any,
    ) -> DatasetRef:
        """``"builtin:NAME"`` or a CSV path, as ``bpstudio.data.load_table`` takes them."""
        text = str(source)
        if text.startswith(BUILTIN_PREFIX):
            return cls.builtin(text, params, options)
        return cls.csv(source, options, **kw)

    # --- describing ------------------------------------------------------------------------------
    @property
    def is_builtin(self) -> bool:
        return self.kind == "builtin"

    @property
    def source(self) -> str:
        """What ``load_table`` takes: ``builtin:NAME`` or the path."""
        return f"{BUILTIN_PREFIX}{self.name}" if self.is_builtin else self.path

    @property
    def label(self) -> str:
        return self.source if self.is_builtin else self.name

    def same_data(self, other: DatasetRef | None) -> bool:
        """Whether two references name the same table (import options aside)."""
        if other is None or other.kind != self.kind:
            return False
        if self.is_builtin:
            return self.name == other.name and self.params == other.params
        return self.sha256 == other.sha256 and self.size == other.size

    # --- checking --------------------------------------------------------------------------------
    def check(self) -> DatasetStatus:
        if self.is_builtin:
            return DatasetStatus.BUILTIN
        p = Path(self.path)
        if not p.is_file():
            return DatasetStatus.EMBEDDED if self.embedded is not None else DatasetStatus.MISSING
        size = p.stat().st_size
        if size == self.size and file_digest(p) == (self.size, self.sha256):
            return DatasetStatus.OK
        return DatasetStatus.EMBEDDED if self.embedded is not None else DatasetStatus.CHANGED

    def relocate(self, path: str | Path) -> DatasetStatus:
        """Point at a new path (the file was moved); returns ``check()`` there."""
        self.path = str(Path(path).expanduser().resolve())
        self.name = Path(self.path).name
        return self.check()

    def accept_current(self) -> None:
        """Take the file now at ``path`` as the dataset (size and hash updated, copy dropped)."""
        self.size, self.sha256 = file_digest(self.path)
        self.embedded = None

    def load_table(self, **kw: Any) -> RawTable:
        """Read the table; a moved or changed CSV raises (see the module docstring)."""
        if self.is_builtin:
            return load_table(self.source, **kw, **self.params)
        status = self.check()
        if status is DatasetStatus.MISSING:
            raise DatasetMissingError(self)
        if status is DatasetStatus.CHANGED:
            size, digest = file_digest(self.path)
            raise DatasetChangedError(self, size, digest)
        if status is DatasetStatus.EMBEDDED:
            assert self.embedded is not None
            return _read_embedded(self.name, self.embedded, **kw)
        return load_table(self.path, **kw)

    # --- files -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, without the embedded bytes (the project file stores them as a member)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "params": dict(self.params),
            "path": self.path,
            "size": int(self.size),
            "sha256": self.sha256,
            "options": options_to_dict(self.options),
            "embedded": self.embedded is not None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], embedded: bytes | None = None) -> DatasetRef:
        kind = str(d["kind"])
        if kind not in ("builtin", "csv"):
            raise ValueError(f"unknown dataset kind {kind!r}")
        params = d.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError("dataset params must be an object")
        return cls(
            kind=kind,
            name=str(d.get("name", "")),
            params=dict(params),
            path=str(d.get("path", "")),
            size=int(d.get("size", 0)),
            sha256=str(d.get("sha256", "")),
            options=options_from_dict(dict(d.get("options") or {})),
            embedded=embedded,
        )


def _read_embedded(name: str, data: bytes, **kw: Any) -> RawTable:
    """Parse embedded CSV bytes with the same reader as a file (via a private temp file)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bpstudio-embedded-") as folder:
        tmp = Path(folder) / (name or "data.csv")
        with open(tmp, "wb") as f:
            f.write(data)
        return load_table(tmp, **kw)


__all__ = [
    "DEFAULT_EMBED_LIMIT",
    "DatasetChangedError",
    "DatasetMissingError",
    "DatasetRef",
    "DatasetStatus",
    "file_digest",
    "options_from_dict",
    "options_to_dict",
]
