"""`bpstudio runs P` names a branch's parent ("parent run 1 @ step 45"), as the Runs table does."""

from __future__ import annotations

from bpstudio.session import Session, parent_label, runs_table
from bpstudio.session.synthetic import synthetic_run
from tests.test_cli import run


def test_runs_prints_a_branchs_parent(capsys, tmp_path):
    session = Session()
    base = synthetic_run(session, [2, 4, 2], epochs=10, steps_per_epoch=9)
    other = synthetic_run(session, [2, 4, 2], epochs=5, steps_per_epoch=9, seed=1)
    ckpt = base.checkpoints.all()[0]
    branch = session.branch(base.id, ckpt.step)
    rows = runs_table(session.runs)
    assert [r["parent"] for r in rows] == ["", "", f"run 1 @ step {ckpt.step}"]
    path = tmp_path / "p.bpstudio"
    session.save(path)
    code, out, _ = run(capsys, "runs", path)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[2].endswith(f"  parent run 1 @ step {ckpt.step}")
    assert "parent" not in lines[0] and "parent" not in lines[1]
    # its number follows the list; a deleted parent is said so
    session.remove_run(other.id)
    assert parent_label(branch, session.runs) == f"run 1 @ step {ckpt.step}"
    session.remove_run(base.id)
    assert parent_label(branch, session.runs) == f"a deleted run @ step {ckpt.step}"
