"""The overlay draws each run's per-step series as the mean line over a min–max band in the run's
colour, and a hover read-out gives every visible run's value at the x under the cursor; a redraw
of 12 long runs stays cheap."""

from __future__ import annotations

import time

import numpy as np

from bpstudio.session import Session
from bpstudio.session.synthetic import synthetic_run
from bpstudio.ui.compare import BAND_ALPHA, CompareView


def _runs(n: int, epochs: int, steps: int) -> list:
    s = Session()
    return [
        synthetic_run(s, [2, 8, 8, 2], epochs, steps, chunk_epochs=50, seed=i) for i in range(n)
    ]


def _shown_view(qtbot, width: int, height: int) -> CompareView:
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_bands_and_hover_read_out(qtbot) -> None:
    view = _shown_view(qtbot, 1200, 400)
    a, b = _runs(2, 100, 48)  # 4,800 steps: many per drawn point
    view.set_runs([a, b])
    c = view.curves[b.id]
    x, y = c.loss.getOriginalDataset()
    bx, by = c.loss_band.getOriginalDataset()
    env = b.history.loss.view(columns=len(x))
    assert len(bx) == 2 * len(x) and np.all(bx[::2] == bx[1::2])  # one vertical pair per point
    lo, hi = by[::2], by[1::2]
    assert np.all(lo <= y + 1e-12) and np.all(y <= hi + 1e-12) and np.any(hi > lo)
    assert lo.min() == env.ymin.min() and hi.max() == env.ymax.max()  # the runs' own min / max
    pen = c.loss_band.opts["pen"]
    assert pen.color().rgb() == c.color.rgb() and pen.color().alpha() == BAND_ALPHA
    assert set(c.grad_bands) == set(c.grad)  # each layer's norms have their band too
    # hover: each visible run's value at the x under the cursor, on the plot hovered
    xq = float(x[len(x) // 3])
    text = view.show_readout_at("loss", xq)
    for run in (a, b):
        cx, cy = view.curves[run.id].loss.getOriginalDataset()
        i = int(np.argmin(np.abs(cx - xq)))
        assert run.name in text and f"<b>{cy[i]:.4g}</b>" in text
    assert view.curves[a.id].color.name() in text
    assert f"step {round(xq):,}<" in text  # a whole step, not 1.578e+05
    assert view._vlines["grad"].isVisible() and view._vlines["grad"].value() == xq
    assert view._readouts["loss"].isVisible() and not view._readouts["metric"].isVisible()
    grad = view.show_readout_at("grad", xq)
    assert "W2" in grad and "W3" in grad
    view.set_run_visible(a, False)  # a hidden run is left out of the read-out
    assert a.name not in view.show_readout_at("loss", xq)
    assert not view.curves[a.id].loss_band.isVisible()  # its bands hide with its curves
    assert view.show_readout_at("loss", float(x[-1]) * 10) == ""  # past every run's end
    assert not view._readouts["loss"].isVisible()


def test_a_redraw_of_12_long_runs_is_cheap(qtbot) -> None:
    view = _shown_view(qtbot, 1400, 450)
    runs = _runs(12, 500, 200)  # 100,000 steps each
    view.set_runs(runs)
    times = []
    for part in ("loss", "metric", "grad") * 3:
        for c in view.curves.values():
            c.keys.clear()  # as if every run moved (a 12-variant sweep in full flight)
        t0 = time.perf_counter()
        view.refresh(parts=(part,))
        view.repaint()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(20):
        view.show_readout_at("loss", 1000.0 + i * 4000.0)
    hover = (time.perf_counter() - t0) / 20
    worst = max(times)
    print(f"\n12 runs × 100k steps: one plot's redraw + paint ≤ {1e3 * worst:.1f} ms, "
          f"median {1e3 * float(np.median(times)):.1f} ms; hover {1e3 * hover:.2f} ms")  # fmt: skip
    assert worst < 0.25 and hover < 0.02  # generous: a shared, busy machine


def test_a_diverged_run_is_drawn_but_does_not_set_the_range(qtbot) -> None:
    from bpstudio.session import RunStatus, StopReason

    view = _shown_view(qtbot, 1200, 400)
    runs = _runs(3, 20, 48)
    bad = runs[2]
    steps = np.arange(bad.steps + 1, bad.steps + 41, dtype=float)
    bad.history.record_steps(steps, np.geomspace(1.0, 1e170, 40), None, steps,
                             {"W2": np.geomspace(1e-70, 1.0, 40)})  # fmt: skip
    bad.steps = int(steps[-1])
    bad.status, bad.stop_reason = RunStatus.ENDED, StopReason.DIVERGED
    view.set_runs(runs)
    lo, hi = view.loss_plot.getPlotItem().vb.viewRange()[1]  # log10 units
    assert hi < 5 and lo > -10  # the others' losses, not 10¹⁷⁰
    assert len(view.curves[bad.id].loss.xData)  # still drawn (it leaves through the top)
    assert view.grad_plot.getPlotItem().vb.viewRange()[1][0] > -20
    axis = view.loss_plot.getPlotItem().getAxis("left")
    assert axis.range[1] < 5
    for r in runs[:2]:  # every run diverged: then they all count
        r.status, r.stop_reason = RunStatus.ENDED, StopReason.DIVERGED
    view.refresh(force=True)
    assert view.loss_plot.getPlotItem().vb.viewRange()[1][1] > 150
    ticks = axis.tickValues(*axis.range, 300)
    assert sum(len(v) for _, v in ticks) < 60  # was 2,773 ticks over 300 decades
    view.set_run_visible(runs[0], False)  # hidden runs do not count either
    view.refresh(force=True)
    x1 = view.loss_plot.getPlotItem().vb.viewRange()[0][1]
    assert x1 < 1.2 * max(r.steps for r in runs[1:])
