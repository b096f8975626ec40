"""A request for several nets: the child trains them with fit_many, each variant's messages
tagged with its index, the last Finished ends the request, numbers as `fit` alone gives."""

from __future__ import annotations

import numpy as np

from bpstudio.engine import FitConfig, Network, fit
from bpstudio.engine.remote import Finished, Progress, RemoteTrainer, RunRequest, Variant


def test_several_nets_in_one_request_train_as_fit_would():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    base = Network([2, 6, 1], activation="tanh", seed=1)
    variants = [
        Variant(base.config(), base.get_params(), FitConfig(lr=lr, epochs=3, batch_size=10))
        for lr in (0.01, 0.3)
    ]
    t = RemoteTrainer()
    try:
        t.wait_ready()
        req = RunRequest(base.config(), base.get_params(), FitConfig(), "k", X=X, Y=Y)
        req.variants = variants
        run_id = t.run(req)
        steps = {0: [], 1: []}
        done: dict[int, Finished] = {}
        while True:
            msg = t.recv(10.0)
            assert msg is not None, "no message from the child"
            if isinstance(msg, Progress):
                assert msg.run_id == run_id and msg.variant in (0, 1)
                steps[msg.variant].extend(msg.steps.tolist())
            elif isinstance(msg, Finished):
                done[msg.variant] = msg
                assert t.run_id == (None if msg.last else run_id)
                if msg.last:
                    break
        assert sorted(done) == [0, 1] and done[1].last and not done[0].last
        for k, v in enumerate(variants):
            assert steps[k] == list(range(1, 37))  # 3 epochs of 12 batches, every step
            net = Network.from_config(v.net_config, v.params)
            fit(net, X, Y, config=v.fit)
            for name, value in net.get_params().items():
                np.testing.assert_allclose(done[k].params[name], value, rtol=0, atol=1e-12)
    finally:
        t.close()


def test_fit_many_keeps_no_steps_for_a_streaming_caller():
    from bpstudio.engine import FitControl, fit_many

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    Y = (X[:, :1] > 0).astype(float)
    base = Network([2, 4, 1], activation="tanh", seed=2)
    out = {}
    for keep in (True, False):
        nets = [base.copy(), base.copy()]
        control = FitControl()
        control.keep_steps = keep
        hists = fit_many(
            nets, X, Y, [{"lr": 0.1}, {"lr": 0.5}], epochs=2, batch_size=10,
            grad_norm_every=1, control=control,
        )  # fmt: skip
        out[keep] = (hists, [n.get_params() for n in nets])
    kept, streamed = out[True][0], out[False][0]
    assert all(len(h.step_loss) == 12 and len(h.grad_norms) == 12 for h in kept)
    assert all(h.step_loss == [] and h.grad_norms == [] for h in streamed)
    for a, b in zip(out[True][1], out[False][1], strict=True):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_a_variant_that_diverges_is_finished_at_once_while_the_others_train_on():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 10
    Y = X @ np.array([[1.0], [2.0], [-1.0]])
    base = Network([3, 8, 1], activation="relu", output="linear", loss="mse", seed=1)
    lrs = (1e-4, 1e6, 1e-3)
    variants = [
        Variant(base.config(), base.get_params(), FitConfig(lr=lr, epochs=20, batch_size=8))
        for lr in lrs
    ]
    t = RemoteTrainer()
    try:
        t.wait_ready()
        req = RunRequest(base.config(), base.get_params(), FitConfig(), "d", X=X, Y=Y)
        req.variants = variants
        t.run(req)
        order: list[tuple[str, int, bool]] = []  # (kind, variant, last) as they arrive
        done: dict[int, Finished] = {}
        while True:
            msg = t.recv(10.0)
            assert msg is not None, "no message from the child"
            if isinstance(msg, Progress) and len(msg.steps):
                order.append(("progress", msg.variant, False))
            elif isinstance(msg, Finished):
                order.append(("finished", msg.variant, msg.last))
                done[msg.variant] = msg
                if msg.last:
                    break
        finished = [(v, last) for kind, v, last in order if kind == "finished"]
        assert finished[0] == (1, False)  # the diverged variant first, not the request's end
        assert [last for _, last in finished] == [False, False, True]
        i = order.index(("finished", 1, False))
        assert ("progress", 0, False) in order[i:]  # the others' steps kept coming after it
        assert done[1].stop_reason == "diverged" and "diverged at epoch 1, step" in done[1].message
        net = Network.from_config(variants[1].net_config, variants[1].params)
        ref = fit(net, X, Y, config=variants[1].fit)
        assert (
            done[1].steps == ref.steps
            and done[1].message.split(":")[0] == ref.message.split(":")[0]
        )
        for name, value in net.get_params().items():
            np.testing.assert_allclose(done[1].params[name], value, rtol=0, atol=1e-12)
        assert done[0].stop_reason == done[2].stop_reason == "finished"
    finally:
        t.close()
