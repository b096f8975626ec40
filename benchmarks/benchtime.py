"""What the benchmark scripts share: the interleaved timing loop, medians, the machine header.

`run_interleaved` warms each contender up once, then runs them in turn, one repeat of each, so
drift on a shared machine hits every contender alike; cases whose repeats take milliseconds repeat
until about `budget` seconds of work (at most `max_repeats`). `Timed` gives a case with a `times`
dict its medians and fastest repeats. `machine_lines` describes the machine, NumPy, the BLAS (with
the kernel family OpenBLAS picked for this CPU, which sets what a GEMM costs) and the load average.
Used by `epoch.py` and `sweep.py` (run as scripts: this folder is on `sys.path`). Left out:
statistics beyond the median and the minimum, pinning processes to cores.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info


class Timed:
    """Medians and fastest repeats of a case's `times` ({contender: [seconds, …]})."""

    times: dict[str, list[float]]

    def median(self, who: str) -> float | None:
        t = self.times.get(who)
        return statistics.median(t) if t else None

    def best(self, who: str) -> float | None:
        t = self.times.get(who)
        return min(t) if t else None


def run_interleaved(
    contenders: dict[str, Callable[[], None]],
    times: dict[str, list[float]],
    repeats: int,
    budget: float,
    max_repeats: int = 40,
) -> int:
    """Time each contender `n` times, one repeat of each in turn, after one warm-up of each;
    append the seconds to `times[name]`. n = `repeats`, raised for short contenders until the
    slowest one's repeats add up to about `budget` seconds (at most `max_repeats`). Returns n."""
    warm = []
    for run in contenders.values():
        t = time.perf_counter()
        run()  # warm-up
        warm.append(time.perf_counter() - t)
    n_rep = max(repeats, min(max_repeats, int(budget / max(max(warm), 1e-9))))
    for _ in range(n_rep):
        for who, run in contenders.items():
            t = time.perf_counter()
            run()
            times.setdefault(who, []).append(time.perf_counter() - t)
    return n_rep


def fmt(x: float | None, spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


def blas_architecture() -> str:
    """The kernel family the BLAS chose at load time (OpenBLAS: 'Haswell', 'SkylakeX', …)."""
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return str(info.get("architecture") or "?")
    return "?"


def cpu_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return " avx512f " in f" {line.split(':', 1)[1].strip()} "
    except OSError:
        pass
    return False


def machine_lines() -> list[str]:
    """Header lines: machine, NumPy and BLAS (call inside `threadpool_limits`), environment that
    steers the BLAS, the load average now."""
    blas = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in threadpool_info()
    ]
    env = {k: os.environ[k] for k in sorted(os.environ) if "BLAS" in k or "NUM_THREADS" in k}
    lines = [
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"numpy {np.__version__}, BLAS: {'; '.join(blas)}",
        f"# env: {env or '{}'} (OPENBLAS_CORETYPE unset means auto-detected core)",
    ]
    arch = blas_architecture()
    if cpu_has_avx512() and arch in ("Haswell", "Zen"):
        pinned = os.environ.get("OPENBLAS_CORETYPE")
        how = f"OPENBLAS_CORETYPE={pinned} pins" if pinned else "OpenBLAS chose"
        lines.append(
            f"# note: the CPU has AVX-512; {how} OpenBLAS's {arch} (AVX2) kernels, which set "
            "what every GEMM costs here (AVX-512 ones may run them up to ~2× faster)"
        )
    lines.append(
        f"# load average at start: {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} CPUs: above ~{max(1, (os.cpu_count() or 2) - 1)} others compete)"
    )
    return lines
