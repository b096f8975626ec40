"""The backprop engine: NumPy only, no Qt (importing it must never load PySide6 or pyqtgraph).

Public API (see the contract): `Network`, `NetworkSpec`, `fit` and its `FitConfig`/`FitControl`/
`StepEvent`/`EpochEvent`/`History`/`StopReason`, `fit_many` (several nets at once, each as `fit`
would train it) with `stack_groups` (which runs share a kernel), `gradient_check`, `EngineError`,
and the name tables the UI offers.
The modules below are named for what they hold: activations, losses, initializers, optimizers,
backprop (readable BP1–BP4), kernels (the same equations, fast), network, spec, training, many
(fit_many), gradcheck, threads (one BLAS thread).
"""

from __future__ import annotations

from bpstudio.engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpstudio.engine.errors import EngineError
from bpstudio.engine.gradcheck import GradCheckResult, gradient_check
from bpstudio.engine.initializers import INITIALIZERS
from bpstudio.engine.losses import LOSSES, compatible_losses
from bpstudio.engine.many import fit_many, stack_groups
from bpstudio.engine.network import LayerTrace, Network
from bpstudio.engine.optimizers import OPTIMIZERS, SCHEDULES
from bpstudio.engine.spec import NetworkSpec
from bpstudio.engine.training import (
    EpochEvent,
    FitConfig,
    FitControl,
    History,
    StepEvent,
    StopReason,
    fit,
)

__all__ = [
    "HIDDEN_ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "OPTIMIZERS",
    "OUTPUT_ACTIVATIONS",
    "SCHEDULES",
    "EngineError",
    "EpochEvent",
    "FitConfig",
    "FitControl",
    "GradCheckResult",
    "History",
    "LayerTrace",
    "Network",
    "NetworkSpec",
    "StepEvent",
    "StopReason",
    "compatible_losses",
    "fit",
    "fit_many",
    "gradient_check",
    "stack_groups",
]
