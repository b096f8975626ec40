"""A run recorded from the real training child's messages (the window's path), compared with the
same fit run in this process through ``FitRecorder`` (the CLI's path)."""

from __future__ import annotations

import time

import numpy as np

from bpstudio.engine import FitConfig, Network, fit
from bpstudio.engine.remote import Failed, Finished, Progress, RemoteTrainer, RunRequest
from bpstudio.session import RunStatus, Session


def test_progress_from_the_child_makes_the_same_run_as_fit_here() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 2))
    Y = np.eye(2)[((X[:, 0] * X[:, 1]) > 0).astype(int)]
    Xv, Yv = X[:30], Y[:30]
    cfg = FitConfig(epochs=6, batch_size=10, lr=0.3)
    net = Network([2, 6, 2], "tanh", "softmax", "cross_entropy", seed=1)
    session = Session()
    remote_run = session.new_run(net.config(), cfg, task="classification")
    trainer = RemoteTrainer()
    try:
        trainer.run(RunRequest(net.config(), net.get_params(), cfg, "k", X, Y, Xv, Yv))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = trainer.recv(0.5)
            if isinstance(msg, Progress):
                remote_run.record_progress(msg)
            elif isinstance(msg, Failed):
                raise AssertionError(msg.traceback)
            elif isinstance(msg, Finished):
                remote_run.finish_from(msg)
                break
    finally:
        trainer.close()
    assert remote_run.status is RunStatus.ENDED and remote_run.stop_reason == "finished"

    local_net = Network([2, 6, 2], "tanh", "softmax", "cross_entropy", seed=1)
    local_run = session.new_run(local_net.config(), cfg, task="classification")
    rec = local_run.recorder(local_net)
    # the child measures gradient norms at an adaptive rate; here every step
    rec.finish(
        fit(local_net, X, Y, X_val=Xv, Y_val=Yv, config=cfg, callback=rec, grad_norm_every=1)
    )

    a, b = remote_run.history, local_run.history
    assert a.n_steps == b.n_steps == 6 * 12
    assert np.array_equal(a.loss.y_last, b.loss.y_last)  # the same mini-batch losses
    for name in ("step", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"):
        assert np.array_equal(a.epoch_values(name), b.epoch_values(name)), name
    for k, v in local_run.params.items():
        assert np.array_equal(remote_run.params[k], v)
    assert set(a.grad_norms) == set(b.grad_norms) == {"W2", "b2", "W3", "b3"}
    assert len(remote_run.checkpoints) >= 1
    seconds = a.epoch_values("seconds")  # the child's training time at each epoch's end
    assert np.all(seconds > 0) and np.all(np.diff(seconds) > 0)
