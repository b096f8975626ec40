"""Time a sweep: `fit_many` over K variants vs K `fit` calls one after another, side by side.

Usage: `.venv/bin/python benchmarks/sweep.py [--quick] [--repeats N] [--dtypes float64,float32]
[--epochs-w2 E] [--optimizer sgd]`.

Cases (synthetic random data, as in `benchmarks/epoch.py`):
- W2 lr: 8 variants of the playground net, 1 000 × 2 → 8 → 8 → 1 tanh, linear + MSE, batch 10,
  α from 1e-3 to 1e-1 (log spaced), same seed: one shared copy of the data serves every run;
- W2 seed: the same 8 runs with 8 different seeds (each run its own shuffle, data per run);
- W3 lr: 4 variants of 20 000 × 32 → 64×6 → 4 relu, softmax + cross-entropy, batch 64.
Each repeat trains every variant from the same initial weights for E epochs (W2: 10, W3: 1), set-up
included, once through `fit_many` and once as K `fit` calls; the two are interleaved (one repeat of
each in turn) so drift on a shared machine hits both alike, after one warm-up of each. Medians of
the repeats are reported (5, 3 with --quick; cases whose repeats take milliseconds repeat until
~1.5 s of work, at most 40), with the fastest repeat alongside, the load average
at start and end, and the largest difference between the weights the two produced (they train the
same runs, so it should be ~1e-15 in float64).

"bound" (W3): K GEMM-only epochs (every product of forward, BP4 and BP2, fastest layouts, NumPy
alone; `benchmarks/epoch.py`'s `bound_runner`), timed interleaved too. No schedule of the same
products can beat it, so `K fit / bound` is the most any stacking can gain over separate fits;
under each W3 target a line gives the GEMMs' share of the K fits' time, that limit, and the time
fit_many may spend beyond its GEMMs to meet the target. (Measured here: fit_many's own stacked
GEMMs take about the bound, so what is left to gain is its elementwise work, the update and
Python; on W3 those cannot shrink enough when the GEMMs are ~2/3 to ~3/4 of fit's time.)
The timing loop and the machine header are `benchtime.py`'s (shared with `epoch.py`).

BLAS is limited to ONE thread (threadpoolctl). Output: a table, the targets from issue 9 with
met/missed, and one parseable line per case:
`RESULT case=W2-lr dtype=float64 k=8 fit_s=… many_s=… speedup=… bound_s=…`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from benchtime import Timed, fmt, machine_lines, run_interleaved
from threadpoolctl import threadpool_limits

from bpstudio.engine import Network, fit, fit_many

try:  # the GEMM-only bound of benchmarks/epoch.py (run as a script: its folder is on sys.path)
    from epoch import Case as EpochCase
    from epoch import bound_runner
except ImportError:  # pragma: no cover - run from elsewhere
    EpochCase = bound_runner = None


@dataclass
class SweepCase(Timed):
    name: str
    n: int
    sizes: list[int]
    hidden: str
    task: str  # "classification" | "regression"
    batch: int
    configs: list[dict]
    epochs: int
    target: float  # fit_many must be at least this many times faster
    times: dict[str, list[float]] = field(default_factory=dict)
    weight_diff: float = 0.0

    @property
    def k(self) -> int:
        return len(self.configs)


def make_cases(epochs_w2: int) -> list[SweepCase]:
    lrs8 = [float(x) for x in np.geomspace(1e-3, 1e-1, 8)]
    w2 = ([2, 8, 8, 1], "tanh", "regression", 10)
    return [
        SweepCase("W2-lr", 1_000, *w2, [{"lr": lr} for lr in lrs8], epochs_w2, 5.0),
        SweepCase(
            "W2-seed", 1_000, *w2, [{"lr": 0.01, "seed": s} for s in range(8)], epochs_w2, 5.0
        ),
        SweepCase(
            "W3-lr", 20_000, [32, *[64] * 6, 4], "relu", "classification", 64,
            [{"lr": lr} for lr in (0.001, 0.003, 0.01, 0.03)], 1, 1.5,
        ),
    ]  # fmt: skip


def make_data(case: SweepCase, dtype: np.dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(case.n, case.sizes[0])).astype(dtype)
    if case.task == "classification":
        Y = np.eye(case.sizes[-1], dtype=dtype)[rng.integers(0, case.sizes[-1], size=case.n)]
    else:
        Y = np.sin(X.sum(axis=1, keepdims=True)).astype(dtype)
    return X, Y


def runners(case: SweepCase, X, Y, dtype, optimizer: str):
    """(separate fits, fit_many), each training every variant from the same initial weights."""
    output, loss = (
        ("softmax", "cross_entropy") if case.task == "classification" else ("linear", "mse")
    )
    init = "he" if case.hidden == "relu" else "xavier"
    start = Network(case.sizes, activation=case.hidden, output=output, loss=loss, init=init,
                    dtype=np.dtype(dtype).name)  # fmt: skip
    shared = dict(epochs=case.epochs, batch_size=case.batch, optimizer=optimizer)
    last: dict[str, list[Network]] = {}

    def separate() -> None:
        nets = [start.copy() for _ in case.configs]
        for net, conf in zip(nets, case.configs, strict=True):
            fit(net, X, Y, **shared, **conf)
        last["fit"] = nets

    def together() -> None:
        nets = [start.copy() for _ in case.configs]
        fit_many(nets, X, Y, case.configs, **shared)
        last["many"] = nets

    return separate, together, last


def gemm_budget(c: SweepCase, fit_s: float, many_s: float, bound_s: float) -> str:
    """Where the target stands against the GEMMs: the share of the K fits' time that is GEMM, the
    speedup a fit_many made of nothing but its GEMMs would reach, and the time left for the rest."""
    need = fit_s / c.target
    text = (
        f"GEMMs are {bound_s / fit_s:.0%} of the {c.k} fits' time (bound {bound_s:.3f} s of "
        f"{fit_s:.3f} s): a fit_many of nothing but its GEMMs would be {fit_s / bound_s:.2f}× "
        f"faster;\n    {c.target:g}× needs fit_many ≤ {need:.3f} s, "
    )
    if need <= bound_s:
        return text + "less than the GEMMs alone take: out of reach with this BLAS"
    return text + (
        f"i.e. ≤ {need - bound_s:.3f} s beyond the GEMMs (it spends {many_s - bound_s:.3f} s: "
        "σ, σ', softmax, the update, data, Python)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 5")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--epochs-w2", type=int, default=10)
    ap.add_argument("--optimizer", default="sgd", choices=["sgd", "momentum", "adam"])
    ap.add_argument("--cases", default="W2-lr,W2-seed,W3-lr")
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    budget = 0.5 if args.quick else 1.5
    wanted = set(args.cases.split(","))
    results: list[tuple[str, SweepCase, float | None]] = []

    with threadpool_limits(limits=1):
        print("\n".join(machine_lines()))
        print(
            f"# {args.optimizer}, {repeats} repeat(s) after 1 warm-up, medians; "
            "each repeat trains every variant, set-up included\n"
        )
        for dtype_name in args.dtypes.split(","):
            dtype = np.dtype(dtype_name)
            for case in make_cases(args.epochs_w2):
                if case.name not in wanted:
                    continue
                X, Y = make_data(case, dtype)
                separate, together, last = runners(case, X, Y, dtype, args.optimizer)
                contenders: dict[str, Callable[[], None]] = {"fit": separate, "many": together}
                if case.name.startswith("W3") and bound_runner is not None:
                    ec = EpochCase(case.name, case.n, case.sizes, case.hidden, case.task,
                                   case.batch, 0.01)  # fmt: skip
                    one_bound, _ = bound_runner(ec, dtype)

                    def bound(run=one_bound, k=case.k, epochs=case.epochs) -> None:
                        for _ in range(k * epochs):
                            run()

                    contenders["bound"] = bound
                # short cases (W2) get more repeats, so each median rests on ≥ ~`budget` s of work
                n_rep = run_interleaved(contenders, case.times, repeats, budget)
                case.weight_diff = max(
                    float(np.max(np.abs(a._theta.astype(float) - b._theta.astype(float))))
                    for a, b in zip(last["fit"], last["many"], strict=True)
                )
                f, m = case.median("fit"), case.median("many")
                print(
                    f"{case.name} {dtype.name} K={case.k}: {case.k} fits {fmt(f)} s, "
                    f"fit_many {fmt(m)} s, {f / m:.2f}× faster "
                    f"(weights differ by ≤ {case.weight_diff:.1e}), {n_rep} repeats",
                    flush=True,
                )
                results.append((dtype.name, case, case.median("bound")))

    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    print()
    head = (
        f"{'case':<9}{'dtype':>8}{'K':>3}{'epochs':>7}{'K fits s':>10}{'fit_many s':>11}"
        f"{'speedup':>9}{'(fastest)':>10}{'bound s':>9}{'max gain':>9}{'Δweights':>10}"
    )
    print("medians of the repeats; (fastest) compares each contender's fastest repeat;")
    print("max gain = K fits / bound: the most stacking could gain over separate fits")
    print(head)
    print("-" * len(head))
    for dtype_name, c, bound_s in results:
        f, m = c.median("fit"), c.median("many")
        fb, mb = c.best("fit"), c.best("many")
        print(
            f"{c.name:<9}{dtype_name:>8}{c.k:>3}{c.epochs:>7}{fmt(f):>10}{fmt(m):>11}"
            f"{f / m:>8.2f}×{fb / mb:>9.2f}×{fmt(bound_s):>9}"
            f"{fmt(bound_s and f / bound_s, '.2f'):>9}{c.weight_diff:>10.1e}"
        )
    print()
    print("targets (median; fastest repeat in brackets):")
    for dtype_name, c, _ in results:
        if c.name == "W2-seed":
            continue  # not a target: shown for the per-run-data path
        f, m = c.median("fit"), c.median("many")
        fb, mb = c.best("fit"), c.best("many")
        verdict = ["met" if v >= c.target else "MISSED" for v in (f / m, fb / mb)]
        print(
            f"  {c.name} {dtype_name}: fit_many ≥ {c.target:g}× faster than {c.k} fits: "
            f"{f / m:.2f} {verdict[0]} ({fb / mb:.2f} {verdict[1]})"
        )
        bound_s = c.median("bound")
        if bound_s is not None:
            print("    " + gemm_budget(c, f, m, bound_s))
    print()
    for dtype_name, c, bound_s in results:
        print(
            f"RESULT case={c.name} dtype={dtype_name} k={c.k} epochs={c.epochs} "
            f"fit_s={fmt(c.median('fit'), '.5f')} many_s={fmt(c.median('many'), '.5f')} "
            f"speedup={c.median('fit') / c.median('many'):.3f} "
            f"fit_min_s={fmt(c.best('fit'), '.5f')} many_min_s={fmt(c.best('many'), '.5f')} "
            f"bound_s={fmt(bound_s, '.5f')} weight_diff={c.weight_diff:.2e}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
