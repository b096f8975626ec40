"""Synthetic runs of a given size, for memory tests and the project-file benchmark.

``synthetic_run(session, sizes, epochs, steps_per_epoch)`` adds a run whose history, checkpoints
and final weights have the sizes a real run of that network and length would have (random
numbers, recorded through the same ``RunHistory`` / ``CheckpointStore`` calls the window and the
CLI use, in epoch-sized chunks as the window receives them), without spending the minutes of
training. Leaves out: anything a test would check for numerical meaning.
"""

from __future__ import annotations

import numpy as np

from bpstudio.engine import FitConfig
from bpstudio.session.run import Run, RunStatus
from bpstudio.session.session import Session


def synthetic_run(
    session: Session,
    sizes: list[int],
    epochs: int,
    steps_per_epoch: int,
    *,
    grad_every: int = 1,
    chunk_epochs: int = 1,
    dtype: str = "float64",
    seed: int = 0,
) -> Run:
    rng = np.random.default_rng(seed)
    config = {
        "sizes": list(sizes),
        "activations": ["sigmoid"] * (len(sizes) - 2),
        "output": "softmax",
        "loss": "cross_entropy",
        "init": "xavier",
        "seed": seed,
        "dtype": dtype,
    }
    run = session.new_run(config, FitConfig(epochs=epochs), task="classification")
    params = {}
    for l in range(2, len(sizes) + 1):
        params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l - 2])).astype(dtype)
        params[f"b{l}"] = rng.standard_normal(sizes[l - 1]).astype(dtype)
    names = list(params)
    h = run.history
    step = 0
    for epoch in range(1, epochs + 1):
        if (epoch - 1) % chunk_epochs == 0:  # steps arrive in chunks, as Progress messages do
            n = steps_per_epoch * min(chunk_epochs, epochs - epoch + 1)
            steps = np.arange(step + 1, step + n + 1)
            gsteps = steps[::grad_every]
            h.record_steps(
                steps,
                rng.random(steps.size),
                0.1,
                gsteps,
                {name: rng.random(gsteps.size) for name in names},
            )
        step += steps_per_epoch
        loss = float(rng.random())
        h.record_epoch(
            epoch,
            step=step,
            seconds=epoch * 1.5,
            train_loss=loss,
            val_loss=loss * 1.1,
            train_accuracy=0.9,
            val_accuracy=0.85,
            lr=0.1,
        )
        for a in params.values():
            a += 1e-3
        run.checkpoints.offer(epoch, step, params, loss)
    run.params = {k: v.copy() for k, v in params.items()}
    run.epochs, run.steps, run.status = epochs, step, RunStatus.ENDED
    return run


__all__ = ["synthetic_run"]
