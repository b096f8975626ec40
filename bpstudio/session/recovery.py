"""Recovery files for the window's autosave: unsaved work survives a crash.

The window calls ``write_recovery(session, folder)`` on quit and, every minute, takes a
``snapshot_recovery(session)`` in its own thread and writes it (``RecoverySnapshot.write``) from
another, so that a long run's growing history never stalls the window; and
``discard_recovery(path)`` once the work is saved or deliberately discarded. Each process writes
its own file, ``recovery-<pid>.bpstudio`` (atomically, so a crash mid-write leaves the previous
one), and a small ``.json`` note beside it (when, which project, how many runs). At start,
``find_recoveries(folder)`` lists the files left by processes that are no longer running — a
crash, a kill -9 — newest first, so the window can offer to restore them (``Session.open``).
The folder is the window's choice (a per-user data folder). Leaves out: locking between two
windows of the same project (each has its own recovery file).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from bpstudio.io.atomic import atomic_write_json
from bpstudio.session.session import Session

_NAME = re.compile(r"recovery-(\d+)\.bpstudio")


@dataclass(frozen=True)
class Recovery:
    path: Path
    pid: int
    saved_at: float  # Unix time of the last write
    project: str | None  # the project file the session belonged to, if any
    n_runs: int


def recovery_path(folder: str | os.PathLike[str], pid: int | None = None) -> Path:
    return Path(folder) / f"recovery-{os.getpid() if pid is None else int(pid)}.bpstudio"


@dataclass(frozen=True)
class RecoverySnapshot:
    """What a recovery file will hold, taken from a session at one moment (cheap: per-epoch
    series are read-only views, see ``FullSeries.to_arrays``), to be written later — from
    another thread, while the session trains on."""

    document: dict
    arrays: dict
    blobs: dict
    project: str | None
    n_runs: int

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Write this process's recovery file (atomically) and its note; returns its path."""
        from bpstudio.io.project_file import write_project

        target = recovery_path(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_project(target, self.document, self.arrays, self.blobs)
        note = {"saved_at": time.time(), "project": self.project, "n_runs": self.n_runs}
        atomic_write_json(target.with_suffix(".json"), note)
        return target


def snapshot_recovery(session: Session) -> RecoverySnapshot:
    """The session as a recovery file would hold it now (its ``path`` and ``dirty`` stay)."""
    path, dirty = session.path, session.dirty
    try:
        document, arrays, blobs = session.to_state()
    finally:
        session.path, session.dirty = path, dirty
    project = None if path is None else str(path)
    return RecoverySnapshot(document, arrays, blobs, project, len(session.runs))


def write_recovery(session: Session, folder: str | os.PathLike[str]) -> Path:
    """Write ``session`` to this process's recovery file (its ``path`` and ``dirty`` stay)."""
    return snapshot_recovery(session).write(folder)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process with that pid: not ours, treat as gone
        return False
    return True


def find_recoveries(folder: str | os.PathLike[str]) -> list[Recovery]:
    """Recovery files whose process is gone (a crash), newest first."""
    out = []
    base = Path(folder)
    if not base.is_dir():
        return []
    for p in base.glob("recovery-*.bpstudio"):
        m = _NAME.fullmatch(p.name)
        if not m or _alive(int(m.group(1))):
            continue
        note: dict = {}
        with contextlib.suppress(OSError, ValueError):
            note = json.loads(p.with_suffix(".json").read_text("utf-8"))
        saved = note.get("saved_at")
        out.append(
            Recovery(
                p,
                int(m.group(1)),
                float(saved) if isinstance(saved, (int, float)) else p.stat().st_mtime,
                note.get("project") if isinstance(note.get("project"), str) else None,
                int(note.get("n_runs", 0)) if isinstance(note.get("n_runs"), int) else 0,
            )
        )
    return sorted(out, key=lambda r: r.saved_at, reverse=True)


def discard_recovery(path: str | os.PathLike[str] | None = None, folder: str | None = None) -> None:
    """Delete a recovery file and its note (default: this process's, in ``folder``)."""
    if path is None:
        if folder is None:
            raise ValueError("give the recovery file or its folder")
        path = recovery_path(folder)
    p = Path(path)
    for f in (p, p.with_suffix(".json")):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()


__all__ = [
    "Recovery",
    "RecoverySnapshot",
    "discard_recovery",
    "find_recoveries",
    "recovery_path",
    "snapshot_recovery",
    "write_recovery",
]
