"""The window's paths into a run (remote Progress/Finished messages), branches, opened models,
which changes start a new run, recovery files and the history CSV."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bpstudio.engine import FitConfig, Network, StopReason
from bpstudio.engine.remote import Finished, Progress
from bpstudio.io import load_model, save_model
from bpstudio.session import (
    RunParent,
    RunStatus,
    Session,
    discard_recovery,
    find_recoveries,
    write_history_csv,
    write_recovery,
)
from tests.session.helpers import assert_same_arrays, train_run, xor_session

REPO = Path(__file__).resolve().parents[2]


def _progress(steps, epoch_rows, params=None, paused=False) -> Progress:
    steps = np.asarray(steps, dtype=np.int64)
    ep = {k: [] for k in ("epoch", "step", "train_loss", "val_loss", "train_acc", "val_acc", "lr")}
    for row in epoch_rows:
        for k, v in zip(ep, row, strict=True):
            ep[k].append(v)
    return Progress(
        run_id=1,
        steps=steps,
        losses=np.linspace(1.0, 0.5, steps.size),
        grad_steps=steps[::2],
        grad_norms={"W2": np.full(steps[::2].size, 0.3), "b2": np.full(steps[::2].size, 0.1)},
        epochs={k: np.asarray(v) for k, v in ep.items()},
        epoch=len(epoch_rows),
        step=int(steps[-1]),
        batch=1,
        n_batches=10,
        lr=0.1,
        elapsed=1.5,
        paused=paused,
        params=params,
    )


def test_the_window_path_records_progress_and_the_finish() -> None:
    session = xor_session()
    net = Network([2, 3, 2], "tanh", "softmax", "cross_entropy")
    run = session.new_run(net.config(), FitConfig(lr=0.1), task="classification")
    run.record_progress(_progress(range(1, 11), []))
    assert run.status is RunStatus.RUNNING and len(run.history) == 0
    params = net.get_params()
    run.record_progress(
        _progress(range(11, 21), [(1, 20, 0.7, 0.8, 0.5, np.nan, 0.1)], params, paused=True)
    )
    h = run.history
    assert run.status is RunStatus.PAUSED and h.n_steps == 20 and len(h) == 1
    assert h.epoch_values("step").tolist() == [20.0]
    assert np.isnan(h.epoch_values("val_accuracy")[0])
    assert h.epoch_values("W2")[0] == pytest.approx(0.3)  # mean norm over the epoch's steps
    assert run.checkpoints.best is not None and run.checkpoints.best.monitored == 0.8
    run.finish_from(Finished(1, StopReason.STOPPED, "Stopped.", 1, 20, 1.6, None, params))
    assert run.status is RunStatus.ENDED and run.stop_reason == "stopped"
    assert_same_arrays(run.params, params)


def test_regression_runs_get_rmse_in_target_units_per_epoch() -> None:
    session = Session()
    net = Network([1, 4, 1], "tanh", "linear", "mse")
    run = session.new_run(net.config(), task="regression", target_scale=[2.0])
    run.record_progress(_progress(range(1, 5), [(1, 4, 0.08, 0.02, np.nan, np.nan, 0.1)]))
    # J = ½ mean (a − y)² on scaled targets: RMSE = √(2J) × scale
    assert run.history.epoch_values("val_rmse")[0] == pytest.approx(np.sqrt(0.04) * 2.0)
    assert run.history.epoch_values("train_rmse")[0] == pytest.approx(np.sqrt(0.16) * 2.0)


def test_which_changes_start_a_new_run() -> None:
    session = xor_session()
    run = train_run(session, epochs=2)
    same = FitConfig.from_dict(run.fit.to_dict())
    assert run.continues(run.net_config, same, session.dataset)
    faster = FitConfig.from_dict(run.fit.to_dict() | {"lr": 0.5, "epochs": 50})
    assert run.continues(run.net_config, faster, session.dataset)  # α and epochs may change
    other_batch = FitConfig.from_dict(run.fit.to_dict() | {"batch_size": 3})
    assert not run.continues(run.net_config, other_batch, session.dataset)
    wider = {**run.net_config, "sizes": [2, 9, 8, 2]}
    assert not run.continues(wider, same, session.dataset)
    other_data = xor_session().dataset
    other_data.params = {"n_samples": 201}
    assert not run.continues(run.net_config, same, other_data)


def test_a_branch_starts_from_a_checkpoint() -> None:
    session = xor_session()
    run = train_run(session, epochs=10)
    ckpt = run.checkpoints.all()[0]
    branch = session.branch(run.id, ckpt.step)
    assert branch.parent == RunParent(run.id, ckpt.step)
    assert_same_arrays(branch.params, ckpt.params)
    assert branch.params["W2"] is not ckpt.params["W2"]
    with pytest.raises(KeyError):
        session.branch(run.id, 99_999)


def test_an_opened_model_becomes_a_run(tmp_path) -> None:
    session = xor_session()
    trained = train_run(session, epochs=3)
    path = save_model(tmp_path / "m.npz", trained.network(), extra={"epochs": 3})
    run = session.add_model(load_model(path))
    assert run.status is RunStatus.IMPORTED and run.name == "m.npz" and run.epochs == 3
    assert_same_arrays(run.params, trained.params)


def test_recovery_files_are_found_after_a_crash_only(tmp_path) -> None:
    session = xor_session()
    train_run(session, epochs=2)
    session.dirty = True
    mine = write_recovery(session, tmp_path)
    assert session.dirty and session.path is None  # autosave is not a save
    assert find_recoveries(tmp_path) == []  # this process is alive: not a leftover
    # a process that wrote one and died (kill -9 leaves it the same way)
    code = (
        "import sys; from bpstudio.session import Session, write_recovery\n"
        "from tests.session.helpers import train_run, xor_session\n"
        "s = xor_session(); train_run(s, epochs=1); write_recovery(s, sys.argv[1])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env, timeout=60)
    found = find_recoveries(tmp_path)
    assert len(found) == 1 and found[0].path != mine and found[0].n_runs == 1
    assert len(Session.open(found[0].path).runs) == 1
    discard_recovery(found[0].path)
    discard_recovery(folder=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_history_csv_has_one_row_per_run_and_epoch(tmp_path) -> None:
    session = xor_session()
    train_run(session, epochs=3, name="a, with a comma")
    train_run(session, epochs=2, hidden=(4,))
    path = write_history_csv(tmp_path / "h.csv", session.runs)
    frame = pd.read_csv(path)
    assert frame.run.tolist() == [1, 1, 1, 2, 2]
    assert frame.name.iloc[0] == "a, with a comma"
    assert frame.grad_norm_W4.isna().tolist() == [False] * 3 + [True] * 2
    assert frame.val_loss.tolist() == pytest.approx(
        list(session.runs[0].history.epoch_values("val_loss"))
        + list(session.runs[1].history.epoch_values("val_loss"))
    )


def test_continuing_a_run_counts_epochs_steps_and_time_on() -> None:
    session = xor_session()
    net = Network([2, 3, 2], "tanh", "softmax", "cross_entropy")
    run = session.new_run(net.config(), FitConfig(lr=0.1), task="classification")
    params = net.get_params()
    rows = [(1, 10, 0.7, 0.8, 0.5, 0.5, 0.1), (2, 20, 0.6, 0.7, 0.6, 0.6, 0.1)]
    run.record_progress(_progress(range(1, 21), rows, params))
    run.finish_from(Finished(1, StopReason.FINISHED, "done", 2, 20, 1.5, None, params))
    # the window continues it: a new fit whose steps start at step_offset = run.steps
    assert run.steps == 20
    run.record_progress(_progress(range(21, 31), [(1, 30, 0.5, 0.6, 0.7, 0.7, 0.1)], params))
    run.finish_from(Finished(2, StopReason.STOPPED, "stopped", 1, 10, 1.5, None, params))
    h = run.history
    assert h.epoch_numbers.tolist() == [1, 2, 3]
    assert h.epoch_values("step").tolist() == [10, 20, 30]
    assert (run.epochs, run.steps, run.seconds) == (3, 30, 3.0)
    assert h.epoch_values("seconds")[-1] == pytest.approx(3.0)
    assert run.stop_reason is StopReason.STOPPED


def test_a_recovery_snapshot_holds_the_session_as_it_was_when_taken(tmp_path) -> None:
    """The window snapshots the session in its thread and writes the file from another while
    training goes on: what is written is the moment of the snapshot, not what came later."""
    from bpstudio.session.recovery import snapshot_recovery

    session = xor_session()
    run = train_run(session, epochs=3)
    session.dirty = True
    snap = snapshot_recovery(session)
    epochs_then = len(run.history)
    loss_then = np.array(run.history.epoch_values("train_loss"))
    for e in range(epochs_then + 1, epochs_then + 200):  # the run goes on, its series grow
        run.history.record_epoch(e, step=float(10 * e), train_loss=0.5)
    path = snap.write(tmp_path)
    assert session.dirty and session.path is None
    again = Session.open(path).runs[0]
    assert len(again.history) == epochs_then
    assert np.array_equal(again.history.epoch_values("train_loss"), loss_then)
    discard_recovery(path)
