"""Time one training epoch: bpstudio's `fit` vs scikit-learn, PyTorch CPU eager and the FLOP bound.

Usage: `.venv/bin/python benchmarks/epoch.py [--quick] [--repeats N] [--workloads W1,W2,W3]
[--dtype float32]`.

Workloads (synthetic random data; timing does not depend on the values):
- W1: 60 000 × 784 → 128 → 10, sigmoid hidden, softmax + cross-entropy, batch 32, 128, 1024;
- W2: 1 000 × 2 → 8 → 8 → 1, tanh hidden, linear output, MSE, batch 10 (per-step overhead);
- W3: 20 000 × 32 → 64×6 → 4, relu hidden, softmax + cross-entropy, batch 64.

Contenders, run side by side and interleaved (one repeat of each in turn, so drift on a shared
machine hits all alike); each is timed for ONE epoch of plain SGD (no momentum) with shuffling and
per-step loss, after one warm-up epoch, and the median of the repeats is reported (5 repeats, 2
with --quick; cases whose epochs take milliseconds repeat until ~1.5 s of work, at most 40):
- bpstudio: `fit(net, X, Y, epochs=1, ...)` — the same call the CLI and GUI make, set-up included;
- scikit-learn: `MLPClassifier`/`MLPRegressor(solver="sgd", momentum=0, same batch)`,
  one `partial_fit` call (= one epoch);
- PyTorch CPU eager (if importable): `nn.Sequential`, `torch.optim.SGD`, a randperm'd index per
  epoch, `loss.item()` per step;
- bound: FLOPs / measured GEMM FLOP/s for the same shapes, measured directly: a "GEMM-only
  epoch" runs every product a step needs (forward, BP4, BP2; the fastest of the four transpose
  layouts of each (m, k, n), chosen beforehand) n_steps times with NumPy alone, and is timed
  interleaved with the contenders, so load on a shared machine affects it alike. It is what the
  epoch would cost if it were nothing but GEMMs (no data gathering, no elementwise work).

BLAS is limited to ONE thread (threadpoolctl; `torch.set_num_threads(1)`): two threads are
unreliable on shared 2-core machines. The machine is measured as it is; relevant environment
(OPENBLAS_CORETYPE etc.) is printed with the results. The timing loop and the machine header are
`benchtime.py`'s (shared with `sweep.py`). Output: a table, the targets from issue 2
with met/missed, and one parseable line per case:
`RESULT workload=W1 dtype=float32 batch=128 bpstudio_s=… sklearn_s=… torch_s=… bound_s=…`
(medians), followed on the same line by `…_min_s=` keys (fastest repeat of each).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from benchtime import Timed, fmt, machine_lines, run_interleaved
from threadpoolctl import threadpool_limits

from bpstudio.engine import Network, fit


@dataclass
class Case(Timed):
    workload: str
    n: int
    sizes: list[int]
    hidden: str  # bpstudio name
    task: str  # "classification" | "regression"
    batch: int
    lr: float
    times: dict[str, list[float]] = field(default_factory=dict)
    bound_s: float | None = None

    @property
    def steps(self) -> int:
        return -(-self.n // self.batch)


def make_cases(names: set[str]) -> list[Case]:
    cases: list[Case] = []
    if "W1" in names:
        for b in (32, 128, 1024):
            cases.append(Case("W1", 60_000, [784, 128, 10], "sigmoid", "classification", b, 0.1))
    if "W2" in names:
        cases.append(Case("W2", 1_000, [2, 8, 8, 1], "tanh", "regression", 10, 0.01))
    if "W3" in names:
        cases.append(Case("W3", 20_000, [32, *[64] * 6, 4], "relu", "classification", 64, 0.01))
    return cases


def make_data(case: Case, dtype: np.dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(case.n, case.sizes[0])).astype(dtype)
    if case.task == "classification":
        labels = rng.integers(0, case.sizes[-1], size=case.n)
        Y = np.eye(case.sizes[-1], dtype=dtype)[labels]
    else:
        labels = None
        Y = np.sin(X.sum(axis=1, keepdims=True)).astype(dtype)
    return X, Y, labels


# ---- contenders: each returns a callable that runs ONE epoch ------------------------------------


def bpstudio_runner(case: Case, X, Y, labels, dtype) -> Callable[[], None]:
    output, loss = (
        ("softmax", "cross_entropy") if case.task == "classification" else ("linear", "mse")
    )
    init = "he" if case.hidden == "relu" else "xavier"
    net = Network(
        case.sizes,
        activation=case.hidden,
        output=output,
        loss=loss,
        init=init,
        dtype=np.dtype(dtype).name,
    )
    seed = [0]

    def run() -> None:
        seed[0] += 1
        hist = fit(
            net, X, Y, epochs=1, batch_size=case.batch, optimizer="sgd", lr=case.lr, seed=seed[0]
        )
        if hist.stop_reason != "finished":
            warnings.warn(f"bpstudio {case.workload}: {hist.message}", stacklevel=1)

    return run


def sklearn_runner(case: Case, X, Y, labels, dtype) -> Callable[[], None] | None:
    try:
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    except ImportError:
        return None
    common = dict(
        hidden_layer_sizes=tuple(case.sizes[1:-1]),
        solver="sgd",
        momentum=0.0,
        nesterovs_momentum=False,
        batch_size=case.batch,
        learning_rate_init=case.lr,
        shuffle=True,
        random_state=0,
        alpha=0.0,
    )
    act = {"sigmoid": "logistic"}.get(case.hidden, case.hidden)
    if case.task == "classification":
        model = MLPClassifier(activation=act, **common)
        classes = np.arange(case.sizes[-1])

        def run() -> None:
            model.partial_fit(X, labels, classes=classes)

    else:
        model = MLPRegressor(activation=act, **common)
        y = Y.ravel()

        def run() -> None:
            model.partial_fit(X, y)

    return run


def torch_runner(case: Case, X, Y, labels, dtype) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
    act = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[case.hidden]
    layers: list = []
    for i, (a, b) in enumerate(zip(case.sizes[:-1], case.sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(case.sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers).to(tdtype)
    opt = torch.optim.SGD(model.parameters(), lr=case.lr, momentum=0.0)
    Xt = torch.from_numpy(X)
    if case.task == "classification":
        Yt = torch.from_numpy(labels.astype(np.int64))
        crit = torch.nn.CrossEntropyLoss()
    else:
        Yt = torch.from_numpy(Y)
        crit = torch.nn.MSELoss()
    n, b = case.n, case.batch

    def run() -> None:
        perm = torch.randperm(n)
        for s in range(0, n, b):
            idx = perm[s : s + b]
            xb, yb = Xt[idx], Yt[idx]
            opt.zero_grad(set_to_none=True)
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()

    return run


# ---- the FLOP bound ----------------------------------------------------------------------------


def fastest_gemm(m: int, k: int, n: int, dtype, rng: np.random.Generator):
    """Operands (A, B, C) for C(m×n) = A(m×k) @ B(k×n) in the fastest of the four transpose
    layouts (NumPy matmul, best of a few timings each)."""
    best = (float("inf"), None)
    C = np.empty((m, n), dtype=dtype)
    for ta in (False, True):
        for tb in (False, True):
            A = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
            B = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
            A_, B_ = (A.T if ta else A), (B.T if tb else B)
            np.matmul(A_, B_, out=C)
            reps = max(3, int(1e7 / max(1, 2 * m * k * n)))
            for _ in range(3):
                t = time.perf_counter()
                for _ in range(reps):
                    np.matmul(A_, B_, out=C)
                best = min(
                    best, ((time.perf_counter() - t) / reps, (A_, B_, C)), key=lambda x: x[0]
                )
    return best[1]


def bound_runner(case: Case, dtype) -> tuple[Callable[[], None], float]:
    """A GEMM-only epoch (forward, BP4 and BP2 products of every step, fastest layouts), timed
    like the contenders, so the bound sees the same machine load. Returns (run, FLOPs/epoch)."""
    rng = np.random.default_rng(1)
    full, rest = divmod(case.n, case.batch)
    groups = []
    flops = 0.0
    for nb, count in ((case.batch, full), (rest, 1 if rest else 0)):
        if not count:
            continue
        ops = []
        for i, (a, b) in enumerate(zip(case.sizes[:-1], case.sizes[1:], strict=True)):
            shapes = [(nb, a, b), (a, nb, b)]  # forward Z = A W; BP4 dW = Aᵀ Δ
            if i > 0:
                shapes.append((nb, b, a))  # BP2 Δ W (not needed into the input layer)
            for m, k, n in shapes:
                ops.append(fastest_gemm(m, k, n, dtype, rng))
                flops += 2.0 * m * k * n * count
        groups.append((count, ops))

    def run() -> None:
        matmul = np.matmul
        for count, ops in groups:
            for _ in range(count):
                for A, B, C in ops:
                    matmul(A, B, out=C)

    return run, flops


# ---- main --------------------------------------------------------------------------------------


TARGETS = [
    # (workload, batch, metric, limit, description)
    ("W1", 128, "bound", 1.5, "W1 B=128 ≤ 1.5× bound"),
    ("W1", 128, "sklearn", 0.7, "W1 B=128 ≤ 0.7× sklearn"),
    ("W1", 32, "bound", 2.0, "W1 B=32 ≤ 2.0× bound"),
    ("W1", 32, "sklearn", 0.55, "W1 B=32 ≤ 0.55× sklearn"),
    ("W1", 1024, "bound", 1.7, "W1 B=1024 ≤ 1.7× bound"),
    ("W3", 64, "sklearn", 0.45, "W3 ≤ 0.45× sklearn"),
    ("W2", 10, "step_us", 40.0, "W2 ≤ 40 µs/step"),
    ("W2", 10, "sklearn", 0.2, "W2 ≤ 0.2× sklearn"),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="2 repeats instead of 5 (short cases more)"
    )
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--workloads", default="W1,W2,W3")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-sklearn", action="store_true")
    args = ap.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    budget = 0.5 if args.quick else 1.5
    dtype = np.dtype(args.dtype)
    cases = make_cases(set(args.workloads.split(",")))

    with threadpool_limits(limits=1):
        print("\n".join(machine_lines()))
        print(f"# dtype {dtype.name}, {repeats} repeat(s) after 1 warm-up, medians of one epoch\n")
        for case in cases:
            X, Y, labels = make_data(case, dtype)
            bound_run, flops = bound_runner(case, dtype)
            runners = {"bpstudio": bpstudio_runner(case, X, Y, labels, dtype)}
            if not args.no_sklearn:
                runners["sklearn"] = sklearn_runner(case, X, Y, labels, dtype)
            if not args.no_torch:
                runners["torch"] = torch_runner(case, X, Y, labels, dtype)
            runners["bound"] = bound_run
            runners = {k: v for k, v in runners.items() if v is not None}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)
                # short epochs (W2) get more repeats, so each median rests on ≥ ~1 s of work
                n_rep = run_interleaved(runners, case.times, repeats, budget)
            case.bound_s = case.median("bound")
            bp = case.median("bpstudio")
            sk, to = fmt(case.median("sklearn")), fmt(case.median("torch"))
            rate = flops / case.bound_s / 1e9
            print(
                f"{case.workload} B={case.batch}: bpstudio {fmt(bp)} s "
                f"({bp / case.steps * 1e6:.1f} µs/step), sklearn {sk} s, torch {to} s, "
                f"bound {fmt(case.bound_s)} s ({rate:.1f} GFLOP/s), {n_rep} repeats",
                flush=True,
            )

    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    print()
    head = (
        f"{'case':<10}{'steps':>6}{'bpstudio s':>12}{'µs/step':>9}{'sklearn s':>11}"
        f"{'torch s':>10}{'bound s':>10}{'bp/bound':>9}{'bp/skl':>8}{'bp/torch':>9}"
        f"{'min: bp/bound':>15}{'bp/skl':>8}{'µs/step':>9}"
    )
    print("medians of the repeats; the last three columns use each contender's fastest repeat")
    print("(less sensitive to other processes on a shared machine)")
    print(head)
    print("-" * len(head))
    for c in cases:
        bp, sk, to = c.median("bpstudio"), c.median("sklearn"), c.median("torch")
        bpm, skm, bdm = c.best("bpstudio"), c.best("sklearn"), c.best("bound")
        print(
            f"{c.workload + ' B=' + str(c.batch):<10}{c.steps:>6}{fmt(bp):>12}"
            f"{bp / c.steps * 1e6:>9.1f}{fmt(sk):>11}{fmt(to):>10}{fmt(c.bound_s):>10}"
            f"{fmt(bp / c.bound_s, '.2f'):>9}{fmt(sk and bp / sk, '.2f'):>8}"
            f"{fmt(to and bp / to, '.2f'):>9}"
            f"{fmt(bpm / bdm, '.2f'):>15}{fmt(skm and bpm / skm, '.2f'):>8}"
            f"{bpm / c.steps * 1e6:>9.1f}"
        )
    print()
    print("targets (median; fastest repeat in brackets):")
    for wl, b, metric, limit, text in TARGETS:
        c = next((c for c in cases if c.workload == wl and c.batch == b), None)
        if c is None:
            continue
        values = []
        for pick in (c.median, c.best):
            bp = pick("bpstudio")
            if metric == "step_us":
                values.append(bp / c.steps * 1e6)
            else:
                ref = pick("bound" if metric == "bound" else "sklearn")
                values.append(None if ref is None else bp / ref)
        if values[0] is None:
            print(f"  {text}: not measured")
            continue
        verdicts = ["met" if v <= limit else "MISSED" for v in values]
        print(f"  {text}: {values[0]:.2f} {verdicts[0]} ({values[1]:.2f} {verdicts[1]})")
    for c in cases:
        to = c.median("torch")
        if to is not None:
            bp = c.median("bpstudio")
            verdict = "met" if bp <= to else "MISSED"
            print(
                f"  {c.workload} B={c.batch} not slower than torch eager: {bp / to:.2f} {verdict}"
            )
    print()
    for c in cases:
        print(
            f"RESULT workload={c.workload} dtype={dtype.name} batch={c.batch} "
            f"bpstudio_s={fmt(c.median('bpstudio'), '.5f')} "
            f"sklearn_s={fmt(c.median('sklearn'), '.5f')} "
            f"torch_s={fmt(c.median('torch'), '.5f')} bound_s={fmt(c.bound_s, '.5f')} "
            f"bpstudio_min_s={fmt(c.best('bpstudio'), '.5f')} "
            f"sklearn_min_s={fmt(c.best('sklearn'), '.5f')} "
            f"torch_min_s={fmt(c.best('torch'), '.5f')} bound_min_s={fmt(c.best('bound'), '.5f')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
