"""Benchmark: bpstudio's robust CSV import against a plain ``pandas.read_csv`` of the same file.

Generates N rows × 20 float columns + a text label column into a temporary folder, then times each
case in a fresh subprocess (so peak memory is that case's alone) and prints one ``RESULT`` line per
case with its figures and the ratios against plain pandas. Goals (issue 3): load time ≤ 1.5× plain
pandas; peak memory ≤ 2× the resulting float arrays + pandas' own peak.

    .venv/bin/python benchmarks/csv_load.py            # 1,000,000 rows, best of 3
    .venv/bin/python benchmarks/csv_load.py --rows 100000 --repeat 1

Cases: plain pandas (pandas ≥ 3 may parse a big file on several threads), pandas on one thread
(for reference), ``load_table`` without callbacks (the CLI: one pandas call), ``load_table`` with
progress + cancel callbacks (the GUI: chunked, single-threaded), and load + ``prepare``.

Leaves out: other parsers (measured once for the issue: pyarrow/polars within 10 %, not installed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 20

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd, psutil
import bpstudio.data as bd
case, path = sys.argv[1], sys.argv[2]
base = psutil.Process().memory_info().rss
t0 = time.perf_counter()
if case == "pandas.read_csv":
    frame = pd.read_csv(path)
    rows = len(frame)
elif case == "pandas.read_csv(1 thread)":
    pd.set_option("mode.max_threads", 1)
    frame = pd.read_csv(path)
    rows = len(frame)
elif case == "bpstudio.read_csv":
    table = bd.load_table(path)
    rows = table.n_rows
elif case == "bpstudio.read_csv+progress":
    calls = []
    table = bd.load_table(path, progress=lambda f, n: calls.append(n), cancel=lambda: False)
    rows = table.n_rows
elif case == "bpstudio.read_csv+prepare":
    table = bd.load_table(path)
    data = bd.prepare(table, bd.DatasetOptions(val_fraction=0.2))
    rows = len(data.X)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_delta": peak - base, "rows": rows}))
"""


def make_file(path: Path, rows: int, seed: int = 0) -> None:
    """rows × 20 float columns (≈ 10 significant digits) + label in {cat, dog, bird}, in blocks."""
    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog", "bird"])
    header = ",".join([f"f{j + 1}" for j in range(N_FEATURES)] + ["label"])
    with open(path, "w", newline="") as f:
        f.write(header + "\n")
        block = 100_000
        fmt = ",".join(["%.6f"] * N_FEATURES) + ",%s\n"
        for start in range(0, rows, block):
            m = min(block, rows - start)
            X = rng.standard_normal((m, N_FEATURES)) * 10.0
            lab = labels[rng.integers(0, 3, size=m)].tolist()
            f.write("".join([fmt % (*row, lb) for row, lb in zip(X.tolist(), lab, strict=True)]))


def run(case: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; best time, max memory")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        t0 = time.perf_counter()
        make_file(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"# file: {args.rows} rows × {N_FEATURES} floats + label, {size_mb:.0f} MB, "
              f"written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        float_mb = args.rows * N_FEATURES * 8 / 1e6
        cases = [
            "pandas.read_csv",
            "pandas.read_csv(1 thread)",
            "bpstudio.read_csv",
            "bpstudio.read_csv+progress",
            "bpstudio.read_csv+prepare",
        ]
        results = {}
        for case in cases:
            runs = [run(case, path) for _ in range(args.repeat)]
            results[case] = {
                "seconds": min(r["seconds"] for r in runs),
                "peak_mb": max(r["peak_delta"] for r in runs) / 1e6,
                "rows": runs[0]["rows"],
            }
    base = results["pandas.read_csv"]
    budget_mb = 2 * float_mb + base["peak_mb"]
    for case in cases:
        r = results[case]
        t_ratio = r["seconds"] / base["seconds"]
        m_ratio = r["peak_mb"] / base["peak_mb"]
        goal = ""
        if case in ("bpstudio.read_csv", "bpstudio.read_csv+progress"):
            ok = t_ratio <= 1.5 and r["peak_mb"] <= budget_mb
            goal = (f" goal: time ≤ 1.5×, memory ≤ {budget_mb:.0f} MB "
                    f"(2×{float_mb:.0f} float + {base['peak_mb']:.0f} pandas) → "
                    f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
        print(
            f"RESULT case={case} rows={r['rows']} seconds={r['seconds']:.2f} "
            f"pandas_seconds={base['seconds']:.2f} time_ratio={t_ratio:.2f} "
            f"peak_mb={r['peak_mb']:.0f} pandas_peak_mb={base['peak_mb']:.0f} "
            f"memory_ratio={m_ratio:.2f} float_arrays_mb={float_mb:.0f}{goal}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
