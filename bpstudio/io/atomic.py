"""Atomic file writes: a temp file in the target's folder, fsync, then ``os.replace``.

A reader never sees a half-written file, and an error midway (any exception, Ctrl-C) leaves the
old file (if any) as it was and no temp file behind. A writer killed outright (SIGKILL, power
loss) can't clean up, so temp files carry the writer's process id (``.NAME.<pid>-<random>.tmp``)
and every write first removes the temp files of dead writers from the same folder.

A target that exists and is not a regular file (``/dev/stdout``, ``/dev/full``, a FIFO) can't be
replaced atomically and must not be: it is written in place, and a FIFO without a reader is
refused instead of blocking. A symlink is followed, so the link stays a link.

Leaves out: locking against concurrent writers (last one wins).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import signal
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

#: ``.NAME.<pid>-<random>.tmp``: what :func:`atomic_open` creates.
_TEMP = re.compile(r"^\..+\.(\d+)-[A-Za-z0-9_]+\.tmp$")
#: ``.NAME.<random>.tmp`` from versions before the pid was in the name: removed once this old.
_LEGACY_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_LEGACY_AGE_S = 3600.0


def _umask() -> int:
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's live process (or unknowable): leave its file alone
    return True


def clean_stale_temps(folder: str | os.PathLike[str]) -> list[str]:
    """Remove temp files left in ``folder`` by writers that were killed; returns their names."""
    removed: list[str] = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if not name.endswith(".tmp") or not name.startswith("."):
                continue
            m = _TEMP.match(name)
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if m:
                    stale = not _pid_alive(int(m.group(1)))
                else:
                    stale = bool(_LEGACY_TEMP.match(name)) and (
                        now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE_S
                    )
                if stale:
                    os.unlink(entry.path)
                    removed.append(name)
            except OSError:
                continue
    return removed


def _special_target(target: Path) -> bool:
    """True when ``target`` exists and is not a regular file (a device, FIFO or socket)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(target))
    return not stat.S_ISREG(mode)


@contextlib.contextmanager
def _open_special(target: Path, mode: str) -> Iterator[IO[Any]]:
    """Write straight into a device or FIFO (``/dev/stdout``): there is nothing to replace."""
    flags = os.O_WRONLY
    if stat.S_ISFIFO(os.stat(target).st_mode):
        flags |= os.O_NONBLOCK  # no reader: ENXIO at once instead of blocking forever
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(exc.errno, "a pipe with no reader", str(target)) from None
        raise
    os.set_blocking(fd, True)
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else ""
    with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
        yield handle
        handle.flush()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temp file next to ``path``; on a clean exit it replaces ``path`` in one step."""
    target = Path(path)
    try:
        if _special_target(target):  # follows links: /dev/stdout → a pipe or terminal
            with _open_special(target, mode) as handle:
                yield handle
            return
        with _atomic_regular(target, mode) as handle:
            yield handle
    except OSError as exc:
        if not exc.filename:  # a failed write ("No space left on device") names no file
            exc.filename = str(path)
        raise


_HELD = (signal.SIGINT, signal.SIGTERM)


def _hold_signals() -> Any:
    """Block SIGINT and SIGTERM for this thread (POSIX); returns what to restore, or None."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)


def _release_signals(held: Any) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def _atomic_regular(target: Path, mode: str) -> Iterator[IO[Any]]:
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    folder = target.parent if str(target.parent) else Path(".")
    clean_stale_temps(folder)
    # Ctrl+C / SIGTERM raise in Python code: one landing between mkstemp creating the file and
    # the ``try`` below would leave the temp behind (seen once in CI). Hold them until the temp's
    # clean-up is in place; a signal that came meanwhile is handled inside the ``try``.
    held = _hold_signals()
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=folder
        )
    except BaseException:
        _release_signals(held)
        raise
    try:
        _release_signals(held)
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else ""
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_with(path: str | os.PathLike[str], writer: Callable[[IO[bytes]], None]) -> None:
    """Call ``writer(binary_file)`` on the temp file, then move it into place."""
    with atomic_open(path, "wb") as handle:
        writer(handle)


def json_safe(value: Any) -> Any:
    """Turn NumPy scalars/arrays, tuples and non-finite floats (→ None) into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as strict JSON (NaN/inf become null) atomically."""
    text = json.dumps(json_safe(obj), indent=indent, allow_nan=False, ensure_ascii=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))
