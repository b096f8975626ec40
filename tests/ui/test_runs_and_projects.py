"""Runs, project files, model files and history export in the window (offscreen).

Two runs in the Runs table, selecting one redraws every view with its curves and weights; save →
close → open restores the curves exactly; deleting a run undoes; a model file opens as a run and
predicts on a CSV with the columns ``bpstudio predict`` writes; the history CSV is the CLI's.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtWidgets import QTableView

from bpstudio.session import Session
from bpstudio.ui import MainWindow, dialogs
from bpstudio.ui.runs_panel import COLUMNS

TIMEOUT = 30_000


def _window(qtbot, settings) -> MainWindow:
    w = MainWindow(settings=settings, dataset="builtin:xor", restore=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, settings, errors):
    w = _window(qtbot, settings)
    yield w
    w.close()


def _train(qtbot, w: MainWindow, epochs: int = 3) -> None:
    w.training_panel.until_stopped_check.setChecked(False)
    w.training_panel.epochs_spin.setValue(epochs)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    w.refresher.tick(everything=True)


def _epoch_curve(w: MainWindow) -> np.ndarray:
    _, y = w.loss_plot.epoch_curve.getOriginalDataset()
    return np.array([] if y is None else y)


def test_two_runs_in_the_table_and_selecting_one_redraws_the_views(qtbot, window):
    w = window
    _train(qtbot, w, epochs=3)
    _train(qtbot, w, epochs=2)  # nothing changed: the same run goes on
    assert len(w.session.runs) == 1 and w.session.runs[0].epochs == 5
    w.training_panel.batch_spin.setValue(w.training_panel.batch_spin.value() * 2)
    _train(qtbot, w, epochs=4)  # a setting that cannot change within a run: a new run
    table = w.findChild(QTableView, "runsTable")
    assert table is not None and table.model().rowCount() == 2
    first, second = w.session.runs
    assert (first.epochs, second.epochs) == (5, 4)
    model = table.model()
    assert model.index(0, 1).data() == first.name
    assert model.index(1, 6).data() == "4"  # epochs column
    assert "%" in model.index(0, 9).data()  # classification: validation accuracy
    assert len(_epoch_curve(w)) == 4  # the plots show the newest run
    w.runs_panel.select_run(first)
    assert w.session.current_run is first
    assert len(_epoch_curve(w)) == 5
    np.testing.assert_array_equal(
        w.loss_plot.series("epoch").y, first.history.epochs["train_loss"].y
    )
    np.testing.assert_array_equal(w.network.params["W2"], first.params["W2"])
    w.view_tabs.setCurrentIndex(w._tab_keys.index("network"))
    qtbot.waitUntil(lambda: bool(w.network_view.weights), timeout=TIMEOUT)
    np.testing.assert_allclose(w.network_view.weights[2], first.params["W2"])
    # rename through the table's model (as the editor does)
    assert model.setData(model.index(0, 1), "  baseline  ")
    assert first.name == "baseline"


def test_save_close_open_restores_the_curves(qtbot, settings, errors, tmp_path, monkeypatch):
    w = _window(qtbot, settings)
    _train(qtbot, w, epochs=3)
    w.network_editor.add_layer(4, "relu")
    _train(qtbot, w, epochs=2)
    w.set_current_tab("trace")
    w.inspector.set_sample_index(7)
    w.loss_plot.set_log_y(True)
    shown = w.session.current_run
    curve = _epoch_curve(w).copy()
    steps = w.loss_plot.series("step").to_arrays()
    path = tmp_path / "exp.bpstudio"
    monkeypatch.setattr(dialogs, "get_save_project_path", lambda *a: str(path))
    assert w.findChild(type(w.action_save_project), "actionSaveProject") is not None
    w.action_save_project.trigger()
    assert path.is_file() and not w.session.dirty
    w.close()

    w2 = _window(qtbot, settings)
    try:
        assert w2.open_project(str(path))
        assert [r.name for r in w2.session.runs] == ["Run 1", "Run 2"]
        assert w2.session.current_run.name == shown.name
        np.testing.assert_array_equal(_epoch_curve(w2), curve)
        again = w2.loss_plot.series("step").to_arrays()
        assert again.keys() == steps.keys()
        for key in steps:
            np.testing.assert_array_equal(again[key], steps[key])
        assert w2.current_tab() == "trace" and w2.inspector.sample_index == 7
        assert w2.loss_plot.log_y()
        assert list(w2.network.sizes) == shown.sizes
        np.testing.assert_array_equal(w2.network.params["W2"], shown.params["W2"])
        assert w2.findChild(QTableView, "runsTable").model().rowCount() == 2
    finally:
        w2.close()


def test_a_bad_project_file_is_one_message(qtbot, window, errors, tmp_path):
    bad = tmp_path / "broken.bpstudio"
    bad.write_bytes(b"not a zip at all")
    assert not window.open_project(str(bad))
    assert errors and errors[-1][0] == "Cannot open the project"
    assert "\n" not in errors[-1][1] and "Traceback" not in errors[-1][1]


def test_moved_csv_offers_to_locate_it(qtbot, settings, errors, tmp_path, monkeypatch):
    src = tmp_path / "data.csv"
    rows = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{'a' if i % 2 else 'b'}" for i in range(60)]
    src.write_text("\n".join(rows) + "\n")
    session = Session()
    from bpstudio.data import DatasetOptions
    from bpstudio.session import DatasetRef

    session.dataset = DatasetRef.csv(src, DatasetOptions(target="label"))
    path = tmp_path / "p.bpstudio"
    session.save(path)
    moved = tmp_path / "moved.csv"
    src.rename(moved)
    asked: list[str] = []
    monkeypatch.setattr(
        dialogs, "ask_locate_file", lambda parent, text, *a: (asked.append(text), str(moved))[1]
    )
    w = _window(qtbot, settings)
    try:
        assert w.open_project(str(path))
        assert asked and "not there" in asked[0]
        qtbot.waitUntil(lambda: w.dataset_panel.current_source() == str(moved), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: w.dataset.n_inputs == 2, timeout=TIMEOUT)
    finally:
        w.close()


def test_delete_run_undo_redo(qtbot, window):
    w = window
    _train(qtbot, w, epochs=2)
    w.reset_weights()  # fresh weights: the next training is a new run
    _train(qtbot, w, epochs=2)
    first, second = w.session.runs
    w.runs_panel.select_run(first)
    w.action_delete_run.trigger()
    assert w.session.runs == [second]
    assert w.action_undo.text().replace("&", "") == f"Undo delete {first.name}"
    w.action_undo.trigger()
    assert w.session.runs == [first, second]
    assert w.runs_panel.model.rowCount() == 2
    w.action_redo.trigger()
    assert w.session.runs == [second]


def test_open_a_model_file_and_predict(qtbot, window, errors, tmp_path, monkeypatch):
    import pandas as pd

    from bpstudio.cli import main as cli_main

    w = window
    _train(qtbot, w, epochs=3)
    model = tmp_path / "m.npz"
    monkeypatch.setattr(dialogs, "get_save_model_path", lambda *a: str(model))
    w.export_weights()
    rows = ["x1,x2,label"] + [f"{(i % 9) / 4 - 1},{(i % 5) / 2 - 1},0" for i in range(20)]
    table = tmp_path / "new.csv"
    table.write_text("\n".join(rows) + "\n")
    w.reset_weights()
    run = w.open_model(str(model))
    assert run is not None and run.status == "imported"
    assert w.session.current_run is run and len(w.session.runs) == 2
    np.testing.assert_array_equal(w.network.params["W2"], run.params["W2"])  # in every view
    out = tmp_path / "pred.csv"
    assert w.predict_csv(str(table), str(out)) == str(out)
    cli_out = tmp_path / "cli.csv"
    assert cli_main(["predict", str(model), str(table), "--out", str(cli_out)]) == 0
    mine, theirs = pd.read_csv(out), pd.read_csv(cli_out)
    assert list(mine.columns) == list(theirs.columns) and "prediction" in mine.columns
    pd.testing.assert_frame_equal(mine, theirs)
    assert not errors
    _train(qtbot, w, epochs=1)  # the current data has its features: training continues it
    assert len(w.session.runs) == 2 and run.epochs == 1 and run.status == "ended"
    assert not np.array_equal(run.params["W2"], w.session.runs[0].params["W2"])


def test_export_history_is_the_cli_long_format(qtbot, window, tmp_path):
    w = window
    _train(qtbot, w, epochs=3)
    path = tmp_path / "h.csv"
    assert w.export_history(str(path)) == str(path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert {"run", "epoch", "step", "train_loss", "val_loss"} <= set(rows[0])
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]


def test_undoing_a_network_edit_brings_the_trained_weights_back(qtbot, window):
    w = window
    w.training_panel.lr_spin.setValue(0.2)
    _train(qtbot, w, epochs=2)
    run = w.session.runs[-1]
    w.training_panel.lr_spin.setValue(0.05)  # an edit after the run
    w.network_editor.add_layer(3, "relu")
    assert w.loss_plot.is_empty()  # a fresh network
    w.undo()
    np.testing.assert_array_equal(w.network.params["W2"], run.params["W2"])
    assert w.session.current_run is run and not w.loss_plot.is_empty()
    w.runs_panel.select_run(run)
    assert w.training_panel.learning_rate() == pytest.approx(0.2)  # the run's own settings
    _train(qtbot, w, epochs=1)
    assert len(w.session.runs) == 1 and run.epochs == 3  # training went on with that run


def test_the_diagram_traces_the_inspected_sample_once_per_change(qtbot, window):
    w = window
    w.network_view.set_fill_mode("activation")
    w.set_current_tab("trace")
    w.inspector.set_sample_index(5)
    qtbot.waitUntil(lambda: w.inspector.walk is not None, timeout=TIMEOUT)
    w.set_current_tab("network")
    n = w.traced.computed
    w.network.reinitialize()
    w._params_changed(now=True)
    w.set_current_tab("trace")
    w.set_current_tab("network")
    assert w.traced.computed == n + 1
    assert w.network_view.sample_index == 5
    qtbot.waitUntil(
        lambda: np.array_equal(w.network_view.sample_acts[2], w.inspector.walk.a[2]),
        timeout=TIMEOUT,
    )


def test_closing_with_unsaved_runs_asks_save_discard_cancel(
    qtbot, settings, errors, tmp_path, monkeypatch
):
    w = _window(qtbot, settings)
    _train(qtbot, w, epochs=1)
    asked: list[str] = []
    answers = iter(["cancel", "save"])
    monkeypatch.setattr(
        dialogs, "ask_save_discard_cancel", lambda p, t, m: (asked.append(m), next(answers))[1]
    )
    path = tmp_path / "kept.bpstudio"
    monkeypatch.setattr(dialogs, "get_save_project_path", lambda *a: str(path))
    assert not w.close()  # Cancel: the window stays, nothing written
    assert w.isVisible() and not path.exists() and "1 run(s)" in asked[0]
    assert w.close()  # Save: written, then closed
    assert path.is_file() and len(Session.open(path).runs) == 1
    assert str(path) in [a.text() for a in w.recent_projects_menu.actions()]


def test_changed_csv_is_reported_and_asked(qtbot, settings, errors, tmp_path, monkeypatch):
    from bpstudio.data import DatasetOptions
    from bpstudio.session import DatasetRef

    src = tmp_path / "data.csv"
    rows = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{'a' if i % 2 else 'b'}" for i in range(60)]
    src.write_text("\n".join(rows) + "\n")
    session = Session()
    session.dataset = DatasetRef.csv(src, DatasetOptions(target="label"))
    path = tmp_path / "p.bpstudio"
    session.save(path)
    src.write_text("\n".join(rows[:40]) + "\n")  # edited since
    asked: list[str] = []
    monkeypatch.setattr(
        dialogs, "ask_use_changed_file", lambda parent, text: (asked.append(text), False)[1]
    )
    w = _window(qtbot, settings)
    try:
        before = w.dataset_panel.current_source()
        assert w.open_project(str(path))
        assert asked and "changed" in asked[0]
        assert w.dataset_panel.current_source() == before  # declined: the data stays as it was
    finally:
        w.close()


def test_selecting_a_run_of_another_builtin_dataset_opens_that_data(qtbot, window):
    w = window
    _train(qtbot, w, epochs=2)  # on xor
    xor_run = w.session.runs[-1]
    assert w.dataset_panel.select_builtin("builtin:moons")
    _train(qtbot, w, epochs=2)  # a new dataset: a new run
    assert len(w.session.runs) == 2
    edits = w.undo_stack.count()
    w.runs_panel.select_run(xor_run)
    assert w.dataset_panel.current_source() == "builtin:xor"
    np.testing.assert_array_equal(w.network.params["W2"], xor_run.params["W2"])
    assert w.undo_stack.count() == edits  # selecting a run is not an edit


def test_embedded_csv_opens_when_the_file_is_gone(qtbot, settings, errors, tmp_path, monkeypatch):
    from bpstudio.data import DatasetOptions

    src = tmp_path / "small.csv"
    rows = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{'a' if i % 2 else 'b'}" for i in range(80)]
    src.write_text("\n".join(rows) + "\n")
    w = _window(qtbot, settings)
    try:
        w.dataset_panel.open_csv(str(src), options=DatasetOptions(target="label"))
        qtbot.waitUntil(lambda: w.dataset_panel.current_source() == str(src), timeout=TIMEOUT)
        _train(qtbot, w, epochs=2)
        monkeypatch.setattr(dialogs, "get_embed_limit_mb", lambda parent, current: 1.0)
        w.action_embed_csv.setChecked(True)
        path = tmp_path / "carry.bpstudio"
        monkeypatch.setattr(dialogs, "get_save_project_path", lambda *a: str(path))
        assert w.save_project()
    finally:
        w.close()
    src.unlink()  # the data file is gone; the project carries a copy
    monkeypatch.setattr(dialogs, "ask_locate_file", lambda *a: pytest.fail("asked to locate"))
    w2 = _window(qtbot, settings)
    try:
        assert w2.open_project(str(path))
        qtbot.waitUntil(
            lambda: w2.dataset is not None and len(w2.dataset.X_train) > 0, timeout=TIMEOUT
        )
        qtbot.waitUntil(lambda: w2.session.path == path, timeout=TIMEOUT)
        run = w2.session.runs[0]
        assert w2.dataset.n_inputs == 2 and run.epochs == 2
        np.testing.assert_array_equal(w2.network.params["W2"], run.params["W2"])
    finally:
        w2.close()


def test_the_timed_autosave_writes_from_a_thread_and_the_file_reopens(qtbot, window, tmp_path):
    """The minute's autosave takes a snapshot in the window's thread and writes it from another
    (a long run's history must not stall the window); the file holds the run; quitting waits."""
    import threading

    w = window
    _train(qtbot, w, epochs=3)
    assert w.session.dirty and w.session.runs
    assert w.project.autosave(background=True) is None  # under way, not written here
    writer = w.project._writer
    assert isinstance(writer, threading.Thread) and writer is not threading.current_thread()
    qtbot.waitUntil(lambda: w.project.last_autosave is not None, timeout=TIMEOUT)
    w.project.wait_autosave()
    files = list(w.project.recovery_folder().glob("recovery-*.bpstudio"))
    assert len(files) == 1
    run = Session.open(files[0]).runs[0]
    assert run.epochs == 3 == w.session.runs[0].epochs
    assert w.project.autosave(background=True) is None and w.project._writer is None  # no news


def test_the_training_runs_row_is_refreshed_at_most_twice_a_second(qtbot, window):
    """Progress arrives up to 20 times a second; redrawing its Runs-table row each time cost the
    window tens of ms at a time on long runs. The row follows at ≤ 2 Hz, and at once on a pause."""
    from bpstudio.ui import run_book

    w = window
    changed: list[float] = []
    import time

    w.runs_panel.model.dataChanged.connect(lambda *a: changed.append(time.monotonic()))
    w.training_panel.apply_settings({"until_stopped": True, "pace": None})
    w.toggle_training()
    qtbot.waitUntil(lambda: w.session.runs and w.session.runs[-1].steps > 0, timeout=TIMEOUT)
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: time.monotonic() - t0 > 1.6, timeout=TIMEOUT)
    during = [t for t in changed if t >= t0]
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.stop()
    assert 1 <= len(during) <= 1.6 / run_book.ROW_INTERVAL + 2
    assert (np.diff(during) >= run_book.ROW_INTERVAL * 0.9).all()
    model = w.runs_panel.model
    cell = model.index(0, COLUMNS.index("Epochs"))
    assert model.data(cell) == str(w.session.runs[-1].epochs)  # the end shows at once
