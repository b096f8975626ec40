"""Helpers shared by the session tests: a small trained session, and exact comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np

from bpstudio.data import DatasetOptions, load_table, prepare
from bpstudio.engine import FitConfig, Network, fit
from bpstudio.session import DatasetRef, Run, Session


def train_run(
    session: Session,
    *,
    hidden: tuple[int, ...] = (8, 8),
    epochs: int = 12,
    lr: float = 0.05,
    name: str | None = None,
    patience: int | None = None,
) -> Run:
    """Train one run on builtin:xor (200 rows) through ``FitRecorder`` and add it."""
    ds = prepare(load_table("builtin:xor", n_samples=200), DatasetOptions(seed=1))
    net = Network([ds.n_inputs, *hidden, ds.n_outputs], "tanh", "softmax", "cross_entropy")
    cfg = FitConfig(
        epochs=epochs, batch_size=16, optimizer="adam", lr=lr, grad_norm_every=1, patience=patience
    )
    run = session.new_run(net.config(), cfg, name=name, task=ds.task)
    rec = run.recorder(net)
    hist = fit(
        net, ds.X_train, ds.Y_train, X_val=ds.X_val, Y_val=ds.Y_val, config=cfg, callback=rec
    )
    rec.finish(hist)
    return run


def xor_session() -> Session:
    return Session(DatasetRef.builtin("xor", {"n_samples": 200}, DatasetOptions(seed=1)))


def assert_same_arrays(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype, key
        assert x.shape == y.shape, key
        assert x.tobytes() == y.tobytes(), key  # bit-exact, NaN included
