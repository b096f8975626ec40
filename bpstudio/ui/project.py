"""Project files in the window: save, save as, open, recent projects, autosave and recovery.

:class:`ProjectFiles` does the window's side of ``Session.save`` / ``Session.open``:

- before saving it copies what the panels hold into the session (dataset reference, network,
  training settings) and the view state (tab, traced sample, log scales, x axis, the panels'
  exact settings), so that reopening puts every plot back as it was;
- opening checks the project's CSV: a moved one offers to locate it, a changed one says so and
  asks, an embedded copy is used when the file is gone (all through :mod:`bpstudio.ui.dialogs`);
  a bad file is one clear message. A CSV loads in the background, so the runs are put on screen
  when it has arrived;
- autosave: every ``AUTOSAVE_MS`` (a minute; ``BPSTUDIO_AUTOSAVE_MS`` overrides it) and on quit,
  unsaved runs go to this process's recovery file (``bpstudio.session.recovery``) in a folder
  beside the window's settings; at start, a recovery file left by a process that died is offered
  back; saving or discarding the work deletes the file;
- closing with unsaved runs asks Save / Discard / Cancel.

It also opens model files as runs, writes predictions on a CSV (``bpstudio.io.predict``, as
``bpstudio predict``) and exports runs' histories (``bpstudio.session.history_csv``, as ``bpstudio
runs --csv``).

Leaves out: the format (``docs/project-format.md``, ``bpstudio.io.project_file``), and several
windows editing one project.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from bpstudio.engine import FitConfig
from bpstudio.errors import BPStudioError
from bpstudio.session import DatasetStatus, Run, RunStatus, Session
from bpstudio.session.recovery import (
    discard_recovery,
    find_recoveries,
    snapshot_recovery,
)
from bpstudio.ui import dialogs, window_settings

AUTOSAVE_MS = 60_000
MODEL_SUFFIXES = (".npz", ".json", ".safetensors")
PROJECT_SUFFIX = ".bpstudio"


def panel_settings_from_fit(fit: FitConfig) -> dict[str, Any]:
    """The training panel's settings for a ``FitConfig`` (projects written by the CLI)."""
    values = {k: v for k, v in fit.to_dict().items() if k not in ("patience", "epochs")}
    values["until_stopped"] = fit.epochs is None
    if fit.epochs is not None:
        values["epochs"] = fit.epochs
    values["early_stopping"] = fit.patience is not None
    if fit.patience is not None:
        values["patience"] = fit.patience
    return values


class ProjectFiles(QObject):
    """The window's project commands and its autosave (see the module docstring)."""

    # (mark, when the snapshot was taken, path or None, error or None), from any thread
    _written = Signal(object, float, object, object)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.pending: Session | None = None  # opened, waiting for its CSV to load
        self.timer = QTimer(window)
        self.timer.setObjectName("autosaveTimer")
        self.timer.setInterval(int(os.environ.get("BPSTUDIO_AUTOSAVE_MS", AUTOSAVE_MS)))
        self.timer.timeout.connect(lambda: self.autosave(background=True))
        self.last_autosave: float | None = None
        self._autosaved: tuple | None = None  # what the recovery file holds
        self._writer: threading.Thread | None = None  # a background autosave being written
        self._written.connect(self._on_written)

    # ------------------------------------------------------------------ recovery
    def recovery_folder(self) -> Path:
        return Path(self.w._settings.fileName()).resolve().parent / "recovery"

    def autosave(self, *, background: bool = False) -> Path | None:
        """Write unsaved runs to the recovery file (nothing to do when all is saved). With
        ``background`` (the timer's autosave) the session is snapshotted here and written from
        a thread, so a long run's history never stalls the window; returns None then, and the
        status bar says if the write failed. Otherwise (quit) the write happens now, after any
        background one has ended."""
        self.wait_autosave()
        s = self.w.session
        if not (s.dirty and s.runs):
            return None
        mark = (id(s), tuple((r.id, r.name, r.steps, r.status) for r in s.runs))
        if mark == self._autosaved:
            return None  # nothing new since the last autosave
        self.capture()
        taken = time.time()  # what the file will hold is the session at this moment
        snapshot = snapshot_recovery(s)
        folder = self.recovery_folder()
        if background:
            self._writer = threading.Thread(
                target=self._write,
                args=(snapshot, folder, mark, taken),
                name="autosave",
                daemon=True,
            )
            self._writer.start()
            return None
        try:
            path = snapshot.write(folder)
        except OSError as exc:
            self._on_written(mark, taken, None, exc)
            return None
        self._on_written(mark, taken, path, None)
        return path

    def _write(self, snapshot: Any, folder: Path, mark: tuple, taken: float) -> None:
        try:
            self._written.emit(mark, taken, snapshot.write(folder), None)
        except Exception as exc:  # noqa: BLE001 - reported in the window, the thread just ends
            self._written.emit(mark, taken, None, exc)

    def _on_written(
        self, mark: tuple, taken: float, path: Path | None, error: Exception | None
    ) -> None:
        if error is not None:
            self.w.statusBar().showMessage(f"Autosave failed: {error}", 8000)
            return
        if self.last_autosave is not None and taken < self.last_autosave:
            return  # a background write that landed after a newer one (quit waits for it)
        self.last_autosave = taken  # the moment the recovery file holds, not when it landed
        self._autosaved = mark

    def wait_autosave(self) -> None:
        """Wait for a background autosave to finish writing (quit, tests)."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None

    def discard_recovery(self) -> None:
        self.wait_autosave()  # a write still under way would bring the file back
        self._autosaved = None
        with contextlib.suppress(OSError):
            discard_recovery(folder=str(self.recovery_folder()))

    def offer_recovery(self) -> bool:
        """A recovery file left by a crash: offer to restore it. True if restored."""
        found = find_recoveries(self.recovery_folder())
        if not found:
            return False
        rec = found[0]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec.saved_at))
        what = f"“{Path(rec.project).name}”" if rec.project else "an unsaved session"
        message = (
            f"Backprop Studio did not close properly. Unsaved work from {when} was kept: "
            f"{what} with {rec.n_runs} run(s).\n\nRestore it?"
        )
        restore = dialogs.ask_restore_recovery(self.w, message)
        restored = False
        if restore:
            try:
                session = Session.open(rec.path)
            except BPStudioError as exc:
                dialogs.show_error(self.w, "Cannot restore", str(exc))
            else:
                session.path = Path(rec.project) if rec.project else None
                session.dirty = True
                self.apply(session)
                restored = True
        for r in found:  # restored (now this process's work) or declined: the old files go
            with contextlib.suppress(OSError):
                discard_recovery(r.path)
        if restored:
            self.autosave()
        return restored

    # ------------------------------------------------------------------ save
    def capture(self) -> None:
        """Copy the panels and the view state into the session."""
        w, s = self.w, self.w.session
        with contextlib.suppress(BPStudioError, ValueError):
            s.fit = FitConfig.from_dict(w.training_panel.fit_config())
        s.network = w.network_editor.spec()
        ref = w.book.dataset_ref()
        if ref is not None:
            s.dataset = ref
        s.view_state.update(
            {
                "tab": w.current_tab(),
                "trace_sample": int(w.inspector.sample_index),
                "log_loss": bool(w.loss_plot.log_y()),
                "log_grad": bool(w.grad_plot.log_y()),
                "x_epochs": bool(w.action_x_epochs.isChecked()),
                "training_panel": w.training_panel.settings(),
            }
        )

    def save(self, path: str | os.PathLike[str] | None = None) -> bool:
        s = self.w.session
        target = path or s.path
        if target is None:
            return self.save_as()
        self.capture()
        try:
            s.save(target, embed_limit=self.embed_limit())
        except (BPStudioError, OSError) as exc:
            dialogs.show_error(self.w, "Could not save the project", str(exc))
            return False
        self.discard_recovery()
        self.remember(str(s.path))
        self.w.statusBar().showMessage(f"Saved {s.path}", 5000)
        self.w.book.update_title()
        return True

    def embed_limit(self) -> int:
        """Bytes up to which the dataset's CSV travels inside the project (0: never)."""
        if not self.w.action_embed_csv.isChecked():
            return 0
        return int(float(self.w._settings.value("project/embedLimitMB", 2)) * 2**20)

    def set_embed(self, on: bool) -> None:
        """File → Embed the CSV in the project: asks up to which size."""
        if not on:
            self.w._settings.setValue("project/embed", "false")
            return
        current = float(self.w._settings.value("project/embedLimitMB", 2))
        mb = dialogs.get_embed_limit_mb(self.w, current)
        if mb is None:
            self.w.action_embed_csv.setChecked(False)
            return
        self.w._settings.setValue("project/embedLimitMB", float(mb))
        self.w._settings.setValue("project/embed", "true")
        self.w.action_embed_csv.setText(f"Embed the CSV in the project (up to {mb:g} MB)")

    def save_as(self) -> bool:
        s = self.w.session
        name = s.path.name if s.path is not None else f"experiment{PROJECT_SUFFIX}"
        path = dialogs.get_save_project_path(self.w, name)
        if not path:
            return False
        return self.save(path)

    def remember(self, path: str) -> None:
        window_settings.remember_project(self.w._settings, path)
        self.rebuild_recent_menu()

    def confirm_close(self) -> bool:
        """Closing: unsaved runs ask Save / Discard / Cancel. True: go on closing."""
        s = self.w.session
        if not (s.dirty and s.runs):
            self.discard_recovery()
            return True
        answer = dialogs.ask_save_discard_cancel(
            self.w,
            "Save the project?",
            f"{len(s.runs)} run(s) are not saved in a project file. Save them before closing?",
        )
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.discard_recovery()
            return True
        return False

    # ------------------------------------------------------------------ open
    def open(self, path: str | os.PathLike[str]) -> bool:
        """Open a project; False when it cannot be (a message said why)."""
        try:
            session = Session.open(path)
        except BPStudioError as exc:
            dialogs.show_error(self.w, "Cannot open the project", str(exc))
            return False
        except OSError as exc:
            dialogs.show_error(self.w, "Cannot open the project", f"{path}: {exc.strerror}")
            return False
        self.remember(str(Path(path).resolve()))
        return self.apply(session)

    def apply(self, session: Session) -> bool:
        """Put ``session`` in the window: its data first (a CSV may need locating, and loads in
        the background), then the network, the settings, the runs and the view state."""
        ref = session.dataset
        if ref is None:
            self.finish(session)
            return True
        status = ref.check()
        if status is DatasetStatus.MISSING:
            new = dialogs.ask_locate_file(
                self.w,
                f"The project's data file {ref.path} is not there any more (moved or deleted).",
            )
            if not new:
                dialogs.show_info(
                    self.w,
                    "Data not found",
                    "The runs are shown with the dataset that is open now; their weights appear "
                    "in the views when the data has the same inputs and outputs.",
                )
                self.finish(session, data_ready=False)
                return True
            status = ref.relocate(new)
        if status is DatasetStatus.CHANGED:
            if not dialogs.ask_use_changed_file(
                self.w,
                f"{ref.path} changed since the project was saved (its size or contents differ). "
                "The runs were trained on the old contents.\n\nOpen the changed file anyway?",
            ):
                self.finish(session, data_ready=False)
                return True
            ref.accept_current()
        panel = self.w.dataset_panel
        if ref.is_builtin:
            ok = panel.select_builtin(ref.source, **ref.params)
            self.finish(session, data_ready=ok)
            return True
        path = ref.path
        if status is DatasetStatus.EMBEDDED:  # the file is gone, the project holds a copy
            path = str(self.recovery_folder() / f"embedded-{ref.name}")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(ref.embedded or b"")
        self.pending = session
        if not panel.open_csv(path, options=ref.options):
            self.pending = None
            self.finish(session, data_ready=False)
        return True

    def on_dataset_loaded(self) -> None:
        if self.pending is not None:
            session, self.pending = self.pending, None
            self.finish(session)

    def finish(self, session: Session, data_ready: bool = True) -> None:
        w = self.w
        vs = session.view_state
        w.undo_recorder.muted += 1
        try:
            w.network_editor.set_spec(session.network)
            panel = vs.get("training_panel")
            w.training_panel.apply_settings(
                panel if isinstance(panel, dict) else panel_settings_from_fit(session.fit)
            )
        finally:
            w.undo_recorder.muted -= 1
        w.set_session(session)
        if isinstance(vs.get("tab"), str):
            w.set_current_tab(vs["tab"])
        if isinstance(vs.get("trace_sample"), int):
            w.inspector.set_sample_index(vs["trace_sample"])
        for key, plot in (("log_loss", w.loss_plot), ("log_grad", w.grad_plot)):
            if isinstance(vs.get(key), bool):
                plot.set_log_y(vs[key])
        if isinstance(vs.get("x_epochs"), bool):
            w.action_x_epochs.setChecked(vs["x_epochs"])
        w.undo_stack.clear()
        w.undo_recorder.resync()
        name = session.path.name if session.path else "the restored session"
        note = "" if data_ready else " (without its data)"
        w.statusBar().showMessage(f"Opened {name}{note}: {len(session.runs)} run(s)", 6000)

    def set_session(self, session: Session) -> None:
        """Show ``session``: its runs in the panel, its current run in every view."""
        self.w.session.disconnect(self.w.book.on_session_event)
        self.w.session = session
        session.connect(self.w.book.on_session_event)
        self.w.book.plot_series.clear()
        self.w.book.training_run = self.w.book.weights_of = None
        self.w.runs_panel.reset()
        self.w.book.show_run(session.current_run or (session.runs[-1] if session.runs else None))
        self.w.book.update_title()

    def open_file(self, path: str | None = None) -> None:
        """File → Open: a project, a model file or a CSV table, by its suffix."""
        if self.w.runs.busy():
            return
        path = path or dialogs.get_open_path(self.w)
        if not path:
            return
        suffix = Path(path).suffix.lower()
        if suffix == ".bpstudio":
            self.open_project(path)
        elif suffix in MODEL_SUFFIXES:
            self.open_model(path)
        else:
            self.w.open_csv(path)

    def open_project(self, path: str | None = None) -> bool:
        """Open a ``.bpstudio`` project (asks for one without ``path``); replaces the session
        after asking about unsaved runs."""
        if self.w.runs.busy():
            return False
        path = path or dialogs.get_open_project_path(self.w)
        if not path or not self.confirm_close():
            return False
        return self.open(path)

    def rebuild_recent_menu(self) -> None:
        menu = self.w.recent_projects_menu
        menu.clear()
        files = window_settings.recent_projects(self.w._settings)
        for path in files:
            act = menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if not files:
            menu.addAction("(none)").setEnabled(False)

    def open_model(self, path: str) -> Run | None:
        """A model file becomes a run (its network, weights and preprocessing) shown in every
        view when the current data has its inputs and outputs."""
        from bpstudio.io import load_model

        try:
            model = load_model(path)
        except (BPStudioError, OSError) as exc:
            dialogs.show_error(self.w, "Cannot open the model", str(exc))
            return None
        pre = model.preprocessor
        run = self.w.session.new_run(
            model.net.config(),
            name=Path(path).stem,
            status=RunStatus.IMPORTED,
            params=model.net.get_params(),
            preprocessor=pre.to_dict() if pre is not None else None,
            task="classification" if pre is not None and pre.classes else "",
        )
        run.dataset = None  # trained elsewhere: no claim about its data
        self.w.book.show_run(run)
        ds = self.w._dataset
        fits = ds is not None and run.sizes[0] == ds.n_inputs and run.sizes[-1] == ds.n_outputs
        if fits and pre is not None and list(pre.feature_names) != list(ds.feature_names):
            fits = False
        self.w.statusBar().showMessage(
            f"Opened {Path(path).name} as {run.name}: "
            + (
                "train to continue it on this data, or File → Predict on CSV…"
                if fits
                else "its inputs differ from the data open now; File → Predict on CSV… works"
            ),
            8000,
        )
        return run

    def predict_csv(self, path: str | None = None, out: str | None = None) -> str | None:
        """File → Predict on CSV…: the selected run's network on a table, written as
        ``bpstudio predict`` writes it. Returns the output path."""
        from bpstudio.data import load_table
        from bpstudio.data.prepare import Preprocessor
        from bpstudio.io.atomic import atomic_open
        from bpstudio.io.predict import predict_frame

        run = self.w.session.current_run
        if run is None or run.params is None or not run.preprocessor:
            dialogs.show_error(
                self, "Nothing to predict with", "Select a trained run, or open a model file."
            )
            return None
        path = path or dialogs.get_open_csv_path(self.w)
        if not path:
            return None
        try:
            model = SimpleNamespace(
                net=run.network(), preprocessor=Preprocessor.from_dict(run.preprocessor)
            )
            pred = predict_frame(model, load_table(path).frame, source=str(path))
        except (BPStudioError, OSError, ValueError) as exc:
            dialogs.show_error(self.w, "Cannot predict", str(exc))
            return None
        out = out or dialogs.get_save_predictions_path(self.w, f"{Path(path).stem}-predictions.csv")
        if not out:
            return None
        with atomic_open(out, "w") as handle:
            pred.frame.to_csv(handle, index=False)
        notes = "".join(f"\n• {n}" for n in pred.notes)
        if notes:
            dialogs.show_info(self.w, "Predictions written", f"Wrote {out}.{notes}")
        self.w.statusBar().showMessage(f"Wrote {len(pred.frame)} predictions to {out}", 6000)
        return out

    def export_history(self, path: str | None = None) -> str | None:
        """File → Export history: the selected runs' per-epoch history as CSV (long format, as
        ``bpstudio runs --csv`` writes it)."""
        from bpstudio.session.history_csv import write_history_csv

        runs = self.w.runs_panel.selected_runs() or self.w.session.runs
        if not runs:
            self.w.statusBar().showMessage("No runs to export yet", 4000)
            return None
        path = path or dialogs.get_save_history_path(self.w, "history.csv")
        if not path:
            return None
        numbers = [self.w.session.runs.index(r) + 1 for r in runs]
        try:
            write_history_csv(path, runs, numbers)
        except OSError as exc:
            dialogs.show_error(self.w, "Export failed", str(exc))
            return None
        self.w.statusBar().showMessage(f"Wrote the history of {len(runs)} run(s) to {path}", 6000)
        return str(path)

    def export_weights(self) -> None:
        """Save the network (as trained so far) with the dataset's preprocessing."""
        if self.w._net is None:
            return
        from bpstudio.io import EXPORT_FORMATS, MISSING_EXPORT_FORMATS, save_model

        ds = self.w._dataset
        name = (getattr(ds, "name", "model") or "model").replace(" ", "_").replace(":", "_")
        formats = {**EXPORT_FORMATS, **MISSING_EXPORT_FORMATS}  # missing ones name their package
        path = dialogs.get_save_model_path(self.w, f"{name}.npz", formats)
        if not path:
            return
        extra = {
            "dataset": getattr(ds, "name", None),
            "steps": self.w.runs.steps_done,
            "epochs": self.w.runs.epoch_offset,
            "training": self.w.training_panel.fit_config(),
            "snapshot_while_training": self.w.runs.busy(),
        }
        try:
            save_model(
                path, self.w._net, preprocessor=getattr(ds, "preprocessor", None), extra=extra
            )
        except Exception as exc:  # noqa: BLE001 - any failure is shown, nothing is lost
            dialogs.show_error(self.w, "Export failed", str(exc))
            return
        self.w.statusBar().showMessage(f"Exported the network to {path}", 6000)

    def export_pytorch(self) -> None:
        """Write the network as PyTorch code (``name.py``), its weights in ``name.safetensors``."""
        if self.w._net is None:
            return
        from bpstudio.io.model_file import export_pytorch

        ds = self.w._dataset
        name = "".join(c if c.isalnum() else "_" for c in getattr(ds, "name", "") or "network")
        name = name if name[:1].isalpha() else f"net_{name}"  # a module name Python can import
        formats = {".py": "PyTorch code, weights in a .safetensors file beside it (*.py)"}
        path = dialogs.get_save_model_path(self.w, f"{name}_model.py", formats)
        if not path:
            return
        try:
            written = export_pytorch(path, self.w._net, getattr(ds, "preprocessor", None))
        except Exception as exc:  # noqa: BLE001 - any failure is shown, nothing is lost
            dialogs.show_error(self.w, "Export failed", str(exc))
            return
        self.w.statusBar().showMessage(f"Wrote {written[0]} and {written[1].name}", 6000)


__all__ = ["AUTOSAVE_MS", "ProjectFiles", "panel_settings_from_fit"]
