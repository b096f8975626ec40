"""Compare runs, rewind and branch, sweeps in the window (offscreen, no real dialogs).

Two runs selected in the Runs table overlay one curve each, named with what differs; rewinding
to a checkpoint puts its exact weights into the network and the views; a branch's history
starts at its parent's checkpoint step; Compare… trains the variants together in the child and
they appear as runs in the session and the Runs table, ranked in the results table.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QTableView

from bpstudio.session import RunParent
from bpstudio.ui import MainWindow, dialogs
from bpstudio.ui.sweep import SweepSpec, build_variants

TIMEOUT = 30_000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(dialogs, "show_error", lambda *a: None)
    monkeypatch.setattr(dialogs, "show_info", lambda *a: None)
    settings = QSettings(str(tmp_path / "bpstudio.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, dataset="builtin:xor", restore=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _train(qtbot, w: MainWindow, epochs: int) -> None:
    w.training_panel.until_stopped_check.setChecked(False)
    w.training_panel.epochs_spin.setValue(epochs)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()


def _select_rows(w: MainWindow, rows: list[int]) -> None:
    from PySide6.QtCore import QItemSelectionModel

    table = w.findChild(QTableView, "runsTable")
    sel = table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    sel.clearSelection()
    for r in rows:
        sel.select(table.model().index(r, 0), flags)


def test_overlay_shows_one_curve_per_selected_run_with_the_diff(qtbot, window):
    w = window
    _train(qtbot, w, 2)
    b = w.training_panel.batch_spin.value()
    w.training_panel.batch_spin.setValue(b * 2)  # a fixed setting: the next training is a new run
    _train(qtbot, w, 2)
    first, second = w.session.runs
    _select_rows(w, [0, 1])
    cmp = w.comparison
    view = cmp.view
    assert cmp.dock.isVisible()
    assert view.runs() == [first, second]
    assert view.curve_count("loss") == 2
    assert view.curve_count("metric") == 2  # accuracy (xor is a classification)
    assert view.curve_count("grad") == 2 * (len(first.sizes) - 1)  # every layer of both
    # the diff names the batch size only, in the legend and in the runs panel
    assert view.label(second) == f"{second.name}: batch {b} → {2 * b}"
    assert cmp.diff_label.text() == f"{first.name} → {second.name}: batch {b} → {2 * b}"
    assert view.curves[second.id].loss.curve.toolTip() == view.label(second)
    # the drawn per-step curve is the run's own series (bounded view of it)
    x, y = view.curves[second.id].loss.getOriginalDataset()
    env = second.history.loss.view()
    np.testing.assert_array_equal(y, env.y)
    # hide / show, and the x axis in wall time
    view.set_run_visible(first, False)
    assert view.curve_count("loss") == 1
    view.set_run_visible(first, True)
    view.set_x_mode("time")
    x, _ = view.curves[first.id].loss.getOriginalDataset()
    assert x.min() >= 0 and x.max() <= first.seconds + 1e-9
    view.set_x_mode("epoch")
    x, _ = view.curves[first.id].loss.getOriginalDataset()
    assert x.max() <= first.epochs + 1e-9
    # the run on screen is highlighted
    view.set_current(second)
    assert view.curves[second.id].width > view.curves[first.id].width


def test_rewind_shows_the_checkpoints_exact_weights_and_a_branch_starts_there(qtbot, window):
    w = window
    _train(qtbot, w, 5)  # epoch 5 is on the checkpoint grid
    parent = w.session.runs[0]
    bar = w.comparison.rewind
    assert bar.isVisible() and bar.checkpoints
    ckpt = bar.checkpoints[0]
    final = {k: v.copy() for k, v in parent.params.items()}
    # make the checkpoint differ from the run's end, as after more training
    parent.params = {k: v + 1.0 for k, v in final.items()}
    w.set_current_tab("network")
    bar.slider.setValue(0)
    assert bar.at is ckpt
    got = w.network.get_params()
    for k, v in ckpt.params.items():
        np.testing.assert_array_equal(got[k], v)
        np.testing.assert_array_equal(w.network_view._net.get_params()[k], v)
    assert "step" in bar.where.text()
    # back to the end, then a branch from the checkpoint with another α
    bar.slider.setValue(len(bar.checkpoints))
    np.testing.assert_array_equal(w.network.get_params()["W2"], parent.params["W2"])
    bar.slider.setValue(0)
    w.training_panel.epochs_spin.setValue(2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        branch = bar.continue_from_here()
    assert branch is not None and branch.parent == RunParent(parent.id, ckpt.step)
    assert branch in w.session.runs and str(ckpt.step) in branch.name
    xs = branch.history.loss.x_first
    assert xs[0] == ckpt.step + 1  # its curve starts right after the checkpoint
    assert branch.history.epoch_numbers[0] == ckpt.epoch + 1
    assert branch.epochs == ckpt.epoch + 2
    model = w.findChild(QTableView, "runsTable").model()
    assert model.rowCount() == 2 and model.index(1, 1).data() == branch.name


def test_a_sweep_in_the_window_trains_the_variants_as_runs(qtbot, window, monkeypatch):
    w = window
    spec = SweepSpec("lr", [0.01, 0.1, 1.0], epochs=3)
    monkeypatch.setattr(dialogs, "ask_sweep", lambda *a: spec)
    net0 = w.network
    variants = build_variants(net0.config(), net0.get_params(), w.session.fit, spec)
    for v in variants[1:]:  # the same initial weights for every value of α
        for k in v.params:
            np.testing.assert_array_equal(v.params[k], variants[0].params[k])
    sweeper = w.comparison.sweeper
    with qtbot.waitSignal(sweeper.ended, timeout=TIMEOUT) as sig:
        w.findChild(type(w.comparison.action_sweep), "actionSweep").trigger()
    sweep = sig.args[0]
    runs = sweep.runs
    assert [r.name for r in runs] == ["α 0.01", "α 0.1", "α 1"]
    assert all(r in w.session.runs for r in runs)
    assert [r.fit.lr for r in runs] == [0.01, 0.1, 1.0]
    assert all(r.status == "ended" and r.epochs == 3 and r.steps > 0 for r in runs)
    assert len({r.steps for r in runs}) == 1  # same data split and batch size
    model = w.findChild(QTableView, "runsTable").model()
    assert model.rowCount() == 3
    assert {model.index(i, 1).data() for i in range(3)} == {r.name for r in runs}
    assert w.comparison.view.curve_count("loss") == 3
    results = w.comparison.panel.results
    assert results.rowCount() == 3
    from bpstudio.ui.sweep import validation_metric

    keys = [validation_metric(r)[0] for r in results.ranked]
    assert keys == sorted(keys)
    assert w.state == "idle"


def test_side_by_side_shows_each_runs_weights(qtbot, window):
    w = window
    _train(qtbot, w, 2)
    w.training_panel.batch_spin.setValue(w.training_panel.batch_spin.value() * 2)
    _train(qtbot, w, 3)
    first, second = w.session.runs
    _select_rows(w, [0, 1])
    side = w.comparison.show_side_by_side()
    try:
        assert side is not None and side.isVisible()
        for col, run in zip(side.columns, (first, second), strict=True):
            got = col.diagram._net.get_params()
            for k, v in run.params.items():
                np.testing.assert_array_equal(got[k], v)
            # the surface is this run's prediction over the plane
            pts = col.surface._grid_points
            expected = run.network().forward(pts.astype(run.network().dtype))
            np.testing.assert_allclose(
                col.surface.prediction.reshape(len(pts), -1), expected, rtol=1e-5, atol=1e-6
            )
        assert "batch" in side.columns[1].title.text()
    finally:
        side.close()


def test_the_sweep_dialog_reads_a_setting_and_its_values(qtbot):
    from bpstudio.ui.sweep import parse_values
    from bpstudio.ui.sweep_dialog import SweepDialog

    dlg = SweepDialog(None, {"sizes": [2, 8, 8, 1]}, epochs=7)
    qtbot.addWidget(dlg)
    dlg.setting.setCurrentIndex(dlg.setting.findData("width"))
    dlg.layer.setValue(3)
    dlg.values.setText("4, 16")
    spec = dlg.spec()
    assert (spec.setting, spec.values, spec.layer, spec.epochs) == ("width", [4, 16], 3, 7)
    dlg.values.setText("4")  # one value is not a sweep: OK is disabled and the reason shown
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "2–12" in dlg.error.text()
    assert parse_values("lr", "log:0.001:1:4") == [0.001, 0.01, 0.1, 1.0]
    for setting, text in (
        ("lr", "0.1, 0.1"),
        ("batch_size", "log:1:8:3"),
        ("activation", "tanh, cos"),
    ):
        with pytest.raises(ValueError):
            parse_values(setting, text)


def test_a_width_sweep_keeps_the_weights_of_the_layers_that_keep_their_shape():
    from bpstudio.engine import FitConfig, Network

    base = Network([2, 8, 8, 1], activation="tanh", seed=4)
    spec = SweepSpec("width", [4, 8, 16], layer=3)
    vs = build_variants(base.config(), base.get_params(), FitConfig(), spec)
    assert [v.net_config["sizes"] for v in vs] == [[2, 8, 4, 1], [2, 8, 8, 1], [2, 8, 16, 1]]
    for v in vs:  # W2 (8×2) keeps its shape in every variant
        np.testing.assert_array_equal(v.params["W2"], base.params["W2"])
    for k in base.params:  # the variant of the base's own width starts exactly as the base
        np.testing.assert_array_equal(vs[1].params[k], base.params[k])


def test_panning_one_overlay_plot_moves_the_others_but_new_data_repaints_only_its_own(qtbot):
    """The three overlay plots share the x range the user chooses; they are not linked through
    pyqtgraph (a linked auto-range made every redraw of one plot repaint all three)."""
    from bpstudio.ui.compare import CompareView

    view = CompareView()
    qtbot.addWidget(view)
    plots = (view.loss_plot, view.metric_plot, view.grad_plot)
    for p in plots:
        assert p.getPlotItem().vb.linkedView(0) is None  # x not linked by pyqtgraph
    vb = view.grad_plot.getPlotItem().vb
    vb.setXRange(100.0, 500.0, padding=0)
    vb.sigRangeChangedManually.emit([True, False])  # as a mouse drag or wheel does
    for p in plots:
        lo, hi = p.getPlotItem().vb.viewRange()[0]
        assert (lo, hi) == pytest.approx((100.0, 500.0))


def test_compare_dock_opens_a_collapsed_runs_dock(qtbot, window):
    w = window
    w.runs_dock_title.set_collapsed(True)  # a short screen starts so
    w.comparison.show_dock()
    assert not w.runs_dock_title.collapsed()  # they share a row: collapsed, it held it to 70 px
    qtbot.waitUntil(lambda: w.comparison.view.loss_plot.height() > 150, timeout=5000)


def test_a_progress_refresh_of_one_row_reads_only_that_row(qtbot, window):
    from bpstudio.session.synthetic import synthetic_run

    w = window
    w.runs_dock_title.set_collapsed(False)  # on screen (a short screen starts it collapsed)
    runs = [synthetic_run(w.session, [2, 4, 2], 3, 10, seed=i) for i in range(6)]
    table = w.findChild(QTableView, "runsTable")
    qtbot.waitUntil(lambda: table.model().rowCount() == 6, timeout=5000)
    qtbot.wait(50)  # the columns' fit after the rows came
    model = w.runs_panel.model
    described: list = []
    describe = model._describe
    model._describe = lambda run: described.append(run) or describe(run)
    w.runs_panel.refresh_run(runs[-1])
    qtbot.wait(30)  # its row repaints
    assert described and len({r.id for r in described}) < 6  # ResizeToContents read every row
    described.clear()
    w.runs_panel.refresh_run(runs[-1], fit=True)  # at a pause or the end: fit the columns again
    qtbot.waitUntil(lambda: len({r.id for r in described}) == 6, timeout=5000)
