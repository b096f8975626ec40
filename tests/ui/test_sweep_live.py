# ruff: noqa: F811 - the window fixture of test_compare is imported, then requested by name
"""A sweep while it trains: a variant that ends early shows as ended at once (Runs table,
results table, overlay legend) while the others train on; each variant keeps checkpoints as a
single run of its length does; the main plots show one variant, named in their titles."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtWidgets import QTableView

from bpstudio.engine import FitConfig, Network, fit
from bpstudio.session import Run, RunStatus, Session
from bpstudio.session.checkpoints import DEFAULT_EVERY, DEFAULT_MAX_KEPT
from bpstudio.ui import MainWindow, dialogs
from bpstudio.ui.runs_panel import COLUMNS
from bpstudio.ui.sweep import SweepSpec, build_variants
from tests.ui.test_compare import window  # noqa: F401 - the fixture, requested by name

TIMEOUT = 30_000


def _sweep(qtbot, w: MainWindow, monkeypatch, spec: SweepSpec):
    monkeypatch.setattr(dialogs, "ask_sweep", lambda *a: spec)
    sweeper = w.comparison.sweeper
    with qtbot.waitSignal(sweeper.started, timeout=TIMEOUT) as sig:
        w.comparison.action_sweep.trigger()
    return sig.args[0]


def _row_text(w: MainWindow, run: Run, column: str) -> str:
    model = w.findChild(QTableView, "runsTable").model()
    row = w.session.runs.index(run)
    return model.index(row, COLUMNS.index(column)).data()


def test_a_diverged_variant_shows_as_diverged_while_the_others_train(qtbot, window, monkeypatch):
    w = window
    spec = SweepSpec("lr", [0.01, 0.1, 1e9], epochs=100_000)
    fit_cfg = FitConfig.from_dict(w.training_panel.fit_config())
    start = build_variants(w.network.config(), w.network.get_params(), fit_cfg, spec)[2]
    sweep = _sweep(qtbot, w, monkeypatch, spec)
    slow, _, wild = sweep.runs
    qtbot.waitUntil(lambda: wild.status == RunStatus.ENDED, timeout=TIMEOUT)
    try:
        assert w.comparison.sweeper.sweep is sweep and w.runs.busy()  # still training
        assert wild.stop_reason == "diverged" and slow.status == RunStatus.RUNNING
        assert _row_text(w, wild, "Status") == "diverged"
        assert _row_text(w, slow, "Status") == "running"
        # where fit alone stops it, with its weights
        ds = w.dataset
        net = Network.from_config(start.net_config, start.params)
        ref = fit(net, ds.X_train, ds.Y_train, X_val=ds.X_val, Y_val=ds.Y_val, config=start.fit)
        assert wild.steps == ref.steps and wild.message.split(":")[0] == ref.message.split(":")[0]
        for k, v in net.get_params().items():
            np.testing.assert_allclose(wild.params[k], v, rtol=1e-9, atol=1e-12)
        # the results table and the overlay legend say so too
        results = w.comparison.panel.results
        qtbot.waitUntil(
            lambda: any(
                results.item(i, 1).text() == wild.name
                and results.item(i, 6).text() == f"diverged at step {wild.steps}"
                for i in range(results.rowCount())
            ),
            timeout=5000,
        )
        legend = w.comparison.view.runs_list
        texts = [legend.item(i).text() for i in range(legend.count())]
        assert any(t.startswith(wild.name) and "diverged" in t for t in texts), texts
        assert not any(t.startswith(slow.name) and "diverged" in t for t in texts), texts
        # the main plots show one variant and say which: picked in the results table, it stays
        sweeper = w.comparison.sweeper
        qtbot.waitUntil(lambda: not w.loss_plot.is_empty(), timeout=5000)
        assert sweeper.shown in sweep.runs

        def grad_plot_draws_the_shown_variant() -> bool:
            norms = sweeper.shown.history.grad_norms
            return "W2" in norms and w.grad_plot.series("W2") is norms["W2"]

        qtbot.waitUntil(grad_plot_draws_the_shown_variant, timeout=5000)  # it was left empty
        # the status bar reads the sweep, not "– steps/s" (it said nothing while a sweep trained)
        qtbot.waitUntil(lambda: "steps/s over 2 runs" in w.rate_label.text(), timeout=5000)
        assert re.fullmatch(r"step [\d,]+", w.step_label.text()), w.step_label.text()
        assert sweeper.shown.name in w.loss_plot.getPlotItem().titleLabel.text
        row = next(i for i in range(results.rowCount()) if results.item(i, 1).text() == slow.name)
        results.selectRow(row)
        assert sweeper.shown is slow and sweeper.why == "picked"
        for plot in (w.loss_plot, w.grad_plot, w.accuracy_plot):
            assert f"{slow.name} (variant 1 of 3, picked)" in plot.getPlotItem().titleLabel.text
        assert w.loss_plot.series("step") is slow.history.loss  # its own series, drawn live
        n = slow.history.loss.n_points
        qtbot.waitUntil(lambda: slow.history.loss.n_points > n, timeout=5000)
        # the weight views draw the shown variant too, with its latest weights
        surface = w.surface_panel

        def surface_shows_slow() -> bool:
            w.refresher.tick(everything=True)
            net = surface.net
            return (
                net is not None
                and net is not w.network
                and slow.params is not None
                and all(np.array_equal(v, slow.params[k]) for k, v in net.get_params().items())
            )

        qtbot.waitUntil(surface_shows_slow, timeout=5000)
    finally:
        with qtbot.waitSignal(w.comparison.sweeper.ended, timeout=TIMEOUT):
            w.runs.stop()
    assert slow.stop_reason == "stopped"
    assert w.loss_plot.getPlotItem().titleLabel.text == "Loss"  # after the sweep: as for any run
    assert w.session.current_run is slow


def test_each_variant_keeps_the_checkpoints_a_single_run_of_its_length_keeps(
    qtbot, window, monkeypatch
):
    w = window
    spec = SweepSpec("lr", [0.01, 0.1, 0.3], epochs=200)
    fit_cfg = FitConfig.from_dict(w.training_panel.fit_config())
    variants = build_variants(w.network.config(), w.network.get_params(), fit_cfg, spec)
    sweep = _sweep(qtbot, w, monkeypatch, spec)
    qtbot.waitUntil(lambda: w.comparison.sweeper.sweep is None, timeout=TIMEOUT)
    ds = w.dataset
    for run, v in zip(sweep.runs, variants, strict=True):
        # the same variant as a single run recorded at every epoch (the CLI's FitRecorder)
        single = Session().new_run(v.net_config, v.fit)
        net = Network.from_config(v.net_config, v.params)
        rec = single.recorder(net)
        rec.finish(fit(net, ds.X_train, ds.Y_train, X_val=ds.X_val, Y_val=ds.Y_val,
                       config=v.fit, callback=rec))  # fmt: skip
        assert run.epochs == single.epochs == 200
        got = [c.epoch for c in run.checkpoints.regular]
        assert got == [c.epoch for c in single.checkpoints.regular]
        assert len(got) >= 200 // (DEFAULT_EVERY * 2**3) and len(got) <= DEFAULT_MAX_KEPT
        assert run.checkpoints.best is not None
        ckpt = run.checkpoints.regular[0]  # the weights of that epoch, as fit had them
        again = Network.from_config(v.net_config, v.params)
        fit(again, ds.X_train, ds.Y_train, config=FitConfig.from_dict(
            {**v.fit.to_dict(), "epochs": ckpt.epoch}))  # fmt: skip
        for k, a in again.get_params().items():
            np.testing.assert_allclose(ckpt.params[k], a, rtol=1e-5, atol=1e-6)


def test_the_childs_checkpoint_grid_is_the_stores():
    from bpstudio.engine import remote

    assert remote.MANY_CHECKPOINT_EVERY == DEFAULT_EVERY
    assert remote.MANY_CHECKPOINT_MAX == DEFAULT_MAX_KEPT


def test_a_variant_shown_before_its_first_gradient_norms_draws_them(qtbot, window, monkeypatch):
    w = window
    sweep = _sweep(qtbot, w, monkeypatch, SweepSpec("lr", [0.01, 0.1], epochs=100_000))
    first = sweep.runs[0]
    sweeper = w.comparison.sweeper
    try:
        assert not first.history.grad_norms  # nothing measured yet: the plot starts empty
        sweeper.show_variant(first, "picked")  # and stays on it (no "best so far" switch)

        def drawn() -> bool:
            norms = first.history.grad_norms
            return "W2" in norms and w.grad_plot.series("W2") is norms["W2"]

        qtbot.waitUntil(drawn, timeout=TIMEOUT)  # the plot kept its empty series of the start
        assert sweeper.shown is first
    finally:
        with qtbot.waitSignal(sweeper.ended, timeout=TIMEOUT):
            w.runs.stop()


def test_the_main_plots_follow_a_new_best_once_it_has_led_a_while(qtbot, window):
    from bpstudio.session.synthetic import synthetic_run
    from bpstudio.ui.sweep import FOLLOW_AFTER, Sweep

    w = window
    a, b = (synthetic_run(w.session, [2, 4, 2], 3, 10, seed=i) for i in range(2))
    sweeper = w.comparison.sweeper
    sweeper.sweep = Sweep(SweepSpec("lr", [0.1, 0.2]), runs=[a, b])
    try:
        epoch = [4]

        def lead(run: Run, other: Run) -> None:  # run's validation accuracy beats other's
            for r, acc in ((run, 0.9), (other, 0.8)):
                r.history.record_epoch(epoch[0], val_accuracy=acc, val_loss=1 - acc)
            epoch[0] += 1

        lead(a, b)
        sweeper._follow_best()
        assert sweeper.shown is a and sweeper.why == "best so far"
        assert w.runs_panel.selected_runs() == [a]  # the Runs table marks the variant shown
        for _ in range(FOLLOW_AFTER - 1):  # b leads, but not yet for long: a stays on screen
            lead(b, a)
            sweeper._follow_best()
            assert sweeper.shown is a
        lead(a, b)  # a back in front: b's lead starts over
        sweeper._follow_best()
        for i in range(FOLLOW_AFTER):
            lead(b, a)
            sweeper._follow_best()
            assert (sweeper.shown is b) == (i == FOLLOW_AFTER - 1)
        assert w.runs_panel.selected_runs() == [b]
    finally:
        sweeper.sweep = None
