"""Sweeps in the window: Compare… (``actionSweep``) trains 2–12 variants of the current run that
differ in one setting, together, in the training child (``fit_many`` through a request for
several nets), each as a run of the session.

:class:`SweepSpec` is the choice (a setting and its values); :func:`parse_values` reads the values
as typed (a list, or ``log:LOW:HIGH:COUNT`` for α and L2); :func:`build_variants` makes the
variants from the window's network and settings with the same initial weights wherever the
shapes allow (a width sweep keeps the weights of the layers whose shape did not change; an
initialiser or seed sweep draws new ones, that being the point). :class:`SweepRunner` creates
the runs, sends the request, records each variant's ``Progress`` / ``Finished`` into its run, and
puts the runs in the comparison view, whose results table sorts them by the validation metric.

While a sweep trains, the main loss / gradient / accuracy plots show one variant (``shown``),
named in their titles: the one picked in the results table or the Runs table, else the best so
far by the validation metric (checked once a second; a new best is followed once it has led for
``FOLLOW_AFTER`` checks in a row; the first variant until there are figures). The weight views
(surface, diagram, inspector, heatmaps) draw that variant too, with the weights it last sent
(``display_net``). When the sweep ends, the variant shown is put on screen as any run is.

Leaves out: sweeping two settings at once, α changed live during a sweep (one control for all).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from bpstudio.engine import HIDDEN_ACTIVATIONS, OPTIMIZERS, FitConfig, Network
from bpstudio.engine.initializers import INITIALIZERS
from bpstudio.engine.remote import Variant
from bpstudio.session import Run, RunStatus
from bpstudio.ui.run_controller import eased_rate, fmt_seconds

SWEEP_MIN, SWEEP_MAX = 2, 12
NOTIFY_MS = 1000  # ≤ 1 Runs-table update a second per run during a sweep
# The main plots move to a new best variant once it has led for this many checks in a row (one
# a second): two close variants took the lead in turns, and the plots jumped between them.
FOLLOW_AFTER = 3
#: setting → (label, kind); kind: float | int | a tuple of allowed names
SETTINGS: dict[str, tuple[str, Any]] = {
    "lr": ("α (learning rate)", float),
    "batch_size": ("batch size", int),
    "width": ("a hidden layer's width", int),
    "activation": ("hidden activation", tuple(HIDDEN_ACTIVATIONS)),
    "init": ("initialiser", tuple(INITIALIZERS)),
    "optimizer": ("optimiser", tuple(OPTIMIZERS)),
    "weight_decay": ("L2", float),
    "seed": ("seed (weights and shuffling)", int),
}
LOG_OK = ("lr", "weight_decay")
SHORT = {"lr": "α", "batch_size": "batch", "weight_decay": "L2", "optimizer": "optimiser"}


@dataclass
class SweepSpec:
    setting: str
    values: list[Any]
    layer: int | None = None  # width: the hidden layer (2 … L-1)
    epochs: int | None = None  # None: the training panel's

    def label(self, value: Any) -> str:
        name = SHORT.get(self.setting, self.setting)
        if self.setting == "width":
            name = f"layer {self.layer} width"
        return f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"


def parse_values(setting: str, text: str) -> list[Any]:
    """The values typed for ``setting``: ``0.01, 0.1, 1`` or (α, L2) ``log:1e-3:1:6``. Raises
    ValueError with a message for the user."""
    if setting not in SETTINGS:
        raise ValueError(f"Unknown setting '{setting}'.")
    kind = SETTINGS[setting][1]
    text = text.strip()
    if text.lower().startswith("log:"):
        if setting not in LOG_OK:
            raise ValueError("A log range applies to α and L2 only.")
        parts = text.split(":")
        try:
            if len(parts) != 4:
                raise ValueError
            low, high, count = float(parts[1]), float(parts[2]), int(parts[3])
        except ValueError:
            raise ValueError(
                f"Expected log:LOW:HIGH:COUNT such as log:1e-4:1e-1:6, got '{text}'."
            ) from None
        if not (0 < low < high and math.isfinite(high)):
            raise ValueError("A log range needs 0 < LOW < HIGH.")
        if not SWEEP_MIN <= count <= SWEEP_MAX:
            raise ValueError(f"A sweep takes {SWEEP_MIN}–{SWEEP_MAX} values, got {count}.")
        return [float(f"{v:.6g}") for v in np.geomspace(low, high, count)]
    items = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    values: list[Any] = []
    for item in items:
        if isinstance(kind, tuple):
            if item not in kind:
                raise ValueError(
                    f"Unknown {SETTINGS[setting][0]} '{item}'; one of {', '.join(kind)}."
                )
            values.append(item)
            continue
        try:
            v = kind(float(item)) if kind is int and float(item).is_integer() else kind(item)
        except ValueError:
            raise ValueError(
                f"'{item}' is not a {'whole ' if kind is int else ''}number."
            ) from None
        if kind is float and not math.isfinite(v):
            raise ValueError(f"'{item}' is not a finite number.")
        low_ok = 0 if setting in ("weight_decay", "seed") else 1e-300
        if v < low_ok or (kind is int and setting != "seed" and v < 1):
            raise ValueError(f"{SETTINGS[setting][0]} must be positive, got '{item}'.")
        values.append(v)
    if not SWEEP_MIN <= len(values) <= SWEEP_MAX:
        raise ValueError(f"A sweep takes {SWEEP_MIN}–{SWEEP_MAX} values, got {len(values)}.")
    if len(set(values)) != len(values):
        raise ValueError("A value is listed twice.")
    return values


def build_variants(
    net_config: dict[str, Any], params: dict[str, np.ndarray], fit: FitConfig, spec: SweepSpec
) -> list[Variant]:
    """One :class:`Variant` per value: only ``spec.setting`` differs from the base; the initial
    weights are the base's wherever the shapes allow (not for an initialiser or seed sweep)."""
    out = []
    base_fit = fit.to_dict()
    if spec.epochs is not None:
        base_fit["epochs"] = int(spec.epochs)
    for value in spec.values:
        cfg, f, p = dict(net_config), dict(base_fit), {k: v.copy() for k, v in params.items()}
        s = spec.setting
        if s in ("lr", "batch_size", "optimizer", "weight_decay"):
            f[s] = value
        elif s == "activation":
            cfg["activations"] = [value] * len(cfg.get("activations") or [])
        elif s in ("init", "seed", "width"):
            if s == "init":
                cfg["init"] = value
            elif s == "seed":
                cfg["seed"], f["seed"] = int(value), int(value)
            else:
                sizes = list(cfg["sizes"])
                layer = spec.layer or 2
                if not 2 <= layer <= len(sizes) - 1:
                    raise ValueError(f"Layer {layer} is not a hidden layer.")
                sizes[layer - 1] = int(value)
                cfg["sizes"] = sizes
            fresh = Network.from_config(cfg).get_params()
            if s == "width":  # layers whose shape did not change keep the base's weights
                fresh = {k: (p[k] if p[k].shape == v.shape else v) for k, v in fresh.items()}
            p = fresh
        else:
            raise ValueError(f"Unknown setting '{s}'.")
        out.append(Variant(cfg, p, FitConfig.from_dict(f)))
    return out


def validation_metric(run: Run) -> tuple[tuple[float, float], str]:
    """(sort key, text) of a run's validation metric: accuracy (higher first, ties by the lower
    validation loss), else RMSE (or the loss) lower first."""
    loss = run.final("val_loss") or run.final("train_loss")
    tie = loss if loss is not None and math.isfinite(loss) else math.inf
    if run.is_classification:
        acc = run.final("val_accuracy")
        if acc is None:
            acc = run.final("train_accuracy")
        text = "–" if acc is None else f"{100 * acc:.1f} %"
        return ((-acc if acc is not None else math.inf), tie), text
    rmse = run.final("val_rmse") or run.final("val_loss") or run.final("train_loss")
    key = rmse if rmse is not None and math.isfinite(rmse) else math.inf
    return (key, tie), ("–" if rmse is None else f"{rmse:.4g}")


@dataclass
class Sweep:
    spec: SweepSpec
    runs: list[Run] = field(default_factory=list)
    done: int = 0


class SweepRunner(QObject):
    """Starts a sweep from the window's network and settings and records it (see the module)."""

    started = Signal(object)  # Sweep
    progressed = Signal()
    ended = Signal(object)  # Sweep

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.sweep: Sweep | None = None  # the sweep training now
        self.last: Sweep | None = None
        # 12 runs × 5 messages a second: the session hears of a run's progress once a
        # second (the Runs table and the title follow it), not once per message
        self._dirty: set[int] = set()
        self._notify = QTimer(self)
        self._notify.setInterval(NOTIFY_MS)
        self._notify.timeout.connect(self._flush_notify)
        self.shown: Run | None = None  # the variant on the main plots
        self.why = "first"  # why it is shown: "first", "best so far" or "picked" (the user's)
        self._leader: tuple[Run | None, int] = (None, 0)  # the best so far, checks it has led
        self._rate: tuple[float, int, float] = (0.0, 0, 0.0)  # (time, steps of all runs, steps/s)
        self._started_at = 0.0
        # the shown variant's network, with its latest weights: what the surface, the diagram,
        # the inspector and the heatmaps draw during the sweep (``display_net``)
        self._display: tuple[Run, Network] | None = None
        rc = window.runs
        rc.variantProgressed.connect(self._on_progress)
        rc.variantFinished.connect(self._on_finished)
        rc.sweepEnded.connect(self._on_ended)
        rc.failed.connect(self._on_failed)

    def start(self, spec: SweepSpec) -> Sweep | None:
        w = self.w
        ds, net = w.dataset, w.network
        if ds is None or net is None or w.runs.busy() or not len(ds.X_train):
            return None
        fit = FitConfig.from_dict(w.training_panel.fit_config())
        variants = build_variants(net.config(), net.get_params(), fit, spec)
        sweep = Sweep(spec)
        pre = getattr(ds, "preprocessor", None)
        scale = getattr(pre, "target_scale", None) if ds.task == "regression" else None
        for value, v in zip(spec.values, variants, strict=True):
            run = w.session.new_run(
                v.net_config,
                v.fit,
                name=spec.label(value),
                dataset=w.book.dataset_ref(),
                task=ds.task,
                preprocessor=pre.to_dict() if pre is not None and hasattr(pre, "to_dict") else None,
                target_scale=[float(s) for s in scale] if scale is not None else None,
                params={k: a.copy() for k, a in v.params.items()},
                sweep=sweep.runs[0].id if sweep.runs else None,
            )
            if run.sweep is None:  # the first variant names the sweep (memory: one unit)
                run.sweep = run.id
            run.sweep_value = value  # type: ignore[attr-defined]
            run.start_segment()
            run.set_status(RunStatus.RUNNING)
            sweep.runs.append(run)
        self.sweep = sweep
        self.why = ""
        self._started_at = time.monotonic()
        self._rate = (self._started_at, 0, 0.0)
        self.show_variant(sweep.runs[0], "first")
        w.runs.start_many(ds, variants, f"data-{id(w)}-{w._data_gen}")
        w.statusBar().showMessage(
            f"Sweep of {SETTINGS[spec.setting][0]} over {len(variants)} values: training together",
        )
        self.started.emit(sweep)
        return sweep

    # ------------------------------------------------------------------ the main plots
    def show_variant(self, run: Run | None, why: str = "picked") -> None:
        """Draw ``run`` (a variant of the sweep training now) on the main plots, named in their
        titles with ``why`` ("first", "best so far", "picked": then the best so far no longer
        replaces it)."""
        sweep = self.sweep
        if sweep is None or run not in sweep.runs:
            return
        if self.why == "picked" and why != "picked":
            return
        if run is not self.shown:
            self.shown = run
            self.w.book.attach_plots(run)
            self._show_weights(run, run.params)
            self.w.runs_panel.select_run(run, quiet=True)  # its row, not the last one added
        if (run, why) != getattr(self, "_titled", None):
            self.why = why
            self._set_titles(run)
        self.w.refresher.kick()

    def display_net(self) -> Network | None:
        """During a sweep, the shown variant's network with its latest weights (the views draw
        it instead of the window's network); None otherwise."""
        return self._display[1] if self._display is not None and self.sweep is not None else None

    def _show_weights(self, run: Run, params: dict[str, np.ndarray] | None) -> None:
        """The shown variant's weights arrived (or it became the one shown): the weight views
        follow, as they follow a single run while it trains."""
        if params is None:
            return
        if self._display is None or self._display[0] is not run:
            self._display = (run, Network.from_config(run.net_config))
        self._display[1].set_params(params)
        self.w.param_views.mark_stale()
        self.w.refresher.kick()

    def _set_titles(self, run: Run | None) -> None:
        from bpstudio.ui import theme

        self._titled = (run, self.why) if run is not None else None
        color = theme.plot_theme().foreground
        sweep = self.sweep
        for plot, title in (
            (self.w.loss_plot, "Loss"),
            (self.w.grad_plot, "Gradient norms per layer"),
            (self.w.accuracy_plot, "Accuracy"),
        ):
            if run is not None and sweep is not None:
                k = sweep.runs.index(run) + 1
                title = f"{title} — {run.name} (variant {k} of {len(sweep.runs)}, {self.why})"
            plot.getPlotItem().setTitle(title, color=color)

    def on_variant_selected(self, runs: list[Run]) -> None:
        """The Runs table or the results table picked runs: show the last that is a variant."""
        sweep = self.sweep
        if sweep is None:
            return
        chosen = [r for r in runs if r in sweep.runs]
        if chosen:
            self.show_variant(chosen[-1], "picked")

    def _follow_best(self) -> None:
        sweep = self.sweep
        if sweep is None or self.why == "picked":
            return
        with_figures = [r for r in sweep.runs if len(r.history)]
        if not with_figures:
            return
        best = min(with_figures, key=lambda r: validation_metric(r)[0])
        lead, checks = self._leader
        self._leader = (best, checks + 1 if best is lead else 1)
        shown = self.shown
        settled = shown is None or self.why == "first" or shown.stop_reason == "diverged"
        if best is not shown and (settled or self._leader[1] >= FOLLOW_AFTER):
            self.show_variant(best, "best so far")

    def _run(self, k: int | None) -> Run | None:
        if self.sweep is None or k is None or not 0 <= k < len(self.sweep.runs):
            return None
        return self.sweep.runs[k]

    def _on_progress(self, p: Any) -> None:
        run = self._run(p.variant)
        if run is None:
            return
        listener, run._listener = run._listener, None
        try:
            run.record_progress(p)
        finally:
            run._listener = listener
        self._dirty.add(p.variant)
        if run is self.shown:  # the main plots' per-epoch curves follow at once
            self.w.book.series_of(run).sync()
            self._show_weights(run, p.params)
        if not self._notify.isActive():
            self._notify.start()
        self.progressed.emit()

    def _flush_notify(self) -> None:
        sweep, dirty = self.sweep, sorted(self._dirty)
        self._dirty.clear()
        if sweep is None or not dirty:
            self._notify.stop()
            return
        for k in dirty:
            sweep.runs[k]._changed("progress")
        self._follow_best()
        self._show_status()

    def _show_status(self) -> None:
        """The status bar while a sweep trains: the shown variant's epoch and step, the steps a
        second of all the variants together, the time since the sweep started."""
        sweep, w = self.sweep, self.w
        if sweep is None:
            return
        now, total = time.monotonic(), sum(r.steps for r in sweep.runs)
        t0, s0, rate = self._rate
        if now > t0 and total >= s0:
            rate = eased_rate(rate, (total - s0) / (now - t0))
        self._rate = (now, total, rate)
        if self.shown is not None:
            w.epoch_label.setText(f"epoch {self.shown.epochs} ({self.shown.name})")
            w.step_label.setText(f"step {self.shown.steps:,}")
        running = sum(1 for r in sweep.runs if r.status is RunStatus.RUNNING)
        w.rate_label.setText(f"{rate:,.0f} steps/s over {running} runs" if rate else "– steps/s")
        w.elapsed_label.setText(fmt_seconds(now - self._started_at))

    def _on_finished(self, f: Any) -> None:
        run = self._run(f.variant)
        if run is not None:
            if f.variant in self._dirty:
                self._dirty.discard(f.variant)
                run._changed("progress")
            run.finish_from(f)
            self.sweep.done += 1  # type: ignore[union-attr]

    def _on_ended(self) -> None:
        sweep = self.sweep
        self._notify.stop()
        if sweep is None:
            return
        best = min(sweep.runs, key=lambda r: validation_metric(r)[0])
        self.w.statusBar().showMessage(
            f"Sweep finished: {len(sweep.runs)} runs; best {best.name} "
            f"({validation_metric(best)[1]})",
            10000,
        )
        shown = self.shown
        self._end_showing()
        self.last, self.sweep = sweep, None
        if shown is not None and shown in self.w.session.runs:
            self.w.book.show_run(shown)  # now an ordinary run on screen, weights and all
        self.ended.emit(sweep)

    def _end_showing(self) -> None:
        self._set_titles(None)
        self.shown, self.why = None, "first"
        self._leader = (None, 0)
        if self._display is not None:
            self._display = None
            self.w.param_views.mark_stale()  # back to the window's own network
            self.w.refresher.kick()

    def _on_failed(self, _title: str, message: str) -> None:
        self._notify.stop()
        self._dirty.clear()
        sweep = self.sweep
        if sweep is None:
            return
        for run in sweep.runs:
            if run.status in (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.CREATED):
                run.fail(message.splitlines()[0] if message else "failed")
        self._end_showing()
        self.ended.emit(sweep)
        self.sweep = None


__all__ = ["SETTINGS", "SweepRunner", "SweepSpec", "build_variants", "parse_values"]
