"""A sweep's variants count as one run in the session's memory bound: a recent 12-variant sweep
keeps every variant's checkpoints (the single run's policy) within SWEEP_CHECKPOINT_BYTES."""

from __future__ import annotations

from bpstudio.session import Session
from bpstudio.session.checkpoints import DEFAULT_MAX_KEPT
from bpstudio.session.session import (
    DETAILED_RUNS,
    OLD_RUN_BINS,
    OLD_RUN_CHECKPOINTS,
    RUN_MAX_BINS,
    SWEEP_CHECKPOINT_BYTES,
)
from bpstudio.session.synthetic import synthetic_run


def _sweep(session: Session, n: int, epochs: int) -> list:
    runs = []
    for i in range(n):
        run = synthetic_run(session, [2, 8, 8, 2], epochs, 48, seed=i)
        run.sweep = runs[0].id if runs else run.id
        runs.append(run)
        session.bound_memory()  # as new_run does for the next variant
    return runs


def test_a_recent_sweep_keeps_every_variant_detailed_and_a_single_runs_checkpoints() -> None:
    session = Session()
    single = synthetic_run(session, [2, 8, 8, 2], 200, 48)
    sweep = _sweep(session, 12, 200)
    regular = [c.epoch for c in single.checkpoints.regular]
    assert len(regular) >= 5
    for run in sweep:
        assert run.history.max_bins == RUN_MAX_BINS
        assert run.checkpoints.max_kept == DEFAULT_MAX_KEPT
        assert run.checkpoints.max_bytes == SWEEP_CHECKPOINT_BYTES // 12
        assert [c.epoch for c in run.checkpoints.regular] == regular
    assert single.history.max_bins == RUN_MAX_BINS  # the sweep is one unit: the single run too
    # newer single runs push the sweep out of the detailed ones, all its variants together
    for i in range(DETAILED_RUNS - 1):
        synthetic_run(session, [2, 8, 8, 2], 10, 48, seed=100 + i)
    assert all(r.checkpoints.max_kept == DEFAULT_MAX_KEPT for r in sweep)
    synthetic_run(session, [2, 8, 8, 2], 10, 48, seed=200)
    for run in sweep:
        assert run.history.max_bins == OLD_RUN_BINS
        assert len(run.checkpoints.regular) <= OLD_RUN_CHECKPOINTS


def test_the_sweep_budget_bounds_big_variants() -> None:
    session = Session()
    sweep = _sweep(session, 12, 40)  # W1-sized variants would not all fit 8 checkpoints
    for run in sweep:
        assert run.checkpoints.max_bytes == SWEEP_CHECKPOINT_BYTES // 12
    big = synthetic_run(session, [784, 128, 10], 40, 10)  # 0.8 MB a copy
    big.sweep = sweep[0].id  # a 13th variant of the same sweep (to test the budget)
    session.bound_memory()
    assert big.checkpoints._regular_bytes() <= SWEEP_CHECKPOINT_BYTES // 13
    assert len(big.checkpoints.regular) >= 2
