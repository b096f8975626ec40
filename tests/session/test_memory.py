"""Memory stays bounded with many runs: 100 of the playground net, 10 of a 784 → 128 → 10 net
(measured with tracemalloc; ``benchmarks/project_file.py`` prints the full-length figures)."""

from __future__ import annotations

import tracemalloc

from bpstudio.session import Session
from bpstudio.session.session import DETAILED_RUNS, OLD_RUN_BINS
from bpstudio.session.synthetic import synthetic_run


def _traced(build) -> tuple[int, Session]:
    tracemalloc.start()
    try:
        session = build()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current, session


def test_100_playground_runs_stay_small() -> None:
    def build() -> Session:
        s = Session()
        for i in range(100):  # 40 epochs × 48 steps: 1,920 losses per series per run
            synthetic_run(s, [2, 8, 8, 2], 40, 48, chunk_epochs=20, seed=i)
        return s

    current, session = _traced(build)
    print(f"\n100 playground runs: {current / 2**20:.1f} MB traced")
    assert current < 24 * 2**20  # ~150 kB a run: 7 series × 256 bins × 80 B, and the epochs
    old, newest = session.runs[0], session.runs[-1]
    assert len(old.history.loss) <= OLD_RUN_BINS < newest.history.max_bins
    assert len(old.history) == 40  # the per-epoch record is never thinned
    assert all(r.history.max_bins > OLD_RUN_BINS for r in session.runs[-DETAILED_RUNS:])


def test_10_runs_of_a_784_128_10_net_stay_bounded() -> None:
    def build() -> Session:
        s = Session()
        for i in range(10):  # 100 epochs of 1,875 steps (60,000 rows, batch 32)
            synthetic_run(s, [784, 128, 10], 100, 1875, grad_every=8, chunk_epochs=20, seed=i)
        return s

    current, session = _traced(build)
    weights = 784 * 128 + 128 + 128 * 10 + 10  # 101,770 parameters, float64: 0.81 MB
    per_copy = weights * 8
    print(f"\n10 W1-sized runs: {current / 2**20:.1f} MB traced ({current / per_copy:.0f} copies)")
    # final weights + best + a bounded number of regular checkpoints per run
    assert current < 10 * 12 * per_copy
    for run in session.runs[:-DETAILED_RUNS]:
        assert len(run.checkpoints) <= 1 + 3 and run.checkpoints.best is not None
