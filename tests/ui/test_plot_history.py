"""Plots as views of series: true history over long runs, bounded repaint cost, reset view,
x in steps or epochs, image export, and the notes a plot owes the user."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bpstudio.session.series import BinnedSeries, FullSeries
from bpstudio.ui import dialogs
from bpstudio.ui.plots import (
    AccuracyPlot,
    GradientNormPlot,
    LossPlot,
    ValueAxis,
    epochs_to_steps,
    steps_to_epochs,
)

LAYERS = [f"W{i}" for i in range(2, 9)]


def _shown(qtbot, plot, w=560, h=400):
    qtbot.addWidget(plot)
    plot.resize(w, h)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def _feed(loss: LossPlot, grad: GradientNormPlot, start: int, n: int, chunk: int = 50_000) -> int:
    rng = np.random.default_rng(start)
    for a in range(start, start + n, chunk):
        s = np.arange(a + 1, min(a + chunk, start + n) + 1)
        loss.append_steps(s, 1 / np.sqrt(s) + 0.05 * rng.random(s.size))
        norms = {f"{k}{i}": np.exp(-i) * (1 + 0.3 * rng.random(s.size)) for i in range(2, 9)
                 for k in "Wb"}  # fmt: skip
        grad.append(s, norms)
    return start + n


def _paint_cpu(plot, reps: int = 7) -> float:
    """Median CPU seconds of one full refresh + repaint (other jobs on the machine don't count)."""
    times = []
    for _ in range(reps):
        for s in plot._series.values():
            s.drawn = None  # force the curves to be set again, as new data would
        t0 = time.thread_time()
        plot.refresh()
        plot.viewport().repaint()
        times.append(time.thread_time() - t0)
    return float(np.median(times))


def test_repaint_cost_does_not_grow_with_the_run(qtbot) -> None:
    loss = _shown(qtbot, LossPlot())
    grad = _shown(qtbot, GradientNormPlot())
    grad.set_layers(LAYERS)
    step = _feed(loss, grad, 0, 10_000)
    small = _paint_cpu(loss) + _paint_cpu(grad)
    step = _feed(loss, grad, step, 990_000)
    assert step == 1_000_000
    big = _paint_cpu(loss) + _paint_cpu(grad)
    # 100× the steps: the paint costs about the same (it is bounded by the pixel columns)
    assert big < 2.5 * small + 0.005, (small, big)
    columns = int(loss.getPlotItem().vb.width())
    x, _ = loss.step_curve.getOriginalDataset()
    assert len(x) <= 2 * columns
    # true history: the first bin starts at step 1, bins are evenly spaced over the whole run
    series = loss.series("step")
    assert series.x_first[0] == 1 and series.n_points == 1_000_000
    assert np.all(np.diff(series.x_first) == series.width)
    assert x[0] < 1 + 1_000_000 / len(x)
    gaps = np.diff(x)
    assert gaps.max() < 1.5 * np.median(gaps)
    gx, _ = grad.curves["W2"].getOriginalDataset()
    assert len(gx) <= 2 * columns and gx[0] < 1 + 1_000_000 / len(gx)


def test_reset_view_after_a_long_run_shows_the_whole_run(qtbot) -> None:
    loss = _shown(qtbot, LossPlot())
    grad = _shown(qtbot, GradientNormPlot())
    grad.set_layers(LAYERS)
    _feed(loss, grad, 0, 300_000)
    loss.refresh()
    vb = loss.getPlotItem().vb
    vb.setXRange(150_000, 151_000, padding=0)  # the user zooms in: auto-range is off
    assert not vb.autoRangeEnabled()[0]
    qtbot.waitUntil(lambda: not loss._range_timer.isActive(), timeout=2000)
    x, _ = loss.step_curve.getOriginalDataset()
    assert x.min() >= 149_000 and x.max() <= 152_000  # re-queried for what is on screen
    loss.reset_view()
    lo, hi = vb.viewRange()[0]
    assert lo <= 1 and hi >= 300_000 and hi < 330_000
    assert vb.autoRangeEnabled()[0]
    x, _ = loss.step_curve.getOriginalDataset()
    assert x[0] < 1000 and x[-1] > 299_000
    loss._range_timer.stop()


def test_step_after_reset_draws_the_new_points_in_view(qtbot) -> None:
    loss = _shown(qtbot, LossPlot())
    acc = _shown(qtbot, AccuracyPlot())
    steps = np.arange(1, 95_001)
    loss.append_steps(steps, 1 / steps)
    for e in range(1, 950):
        loss.append_epoch(e * 100, e, 0.5)
        acc.append_epoch(e, 0.9)
    loss.refresh()
    acc.refresh()
    loss.getPlotItem().vb.setXRange(40_000, 50_000)
    loss._range_timer.stop()
    loss.clear()  # Reset weights
    acc.clear()
    for plot in (loss, acc):  # empty plots do not keep the previous run's ranges
        lo, hi = plot.getPlotItem().vb.viewRange()[0]
        assert (lo, hi) == pytest.approx((0, 1))
    for e in range(1, 4):  # Step epoch ×3, 10 steps each
        s = np.arange(10 * (e - 1) + 1, 10 * e + 1)
        loss.append_steps(s, 1 / s)
        loss.append_epoch(int(s[-1]), e, 0.4)
        acc.append_epoch(e, 0.5)
        loss.refresh()
        acc.refresh()
        lo, hi = loss.getPlotItem().vb.viewRange()[0]
        assert lo <= 1 and int(s[-1]) <= hi < 40
        ylo, yhi = loss.getPlotItem().vb.viewRange()[1]
        assert ylo <= 1 / s[-1] and yhi >= 1.0
    lo, hi = acc.getPlotItem().vb.viewRange()[0]
    assert lo <= 1 and 3 <= hi < 5


def test_plots_draw_the_series_they_are_handed(qtbot) -> None:
    loss = _shown(qtbot, LossPlot())
    mine = BinnedSeries()
    mine.append(np.arange(1, 101), np.full(100, 2.0))
    loss.set_series("step", mine)
    assert loss.series("step") is mine and loss.has_pending()
    loss.refresh()
    assert not loss.has_pending()
    mine.append(np.arange(101, 201), np.full(100, 3.0))  # the owner appends; the plot notices
    assert loss.has_pending()
    loss.refresh()
    x, y = loss.step_curve.getOriginalDataset()
    assert x[-1] == 200 and y[-1] == 3.0
    other = BinnedSeries()  # another run's history
    other.append([1, 2], [5.0, 6.0])
    loss.attach({"step": other, "unknown": FullSeries()})
    assert list(loss.step_curve.getOriginalDataset()[1]) == [5.0, 6.0]
    loss.clear()  # lets go of the handed-in series, never empties them
    assert len(other) == 2 and len(loss.series("step")) == 0
    with pytest.raises(TypeError):
        loss.set_series("step", [1, 2, 3])


def test_x_axis_in_epochs(qtbot) -> None:
    loss = _shown(qtbot, LossPlot())
    acc = _shown(qtbot, AccuracyPlot())
    acc.set_epoch_boundaries(loss.epoch_boundaries)
    for e in range(1, 6):  # 10 steps an epoch
        s = np.arange(10 * (e - 1) + 1, 10 * e + 1)
        loss.append_steps(s, np.full(10, 1.0 / e))
        loss.append_epoch(10 * e, e, 1.0 / e)
        acc.append_epoch(e, e / 5)
    b = loss.epoch_boundaries
    np.testing.assert_allclose(steps_to_epochs(np.array([5, 10, 55]), b), [0.5, 1.0, 5.5])
    np.testing.assert_allclose(epochs_to_steps(np.array([0.5, 3, 6]), b), [5, 30, 60])
    loss.set_x_mode("epoch")
    loss.refresh()
    assert loss.epoch_x_action.isChecked()
    assert "epoch" in loss.getPlotItem().getAxis("bottom").labelText
    x, _ = loss.step_curve.getOriginalDataset()
    np.testing.assert_allclose(x[[0, 9, -1]], [0.1, 1.0, 5.0])
    np.testing.assert_allclose(loss.epoch_curve.getOriginalDataset()[0], [1, 2, 3, 4, 5])
    lo, hi = loss.getPlotItem().vb.viewRange()[0]
    assert lo <= 0.1 and 5 <= hi < 6
    assert "epoch 2" in loss.show_readout_at(2.0, 0.5)
    acc.set_x_mode("step")  # per-epoch accuracy at the step its epoch ended
    acc.refresh()
    np.testing.assert_allclose(acc.train_curve.getOriginalDataset()[0], [10, 20, 30, 40, 50])
    combo = loss.x_mode_combo()
    qtbot.addWidget(combo)
    combo.setCurrentIndex(0)
    assert loss.x_mode() == "step"
    with pytest.raises(ValueError):
        loss.set_x_mode("seconds")


def test_zoomed_out_band_keeps_spikes(qtbot) -> None:
    loss = _shown(qtbot, LossPlot())
    steps = np.arange(1, 200_001)
    y = np.full(steps.size, 0.1)
    y[123_456] = 50.0  # one spike in 200 000 steps
    loss.append_steps(steps, y)
    loss.refresh()
    bx, by = loss._series["step"].band.getOriginalDataset()
    assert by.max() == 50.0  # the min–max band shows it, the mean line would hide it
    assert len(bx) <= 2 * 2 * int(loss.getPlotItem().vb.width())


def test_export_menu_offers_only_what_works(qtbot, tmp_path, monkeypatch) -> None:
    plot = _shown(qtbot, LossPlot())
    plot.append_steps(np.arange(1, 11), np.linspace(1, 0.1, 10))
    plot.refresh()
    texts = [a.text() for a in plot.scene().contextMenu]
    assert not any("xport" in t for t in texts)  # pyqtgraph's Export… is gone
    menu_texts = [a.text() for a in plot.getPlotItem().vb.menu.actions()]
    assert "Save image…" in menu_texts and "Copy image" in menu_texts
    plot.show_readout_at(5.0, 0.5)  # the crosshair must not end up in the image
    png = tmp_path / "loss.png"
    monkeypatch.setattr(dialogs, "get_save_image_path", lambda *a: str(png))
    plot.save_image_action.trigger()
    from PySide6.QtGui import QImage

    img = QImage(str(png))
    assert (img.width(), img.height()) == (plot.width(), plot.height())
    assert plot._vline.isVisible() and plot._readout.isVisible()  # hidden only for the grab
    svg = plot.save_image(str(tmp_path / "loss.svg"))
    assert svg and "<svg" in (tmp_path / "loss.svg").read_text()[:2000]
    monkeypatch.setattr(dialogs, "get_save_image_path", lambda *a: None)
    assert plot.save_image() is None  # cancelled: nothing written, no error


def test_zero_gradients_are_explained(qtbot) -> None:
    plot = _shown(qtbot, GradientNormPlot())
    plot.set_layers(["W2", "W3"])
    assert not plot.note.isVisible()
    steps = np.arange(1, 51)
    plot.append(steps, {"W2": np.zeros(50), "W3": np.zeros(50), "b3": np.full(50, 0.3)})
    plot.refresh()
    assert plot.note.isVisible()
    text = plot.note.text()
    assert "‖∂J/∂W²‖, ‖∂J/∂W³‖ are exactly 0" in text and "symmetry" in text
    assert "log axis cannot show 0" in text
    plot.clear()
    assert not plot.note.isVisible()
    plot.append(steps, {"W2": np.full(50, 0.1), "W3": np.full(50, 0.2)})
    plot.refresh()
    assert not plot.note.isVisible()


def test_many_layers_get_distinct_colours_and_a_legend_that_fits(qtbot) -> None:
    plot = _shown(qtbot, GradientNormPlot())
    names = [f"W{i}" for i in range(2, 13)]  # 11 layers
    plot.set_layers(names)
    colours = [plot.color_of(k) for k in names]
    assert len(set(colours)) == 11
    assert plot.legend.columnCount >= 2
    legend = plot.legend.mapRectToScene(plot.legend.boundingRect())
    assert legend.height() < plot.getPlotItem().vb.sceneBoundingRect().height()


def test_log_axis_labels_do_not_crowd() -> None:
    axis = ValueAxis("left")
    axis.setLogMode(False, True)
    axis.range = [-4.0, 1.0]  # five decades: powers of ten only
    values = [v + np.log10(m) for v in range(-4, 1) for m in range(1, 10)]
    labels = axis.tickStrings(values, 1.0, 1.0)
    assert sum(bool(t) for t in labels) == 5
    axis.range = [-2.0, -1.2]  # less than a decade: 1, 2, 5
    values = list(-2 + np.log10(np.arange(1, 10)))
    labels = axis.tickStrings(values, 1.0, 1.0)
    assert [bool(t) for t in labels] == [True, True, False, False, True, False, False, False, False]


def test_one_sign_convention_for_weight_colours(qtbot) -> None:
    from PySide6.QtGui import QColor

    from bpstudio.engine import Network
    from bpstudio.ui.network_view import NetworkDiagramView
    from bpstudio.ui.trace_view import NEGATIVE, POSITIVE, value_color
    from bpstudio.ui.weights_view import WeightsView

    net = Network([2, 3, 2], output="softmax", seed=0)
    net.params["W2"][...] = [[1.0, -1.0], [0.5, -0.5], [0.2, 0.0]]
    weights = WeightsView()
    qtbot.addWidget(weights)
    weights.set_network(net)
    cmap = weights.bar.colorMap()
    top, bottom = cmap.map(1.0, mode="qcolor"), cmap.map(0.0, mode="qcolor")
    assert top.name().upper() == POSITIVE and bottom.name().upper() == NEGATIVE
    diagram = NetworkDiagramView()
    qtbot.addWidget(diagram)
    diagram.set_network(net)
    pos_edge = diagram.edge_color(2, 0, 0)
    neg_edge = diagram.edge_color(2, 0, 1)
    assert pos_edge.name().upper() == POSITIVE and neg_edge.name().upper() == NEGATIVE
    assert value_color(1.0, 1.0).name().upper() == QColor(POSITIVE).name().upper()
    legend = diagram.legend.text()
    assert POSITIVE.lower() in legend.lower() and "positive" in legend
    title = weights.plot.getPlotItem().titleLabel.text
    assert POSITIVE.lower() in title.lower() and "positive" in title


def test_log_axis_over_two_decades_keeps_its_decade_labels(qtbot) -> None:
    plot = _shown(qtbot, GradientNormPlot(), 500, 300)
    plot.set_layers(["W2"])
    plot.append(np.arange(1, 100), {"W2": np.geomspace(0.012, 0.9, 99)})  # ~1.9 decades
    plot.refresh()
    axis = plot.getPlotItem().getAxis("left")
    lo, hi = axis.range
    labels = [
        t
        for spacing, values in axis.tickValues(lo, hi, 250)
        for t in axis.tickStrings(values, 1.0, spacing or 1.0)
        if t
    ]
    assert labels  # at least 10⁻¹ (the grid had lines but no label at all)


def test_wide_log_axis_uses_one_notation() -> None:
    axis = ValueAxis("left")
    axis.setLogMode(False, True)
    axis.range = [-7.5, 0.5]
    labels = [t for t in axis.tickStrings([-7.0, -4.0, -3.0, -1.0, 0.0], 1.0, 1.0) if t]
    assert labels == ["10⁻⁷", "10⁻⁴", "10⁻³", "10⁻¹", "1"]  # not "0.0001" beside "10⁻⁵"


def test_log_axis_over_hundreds_of_decades_has_no_minor_level() -> None:
    axis = ValueAxis("left")
    axis.setLogMode(False, True)
    ticks = axis.tickValues(-136.0, 171.0, 300)
    assert all(spacing is not None for spacing, _ in ticks)  # majors skip decades: no minors
    assert 3 <= sum(len(v) for _, v in ticks) < 60  # pyqtgraph alone: 2,773, a 120 ms paint
    few = axis.tickValues(-3.0, 0.5, 300)  # a few decades keep their minor ticks
    assert any(spacing is None and len(v) for spacing, v in few)


def test_same_layers_again_keep_the_curves_and_drop_the_data(qtbot) -> None:
    plot = _shown(qtbot, GradientNormPlot())
    plot.set_layers(["W2", "W3"])
    plot.append(np.arange(1, 50), {"W2": np.ones(49), "W3": np.ones(49)})
    plot.refresh()
    curves = dict(plot.curves)
    plot.set_layers(["W2", "W3"])  # another variant of a sweep shown: the same network
    assert all(plot.curves[k] is curves[k] for k in curves)
    assert all(len(plot.series(k)) == 0 for k in curves)
    assert not len(plot.curves["W2"].getOriginalDataset()[0] or [])
    plot.set_layers(["W2", "W3", "W4"])
    assert "W4" in plot.curves and plot.curves["W2"] is not curves["W2"]


def test_step_axis_labels_stay_short() -> None:
    from bpstudio.ui.plots import CountAxis

    axis = CountAxis("bottom")
    assert axis.tickStrings([0.0, 20_000.0, 40_000.0], 1.0, 20_000.0) == ["0", "20k", "40k"]
    assert axis.tickStrings([1e6, 1.5e6], 1.0, 5e5) == ["1M", "1.5M"]
    assert axis.tickStrings([0.0, 500.0, 1000.0], 1.0, 500.0) == ["0", "500", "1000"]
