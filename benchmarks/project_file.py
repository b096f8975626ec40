"""Benchmark: project files and session memory (issue 8's figures).

1. Save and open a project of 20 runs of a W1-sized network (784 → 128 → 10, float64 weights,
   100 epochs of 1,875 steps each: per-step loss and gradient norms, per-epoch history,
   checkpoints), best of ``--repeat``; its size on disk; and whether the round trip is bit-exact.
2. Memory (tracemalloc) of a session holding 100 runs of the playground net (2 → 8 → 8 → 2,
   200 epochs of 48 steps) and of one holding 10 W1-sized runs.

Runs are synthetic (``bpstudio.session.synthetic``): real sizes, random numbers, recorded through
the same calls as a real run, so the figures measure the format and the bounds, not training.

    .venv/bin/python benchmarks/project_file.py [--runs 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from bpstudio.session import Session
from bpstudio.session.synthetic import synthetic_run

W1 = [784, 128, 10]


def _w1_session(n_runs: int, dtype: str = "float64") -> Session:
    s = Session()
    for i in range(n_runs):
        synthetic_run(s, W1, 100, 1875, grad_every=8, chunk_epochs=10, seed=i, dtype=dtype)
    return s


def _same(a, b) -> bool:
    """Weights and every history array equal byte for byte (NaN included)."""
    pairs = [(a.params, b.params), (a.history.to_arrays(), b.history.to_arrays())]
    return all(
        x.keys() == y.keys() and all(x[k].tobytes() == y[k].tobytes() for k in x) for x, y in pairs
    )


def _traced(build) -> float:
    tracemalloc.start()
    try:
        build()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = ap.parse_args()

    session = _w1_session(args.runs, args.dtype)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w1.bpstudio"
        saves, opens = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            session.save(path)
            saves.append(time.perf_counter() - t)
            t = time.perf_counter()
            again = Session.open(path)
            opens.append(time.perf_counter() - t)
        size = path.stat().st_size
        exact = all(_same(a, b) for a, b in zip(session.runs, again.runs, strict=True))
    print(
        f"RESULT project: {args.runs} W1-sized runs ({args.dtype}), save {min(saves):.2f} s, open "
        f"{min(opens):.2f} s, {size / 2**20:.1f} MB on disk, in memory {session.nbytes / 2**20:.1f}"
        f" MB of arrays, round trip bit-exact: {exact}"
    )

    def playground() -> Session:
        s = Session()
        for i in range(100):
            synthetic_run(s, [2, 8, 8, 2], 200, 48, chunk_epochs=20, seed=i)
        return s

    print(f"RESULT memory: 100 playground runs (200 epochs each) {_traced(playground):.1f} MB")
    w1 = _traced(lambda: _w1_session(10))
    print(f"RESULT memory: 10 W1-sized runs (100 epochs each) {w1:.1f} MB")


if __name__ == "__main__":
    main()
