"""The window's runs: which run trains, which one is on screen, and the Runs panel's rows.

:class:`RunBook` sits between the session's runs and the views. It decides whether training
extends a run or starts a new one (a new one after a change of dataset, network or a setting that
cannot change within a run — α can, and the epoch count is a budget, so neither starts one), puts
a run on screen (its history in the plots, its weights in the diagram, surface, trace and
heatmaps, its row selected), keeps the plot series of each run in step with its history, and
carries out rename / delete / undelete.

Leaves out: the training itself (``run_controller``), drawing (the views), project files
(``project``).
"""

from __future__ import annotations

import time
from typing import Any

from bpstudio.engine import FitConfig
from bpstudio.session import DatasetRef, Run, RunStatus, SessionEventKind
from bpstudio.ui.refresh import plain_lines
from bpstudio.ui.run_series import PlotSeries
from bpstudio.ui.runs_panel import RunRow
from bpstudio.ui.undo import DeleteRunsCommand

ROW_INTERVAL = 0.5  # s: the training run's row in the Runs table is refreshed at most this often


def _arch(config: dict[str, Any]) -> tuple:
    """What makes two network configs the same network (not the dtype)."""
    keys = ("sizes", "activations", "output", "loss")
    return tuple(repr(config.get(k)) for k in keys)


class RunBook:
    """The runs side of the window (see the module docstring)."""

    def __init__(self, window: Any) -> None:
        self.w = window
        self.plot_series: dict[int, PlotSeries] = {}  # run id → what the plots draw of it
        self.training_run: Run | None = None  # the run the worker is writing into
        self.weights_of: Run | None = None  # the run whose weights the network holds
        self.showing = 0  # > 0 while a run is put on screen (not an edit)
        self.attached: tuple[Any, set[str]] = (None, set())
        self.left_behind: Run | None = None  # the trained run an edit of the network left
        self._row_at: dict[int, float] = {}  # run id → when its row was last refreshed
        self._described: dict[int, tuple[tuple, RunRow]] = {}  # run id → (state, row)

    #: settings that cannot change within a run (α can: it is live; epochs is a budget)
    FIXED_SETTINGS = (
        "optimizer",
        "batch_size",
        "weight_decay",
        "schedule",
        "step_size",
        "gamma",
        "momentum",
        "nesterov",
        "beta1",
        "beta2",
    )

    def dataset_ref(self) -> DatasetRef | None:
        panel = self.w.dataset_panel
        source = panel.current_source()
        try:
            if source.startswith("builtin:"):
                return DatasetRef.builtin(source, dict(panel.current_params()))
            if source:
                return DatasetRef.csv(source, panel.current_options())
        except (OSError, ValueError):
            return None
        return None

    def run_to_continue(self, cfg: FitConfig) -> Run | None:
        """The run that training now extends: the one whose weights the network holds, trained
        on this data with this network and the same fixed settings; else None (a new run)."""
        run, net = self.weights_of, self.w._net
        if run is None or run not in self.w.session.runs or net is None:
            return None
        if run.status == RunStatus.FAILED:
            return None
        if run.sizes != list(net.sizes) or _arch(run.net_config) != _arch(net.config()):
            return None
        if run.status != RunStatus.IMPORTED:
            ref = self.dataset_ref()
            if run.dataset is not None and not run.dataset.same_data(ref):
                return None
            old, new = run.fit.to_dict(), cfg.to_dict()
            if any(old.get(k) != new.get(k) for k in self.FIXED_SETTINGS):
                return None
        return run

    def new_run(self, cfg: FitConfig) -> Run:
        ds, net = self.w._dataset, self.w._net
        pre = getattr(ds, "preprocessor", None)
        scale = getattr(pre, "target_scale", None) if ds.task == "regression" else None
        run = self.w.session.new_run(
            net.config(),
            cfg,
            dataset=self.dataset_ref(),
            task=ds.task,
            preprocessor=pre.to_dict() if pre is not None and hasattr(pre, "to_dict") else None,
            target_scale=[float(v) for v in scale] if scale is not None else None,
            params=net.get_params(),
        )
        self.weights_of = run
        return run

    # ------------------------------------------------------------------ recording
    def begin(self, cfg: FitConfig) -> Run:
        """Training starts: the run it extends, or a new one; put it on screen."""
        run = self.run_to_continue(cfg)
        if run is None:
            run = self.new_run(cfg)
        else:
            run.fit = cfg  # α and the budget as now; the fixed settings are the same
        self.training_run = run
        run.start_segment()  # this request's epochs, steps and seconds count on from here
        self.w.runs.reset_counts(run.steps, run.epochs)
        self.show_run(run)
        return run

    def record(self, p: Any) -> None:
        """One ``Progress`` into the training run's history (the run counts its epochs, steps
        and seconds on over the requests that continue it)."""
        if self.training_run is not None:
            self.training_run.record_progress(p)

    def finish(self, f: Any) -> Run | None:
        """The training run ended (``Finished``); returns it."""
        run, self.training_run = self.training_run, None
        if run is not None:
            run.finish_from(f)
        return run

    def fail(self, message: str) -> None:
        run, self.training_run = self.training_run, None
        if run is not None:
            run.fail(message)

    def series_of(self, run: Run) -> PlotSeries:
        ps = self.plot_series.get(run.id)
        if ps is None or ps.run is not run:
            ps = self.plot_series[run.id] = PlotSeries(run)
        return ps

    def attach_plots(self, run: Run | None) -> None:
        """The plots draw ``run``'s history (None: empty)."""
        if run is None:
            self.w.loss_plot.clear()
            self.w.accuracy_plot.clear()
            net = self.w._net
            if net is not None:  # the legend names the layers of the network to be trained
                with plain_lines():
                    self.w.grad_plot.set_layers([f"W{n}" for n in net.layer_names])
            else:
                self.w.grad_plot.clear()
            self.attached = (None, set())
            return
        ps = self.series_of(run)
        names = sorted({k[1:] for k in run.history.grad_norms}, key=int)
        if not names:
            names = [str(ell) for ell in range(2, len(run.sizes) + 1)]
        with plain_lines():
            self.w.grad_plot.set_layers([f"W{n}" for n in names])
        self.w.loss_plot.attach(ps.loss(), ps.boundaries)
        self.w.grad_plot.attach(ps.grad_norms(), ps.boundaries)
        self.w.accuracy_plot.attach(ps.accuracy(), ps.boundaries)
        self.attached = (run, set(run.history.grad_norms))

    def show_run(self, run: Run | None) -> None:
        """Put ``run`` on screen: its curves, and (when it fits the data) its weights in the
        diagram, surface, trace and heatmaps; select its row."""
        self.showing += 1
        try:
            if run is not None and self.w.session.current_run_id != run.id:
                self.w.session.select_run(run.id)
            self.attach_plots(run)
            if run is not None:
                self.w.runs_panel.select_run(run, quiet=True)
                if run is not self.training_run:
                    self.switch_data_for(run)
                    self.load_run_weights(run)
        finally:
            self.showing -= 1
        self.w.refresher.kick()

    def switch_data_for(self, run: Run) -> None:
        """A run trained on another built-in dataset: open that one, so that its weights are
        shown on the data they were trained on (selecting is not an edit: nothing to undo)."""
        ref, here = run.dataset, self.dataset_ref()
        if ref is None or not ref.is_builtin or ref.same_data(here):
            return
        w = self.w
        w.undo_recorder.muted += 1
        try:
            w.dataset_panel.select_builtin(ref.source, **ref.params)
        finally:
            w.undo_recorder.muted -= 1
        w.undo_recorder.resync()

    def fits_network(self, run: Run, net: Any) -> bool:
        """Whether ``run``'s weights fit ``net`` (same sizes, activations, head)."""
        return (
            run in self.w.session.runs
            and run.params is not None
            and _arch(run.net_config) == _arch(net.config())
        )

    def load_run_weights(self, run: Run) -> None:
        ds = self.w._dataset
        if run.params is None:
            return
        if ds is None or run.sizes[0] != ds.n_inputs or run.sizes[-1] != ds.n_outputs:
            self.w.statusBar().showMessage(
                f"{run.name}: its network ({run.network_label}) does not fit the current data "
                f"({ds.n_inputs if ds else 0} inputs → {ds.n_outputs if ds else 0} outputs); "
                "open the data it was trained on to see its weights",
                8000,
            )
            return
        self.w.undo_recorder.muted += 1
        try:
            from bpstudio.engine.spec import NetworkSpec as Spec

            self.w.network_editor.set_spec(Spec.from_config(run.net_config))
        finally:
            self.w.undo_recorder.muted -= 1
        self.w.undo_recorder.resync("network")
        if run.status != RunStatus.IMPORTED and run.fit is not None:
            # the settings it was trained with, so that training again continues it
            from bpstudio.ui.project import panel_settings_from_fit

            panel = self.w.training_panel
            self.w.undo_recorder.muted += 1
            try:
                panel.apply_settings({**panel.settings(), **panel_settings_from_fit(run.fit)})
            finally:
                self.w.undo_recorder.muted -= 1
            self.w.undo_recorder.resync("settings")
        self.w._net = run.network()
        self.weights_of = run
        self.w.runs.reset_counts(run.steps, run.epochs)
        self.w.epoch_label.setText(f"epoch {run.epochs}")
        self.w.step_label.setText(f"step {run.steps}")
        self.w.rate_label.setText("– steps/s")
        self.w._params_changed(now=True)

    def on_runs_selected(self, runs: list[Run]) -> None:
        if runs and self.w.runs.busy():  # the views follow the run being trained
            if self.training_run is not None and runs[-1] is not self.training_run:
                self.w.runs_panel.select_run(self.training_run, quiet=True)
                self.w.statusBar().showMessage("Stop training to look at another run", 4000)
            return
        if not runs:
            return
        run = runs[-1]
        self.show_run(run)
        w = self.w
        r = self.describe_run(run)
        w.statusBar().showMessage(
            f"Showing {run.name}: {r.network}, {run.epochs} epoch(s), {r.status}"
            + (f", validation {r.val_metric}" if r.val_metric != "–" else ""),
            8000,
        )

    def describe_run(self, run: Run) -> RunRow:
        # The table asks once per cell and role: describe a run once per state it is in.
        state = (run.steps, run.epochs, run.status, run.stop_reason, run.name, run.seconds)
        known = self._described.get(run.id)
        if known is not None and known[0] == state:
            return known[1]
        row = self._describe(run)
        self._described[run.id] = (state, row)
        return row

    def _describe(self, run: Run) -> RunRow:
        from bpstudio.session import runs_table

        r = runs_table([run])[0]
        if r["val_accuracy"] is not None:
            metric = f"{100 * r['val_accuracy']:.1f} %"
        elif r["val_rmse"] is not None:
            metric = f"RMSE {r['val_rmse']:.4g}"
        else:
            metric = "–"
        status = r["stop_reason"] or r["status"]
        imported = run.status == RunStatus.IMPORTED  # not trained here: no settings to show
        return RunRow(
            r["name"],
            r["network"],
            "–" if imported else r["optimizer"],
            None if imported else r["lr"],
            None if imported else r["batch_size"],
            r["epochs"],
            r["train_loss"],
            r["val_loss"],
            metric,
            r["seconds"],
            str(status).replace("_", " "),
        )

    def on_session_event(self, event: Any) -> None:
        kind = event.kind
        if kind in (SessionEventKind.RUN_ADDED, SessionEventKind.RUN_REMOVED):
            self.w.runs_panel.reset(keep=self.w.session.current_run)
        elif kind in (
            SessionEventKind.RUN_PROGRESS,
            SessionEventKind.RUN_STATUS,
            SessionEventKind.RUN_FINISHED,
            SessionEventKind.RUN_RENAMED,
        ):
            run = next((r for r in self.w.session.runs if r.id == event.run_id), None)
            if run is not None:
                self.series_of(run).sync()
                if run is self.attached[0] and set(run.history.grad_norms) != self.attached[1]:
                    self.attach_plots(run)  # the first gradient norms arrived
                # Progress comes up to 20 times a second: its row at most every ROW_INTERVAL
                # (a pause, the end, a rename come as their own events and show at once).
                now = time.monotonic()
                if (
                    kind is not SessionEventKind.RUN_PROGRESS
                    or run.status is not RunStatus.RUNNING
                    or now - self._row_at.get(run.id, -ROW_INTERVAL) >= ROW_INTERVAL
                ):
                    self._row_at[run.id] = now
                    self.w.runs_panel.refresh_run(
                        run, fit=kind is not SessionEventKind.RUN_PROGRESS
                    )
        self.update_title()

    def update_title(self) -> None:
        path = self.w.session.path
        name = path.name if path is not None else "untitled"
        self.w.setWindowTitle(f"{name}{' •' if self.w.session.dirty else ''} — Backprop Studio")

    def rename_run(self, run: Run, name: str) -> None:
        try:
            self.w.session.rename_run(run.id, name)
        except (KeyError, ValueError) as exc:
            self.w.statusBar().showMessage(str(exc), 5000)

    def delete_selected(self) -> None:
        """Delete the runs selected in the Runs panel (undoable)."""
        runs = [r for r in self.w.runs_panel.selected_runs() if r is not self.training_run]
        if not runs or self.w.runs.busy():
            return
        text = f"delete {runs[0].name}" if len(runs) == 1 else f"delete {len(runs)} runs"
        self.w.undo_stack.push(DeleteRunsCommand(self, runs, text))

    def remove_runs(self, runs: list[Run]) -> list[int]:
        """Take ``runs`` out of the session; returns their positions (for undo)."""
        positions = []
        for run in runs:
            positions.append(self.w.session.runs.index(run))
        for run in runs:
            self.w.session.remove_run(run.id)
            self.plot_series.pop(run.id, None)
            if self.weights_of is run:
                self.weights_of = None
        self.show_run(self.w.session.current_run)
        return positions

    def insert_runs(self, placed: list[tuple[int, Run]]) -> None:
        for index, run in sorted(placed, key=lambda t: t[0]):
            self.w.session.insert_run(index, run)
        self.w.runs_panel.reset()
        self.show_run(placed[-1][1] if placed else None)


__all__ = ["RunBook"]
