"""`fit_many` against separate `fit` calls: every optimiser, activation and output/loss pair,
per-run α, seeds, L2 and schedules, independent divergence and early stopping, callbacks and
control, and the grouping of runs that can't share a kernel. float64 runs must agree to 1e-6."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from bpstudio.engine import (
    HIDDEN_ACTIVATIONS,
    OPTIMIZERS,
    OUTPUT_ACTIVATIONS,
    EngineError,
    EpochEvent,
    FitControl,
    History,
    Network,
    StepEvent,
    compatible_losses,
    fit,
    fit_many,
)
from bpstudio.engine import many as many_mod

TOL = 1e-6


def data(n: int = 47, k: int = 3, kind: str = "classes", seed: int = 0, n_in: int = 2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    if kind == "classes":
        Y = np.eye(k)[rng.integers(0, k, size=n)]
    elif kind == "binary":
        Y = rng.integers(0, 2, size=(n, k)).astype(float)
    elif kind == "soft":  # rows not one-hot: softmax + cross-entropy takes the general BP1 form
        Y = rng.uniform(0.0, 1.0, size=(n, k))
    elif kind == "unit":  # targets in (0, 1) or (-1, 1) for sigmoid / tanh outputs
        Y = rng.uniform(0.05, 0.95, size=(n, k))
    else:
        Y = np.sin(X @ rng.normal(size=(n_in, k)))
    return X, Y


def _timeless(message: str) -> str:
    return re.sub(r"in \d+\.\d+ s", "in _ s", message)


def assert_same(h: History, ref: History, net: Network, ref_net: Network) -> None:
    """The history and weights `fit_many` gave one run equal what `fit` gave it alone."""
    assert h.stop_reason == ref.stop_reason, (h.message, ref.message)
    assert (h.epochs, h.steps, h.best_epoch) == (ref.epochs, ref.steps, ref.best_epoch)
    assert _timeless(h.message) == _timeless(ref.message)
    np.testing.assert_allclose(h.step_loss, ref.step_loss, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(h.epoch_train_loss, ref.epoch_train_loss, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(h.epoch_lr, ref.epoch_lr, rtol=1e-12)
    for got, want in (
        (h.epoch_val_loss, ref.epoch_val_loss),
        (h.epoch_train_accuracy, ref.epoch_train_accuracy),
        (h.epoch_val_accuracy, ref.epoch_val_accuracy),
    ):
        assert [v is None for v in got] == [v is None for v in want]
        np.testing.assert_allclose(
            [v for v in got if v is not None], [v for v in want if v is not None], atol=TOL
        )
    assert [s for s, _ in h.grad_norms] == [s for s, _ in ref.grad_norms]
    for (_, a), (_, b) in zip(h.grad_norms, ref.grad_norms, strict=True):
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=TOL, atol=TOL)
    for name, value in ref_net.params.items():
        np.testing.assert_allclose(net.params[name], value, rtol=TOL, atol=TOL, err_msg=name)
    assert all(np.all(np.isfinite(v)) for v in net.params.values())


def compare(
    make_net,
    configs: list[dict[str, Any]],
    X: np.ndarray,
    Y: np.ndarray,
    **shared: Any,
) -> list[History]:
    """Train the runs with fit_many and one by one with fit; assert they agree."""
    nets = [make_net(i) for i in range(len(configs))]
    refs = [net.copy() for net in nets]
    hists = fit_many(nets, X, Y, configs, **shared)
    assert len(hists) == len(configs)
    for net, ref_net, conf, h in zip(nets, refs, configs, hists, strict=True):
        ref = fit(ref_net, X, Y, **{**shared, **conf})  # a config overrides shared options
        assert_same(h, ref, net, ref_net)
    return hists


def spy_fit(monkeypatch) -> list[Network]:
    """Record which nets fit_many hands to plain `fit` (groups of one)."""
    alone: list[Network] = []
    real = many_mod.fit

    def spy(net, *args, **kwargs):
        alone.append(net)
        return real(net, *args, **kwargs)

    monkeypatch.setattr(many_mod, "fit", spy)
    return alone


# ---------------------------------------------------------------------------- the equalities


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_with_per_run_lr_seed_l2_and_schedule(optimizer, monkeypatch) -> None:
    alone = spy_fit(monkeypatch)
    X, Y = data()
    Xv, Yv = data(n=19, seed=5)
    lr = {"sgd": 0.3, "momentum": 0.05, "adam": 0.01}[optimizer]
    configs = [
        {"lr": lr},
        {"lr": lr * 3, "seed": 4, "weight_decay": 0.01},
        {"lr": lr / 2, "schedule": "step", "step_size": 2, "gamma": 0.5},
        {"lr": lr, "seed": 7, "schedule": "exponential", "gamma": 0.8, "weight_decay": 0.1},
    ]
    compare(
        lambda i: Network([2, 5, 4, 3], activation="tanh", output="softmax",
                          loss="cross_entropy", seed=i),
        configs, X, Y, X_val=Xv, Y_val=Yv, epochs=5, batch_size=8, optimizer=optimizer,
        nesterov=optimizer == "momentum", grad_norm_every=3,
    )  # fmt: skip
    assert alone == []  # all four trained together


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_every_hidden_activation(activation) -> None:
    X, Y = data(kind="values", k=2)
    configs = [{"lr": 0.02}, {"lr": 0.05, "seed": 1}, {"lr": 0.1, "weight_decay": 0.01}]
    compare(
        lambda i: Network([2, 6, 5, 2], activation=activation, output="linear", loss="mse",
                          init="he", seed=i),
        configs, X, Y, epochs=4, batch_size=10, optimizer="momentum",
    )  # fmt: skip


@pytest.mark.parametrize("augment", [True, False])
@pytest.mark.parametrize("same_seed", [True, False])
def test_relu_stack_with_shared_and_per_run_data(augment, same_seed, monkeypatch) -> None:
    """The W3 shape in small: relu layers of several widths (one zeros buffer per shape, two batch
    lengths), softmax + cross-entropy; one shared copy of the data (same seed) or one per run."""
    if not augment:
        monkeypatch.setattr(many_mod, "use_augmented", lambda sizes, batch: False)
    X, Y = data(n=47, k=3, n_in=5)
    seeds = [0, 0, 0] if same_seed else [0, 1, 2]
    configs = [{"lr": lr, "seed": s} for lr, s in zip((0.01, 0.03, 0.1), seeds, strict=True)]
    hists = compare(
        lambda i: Network([5, 8, 6, 8, 3], activation="relu", output="softmax",
                          loss="cross_entropy", init="he", seed=i),
        configs, X, Y, epochs=3, batch_size=8, optimizer="sgd",
    )  # fmt: skip
    assert all(h.steps == 3 * 6 for h in hists)  # 47 rows: 5 batches of 8 and one of 7


def _pairs() -> list[tuple[str, str, str]]:
    out = []
    for output in OUTPUT_ACTIVATIONS:
        for loss in compatible_losses(output):
            kinds = {"softmax": ["classes"], "sigmoid": ["binary"], "tanh": ["unit"]}
            kind = kinds.get(output, ["values"])
            if output == "softmax" and loss == "cross_entropy":
                kind = ["classes", "soft"]  # the matched shortcut and the general form
            if output == "sigmoid" and loss == "mse":
                kind = ["unit"]
            out += [(output, loss, kd) for kd in kind]
    return out


@pytest.mark.parametrize("augment", [True, False])
@pytest.mark.parametrize(("output", "loss", "kind"), _pairs())
def test_every_output_and_loss_pair(output, loss, kind, augment, monkeypatch) -> None:
    if not augment:  # the kernel with separate bias vectors (large layers)
        monkeypatch.setattr(many_mod, "use_augmented", lambda sizes, batch: False)
    X, Y = data(kind=kind, k=3)
    Xv, Yv = data(n=15, kind=kind, k=3, seed=9)
    configs = [{"lr": 0.05}, {"lr": 0.2, "seed": 3}, {"lr": 0.1, "weight_decay": 0.02}]
    compare(
        lambda i: Network([2, 4, 3], activation="sigmoid", output=output, loss=loss, seed=i),
        configs, X, Y, X_val=Xv, Y_val=Yv, epochs=3, batch_size=9, optimizer="adam",
    )  # fmt: skip


def test_gather_mode_for_large_data(monkeypatch) -> None:
    """Above the permute threshold each step gathers its rows, per run when seeds differ."""
    monkeypatch.setattr(many_mod, "_PERMUTE_BYTES", 0)
    X, Y = data(n=40)
    for seeds in ([0, 0, 0], [0, 1, 2]):
        configs = [{"lr": 0.1 * (i + 1), "seed": s} for i, s in enumerate(seeds)]
        compare(
            lambda i: Network([2, 7, 3], activation="elu", output="softmax",
                              loss="cross_entropy", seed=2),
            configs, X, Y, epochs=3, batch_size=10,
        )  # fmt: skip


def test_uneven_last_batch_no_shuffle_and_alpha_zero() -> None:
    X, Y = data(n=23)
    configs = [{"lr": 0.0}, {"lr": 0.3, "shuffle": False}, {"lr": 0.3, "seed": 2}]
    compare(
        lambda i: Network([2, 4, 3], output="softmax", loss="cross_entropy", seed=i),
        configs, X, Y, epochs=3, batch_size=10, grad_norm_every=1,
    )  # fmt: skip


# --------------------------------------------------------------------- runs stop on their own


@pytest.mark.parametrize(("gather", "seeds"), [(False, False), (True, False), (True, True)])
def test_diverging_runs_stop_alone_and_the_others_go_on(gather, seeds, monkeypatch) -> None:
    if gather:  # each step gathers its rows; the leaving runs' buffers are compacted mid-epoch
        monkeypatch.setattr(many_mod, "_PERMUTE_BYTES", 0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 10
    Y = X @ np.array([[1.0], [2.0], [-1.0]])
    # 1e308: the update itself overflows, so that run's weights go back to its epoch start
    configs = [{"lr": 1e-4}, {"lr": 1e6}, {"lr": 1e-3}, {"lr": 1e308}, {"lr": 30.0}]
    if seeds:  # every run its own shuffle: per-run data
        configs = [{**c, "seed": i} for i, c in enumerate(configs)]
    hists = compare(
        lambda i: Network([3, 8, 1], activation="relu", output="linear", loss="mse", seed=1),
        configs, X, Y, epochs=20, batch_size=8,
    )  # fmt: skip
    reasons = [h.stop_reason for h in hists]
    assert reasons[0] == reasons[2] == "finished"
    assert reasons[1] == reasons[3] == "diverged"
    assert hists[0].epochs == 20 and hists[1].epochs < 20
    assert "kept at their last finite values" in hists[1].message
    assert "reset to their (finite) values at the start of epoch" in hists[3].message


def test_early_stopping_per_run_restores_each_runs_best_weights() -> None:
    X, Y = data(n=40, kind="values", k=1)
    Xv, Yv = data(n=40, kind="values", k=1, seed=1)
    Y = Y + 0.3 * np.random.default_rng(2).normal(size=Y.shape)  # noise to overfit
    configs = [
        {"lr": 0.01, "patience": 3},
        {"lr": 0.03, "patience": 2, "seed": 1},
        {"lr": 0.003},
        {"lr": 0.02, "patience": 10, "epochs": 7},  # finishes, then restores its best
    ]
    hists = compare(
        lambda i: Network([2, 32, 32, 1], activation="tanh", output="linear", loss="mse", seed=i),
        configs, X, Y, X_val=Xv, Y_val=Yv, epochs=60, batch_size=8, optimizer="adam",
    )  # fmt: skip
    assert "early_stopped" in [h.stop_reason for h in hists]
    assert hists[2].epochs == 60 and hists[3].epochs == 7
    assert len({h.epochs for h in hists}) > 1  # they did stop at different epochs


def test_different_epoch_counts_and_zero_epochs() -> None:
    X, Y = data()
    compare(
        lambda i: Network([2, 5, 3], output="softmax", loss="cross_entropy", seed=i),
        [{"epochs": 0}, {"epochs": 2}, {"epochs": 5, "lr": 0.5}], X, Y, batch_size=16,
    )  # fmt: skip


# -------------------------------------------------------------------------- callbacks, control


def _record(events: list, net: Network):
    def callback(event: StepEvent | EpochEvent) -> None:
        fields = (
            (event.epoch, event.step, event.batch, event.loss, event.lr)
            if isinstance(event, StepEvent)
            else (event.epoch, event.step, event.train_loss, event.val_loss, event.lr)
        )
        events.append((type(event).__name__, fields, net.params["W2"].copy()))

    return callback


def test_callbacks_see_what_fit_shows_them_and_control_stops_one_run() -> None:
    X, Y = data(n=30)
    Xv, Yv = data(n=10, seed=4)
    make = lambda i: Network([2, 5, 3], output="softmax", loss="cross_entropy", seed=i)  # noqa: E731
    nets = [make(i) for i in range(3)]
    refs = [net.copy() for net in nets]
    stopper = FitControl()
    slower = FitControl()

    def control_for(events):
        def cb(event):
            if isinstance(event, StepEvent) and event.step == 7:
                stopper.request_stop()
            if isinstance(event, StepEvent) and event.step == 4:
                slower.set_lr(0.01)

        return cb

    got: list[list] = [[], [], []]
    want: list[list] = [[], [], []]

    def both(first, second):
        return lambda event: (first(event), second(event))

    configs = [
        {"callback": _record(got[0], nets[0])},
        {"callback": both(_record(got[1], nets[1]), control_for(got[1])), "control": stopper},
        {"callback": both(_record(got[2], nets[2]), control_for(got[2])), "control": slower},
    ]
    hists = fit_many(nets, X, Y, configs, X_val=Xv, Y_val=Yv, epochs=4, batch_size=7, lr=0.3)
    assert hists[1].stop_reason == "stopped" and hists[0].stop_reason == "finished"
    stopper.stop_requested = False
    ref_controls = [None, FitControl(), FitControl()]
    stopper_ref, slower_ref = ref_controls[1], ref_controls[2]
    for i, (net, h) in enumerate(zip(refs, hists, strict=True)):

        def cb(event, i=i, net=net):
            _record(want[i], net)(event)
            if i == 1 and isinstance(event, StepEvent) and event.step == 7:
                stopper_ref.request_stop()
            if i == 2 and isinstance(event, StepEvent) and event.step == 4:
                slower_ref.set_lr(0.01)

        ref = fit(
            net, X, Y, X_val=Xv, Y_val=Yv, epochs=4, batch_size=7, lr=0.3, callback=cb,
            control=ref_controls[i],
        )  # fmt: skip
        assert_same(h, ref, nets[i], net)
        assert [(kind, f[:2]) for kind, f, _ in got[i]] == [(k, f[:2]) for k, f, _ in want[i]]
        for (_, f, w), (_, f_ref, w_ref) in zip(got[i], want[i], strict=True):
            np.testing.assert_allclose(
                [x for x in f if x is not None], [x for x in f_ref if x is not None], rtol=TOL
            )
            np.testing.assert_allclose(w, w_ref, rtol=TOL, atol=TOL)  # weights live at the call
    assert hists[2].epoch_lr[-1] == 0.01


def test_a_shared_control_stops_every_run() -> None:
    X, Y = data(n=30)
    control = FitControl()
    calls = []

    def cb(event):
        calls.append(event)
        if isinstance(event, StepEvent) and event.step == 5:
            control.request_stop()

    nets = [Network([2, 4, 3], output="softmax", loss="cross_entropy", seed=i) for i in range(3)]
    hists = fit_many(nets, X, Y, [{}, {"lr": 0.2}, {"lr": 0.3}], control=control, callback=cb,
                     epochs=10, batch_size=4)  # fmt: skip
    assert [h.stop_reason for h in hists] == ["stopped"] * 3
    assert [h.steps for h in hists] == [5, 5, 5]  # each stops after the step that asked


# ------------------------------------------------------------------------------------ grouping


def test_mixed_shapes_batch_sizes_and_optimisers_group_and_keep_their_order(monkeypatch) -> None:
    alone = spy_fit(monkeypatch)
    X, Y = data(n=50)
    specs = [
        ([2, 6, 3], "tanh", {"lr": 0.1}),
        ([2, 9, 3], "tanh", {"lr": 0.1}),  # another width: its own group
        ([2, 6, 3], "tanh", {"lr": 0.3, "seed": 5}),
        ([2, 6, 3], "relu", {"lr": 0.1}),  # another activation, alone
        ([2, 6, 3], "tanh", {"lr": 0.1, "batch_size": 5}),  # another batch size, alone
        ([2, 9, 3], "tanh", {"lr": 0.05, "optimizer": "adam"}),  # another optimiser, alone
        ([2, 9, 3], "tanh", {"lr": 0.2}),
    ]
    nets = [Network(s, activation=a, output="softmax", loss="cross_entropy") for s, a, _ in specs]
    refs = [net.copy() for net in nets]
    configs = [c for _, _, c in specs]
    hists = fit_many(nets, X, Y, configs, epochs=3, batch_size=10)
    assert {id(n) for n in alone} == {id(nets[3]), id(nets[4]), id(nets[5])}
    for net, ref_net, conf, h in zip(nets, refs, configs, hists, strict=True):
        assert_same(h, fit(ref_net, X, Y, **{"epochs": 3, "batch_size": 10, **conf}), net, ref_net)


def test_float32_runs_agree_with_fit_closely() -> None:
    X, Y = data()
    nets = [Network([2, 8, 3], output="softmax", loss="cross_entropy", seed=i,
                    dtype="float32") for i in range(3)]  # fmt: skip
    refs = [net.copy() for net in nets]
    configs = [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.4, "seed": 3}]
    hists = fit_many(nets, X, Y, configs, epochs=3, batch_size=8)
    for net, ref_net, conf, h in zip(nets, refs, configs, hists, strict=True):
        ref = fit(ref_net, X, Y, epochs=3, batch_size=8, **conf)
        np.testing.assert_allclose(h.step_loss, ref.step_loss, rtol=1e-4)
        np.testing.assert_allclose(net.params["W2"], ref_net.params["W2"], rtol=1e-4, atol=1e-5)
        assert net.params["W2"].dtype == np.float32


def test_bad_calls_say_what_to_do() -> None:
    X, Y = data()
    net = Network([2, 3, 3], output="softmax", loss="cross_entropy")
    with pytest.raises(EngineError, match="one config per network"):
        fit_many([net, net.copy()], X, Y, [{}])
    with pytest.raises(EngineError, match="listed twice"):
        fit_many([net, net], X, Y)
    with pytest.raises(EngineError, match="Run 2: .*learning rate"):
        fit_many([net, net.copy()], X, Y, [{}, {"lr": -1.0}])
    with pytest.raises(EngineError, match="Run 1: unknown fit option"):
        fit_many([net, net.copy()], X, Y, [{"learning_rate": 0.1}, {}])
    with pytest.raises(EngineError, match="Unknown fit option"):
        fit_many([net, net.copy()], X, Y, [{}, {}], epoch=3)
    with pytest.raises(EngineError, match="X must have shape"):
        fit_many([net, net.copy()], X[:, :1], Y)
    assert fit_many([], X, Y) == []


@pytest.mark.parametrize("storage", ["float64", "float32"])  # float32 nets train in float64
def test_a_callback_may_change_the_weights_as_with_fit(storage) -> None:
    """fit trains net._theta in place, so a callback's edit takes effect; so it must here."""
    X, Y = data(n=30)
    make = lambda i: Network([2, 4, 3], output="softmax", loss="cross_entropy", seed=i,  # noqa: E731
                             dtype=storage)  # fmt: skip

    def editor(net):
        def cb(event):
            if isinstance(event, StepEvent) and event.step == 3:
                net.params["W2"][...] *= 0.5

        return cb

    nets = [make(i) for i in range(3)]
    refs = [net.copy() for net in nets]
    configs = [{"lr": 0.1 * (i + 1), "callback": editor(net)} for i, net in enumerate(nets)]
    hists = fit_many(nets, X, Y, configs, epochs=3, batch_size=8, dtype="float64")
    for i, (net, ref_net, h) in enumerate(zip(nets, refs, hists, strict=True)):
        ref = fit(ref_net, X, Y, epochs=3, batch_size=8, dtype="float64", lr=0.1 * (i + 1),
                  callback=editor(ref_net))  # fmt: skip
        tol = 1e-6 if storage == "float64" else 1e-5
        np.testing.assert_allclose(h.step_loss, ref.step_loss, rtol=tol)
        np.testing.assert_allclose(net.params["W2"], ref_net.params["W2"], rtol=tol, atol=tol)
        assert net._theta.dtype == np.dtype(storage)
    # afterwards every net owns its weights again
    assert not any(np.shares_memory(a._theta, b._theta) for a in nets for b in nets if a is not b)
    assert all(net._theta.base is None for net in nets)


def test_an_error_in_a_callback_propagates_and_every_net_keeps_its_weights() -> None:
    X, Y = data(n=30)
    nets = [Network([2, 4, 3], output="softmax", loss="cross_entropy", seed=i) for i in range(3)]
    seen = {}

    def boom(event):
        if isinstance(event, StepEvent) and event.step == 4:
            seen["W2"] = nets[1].params["W2"].copy()
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        fit_many(nets, X, Y, [{}, {"callback": boom}, {"lr": 0.3}], epochs=3, batch_size=8)
    np.testing.assert_array_equal(nets[1].params["W2"], seen["W2"])  # the weights of that step
    assert not any(np.shares_memory(a._theta, b._theta) for a in nets for b in nets if a is not b)
    assert all(net._theta.base is None for net in nets)


def test_optimiser_settings_other_than_alpha_split_groups(monkeypatch) -> None:
    """μ, Nesterov and Adam's β/ε live in the shared optimiser: runs differing in them can't
    share a kernel (α, L2, seeds and schedules can)."""
    alone = spy_fit(monkeypatch)
    X, Y = data(n=30)
    configs = [
        {"optimizer": "momentum", "momentum": 0.9},
        {"optimizer": "momentum", "momentum": 0.5},  # alone
        {"optimizer": "momentum", "momentum": 0.9, "nesterov": True},  # alone
        {"optimizer": "momentum", "momentum": 0.9, "lr": 0.3, "weight_decay": 0.1},
        {"optimizer": "adam", "beta1": 0.8},  # alone
        {"optimizer": "adam", "lr": 0.02, "schedule": "exponential", "gamma": 0.7},
        {"optimizer": "adam", "lr": 0.05, "seed": 3},
    ]
    nets = [Network([2, 4, 3], output="softmax", loss="cross_entropy", seed=i) for i in range(7)]
    refs = [net.copy() for net in nets]
    hists = fit_many(nets, X, Y, configs, epochs=3, batch_size=8)
    assert {id(n) for n in alone} == {id(nets[1]), id(nets[2]), id(nets[4])}
    for net, ref_net, conf, h in zip(nets, refs, configs, hists, strict=True):
        assert_same(h, fit(ref_net, X, Y, **{"epochs": 3, "batch_size": 8, **conf}), net, ref_net)


def test_stack_groups_says_which_runs_share_a_kernel() -> None:
    from bpstudio.engine import stack_groups

    nets = [Network([2, 4, 3]), Network([2, 5, 3]), Network([2, 4, 3]), Network([2, 4, 3])]
    configs = [{}, {}, {"lr": 0.5, "seed": 2}, {"batch_size": 7}]
    assert stack_groups(nets, 100, configs, batch_size=16) == [[0, 2], [1], [3]]
    assert stack_groups(nets[:1] + nets[2:], 10, [{}, {}, {"batch_size": 700}]) == [[0, 1, 2]]


def test_on_finish_reports_a_diverged_run_at_once_with_the_history_fit_gives() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 10
    Y = X @ np.array([[1.0], [2.0], [-1.0]])
    configs = [{"lr": 1e-4}, {"lr": 1e6}, {"lr": 1e-3}, {"lr": 1e-2, "batch_size": 5}]
    make = lambda: Network([3, 8, 1], activation="relu", output="linear", loss="mse", seed=1)  # noqa: E731
    nets = [make() for _ in configs]
    refs = [net.copy() for net in nets]
    reported: list[tuple[int, History, int, dict]] = []
    steps = [0] * len(configs)

    def counter(i: int):
        def cb(ev):
            if isinstance(ev, StepEvent):
                steps[i] = ev.step

        return cb

    def on_finish(i: int, h: History) -> None:  # what the others had done by then, the weights
        reported.append((i, h, sum(steps) - steps[i], nets[i].get_params()))

    runs = [{**c, "callback": counter(i)} for i, c in enumerate(configs)]
    hists = fit_many(nets, X, Y, runs, epochs=20, batch_size=8, on_finish=on_finish)
    assert sorted(i for i, *_ in reported) == [0, 1, 2, 3]  # each run once
    first, h1, others_then, params = reported[0]
    assert first == 1 and h1 is hists[1] and h1.stop_reason == "diverged"
    assert others_then < 2 * 20 * 8  # reported while runs 0 and 2 were far from their end
    ref = fit(refs[1], X, Y, **configs[1], epochs=20, batch_size=8)
    assert_same(h1, ref, nets[1], refs[1])
    for name, value in refs[1].params.items():  # its net held its final weights when reported
        np.testing.assert_allclose(params[name], value, rtol=TOL, atol=TOL)
    # the run alone in its group (batch 5) goes to plain fit and is reported when fit returns
    assert [h for i, h, *_ in reported if i == 3] == [hists[3]]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_runaway_weights_stop_a_run_as_fit_stops_it(dtype) -> None:
    # a saturated softmax keeps the clipped cross-entropy finite: only the weights tell
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)) * 3
    Y = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
    hists = compare(
        lambda i: Network([2, 8, 8, 2], activation="tanh", output="softmax", seed=0, dtype=dtype),
        [{"lr": 0.1}, {"lr": 1e9}, {"lr": 1e4}, {"lr": 1e12}],
        X, Y, epochs=30, batch_size=8, dtype=dtype,
    )  # fmt: skip
    assert hists[0].stop_reason == "finished"
    for h in (hists[1], hists[3]):
        assert h.stop_reason == "diverged" and "ran away" in h.message
