"""Session model without Qt: runs record what fit did, checkpoints stay bounded, save/open is
bit-exact, observers hear every change."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.engine import FitConfig, Network, StopReason
from bpstudio.session import (
    CheckpointStore,
    RunStatus,
    Session,
    SessionEventKind,
    runs_table,
)
from tests.session.helpers import assert_same_arrays, train_run, xor_session


def test_a_run_records_what_fit_did() -> None:
    session = xor_session()
    run = train_run(session, epochs=12)
    h = run.history
    assert run.status is RunStatus.ENDED and run.stop_reason is StopReason.FINISHED
    assert len(h) == 12 and list(h.epoch_numbers) == list(range(1, 13))
    n_train = 160  # 200 rows, 20 % held out
    steps_per_epoch = -(-n_train // 16)
    assert run.steps == 12 * steps_per_epoch == h.n_steps
    assert h.epoch_values("step")[-1] == run.steps
    assert set(h.grad_norms) == {"W2", "b2", "W3", "b3", "W4", "b4"}
    assert np.all(np.isfinite(h.epoch_values("W2")))
    assert np.all((h.epoch_values("val_accuracy") >= 0) & (h.epoch_values("val_accuracy") <= 1))
    assert np.isnan(h.epoch_values("val_rmse")).all()  # classes: accuracy, not RMSE
    # the run's params are the network's final weights, and rebuild the same network
    net = run.network()
    assert isinstance(net, Network) and net.sizes == [2, 8, 8, 2]
    assert h.lr.to_arrays()["y"].tolist() == [0.05]  # α constant: one change point


def test_checkpoints_thin_evenly_and_keep_the_best() -> None:
    store = CheckpointStore(every=1, max_kept=4)
    w = {"W2": np.zeros((2, 2))}
    losses = [5, 4, 3, 0.5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]  # best at epoch 4
    for epoch, loss in enumerate(losses, start=1):
        w["W2"][...] = epoch
        store.offer(epoch, epoch * 10, w, float(loss))
    epochs = [c.epoch for c in store.regular]
    assert len(epochs) <= 4
    assert epochs == sorted(epochs) and len(set(np.diff(epochs))) == 1  # an even grid
    assert epochs[-1] == 16
    assert store.best is not None and store.best.epoch == 4
    assert float(store.best.params["W2"][0, 0]) == 4.0  # copied when kept, not a live view
    assert store.at(40) is store.best


def test_checkpoint_bytes_are_bounded() -> None:
    store = CheckpointStore(every=1, max_kept=100, max_bytes=10 * 8 * 1000)
    for epoch in range(1, 200):
        store.offer(epoch, epoch, {"W2": np.ones(1000)}, None)
    assert store.nbytes <= 10 * 8 * 1000


def test_observers_hear_changes_and_runs_can_be_renamed_and_deleted() -> None:
    session = xor_session()
    heard: list[tuple[SessionEventKind, int | None]] = []
    session.connect(lambda ev: heard.append((ev.kind, ev.run_id)))
    run = train_run(session, epochs=2)
    kinds = [k for k, _ in heard]
    assert kinds[0] is SessionEventKind.RUN_ADDED
    assert SessionEventKind.RUN_PROGRESS in kinds and kinds[-1] is SessionEventKind.RUN_FINISHED
    session.rename_run(run.id, "  first   try ")
    assert run.name == "first try" and heard[-1] == (SessionEventKind.RUN_RENAMED, run.id)
    with pytest.raises(ValueError):
        session.rename_run(run.id, "   ")
    second = train_run(session, epochs=1)
    assert session.current_run is second
    session.remove_run(second.id)
    assert session.runs == [run] and session.current_run is run
    session.insert_run(1, second)
    assert session.runs == [run, second]
    assert session.dirty


def test_save_open_round_trip_is_bit_exact(tmp_path) -> None:
    session = xor_session()
    session.network.hidden = [8, 8]
    session.fit = FitConfig(lr=0.05, optimizer="adam")
    a = train_run(session, epochs=6, name="a")
    train_run(session, epochs=4, name="b", patience=2)
    session.view_state = {"tab": "trace", "traced_sample": 7, "nested": {"x": [1, 2.5]}}
    session.select_run(a.id)
    path = session.save(tmp_path / "exp.bpstudio")
    assert not session.dirty
    again = Session.open(path)
    assert [r.name for r in again.runs] == ["a", "b"]
    assert again.current_run_id == a.id
    assert again.view_state == session.view_state
    assert again.fit == session.fit and again.network == session.network
    assert again.dataset.to_dict() == session.dataset.to_dict()
    for old, new in zip(session.runs, again.runs, strict=True):
        assert_same_arrays(old.params, new.params)
        assert_same_arrays(old.history.to_arrays(), new.history.to_arrays())
        assert [c.epoch for c in old.checkpoints.all()] == [c.epoch for c in new.checkpoints.all()]
        for c_old, c_new in zip(old.checkpoints.all(), new.checkpoints.all(), strict=True):
            assert_same_arrays(c_old.params, c_new.params)
        assert new.fit == old.fit and new.net_config == old.net_config
        assert (new.status, new.stop_reason, new.steps, new.epochs) == (
            old.status,
            old.stop_reason,
            old.steps,
            old.epochs,
        )
        assert new.checkpoints.best.epoch == old.checkpoints.best.epoch
    # a saved project saved again is the same document
    d1, arr1, _ = session.to_state()
    d2, arr2, _ = again.to_state()
    assert d1 == d2
    assert_same_arrays(arr1, arr2)
    rows = runs_table(again.runs)
    assert [r["number"] for r in rows] == [1, 2] and rows[0]["network"] == "2-8-8-2 tanh"


def test_new_runs_get_fresh_ids_after_open(tmp_path) -> None:
    session = xor_session()
    train_run(session, epochs=1)
    train_run(session, epochs=1)
    session.remove_run(session.runs[0].id)
    again = Session.open(session.save(tmp_path / "p.bpstudio"))
    run = train_run(again, epochs=1)
    assert run.id == 3 and run.name == "Run 3"


def test_run_ids_are_never_reused_even_after_deleting_the_last(tmp_path) -> None:
    session = xor_session()
    train_run(session, epochs=1)
    last = train_run(session, epochs=1)
    session.remove_run(last.id)
    again = Session.open(session.save(tmp_path / "p.bpstudio"))
    assert train_run(again, epochs=1).id == last.id + 1
