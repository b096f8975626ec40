"""``Session``: the dataset reference, the network spec, the training settings and the runs.

The window's views read a session and listen to it; project files save one whole
(``session.save(path)`` / ``Session.open(path)``, built on ``bpstudio.io.project_file``). What a
session owns:

- ``dataset``: a ``DatasetRef`` (built-in + parameters, or CSV path + size + hash + import
  options, optionally embedded) or None;
- ``network``: the ``NetworkSpec`` being edited (sizes come from the data);
- ``fit``: the ``FitConfig`` for the next run;
- ``runs``: every ``Run`` in order, each with its own snapshot of the three above;
- ``view_state``: a free-form JSON dict the window fills (open tab, traced sample, …).

Observers are plain callables, ``session.connect(fn)``: ``fn(SessionEvent)`` after every change
(kinds in ``SessionEventKind``), so a Qt window can adapt them to signals and nothing here needs Qt.

Memory stays bounded however many runs there are: the newest ``DETAILED_RUNS`` runs keep their
full per-step detail (``RUN_MAX_BINS`` bins per series) and checkpoint budget; older ones are
thinned to ``OLD_RUN_BINS`` bins per series and ``OLD_RUN_CHECKPOINTS`` checkpoints
(``OLD_RUN_CHECKPOINT_BYTES`` at most) when a new run arrives. The variants of a sweep (runs with
the same ``Run.sweep``) count as one run here: a recent sweep keeps every variant detailed, with
the single run's checkpoint policy (every 5 epochs, spacing doubling past 8, plus the best) within
``SWEEP_CHECKPOINT_BYTES`` shared by its variants (12 variants: 5.3 MiB of weights each). The
per-epoch history, final weights and best checkpoint of a run are never thinned. Leaves out: undo
(the window's), several datasets per session.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from bpstudio.engine import FitConfig, StopReason
from bpstudio.engine.spec import NetworkSpec
from bpstudio.io.project_file import ProjectFileError, read_project, write_project
from bpstudio.session.checkpoints import CheckpointStore
from bpstudio.session.dataset import DatasetRef, DatasetStatus
from bpstudio.session.run import RUN_MAX_BINS, Run, RunHistory, RunParent, RunStatus

DETAILED_RUNS = 3  # the newest runs keep full per-step detail
OLD_RUN_BINS = 256  # bins per per-step series of an older run
OLD_RUN_CHECKPOINTS = 4  # regular checkpoints an older run keeps (plus its best)
OLD_RUN_CHECKPOINT_BYTES = 2 * 2**20
SWEEP_CHECKPOINT_BYTES = 64 * 2**20  # regular checkpoints of one detailed sweep, all variants
DOCUMENT_KIND = "session"


class SessionEventKind(StrEnum):
    RUN_ADDED = "run_added"
    RUN_REMOVED = "run_removed"
    RUN_RENAMED = "run_renamed"
    RUN_PROGRESS = "run_progress"  # new history points or weights
    RUN_STATUS = "run_status"  # running / paused / …
    RUN_FINISHED = "run_finished"  # ended or failed
    CURRENT_RUN = "current_run"  # the run the views show changed
    DATASET = "dataset"
    NETWORK = "network"
    FIT = "fit"
    VIEW_STATE = "view_state"
    LOADED = "loaded"  # the whole session was replaced (open)
    SAVED = "saved"


@dataclass(frozen=True)
class SessionEvent:
    kind: SessionEventKind
    run_id: int | None = None


_RUN_KINDS = {
    "progress": SessionEventKind.RUN_PROGRESS,
    "status": SessionEventKind.RUN_STATUS,
    "finished": SessionEventKind.RUN_FINISHED,
}


class Session:
    """See the module docstring."""

    def __init__(
        self,
        dataset: DatasetRef | None = None,
        network: NetworkSpec | None = None,
        fit: FitConfig | None = None,
    ) -> None:
        self.dataset = dataset
        self.network = network if network is not None else NetworkSpec()
        self.fit = fit if fit is not None else FitConfig()
        self.runs: list[Run] = []
        self.view_state: dict[str, Any] = {}
        self.current_run_id: int | None = None
        self.path: Path | None = None  # where it was last saved or opened from
        self.dirty = False  # changed since the last save/open
        self.dataset_status: DatasetStatus | None = None  # set by open()
        self._next_id = 1
        self._observers: list[Callable[[SessionEvent], Any]] = []

    # --- observers -------------------------------------------------------------------------------
    def connect(self, callback: Callable[[SessionEvent], Any]) -> None:
        if callback not in self._observers:
            self._observers.append(callback)

    def disconnect(self, callback: Callable[[SessionEvent], Any]) -> None:
        with contextlib.suppress(ValueError):
            self._observers.remove(callback)

    def _emit(self, kind: SessionEventKind, run_id: int | None = None, dirty: bool = True) -> None:
        if dirty:
            self.dirty = True
        event = SessionEvent(kind, run_id)
        for callback in list(self._observers):
            callback(event)

    def _on_run(self, run: Run, kind: str) -> None:
        self._emit(_RUN_KINDS.get(kind, SessionEventKind.RUN_PROGRESS), run.id)

    # --- settings --------------------------------------------------------------------------------
    def set_dataset(self, dataset: DatasetRef | None) -> None:
        self.dataset = dataset
        self._emit(SessionEventKind.DATASET)

    def set_network(self, network: NetworkSpec) -> None:
        self.network = network
        self._emit(SessionEventKind.NETWORK)

    def set_fit(self, fit: FitConfig) -> None:
        self.fit = fit
        self._emit(SessionEventKind.FIT)

    def set_view_state(self, **values: Any) -> None:
        self.view_state.update(values)
        self._emit(SessionEventKind.VIEW_STATE)

    # --- runs ------------------------------------------------------------------------------------
    def new_run(
        self,
        net_config: dict[str, Any],
        fit: FitConfig | None = None,
        *,
        name: str | None = None,
        dataset: DatasetRef | None = None,
        parent: RunParent | None = None,
        **fields: Any,
    ) -> Run:
        """Create a run from settings snapshots (defaults: the session's) and add it."""
        run_id = self._next_id
        ds = dataset if dataset is not None else self.dataset
        run = Run(
            id=run_id,
            name=name or f"Run {run_id}",
            net_config=dict(net_config),
            fit=_copy_fit(fit if fit is not None else self.fit),
            dataset=_without_bytes(ds),
            parent=parent,
            **fields,
        )
        self.add_run(run)
        return run

    def add_run(self, run: Run) -> Run:
        if any(r.id == run.id for r in self.runs):
            raise ValueError(f"a run with id {run.id} is already in the session")
        self._next_id = max(self._next_id, run.id + 1)  # ids are never reused, even after a delete
        run._listener = self._on_run
        self.runs.append(run)
        self.current_run_id = run.id
        self.bound_memory()
        self._emit(SessionEventKind.RUN_ADDED, run.id)
        return run

    def branch(self, run_id: int, step: int, *, name: str | None = None) -> Run:
        """A new run that starts from run ``run_id``'s checkpoint at ``step`` (its weights are the
        new run's starting ``params``; history starts empty)."""
        parent = self.run(run_id)
        ckpt = parent.checkpoints.at(step)
        if ckpt is None:
            steps = [c.step for c in parent.checkpoints.all()]
            raise KeyError(f"run {run_id} has no checkpoint at step {step} (it has {steps})")
        run = self.new_run(
            parent.net_config,
            parent.fit,
            name=name or f"{parent.name} from step {step}",
            dataset=parent.dataset,
            parent=RunParent(parent.id, step),
            task=parent.task,
            preprocessor=parent.preprocessor,
            target_scale=parent.target_scale,
        )
        run.params = {k: v.copy() for k, v in ckpt.params.items()}
        return run

    def add_model(self, model: Any, *, name: str | None = None) -> Run:
        """A run for a model opened from a file (``bpstudio.io.load_model``): its network,
        weights and preprocessor, status ``IMPORTED``; inspect it, predict, or continue it."""
        pre = model.preprocessor
        extra = dict(model.extra)
        task = str(getattr(pre, "task", "") or extra.get("task") or "")
        run = self.new_run(
            model.net.config(),
            self.fit,
            name=name or Path(model.path).name or None,
            dataset=None,
            task=task,
            preprocessor=pre.to_dict() if pre is not None else None,
            target_scale=(
                [float(v) for v in pre.target_scale]
                if pre is not None and task == "regression"
                else None
            ),
            status=RunStatus.IMPORTED,
            summary={k: v for k, v in extra.items() if isinstance(v, (int, float, list, str))},
        )
        run.params = model.net.get_params()
        run.epochs = int(extra.get("epochs") or 0)
        return run

    def run(self, run_id: int) -> Run:
        for r in self.runs:
            if r.id == run_id:
                return r
        raise KeyError(f"no run with id {run_id}")

    def run_number(self, number: int) -> Run:
        """Run by its number as the CLI shows it (from 1, in order)."""
        if not 1 <= number <= len(self.runs):
            raise IndexError(f"no run {number}: the project has {len(self.runs)} run(s)")
        return self.runs[number - 1]

    @property
    def current_run(self) -> Run | None:
        if self.current_run_id is None:
            return None
        try:
            return self.run(self.current_run_id)
        except KeyError:
            return None

    def select_run(self, run_id: int | None) -> None:
        if run_id is not None:
            self.run(run_id)  # KeyError if unknown
        self.current_run_id = run_id
        self._emit(SessionEventKind.CURRENT_RUN, run_id, dirty=False)

    def remove_run(self, run_id: int) -> Run:
        run = self.run(run_id)
        index = self.runs.index(run)
        self.runs.remove(run)
        run._listener = None
        if self.current_run_id == run_id:
            self.current_run_id = (
                self.runs[min(index, len(self.runs) - 1)].id if self.runs else None
            )
        self._emit(SessionEventKind.RUN_REMOVED, run_id)
        return run

    def insert_run(self, index: int, run: Run) -> None:
        """Put back a removed run at its place (undo of delete)."""
        self.add_run(run)
        self.runs.remove(run)
        self.runs.insert(max(0, min(index, len(self.runs))), run)

    def rename_run(self, run_id: int, name: str) -> None:
        name = " ".join(str(name).split())
        if not name:
            raise ValueError("a run needs a name")
        self.run(run_id).name = name
        self._emit(SessionEventKind.RUN_RENAMED, run_id)

    def bound_memory(self) -> None:
        """Thin all but the newest ``DETAILED_RUNS`` runs, a sweep counting as one (see the
        module docstring)."""
        units: list[list[Run]] = []  # newest first: a run alone, or all of a sweep's variants
        for run in reversed(self.runs):
            if run.sweep is not None and units and units[-1][0].sweep == run.sweep:
                units[-1].append(run)
            else:
                units.append([run])
        for i, unit in enumerate(units):
            if i < DETAILED_RUNS:
                if len(unit) > 1:  # a sweep: its variants share one budget
                    budget = SWEEP_CHECKPOINT_BYTES // len(unit)
                    for run in unit:
                        if run.checkpoints.max_bytes > budget:
                            run.checkpoints.limit(max_bytes=budget)
                continue
            for run in unit:
                if run.history.max_bins > OLD_RUN_BINS:
                    run.history.limit(OLD_RUN_BINS)
                ck = run.checkpoints
                if ck.max_kept > OLD_RUN_CHECKPOINTS or ck.max_bytes > OLD_RUN_CHECKPOINT_BYTES:
                    ck.limit(OLD_RUN_CHECKPOINTS, OLD_RUN_CHECKPOINT_BYTES)

    @property
    def nbytes(self) -> int:
        """Bytes held by the runs' arrays (weights, histories, checkpoints)."""
        return sum(r.nbytes for r in self.runs)

    # --- files -----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, embed_limit: int | None = None) -> Path:
        """Write the whole session to a ``.bpstudio`` file (atomically); see the format doc.

        ``embed_limit``: embed the session's CSV when it is at most this many bytes (read now
        from its path); None keeps whatever is embedded already."""
        document, arrays, blobs = self.to_state(embed_limit=embed_limit)
        ds = self.dataset
        if ds is not None and not ds.is_builtin and document["dataset"] is not None:
            # where the CSV is from the project's folder: found again if both move together
            with contextlib.suppress(ValueError):  # another drive (Windows)
                rel = os.path.relpath(ds.path, Path(path).resolve().parent)
                document["dataset"]["relative_path"] = Path(rel).as_posix()
        target = write_project(path, document, arrays, blobs, compress=_is_history)
        self.path = Path(path)
        self.dirty = False
        self._emit(SessionEventKind.SAVED, dirty=False)
        return target

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Session:
        """Read a project file. A bad file raises ``ProjectFileError`` (one line); a CSV that
        moved or changed does not: see ``dataset_status`` (and ``DatasetRef.load_table``)."""
        document, arrays, blobs = read_project(path)
        try:
            session = cls.from_state(document, arrays, blobs)
        except ProjectFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ProjectFileError(
                f"{path}: project.json is damaged or was edited by hand ({detail})"
            ) from None
        session.path = Path(path)
        session.dirty = False
        ds = session.dataset
        session.dataset_status = ds.check() if ds is not None else None
        rel = (document.get("dataset") or {}).get("relative_path")
        if ds is not None and session.dataset_status is DatasetStatus.MISSING and rel:
            beside = Path(path).resolve().parent / str(rel)
            if beside.is_file():  # the project and its CSV moved together: same file?
                old = ds.path
                if ds.relocate(beside) is DatasetStatus.OK:
                    session.dataset_status = DatasetStatus.OK
                else:
                    ds.path, ds.name = old, Path(old).name
        return session

    def to_state(
        self, *, embed_limit: int | None = None
    ) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
        arrays: dict[str, np.ndarray] = {}
        blobs: dict[str, bytes] = {}
        ds = self.dataset
        if ds is not None and embed_limit is not None and not ds.is_builtin:
            if ds.size <= embed_limit and ds.check() is DatasetStatus.OK:
                ds.embedded = Path(ds.path).read_bytes()
            elif ds.size > embed_limit:
                ds.embedded = None
        if ds is not None and ds.embedded is not None:
            blobs["dataset"] = ds.embedded
        runs_doc = []
        for i, run in enumerate(self.runs):
            prefix = f"runs/{i}"
            if run.params is not None:
                for name, a in run.params.items():
                    arrays[f"{prefix}/params/{name}"] = a
            for key, a in run.history.to_arrays().items():
                arrays[f"{prefix}/history/{key}"] = a
            ck_doc, ck_arrays = run.checkpoints.to_state()
            for key, a in ck_arrays.items():
                arrays[f"{prefix}/checkpoints/{key}"] = a
            runs_doc.append(_run_to_dict(run, ck_doc))
        document = {
            "kind": DOCUMENT_KIND,
            "dataset": ds.to_dict() if ds is not None else None,
            "network": self.network.to_dict(),
            "fit": self.fit.to_dict(),
            "runs": runs_doc,
            "current_run": self.current_run_id,
            "next_run_id": self._next_id,
            "view_state": self.view_state,
        }
        return document, arrays, blobs

    @classmethod
    def from_state(
        cls, document: dict[str, Any], arrays: dict[str, np.ndarray], blobs: dict[str, bytes]
    ) -> Session:
        if document.get("kind") != DOCUMENT_KIND:
            raise ValueError("the document is not a session")
        ds_doc = document.get("dataset")
        dataset = None
        if ds_doc is not None:
            embedded = blobs.get("dataset") if ds_doc.get("embedded") else None
            if ds_doc.get("embedded") and embedded is None:
                raise ValueError("the embedded dataset is missing")
            dataset = DatasetRef.from_dict(ds_doc, embedded)
        session = cls(
            dataset,
            NetworkSpec.from_dict(document["network"]),
            FitConfig.from_dict(document["fit"]),
        )
        view_state = document.get("view_state") or {}
        if not isinstance(view_state, dict):
            raise ValueError("view_state must be an object")
        session.view_state = view_state
        for i, run_doc in enumerate(document["runs"]):
            prefix = f"runs/{i}/"
            mine = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            run = _run_from_dict(run_doc, mine)
            session.add_run(run)
        session._next_id = max(session._next_id, int(document.get("next_run_id", 1)))
        current = document.get("current_run")
        session.current_run_id = (
            current if any(r.id == current for r in session.runs) else session.current_run_id
        )
        return session


# --- helpers ---------------------------------------------------------------------------------


def _is_history(name: str) -> bool:
    """History arrays deflate to about half (bins of one point repeat their x and y); weights
    hardly deflate and are the bulk of a big project, so they are stored as they are."""
    return "/history/" in name


def _copy_fit(fit: FitConfig) -> FitConfig:
    return FitConfig.from_dict(fit.to_dict())


def _without_bytes(ds: DatasetRef | None) -> DatasetRef | None:
    """A run's snapshot of the dataset reference (the session keeps the embedded copy)."""
    if ds is None:
        return None
    return DatasetRef.from_dict(ds.to_dict() | {"embedded": False})


def _finite_or_none(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


_NOTE_KEYS = ("step", "param", "value", "text")


def _notes_from(raw: Any) -> list[dict[str, Any]]:
    """A project's run notes, keeping only well-formed entries (an old file has none)."""
    out = []
    for n in raw if isinstance(raw, list) else []:
        if isinstance(n, dict) and isinstance(n.get("text"), str):
            out.append({k: n[k] for k in _NOTE_KEYS if k in n})
    return out


def _run_to_dict(run: Run, checkpoints: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "network": run.net_config,
        "fit": run.fit.to_dict(),
        "dataset": run.dataset.to_dict() if run.dataset is not None else None,
        "parent": None if run.parent is None else [run.parent.run_id, run.parent.step],
        "sweep": run.sweep,
        "task": run.task,
        "preprocessor": run.preprocessor,
        "target_scale": run.target_scale,
        "status": run.status.value,
        "stop_reason": None if run.stop_reason is None else run.stop_reason.value,
        "message": run.message,
        "seconds": run.seconds,
        "epochs": run.epochs,
        "steps": run.steps,
        "best_epoch": run.best_epoch,
        "params": sorted(run.params) if run.params is not None else None,
        "history": run.history.layout(),
        "checkpoints": checkpoints,
        "summary": {k: _finite_or_none(v) for k, v in run.summary.items()},
        "notes": [
            {k: _finite_or_none(v) for k, v in n.items() if k in _NOTE_KEYS} for n in run.notes
        ],
        "created": run.created,
    }


def _group(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def _run_from_dict(d: dict[str, Any], arrays: dict[str, np.ndarray]) -> Run:
    params = None
    if d.get("params") is not None:
        params = {str(name): arrays[f"params/{name}"] for name in d["params"]}
    parent = d.get("parent")
    run = Run(
        id=int(d["id"]),
        name=str(d["name"]),
        net_config=dict(d["network"]),
        fit=FitConfig.from_dict(d["fit"]),
        dataset=DatasetRef.from_dict(d["dataset"]) if d.get("dataset") else None,
        parent=None if parent is None else RunParent(int(parent[0]), int(parent[1])),
        sweep=None if d.get("sweep") is None else int(d["sweep"]),
        task=str(d.get("task", "")),
        preprocessor=d.get("preprocessor"),
        target_scale=d.get("target_scale"),
        status=RunStatus(d["status"]),
        stop_reason=None if d.get("stop_reason") is None else StopReason(d["stop_reason"]),
        message=str(d.get("message", "")),
        seconds=float(d.get("seconds", 0.0)),
        epochs=int(d.get("epochs", 0)),
        steps=int(d.get("steps", 0)),
        best_epoch=None if d.get("best_epoch") is None else int(d["best_epoch"]),
        params=params,
        history=RunHistory.from_arrays(d["history"], _group(arrays, "history/")),
        checkpoints=CheckpointStore.from_state(d["checkpoints"], _group(arrays, "checkpoints/")),
        summary=dict(d.get("summary") or {}),
        notes=_notes_from(d.get("notes")),
        created=float(d.get("created", 0.0)),
    )
    if run.params is not None:  # the weights must fit the network they claim to be
        run.network()
    for ck in run.checkpoints.all():
        Run(run.id, run.name, run.net_config, params=ck.params).network()
    return run


def parent_label(run: Run, runs: list[Run]) -> str:
    """A branch's parent as the Runs table and ``bpstudio runs`` show it: "run 3 @ step 1200"
    (3: the parent's number in ``runs``, from 1), "" for a run that is not a branch."""
    if run.parent is None:
        return ""
    number = next((i for i, r in enumerate(runs, start=1) if r.id == run.parent.run_id), None)
    who = f"run {number}" if number is not None else "a deleted run"
    return f"{who} @ step {run.parent.step}"


def parent_of(run: Run, runs: list[Run]) -> Run | None:
    """The run ``run`` branched from, if it is still in ``runs``."""
    if run.parent is None:
        return None
    return next((r for r in runs if r.id == run.parent.run_id), None)


def runs_table(runs: Iterable[Run]) -> list[dict[str, Any]]:
    """One row per run with what the Runs table and ``bpstudio runs`` show."""
    rows = []
    runs = list(runs)
    for number, run in enumerate(runs, start=1):
        classification = run.is_classification
        rows.append(
            {
                "number": number,
                "id": run.id,
                "name": run.name,
                "network": run.network_label,
                "optimizer": run.fit.optimizer,
                "lr": run.fit.lr,
                "batch_size": run.fit.batch_size,
                "epochs": run.epochs,
                "train_loss": run.final("train_loss"),
                "val_loss": run.final("val_loss"),
                "val_accuracy": run.final("val_accuracy") if classification else None,
                "val_rmse": None if classification else run.final("val_rmse"),
                "seconds": run.seconds,
                "status": run.status.value,
                "stop_reason": None if run.stop_reason is None else run.stop_reason.value,
                "parent": parent_label(run, runs),
            }
        )
    return rows


__all__ = [
    "DETAILED_RUNS",
    "OLD_RUN_BINS",
    "RUN_MAX_BINS",
    "Session",
    "SessionEvent",
    "SessionEventKind",
    "parent_label",
    "parent_of",
    "runs_table",
]
