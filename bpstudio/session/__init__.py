"""Sessions, runs and checkpoints: the state the window's views read and project files save.

No Qt here (an import-linter contract and the architecture test say so). So far: ``series``, the
containers that keep a run's per-step and per-epoch history true at any length.
"""

from __future__ import annotations

from bpstudio.session.series import DEFAULT_MAX_BINS, BinnedSeries, Envelope, FullSeries

__all__ = ["DEFAULT_MAX_BINS", "BinnedSeries", "Envelope", "FullSeries"]
