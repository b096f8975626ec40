"""GUI responsiveness while training: event-loop lateness, throughput vs headless, open-to-ready.

With the real ``MainWindow`` (offscreen, or a real X server: ``xvfb-run -a .venv/bin/python
benchmarks/gui_latency.py``) and live plots, for

  (a) the playground net 2 → 8 → 8 → 1 tanh, MSE, batch 10, on ~1000 samples, and
  (b) W1-sized data: 60 000 × 784 → 128 → 10 sigmoid, softmax + CE, batch 128 (synthetic),

it measures how late a 10 ms ``QTimer`` in the GUI thread fires (p50 / p95 / max) while training,
and the training throughput (steps/s, from the run's own step counter over wall time) against a
headless ``fit`` of the same configuration in this process (BLAS on one thread in both). It also
measures window open-to-ready: ``MainWindow()`` + ``show()`` until the first paint, with and without
the imports. Targets: lateness p95 ≤ 30 ms, max ≤ 100 ms; throughput ≥ 85 % of headless (W1),
≥ 60 % (playground); open-to-ready ≤ 1.5 s. While training it also reports the CPU share of the
GUI thread, of the rest of the GUI process (worker thread, Qt's threads) and of the training child,
and the 1-minute load average: on a 2-core machine other jobs change the lateness figures a lot.

``--long`` runs instead the long case of issue 7: built-in moons, 2 → 16 → 8 → 2 tanh, softmax +
CE, Adam α = 0.01, batch 10, "until stopped", in the real window driven by its own event loop
(``QEventLoop``, as ``exec()``), for ``--minutes`` (default 1; the target is stated for 10). It
reports the 10 ms timer lateness over the whole run and per minute (p95 ≤ 30 ms, max ≤ 100 ms),
the longest plot paint, how long the File menu takes to open every 15 s, and how long Stop takes:
a mouse click on the Stop button until the window's ``runEnded`` signal (≤ 0.5 s). For every
tick over 60 ms late it says how much CPU the GUI thread used in the gap (the rest of the gap it
waited for a core: other jobs on the machine) and what it was doing (its Python stack, sampled
every 2 ms from a thread); and it times the garbage collector's passes.

``--teach`` runs the same cases with the teaching views on screen: the Backprop inspector tab
below and the Saturation (activation diagnostics) tab beside the loss plot, both fed the weights
as they stream in (the W1 case is the 784-input data).

``--paint`` measures instead one ``refresh()`` + repaint of each live plot (560×400) holding
realistic data: 10 k points per step curve, 7 gradient-norm layers (log-y), 300 epochs; and one
decision-surface update (100×100 grid, spirals, 2 → 16 → 16 → 2), alone and with the tab's 32
neuron maps. CPU time of the GUI thread,
median of 30 (so that other jobs on the machine do not count).

``--sweep`` measures instead the same lateness while a 12-variant sweep of the playground net
(α on a log range 10⁻³ … 1, Compare…) trains in the window through ``fit_many`` in the child,
the Compare dock showing the 12 runs' overlaid curves: p95 ≤ 30 ms, max ≤ 100 ms, and the
curves update live (redraws a second of the overlay, the longest gap between two, the longest
overlay redraw, the points the 12 loss curves hold at the end). As ``--long`` does, it says for
each tick over 60 ms late how much CPU the GUI thread used in the gap and what it was doing.

Prints a table and ``RESULT …`` lines.

Leaves out: real-display compositor effects.

Usage: ``python benchmarks/gui_latency.py [--seconds 8] [--skip-w1] [--teach] [--paint]
[--long [--minutes 10]]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

# No Qt or pyqtgraph at module level: the training child must not import them (see remote.py).


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    import numpy as np

    a = np.asarray(values) if values else np.zeros(1)
    return float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(a.max())


def headless_steps_per_s(net, ds, fit_kw: dict, min_seconds: float) -> float:
    """Steps/s of plain ``fit`` (no callback), repeated epochs until ``min_seconds`` of training."""
    from threadpoolctl import threadpool_limits

    from bpstudio.engine import fit

    with threadpool_limits(1):
        net = net.copy()
        fit(net, ds.X_train[:2000], ds.Y_train[:2000], **{**fit_kw, "epochs": 1})  # warm-up
        steps = 0
        seconds = 0.0
        while seconds < min_seconds:
            h = fit(net, ds.X_train, ds.Y_train, X_val=ds.X_val, Y_val=ds.Y_val, **fit_kw)
            steps += h.steps
            seconds += h.seconds
    return steps / seconds


def _cpu_seconds(pid: int | None = None, tid: int | None = None) -> float:
    """utime + stime of a process (or one of this process's threads) from /proc; 0 if unknown."""
    path = f"/proc/self/task/{tid}/stat" if tid else f"/proc/{pid or 'self'}/stat"
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_window(app, w, seconds: float, warmup: float = 1.0) -> dict:
    """Train in the window until stopped; sample a 10 ms timer and the step counter."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    lateness: list[float] = []
    samples: list[tuple[float, int]] = []  # (wall time, step) at each Progress message
    clock = QElapsedTimer()
    clock.start()
    last = [0.0]
    measuring = [False]

    def on_tick() -> None:
        now = clock.nsecsElapsed() / 1e9
        if measuring[0] and last[0]:
            lateness.append(max(0.0, now - last[0] - 0.010))
        last[0] = now

    def on_progress(p) -> None:
        if measuring[0] and len(p.steps):
            samples.append((time.perf_counter(), int(p.step)))

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(on_tick)
    w.worker_handle.worker.progress.connect(on_progress)
    w.training_panel.until_stopped_check.setChecked(True)
    w.toggle_training()
    t_start = time.perf_counter()
    first_data = None
    while True:  # wait for the first data (spawn, data transfer), then warm up
        app.processEvents()
        if len(w.loss_plot.buffers["step"]) and first_data is None:
            first_data = time.perf_counter() - t_start
            t_warm = time.perf_counter()
        if first_data is not None and time.perf_counter() - t_warm >= warmup:
            break
        time.sleep(0.001)
        if time.perf_counter() - t_start > 120:
            raise RuntimeError("training did not start")
    child = w.worker_handle.worker.child_pid
    gui0, proc0, child0 = time.thread_time(), _cpu_seconds(), _cpu_seconds(child)
    t_measure = time.perf_counter()
    timer.start()
    measuring[0] = True
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()  # the event loop, as exec() would run it
        time.sleep(0.0005)
    measuring[0] = False
    timer.stop()
    wall = time.perf_counter() - t_measure
    gui_cpu = time.thread_time() - gui0
    other_cpu = max(0.0, _cpu_seconds() - proc0 - gui_cpu)
    child_cpu = _cpu_seconds(child) - child0
    w.worker_handle.worker.progress.disconnect(on_progress)
    done = []
    w.runEnded.connect(done.append)
    w.stop()
    t_stop = time.perf_counter()
    while not done and time.perf_counter() - t_stop < 30:
        app.processEvents()
        time.sleep(0.001)
    p50, p95, mx = _percentiles(lateness)
    (t0, s0), (t1, s1) = samples[0], samples[-1]
    return {
        "p50_ms": 1000 * p50,
        "p95_ms": 1000 * p95,
        "max_ms": 1000 * mx,
        "ticks": len(lateness),
        "steps_per_s": (s1 - s0) / (t1 - t0),
        "first_data_s": first_data,
        "curve_points": len(w.loss_plot.buffers["step"]),
        "gui_cpu": gui_cpu / wall,
        "other_cpu": other_cpu / wall,
        "child_cpu": child_cpu / wall,
        "load": os.getloadavg()[0],
    }


def _rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _memory_stall_s() -> float:
    """Seconds all tasks of the machine were stalled on memory so far (PSI "full"), or NaN."""
    try:
        with open("/proc/pressure/memory") as f:
            for line in f:
                if line.startswith("full"):
                    return int(line.split("total=")[1]) / 1e6
    except (OSError, IndexError, ValueError):
        pass
    return float("nan")


def _watchdog(last_tick: list[float], clock_now, stop, out: list[str]) -> None:
    """From a thread: when the GUI's 10 ms timer has not run for 2 s, note what the GUI thread
    is doing (its Python stack), once per stall."""
    import threading
    import traceback

    main = threading.main_thread().ident
    noted = 0.0
    while not stop.wait(0.5):
        late = clock_now() - last_tick[0]
        if last_tick[0] and late > 2.0 and last_tick[0] != noted:
            noted = last_tick[0]
            frame = sys._current_frames().get(main)
            stack = "".join(traceback.format_stack(frame)[-6:]) if frame else "?"
            out.append(f"GUI thread silent for {late:.1f} s at t={clock_now():.0f} s:\n{stack}")


class _Sampler:
    """From a thread, every ~2 ms: the GUI thread's innermost frames (file:function), kept for
    the last few seconds, so that a late tick can say what the GUI thread was doing meanwhile.
    Also times the cyclic garbage collector's passes (``gc.callbacks``)."""

    def __init__(self, clock_now) -> None:
        import collections
        import gc
        import threading

        self.now = clock_now
        self.samples: collections.deque = collections.deque(maxlen=4000)
        self.stop = threading.Event()
        self.main = threading.main_thread().ident
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.gc_pauses: list[tuple[float, int, float, int]] = []  # (t, generation, s, collected)
        self._gc_t0 = 0.0
        self._gc = gc
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_t0 = time.perf_counter()
        else:
            self.gc_pauses.append(
                (self.now(), info["generation"], time.perf_counter() - self._gc_t0,
                 info.get("collected", 0))
            )  # fmt: skip

    def _run(self) -> None:
        while not self.stop.wait(0.002):
            frame = sys._current_frames().get(self.main)
            names = []
            while frame is not None and len(names) < 5:
                code = frame.f_code
                names.append(f"{os.path.basename(code.co_filename)}:{code.co_name}")
                frame = frame.f_back
            self.samples.append((self.now(), " < ".join(names)))

    def between(self, t0: float, t1: float) -> list[tuple[str, int]]:
        import collections

        c = collections.Counter(s for t, s in list(self.samples) if t0 <= t <= t1)
        return [(n, k) for n, k in c.most_common(4)] + [("samples", sum(c.values()))]

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self._gc.callbacks.remove(self._on_gc)


def _print_late(late_what: list, limit: int, t_first: float | None = None) -> None:
    """The ticks over 60 ms apart, (time, gap, GUI-thread CPU in the gap, what it was doing):
    how many, in how many the GUI thread itself was busy, and the ``limit`` longest."""
    if late_what:
        busy = sum(1 for _, gap, cpu, _ in late_what if cpu > 0.5 * gap)
        print(
            f"  ticks over 60 ms apart: {len(late_what)}, in {busy} of them the GUI thread ran "
            "more than half the gap (the others: it waited for a core)"
        )
    for when, gap, cpu, what in sorted(late_what, key=lambda r: -r[1])[:limit]:
        at = "" if t_first is None else f" at {when - t_first:7.1f} s"
        print(
            f"  late tick{at}, gap {1000 * gap:.0f} ms, GUI thread CPU {1000 * cpu:.0f} ms: {what}"
        )


def long_run(app, w, seconds: float) -> int:
    """The long "until stopped" case (see the module docstring)."""
    import numpy as np
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest

    w.dataset_panel.select_builtin("moons")
    w.network_editor.set_spec(
        {
            "hidden": [16, 8],
            "activations": ["tanh", "tanh"],
            "output": "softmax",
            "loss": "cross_entropy",
            "init": "xavier_uniform",
            "seed": 0,
        }
    )
    w.training_panel.apply_settings(
        {"optimizer": "adam", "lr": 0.01, "batch_size": 10, "until_stopped": True, "pace": None}
    )
    loop = QEventLoop()
    clock = QElapsedTimer()
    clock.start()
    lateness: list[tuple[float, float]] = []  # (seconds since start, lateness)
    menu_ms: list[float] = []
    memory: list[tuple[float, float, float, float, float]] = []
    paint_max = [0.0]
    last = [0.0]
    last_cpu = [0.0]  # the GUI thread's CPU time at the last tick

    def on_tick() -> None:
        now = clock.nsecsElapsed() / 1e9
        if not memory or int(now) // 60 != int(last[0]) // 60:  # each minute: memory
            child = w.worker_handle.worker.child_pid
            memory.append((now, _rss_mb(), _rss_mb(child) if child else float("nan"),
                           _memory_stall_s(), os.getloadavg()[0]))  # fmt: skip
        cpu = time.thread_time()
        if last[0]:
            lateness.append((now, max(0.0, now - last[0] - 0.010)))
            if now - last[0] > 0.060 and len(late_what) < 5000:
                what = sampler.between(last[0], now)
                late_what.append((now, now - last[0], cpu - last_cpu[0], what))
        last[0] = now
        last_cpu[0] = cpu
        for plot in (w.loss_plot, w.grad_plot, w.accuracy_plot):
            if plot.paint_seconds > 0.020:
                slow.append((now, plot.objectName(), 1000 * plot.paint_seconds))
            paint_max[0] = max(paint_max[0], plot.paint_seconds)
            plot.paint_seconds = 0.0

    from PySide6.QtWidgets import QMenu

    menu = next(m for m in w.findChildren(QMenu) if m.title() == "&File")
    slow: list[tuple[float, str, float]] = []  # paints over 20 ms: (time, plot, ms)

    def open_menu() -> None:  # as a user would: open File, see it, close it
        t0 = clock.nsecsElapsed()
        menu.popup(w.mapToGlobal(QPoint(10, 30)))
        app.processEvents()
        menu_ms.append((clock.nsecsElapsed() - t0) / 1e6)
        QTimer.singleShot(200, menu.close)

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(10)
    ticker.timeout.connect(on_tick)
    menus = QTimer()
    menus.setInterval(15_000)
    menus.timeout.connect(open_menu)
    load0 = os.getloadavg()
    started = []
    w.worker_handle.worker.runStarted.connect(lambda *_: started.append(clock.nsecsElapsed()))
    w.toggle_training()
    while not len(w.loss_plot.series("step")):  # spawn and first data
        app.processEvents()
        time.sleep(0.002)
        if clock.nsecsElapsed() > 60e9:
            raise RuntimeError(f"training did not start within 60 s (state {w.state})")
    t_first = clock.nsecsElapsed() / 1e9
    import threading

    stalls: list[str] = []
    stop_dog = threading.Event()
    dog = threading.Thread(
        target=_watchdog, args=(last, lambda: clock.nsecsElapsed() / 1e9, stop_dog, stalls)
    )
    dog.start()
    stall0 = _memory_stall_s()
    late_what: list = []  # ticks over 60 ms apart: (time, gap, what the GUI thread was doing)
    sampler = _Sampler(lambda: clock.nsecsElapsed() / 1e9)
    sampler.start()
    ticker.start()
    menus.start()
    QTimer.singleShot(int(1000 * seconds), loop.quit)
    loop.exec()
    ticker.stop()
    menus.stop()
    stop_dog.set()
    dog.join()
    sampler.close()
    steps = w.loss_plot.series("step").n_points
    ended: list[int] = []
    w.runEnded.connect(lambda *_: ended.append(clock.nsecsElapsed()))
    button = w.training_panel.stop_button
    profile = None
    if os.environ.get("BPSTUDIO_PROFILE_STOP"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t_click = clock.nsecsElapsed()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    while not ended and (clock.nsecsElapsed() - t_click) < 30e9:
        app.processEvents()
        time.sleep(0.0005)
    stop_s = (ended[0] - t_click) / 1e9 if ended else float("inf")
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    load1 = os.getloadavg()
    t = np.array([a for a, _ in lateness]) - t_first
    late = np.array([b for _, b in lateness])
    p50, p95, mx = _percentiles(list(late))
    print(
        f"[long] moons 2→16→8→2 tanh, Adam 0.01, batch 10, until stopped, {seconds:.0f} s: "
        f"{steps} steps ({steps / seconds:.0f} steps/s), {len(w.loss_plot.series('epoch'))} "
        "epochs"
    )
    print(
        f"  timer lateness p50 {1000 * p50:.1f} ms, p95 {1000 * p95:.1f} ms, max "
        f"{1000 * mx:.1f} ms over {late.size} ticks; longest plot paint "
        f"{1000 * paint_max[0]:.1f} ms"
    )
    for m in range(int(np.ceil(seconds / 60))):
        sel = (t >= 60 * m) & (t < 60 * (m + 1))
        if sel.any():
            print(
                f"  minute {m + 1}: p95 {1000 * np.percentile(late[sel], 95):.1f} ms, "
                f"max {1000 * late[sel].max():.1f} ms"
            )
    i_max = int(np.argmax(late)) if late.size else 0
    if late.size:
        print(f"  worst tick at {t[i_max]:.1f} s; paints over 20 ms: {len(slow)}")
    for when, name, ms in slow[:10]:
        print(f"    {when - t_first:7.1f} s {name}: {ms:.0f} ms")
    if menu_ms:
        print(f"  File menu opened in {', '.join(f'{v:.0f}' for v in menu_ms)} ms")
    print(f"  Stop: click → runEnded {1000 * stop_s:.0f} ms")
    for when, gui_mb, child_mb, stall, load in memory:
        print(
            f"  at {when - t_first:5.0f} s: GUI process {gui_mb:.0f} MB, training child "
            f"{child_mb:.0f} MB; machine stalled on memory {stall - stall0:.1f} s so far; "
            f"load {load:.2f}"
        )
    for text in stalls:
        print("  " + text.replace("\n", "\n    "))
    gcp = sampler.gc_pauses
    for gen in (0, 1, 2):
        d = [p for _, g, p, _ in gcp if g == gen]
        if d:
            print(f"  gc generation {gen}: {len(d)} passes, max {1000 * max(d):.1f} ms, "
                  f"total {sum(d):.2f} s")  # fmt: skip
    _print_late(late_what, 15, t_first)
    print(f"  load average (1, 5, 15 min) before {load0}, after {load1} on {os.cpu_count()} cores")
    ok = p95 <= 0.030 and mx <= 0.100 and stop_s <= 0.5
    print(
        f"RESULT case=long seconds={seconds:.0f} steps={steps} lateness_p50_ms={1000 * p50:.1f} "
        f"lateness_p95_ms={1000 * p95:.1f} lateness_max_ms={1000 * mx:.1f} "
        f"paint_max_ms={1000 * paint_max[0]:.1f} "
        f"menu_max_ms={max(menu_ms) if menu_ms else float('nan'):.0f} "
        f"stop_ms={1000 * stop_s:.0f} late_gap_gui_cpu_max_ms="
        f"{1000 * max((c for _, _, c, _ in late_what), default=0.0):.0f} "
        f"load1={load1[0]:.2f} ok={ok}"
    )
    return 0


def sweep_run(app, w, seconds: float) -> int:
    """The sweep case (see the module docstring)."""
    import numpy as np
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from bpstudio.ui.sweep import SweepSpec, parse_values

    w.dataset_panel.select_builtin("gaussian_bump", n_samples=1250)
    w.network_editor.set_spec(
        {
            "hidden": [8, 8],
            "activations": ["tanh", "tanh"],
            "output": "linear",
            "loss": "mse",
            "init": "xavier_uniform",
            "seed": 0,
        }
    )
    w.training_panel.apply_settings({"optimizer": "sgd", "lr": 0.05, "batch_size": 10})
    view = w.comparison.view
    redraws: list[tuple[float, float]] = []  # (time, seconds the redraw took)
    refresh = view.refresh

    def timed_refresh(force: bool = False, parts: tuple = ("loss", "metric", "grad")) -> int:
        t = time.perf_counter()
        n = refresh(force, parts)
        if n and "loss" in parts:  # the loss plot's redraws (the others alternate with it)
            redraws.append((t, time.perf_counter() - t))
        return n

    view.refresh = timed_refresh  # the view's timer calls it through _tick
    spec = SweepSpec("lr", parse_values("lr", "log:0.001:1:12"), epochs=100_000)
    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [0.0]
    last_cpu = [0.0]
    measuring = [False]
    late_what: list[tuple[float, float, float, list]] = []  # ticks over 60 ms apart
    sampler = _Sampler(lambda: clock.nsecsElapsed() / 1e9)

    def on_tick() -> None:
        now = clock.nsecsElapsed() / 1e9
        cpu = time.thread_time()
        if measuring[0] and last[0]:
            lateness.append(max(0.0, now - last[0] - 0.010))
            if now - last[0] > 0.060:
                late_what.append((now, now - last[0], cpu - last_cpu[0],
                                  sampler.between(last[0], now)))  # fmt: skip
        last[0] = now
        last_cpu[0] = cpu

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(on_tick)
    sweep = w.comparison.sweeper.start(spec)
    t_start = time.perf_counter()
    while not any(r.steps for r in sweep.runs):  # spawn, data, first messages (α 1 diverges)
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - t_start > 120:
            raise RuntimeError("the sweep did not start")
    first_data = time.perf_counter() - t_start
    t_warm = time.perf_counter()
    while time.perf_counter() - t_warm < 1.0:
        app.processEvents()
        time.sleep(0.0005)
    child = w.worker_handle.worker.child_pid
    gui0, child0 = time.thread_time(), _cpu_seconds(child)
    steps0 = [r.steps for r in sweep.runs]
    n_redraws0 = len(redraws)
    t_measure = time.perf_counter()
    sampler.start()
    timer.start()
    measuring[0] = True
    end = t_measure + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)
    measuring[0] = False
    timer.stop()
    sampler.close()
    wall = time.perf_counter() - t_measure
    gui_cpu = (time.thread_time() - gui0) / wall
    child_cpu = (_cpu_seconds(child) - child0) / wall
    steps = [r.steps - s0 for r, s0 in zip(sweep.runs, steps0, strict=True)]
    done = []
    w.comparison.sweeper.ended.connect(done.append)
    w.stop()
    t_stop = time.perf_counter()
    while not done and time.perf_counter() - t_stop < 30:
        app.processEvents()
        time.sleep(0.001)
    stop_s = time.perf_counter() - t_stop
    p50, p95, mx = _percentiles(lateness)
    measured = [r for r in redraws[n_redraws0:] if t_measure <= r[0] <= end]
    times = [t for t, _ in measured]
    gaps = np.diff([t_measure, *times, end]) if times else np.array([wall])
    longest_redraw = max((d for _, d in measured), default=0.0)
    points = [len(c.loss.xData) for c in view.curves.values() if c.loss.xData is not None]
    load = os.getloadavg()[0]
    print(
        f"\n[sweep] 12 variants of 2→8→8→1 tanh, batch 10, {len(w.dataset.X_train)} rows, "
        f"α log 0.001…1: every run's first data after {first_data:.2f} s"
    )
    print(
        f"  timer lateness p50 {1000 * p50:.1f} ms, p95 {1000 * p95:.1f} ms, "
        f"max {1000 * mx:.1f} ms over {len(lateness)} ticks"
    )
    print(
        f"  {sum(steps) / wall:.0f} steps/s over the 12 runs ({min(steps) / wall:.0f}–"
        f"{max(steps) / wall:.0f} per run); overlay redraws {len(measured) / wall:.1f}/s, "
        f"longest gap {1000 * gaps.max():.0f} ms, longest redraw {1000 * longest_redraw:.1f} ms, "
        f"loss curves hold {min(points, default=0)}–{max(points, default=0)} points"
    )
    print(
        f"  CPU: GUI thread {100 * gui_cpu:.0f} %, training child {100 * child_cpu:.0f} % "
        f"(of one core); stop took {stop_s:.2f} s; load average {load:.2f} on "
        f"{os.cpu_count()} cores"
    )
    _print_late(late_what, 8)
    live = len(measured) / wall >= 2 and gaps.max() <= 1.0
    ok = 1000 * p95 <= 30 and 1000 * mx <= 100 and live
    print(
        f"RESULT case=sweep12 lateness_p50_ms={1000 * p50:.1f} lateness_p95_ms={1000 * p95:.1f} "
        f"lateness_max_ms={1000 * mx:.1f} steps_per_s={sum(steps) / wall:.0f} "
        f"redraws_per_s={len(measured) / wall:.1f} longest_gap_ms={1000 * gaps.max():.0f} "
        f"longest_redraw_ms={1000 * longest_redraw:.1f} gui_cpu={gui_cpu:.2f} "
        f"child_cpu={child_cpu:.2f} load1={load:.2f} ok={ok}"
    )
    return 0


def make_w1(n: int = 60_000, n_val: int = 2_000, seed: int = 0):
    """Synthetic MNIST-shaped data (float32), as a PreparedDataset without a preprocessor."""
    import numpy as np

    from bpstudio.data import PreparedDataset

    rng = np.random.default_rng(seed)
    k, d = 10, 784
    centres = rng.normal(size=(k, d)).astype(np.float32)
    labels = rng.integers(0, k, size=n + n_val)
    X = centres[labels] + rng.normal(scale=2.0, size=(n + n_val, d)).astype(np.float32)
    Y = np.eye(k, dtype=np.float32)[labels]
    empty = np.zeros((0, d), np.float32)
    return PreparedDataset(
        name="W1 (synthetic 60000×784)",
        task="classification",
        X_train=X[:n],
        Y_train=Y[:n],
        X_val=X[n:],
        Y_val=Y[n:],
        X_test=empty,
        Y_test=np.zeros((0, k), np.float32),
        feature_names=[f"p{i}" for i in range(d)],
        target_names=["digit"],
        classes=[str(i) for i in range(k)],
        preprocessor=None,
        notes=[],
        n_rows=n + n_val,
        n_dropped=0,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="measured seconds per case")
    ap.add_argument("--skip-w1", action="store_true", help="only the playground net")
    ap.add_argument("--paint", action="store_true", help="paint cost per plot, then exit")
    ap.add_argument("--long", action="store_true", help="the long 'until stopped' run only")
    ap.add_argument(
        "--teach",
        action="store_true",
        help="with the Backprop inspector and the Saturation tab on screen",
    )
    ap.add_argument("--minutes", type=float, default=1.0, help="length of the --long run")
    ap.add_argument("--sweep", action="store_true", help="a 12-variant sweep in the window only")
    ap.add_argument(
        "--async-paint",
        action="store_true",
        help="try the proposed window policy: plots repaint through update() (one paint per "
        "refresh) instead of a synchronous repaint() (which Qt follows with a second paint)",
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy  # noqa: F401 - threadpool_limits only limits libraries already loaded
    from threadpoolctl import threadpool_limits

    # as run_app does: the GUI process only does small array work. (Before NumPy is imported
    # this was a no-op, and OpenBLAS's idle thread took ~15 % of a core while training.)
    threadpool_limits(1)
    if args.paint:
        return measure_paint()

    t_imp = time.perf_counter()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from bpstudio.ui import theme
    from bpstudio.ui.main_window import MainWindow

    import_s = time.perf_counter() - t_imp
    from bpstudio.ui import dialogs

    # closing with unsaved runs asks Save / Discard / Cancel: a benchmark discards them (a real
    # modal dialog would wait forever offscreen)
    dialogs.ask_save_discard_cancel = lambda *a: "discard"
    dialogs.ask_restore_recovery = lambda *a: False
    theme.apply_theme(app, "light")
    tmp = tempfile.mkdtemp(prefix="bpstudio-bench-")
    settings = QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat)

    t0 = time.perf_counter()
    w = MainWindow(settings=settings, restore=False)
    w.show()
    keep = []
    if args.async_paint:
        for plot in (w.loss_plot, w.grad_plot, w.accuracy_plot, w.surface_view):
            viewport = plot.viewport()
            viewport.repaint = viewport.update  # the wrapper must stay alive to keep this
            keep.append(viewport)
    painted: list[float] = []
    spy = _PaintSpy(painted)  # keep a reference: a collected filter is silently removed
    w.loss_plot.viewport().installEventFilter(spy)
    while not painted and time.perf_counter() - t0 < 30:
        app.processEvents()
    ready_s = time.perf_counter() - t0
    print(
        f"platform {app.platformName()}; imports {import_s:.3f} s; window open-to-ready "
        f"{ready_s:.3f} s (imports + open: {import_s + ready_s:.3f} s)"
    )
    print(
        f"RESULT case=open_to_ready seconds={ready_s:.3f} with_imports={import_s + ready_s:.3f} "
        f"target=1.5 ok={ready_s <= 1.5}"
    )

    from bpstudio.engine.remote import RemoteTrainer  # noqa: F401 - warm import

    if args.long:
        try:
            return long_run(app, w, 60.0 * args.minutes)
        finally:
            w.close()
    if args.sweep:
        try:
            return sweep_run(app, w, args.seconds)
        finally:
            from bpstudio.ui import dialogs

            dialogs.ask_save_discard_cancel = lambda *a: "discard"
            w.close()
    rows = []
    try:
        # (a) playground: 2 → 8 → 8 → 1 tanh, batch 10, ~1000 samples
        w.dataset_panel.select_builtin("gaussian_bump", n_samples=1250)
        w.network_editor.set_spec(
            {
                "hidden": [8, 8],
                "activations": ["tanh", "tanh"],
                "output": "linear",
                "loss": "mse",
                "init": "xavier_uniform",
                "seed": 0,
            }
        )
        w.training_panel.apply_settings(
            {"optimizer": "sgd", "lr": 0.05, "batch_size": 10, "pace": None}
        )
        fit_kw = {**w.training_panel.fit_config(), "epochs": 20}
        rows.append(("playground", 0.60, w, fit_kw, args.seconds, app))
        if not args.skip_w1:
            rows.append(("W1", 0.85, None, None, args.seconds, app))
        results = []
        for name, target, _, _, seconds, _ in rows:
            if name == "W1":
                ds = make_w1()
                w._on_dataset_changed(ds)  # as DatasetPanel.datasetChanged would
                w.network_editor.set_spec(
                    {
                        "hidden": [128],
                        "activations": ["sigmoid"],
                        "output": "softmax",
                        "loss": "cross_entropy",
                        "init": "xavier_uniform",
                        "seed": 0,
                    }
                )
                w.training_panel.apply_settings(
                    {"optimizer": "sgd", "lr": 0.1, "batch_size": 128, "pace": None}
                )
                fit_kw = {**w.training_panel.fit_config(), "epochs": 1}
            ds = w.dataset
            sizes = "→".join(map(str, w.network.sizes))
            if args.teach:
                w.set_current_tab("trace")
                w.grad_tabs.setCurrentWidget(w.diagnostics)
                name = f"{name}+teach"
            gui = measure_window(app, w, seconds)
            if args.teach:
                print(
                    f"  teaching views fed: inspector {w.throttled[0].delivered}, "
                    f"diagnostics {w.throttled[1].delivered} times so far"
                )
            head = headless_steps_per_s(w.network, ds, fit_kw, min_seconds=min(seconds, 4.0))
            ratio = gui["steps_per_s"] / head
            results.append((name, sizes, gui, head, ratio, target))
            print(
                f"\n[{name}] {sizes}, batch {fit_kw['batch_size']}, {len(ds.X_train)} rows: "
                f"first data after {gui['first_data_s']:.2f} s"
            )
            print(
                f"  timer lateness p50 {gui['p50_ms']:.1f} ms, p95 {gui['p95_ms']:.1f} ms, "
                f"max {gui['max_ms']:.1f} ms over {gui['ticks']} ticks"
            )
            print(
                f"  throughput {gui['steps_per_s']:.0f} steps/s in the window vs "
                f"{head:.0f} headless = {100 * ratio:.0f} %"
            )
            print(
                f"  CPU: GUI thread {100 * gui['gui_cpu']:.0f} %, rest of the GUI process "
                f"{100 * gui['other_cpu']:.0f} %, training child {100 * gui['child_cpu']:.0f} % "
                f"(of one core); load average {gui['load']:.2f} on {os.cpu_count()} cores"
            )
            ok = gui["p95_ms"] <= 30 and gui["max_ms"] <= 100 and ratio >= target
            print(
                f"RESULT case={name} lateness_p50_ms={gui['p50_ms']:.1f} "
                f"lateness_p95_ms={gui['p95_ms']:.1f} lateness_max_ms={gui['max_ms']:.1f} "
                f"gui_steps_per_s={gui['steps_per_s']:.0f} headless_steps_per_s={head:.0f} "
                f"ratio={ratio:.2f} target_ratio={target:.2f} "
                f"gui_cpu={gui['gui_cpu']:.2f} child_cpu={gui['child_cpu']:.2f} "
                f"load1={gui['load']:.2f} ok={ok}"
            )
    finally:
        w.close()
    return 0


def measure_paint(reps: int = 30) -> int:
    """CPU ms of one refresh() + repaint per plot with realistic data (see the module docstring)."""
    import numpy as np
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from bpstudio.data import make_builtin, prepare
    from bpstudio.engine import Network
    from bpstudio.ui import theme
    from bpstudio.ui.plots import AccuracyPlot, GradientNormPlot, LossPlot
    from bpstudio.ui.surface_view import DecisionSurfaceView

    theme.apply_theme(app, "light")
    loss, grad, acc = LossPlot(), GradientNormPlot(), AccuracyPlot()
    grad.set_layers([f"W{i}" for i in range(2, 9)])
    for p in (loss, grad, acc):
        p.resize(560, 400)
        p.show()
    rng = np.random.default_rng(0)
    state = {"step": 0, "epoch": 0}

    def feed(n: int) -> None:  # n steps of the per-step loss and all gradient norms
        s = np.arange(state["step"] + 1, state["step"] + n + 1)
        state["step"] += n
        loss.append_steps(s, 1 / np.sqrt(s) + 0.05 * rng.random(n))
        norms = {
            f"{k}{i}": np.exp(-i) * (1 + 0.3 * rng.random(n)) for i in range(2, 9) for k in "Wb"
        }
        grad.append(s, norms)

    def epoch() -> None:
        state["epoch"] += 1
        e = state["epoch"]
        loss.append_epoch(state["step"], e, 1 / np.sqrt(e), 1.1 / np.sqrt(e))
        acc.append_epoch(e, 0.5 + 0.4 * e / (e + 100), 0.5 + 0.38 * e / (e + 100))

    for _ in range(15):
        feed(1000)
    for _ in range(300):
        epoch()
    for p in (loss, grad, acc):
        p.refresh()
        p.viewport().repaint()
    app.processEvents()

    rows = []
    for name, plot in (("loss", loss), ("gradient_norms", grad), ("accuracy", acc)):
        refresh_ms, paint_ms = [], []
        for _ in range(reps):
            feed(50)  # one Progress message's worth at ~1000 steps/s
            epoch()
            t0 = time.thread_time()
            plot.refresh()
            t1 = time.thread_time()
            plot.viewport().repaint()
            t2 = time.thread_time()
            refresh_ms.append(1000 * (t1 - t0))
            paint_ms.append(1000 * (t2 - t1))
        n = [len(b) for b in plot.buffers.values()]
        rows.append((name, float(np.median(refresh_ms)), float(np.median(paint_ms)), max(n)))

    ds = prepare(make_builtin("spirals"))
    view = DecisionSurfaceView()
    view.resize(560, 400)
    view.show()
    app.processEvents()
    view.set_dataset(ds)
    net = Network([2, 16, 16, ds.n_outputs], output="softmax", loss="cross_entropy")
    view.set_network(net)
    view.viewport().repaint()
    refresh_ms, paint_ms = [], []
    for _ in range(reps):
        net.params["W2"][...] *= 1.01
        t0 = time.thread_time()
        view.set_network(net)
        t1 = time.thread_time()
        view.viewport().repaint()
        t2 = time.thread_time()
        refresh_ms.append(1000 * (t1 - t0))
        paint_ms.append(1000 * (t2 - t1))
    rows.append(("decision_surface", float(np.median(refresh_ms)), float(np.median(paint_ms)), 0))
    # the whole tab: the surface plus one map per hidden unit (32 here)
    from bpstudio.ui.surface_panel import SurfacePanel

    panel = SurfacePanel()
    panel.resize(900, 420)
    panel.show()
    app.processEvents()
    panel.set_dataset(ds)
    panel.set_network(net)
    panel.repaint()
    refresh_ms, paint_ms = [], []
    for _ in range(reps):
        net.params["W2"][...] *= 1.01
        t0 = time.thread_time()
        panel.set_network(net)
        t1 = time.thread_time()
        panel.repaint()
        t2 = time.thread_time()
        refresh_ms.append(1000 * (t1 - t0))
        paint_ms.append(1000 * (t2 - t1))
    tab_ms = (float(np.median(refresh_ms)), float(np.median(paint_ms)))
    rows.append(("surface_tab_with_maps", *tab_ms, 0))
    print(f"paint cost per plot (CPU ms, median of {reps}); load average {os.getloadavg()[0]:.2f}")
    for name, r, p, n in rows:
        print(
            f"RESULT case=paint_{name} refresh_ms={r:.2f} paint_ms={p:.2f} "
            f"total_ms={r + p:.2f} max_points={n}"
        )
    for w in (loss, grad, acc, view):
        w.close()
    return 0


class _PaintSpy:
    """Event filter object noting the first paint of a widget."""

    def __new__(cls, sink: list):
        from PySide6.QtCore import QEvent, QObject

        class Spy(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt override
                if event.type() == QEvent.Type.Paint and not sink:
                    sink.append(time.perf_counter())
                return False

        return Spy()


if __name__ == "__main__":
    sys.exit(main())
