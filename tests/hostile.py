"""Helpers shared by the hostile-input tests: a small trained model in each format, the CLI run
in-process (captured) or as a real subprocess."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bpstudio.cli import main
from bpstudio.data import DatasetOptions, load_table, prepare
from bpstudio.engine import Network, fit
from bpstudio.io import save_model

REPO = Path(__file__).resolve().parents[1]


def flowers_csv(path: Path, rows_per_class: int = 20) -> Path:
    """Three separable classes with text labels and two numeric features."""
    rng = np.random.default_rng(1)
    rows = []
    for k, name in enumerate(["setosa", "versicolor", "virginica"]):
        for _ in range(rows_per_class):
            x1, x2 = rng.normal(loc=(3.0 * k, -2.0 * k), scale=0.4)
            rows.append({"sepal": round(x1, 3), "petal": round(x2, 3), "species": name})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def small_model(folder: Path, suffix: str = ".npz", dtype: str = "float64") -> Path:
    """A 2-4-3 classifier trained for a few epochs, saved as ``folder/model<suffix>``."""
    csv = flowers_csv(folder / "flowers.csv")
    ds = prepare(load_table(csv), DatasetOptions(val_fraction=0.0))
    net = Network([ds.n_inputs, 4, ds.n_outputs], activation="tanh", output="softmax",
                  loss="cross_entropy", seed=0, dtype=dtype)  # fmt: skip
    fit(net, ds.X_train, ds.Y_train, epochs=3, lr=0.1)
    path = folder / f"model{suffix}"
    save_model(path, net, ds.preprocessor, extra={"feature_names": ds.feature_names})
    return path


def run_inprocess(*argv: object) -> tuple[int, str, str]:
    """``bpstudio ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def run_subprocess(*argv: object, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    """``python -m bpstudio ARGV`` as a real process (stdin closed, output captured)."""
    env = {**os.environ, "PYTHONWARNINGS": "default"}  # warnings would show, if any leaked
    return subprocess.run(
        [sys.executable, "-m", "bpstudio", *map(str, argv)],
        capture_output=True, text=True, cwd=REPO, timeout=timeout, env=env,
        stdin=subprocess.DEVNULL, **kw,
    )  # fmt: skip


def assert_one_line_refusal(code: int, err: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bpstudio: error: ")
    assert "Traceback" not in err and "Warning" not in err
    assert "\x1b" not in err and len(err) < 600
