"""fit(control.keep_steps=False) keeps no per-step history (the training child streams it), so
an until-stopped run does not grow without bound; the callback still sees every step."""

from __future__ import annotations

import numpy as np

from bpstudio.engine import Network, fit
from bpstudio.engine.training import FitControl, StepEvent


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = np.eye(2)[(X[:, 0] > 0).astype(int)]
    return X, Y


def test_keep_steps_off_streams_without_keeping() -> None:
    X, Y = _data()
    seen: list[StepEvent] = []
    control = FitControl(grad_norm_every=1)
    control.keep_steps = False
    net = Network([2, 4, 2], output="softmax", loss="cross_entropy", seed=0)
    hist = fit(net, X, Y, control=control, callback=lambda ev: isinstance(ev, StepEvent)
               and seen.append(ev), epochs=3, batch_size=10)  # fmt: skip
    assert hist.steps == 12 and len(hist.epoch_train_loss) == 3  # per epoch: kept
    assert hist.step_loss == [] and hist.grad_norms == []  # per step: not kept
    assert len(seen) == 12 and all(ev.grad_norms for ev in seen)

    kept = fit(Network([2, 4, 2], output="softmax", loss="cross_entropy", seed=0), X, Y,
               control=FitControl(grad_norm_every=1), epochs=3, batch_size=10)  # fmt: skip
    assert len(kept.step_loss) == 12 and len(kept.grad_norms) == 12  # the default keeps them
    np.testing.assert_allclose(kept.step_loss, [ev.loss for ev in seen])
