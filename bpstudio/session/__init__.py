"""Sessions, runs and checkpoints: the state the window's views read and project files save.

No Qt here (an import-linter contract and the architecture test say so). ``Session`` (dataset
reference, network spec, training settings, runs; plain-callback observers; ``save``/``open``),
``Run`` with its ``RunHistory`` and ``CheckpointStore``, ``DatasetRef``, the recovery-file helpers
for autosave, the history CSV, and ``series``: the containers that keep a run's per-step and
per-epoch history true at any length.
"""

from __future__ import annotations

from bpstudio.engine import FitConfig, NetworkSpec, StopReason
from bpstudio.io.project_file import ProjectFileError
from bpstudio.session.checkpoints import Checkpoint, CheckpointStore
from bpstudio.session.dataset import (
    DatasetChangedError,
    DatasetMissingError,
    DatasetRef,
    DatasetStatus,
)
from bpstudio.session.history_csv import history_rows, write_history_csv
from bpstudio.session.recovery import (
    Recovery,
    discard_recovery,
    find_recoveries,
    recovery_path,
    write_recovery,
)
from bpstudio.session.run import EPOCH_FIELDS, FitRecorder, Run, RunHistory, RunParent, RunStatus
from bpstudio.session.series import DEFAULT_MAX_BINS, BinnedSeries, Envelope, FullSeries
from bpstudio.session.session import (
    Session,
    SessionEvent,
    SessionEventKind,
    parent_label,
    parent_of,
    runs_table,
)

__all__ = [
    "DEFAULT_MAX_BINS",
    "EPOCH_FIELDS",
    "BinnedSeries",
    "Checkpoint",
    "CheckpointStore",
    "DatasetChangedError",
    "DatasetMissingError",
    "DatasetRef",
    "DatasetStatus",
    "Envelope",
    "FitConfig",
    "FitRecorder",
    "FullSeries",
    "NetworkSpec",
    "ProjectFileError",
    "Recovery",
    "Run",
    "RunHistory",
    "RunParent",
    "RunStatus",
    "Session",
    "SessionEvent",
    "SessionEventKind",
    "StopReason",
    "discard_recovery",
    "find_recoveries",
    "history_rows",
    "recovery_path",
    "parent_label",
    "parent_of",
    "runs_table",
    "write_history_csv",
    "write_recovery",
]
