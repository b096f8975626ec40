"""Project files refuse what they can't trust, each with one clear line; a moved or changed CSV is
reported by type, not by failing the open."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bpstudio.data import DatasetOptions
from bpstudio.errors import BPStudioError
from bpstudio.io.project_file import (
    SCHEMA_VERSION,
    ProjectFileError,
    read_project,
    write_project,
)
from bpstudio.session import (
    DatasetChangedError,
    DatasetMissingError,
    DatasetRef,
    DatasetStatus,
    Session,
)
from tests.session.helpers import train_run, xor_session


@pytest.fixture
def saved(tmp_path) -> Path:
    session = xor_session()
    train_run(session, epochs=3)
    return session.save(tmp_path / "good.bpstudio")


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rewrite(path: Path, members: dict[str, bytes], out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out


def _head(path: Path) -> dict:
    return json.loads(_members(path)["project.json"])


def _refused(path: Path, *words: str) -> str:
    with pytest.raises(ProjectFileError) as info:
        Session.open(path)
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, BPStudioError)
    for word in words:
        assert word in message, message
    return message


def test_the_good_file_opens(saved):
    assert len(Session.open(saved).runs) == 1


def test_a_newer_schema_is_refused_with_update_advice(saved, tmp_path):
    members = _members(saved)
    head = _head(saved)
    head["schema_version"] = SCHEMA_VERSION + 1
    members["project.json"] = json.dumps(head).encode()
    _refused(_rewrite(saved, members, tmp_path / "new.bpstudio"), "newer", "update")


def test_a_truncated_file_is_refused(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        p = tmp_path / f"cut{cut}.bpstudio"
        p.write_bytes(data[:cut])
        _refused(p, str(p))


def test_flipped_bytes_are_caught_by_the_checksum(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo("arrays/0.npy")
    pos = info.header_offset + 30 + len(info.filename) + 200  # inside the stored array bytes
    data[pos] ^= 0xFF
    p = tmp_path / "flipped.bpstudio"
    p.write_bytes(bytes(data))
    _refused(p, "damaged")


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: h.__setitem__("document", "nope"),
        lambda h: h["document"].pop("runs"),
        lambda h: h["document"]["runs"][0].__setitem__("status", "exploded"),
        lambda h: h["document"]["runs"][0]["fit"].__setitem__("optimiser", "sgd"),
        lambda h: h["document"]["runs"][0]["network"].__setitem__("sizes", [2, 3, 2]),
        lambda h: h["document"].__setitem__("kind", "something else"),
    ],
)
def test_tampered_json_is_refused(saved, tmp_path, edit):
    members = _members(saved)
    head = _head(saved)
    edit(head)
    members["project.json"] = json.dumps(head).encode()
    _refused(_rewrite(saved, members, tmp_path / "edited.bpstudio"))


def test_json_that_is_not_json_is_refused(saved, tmp_path):
    members = _members(saved)
    members["project.json"] = members["project.json"][:-40]
    _refused(_rewrite(saved, members, tmp_path / "cut.bpstudio"), "not valid JSON")


def test_an_array_of_the_wrong_shape_is_refused(saved, tmp_path):
    members = _members(saved)
    head = _head(saved)
    name, entry = next((k, v) for k, v in head["arrays"].items() if k.endswith("params/W2"))
    buf = __import__("io").BytesIO()
    np.save(buf, np.zeros((3, 3)))
    members[entry["member"]] = buf.getvalue()
    _refused(_rewrite(saved, members, tmp_path / "shape.bpstudio"), "tampered")
    # and when the manifest is edited to match the bad array, the network check catches it
    head["arrays"][name]["shape"] = [3, 3]
    members["project.json"] = json.dumps(head).encode()
    _refused(_rewrite(saved, members, tmp_path / "shape2.bpstudio"), "W2")


def test_a_member_that_inflates_beyond_its_declared_size_is_refused(saved, tmp_path):
    members = _members(saved)
    head = _head(saved)
    entry = next(v for k, v in head["arrays"].items() if k.endswith("params/b2"))
    buf = __import__("io").BytesIO()
    np.save(buf, np.zeros(20_000_000 // 8))  # 20 MB of zeros: deflates to ~20 kB
    members[entry["member"]] = buf.getvalue()
    out = tmp_path / "bomb.bpstudio"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert out.stat().st_size < 1_000_000
    _refused(out, "declared")


def test_a_missing_member_is_refused(saved, tmp_path):
    members = _members(saved)
    del members["arrays/0.npy"]
    _refused(_rewrite(saved, members, tmp_path / "hole.bpstudio"), "missing")
    members = _members(saved)
    del members["project.json"]
    _refused(_rewrite(saved, members, tmp_path / "nojson.bpstudio"), "not a Backprop Studio")


def test_no_pickles_and_no_object_arrays(tmp_path):
    with pytest.raises(ProjectFileError):
        write_project(tmp_path / "x.bpstudio", {}, {"a": np.array([object()], dtype=object)})
    p = write_project(tmp_path / "ok.bpstudio", {"x": 1}, {"a": np.arange(3)})
    members = _members(p)
    head = json.loads(members["project.json"])
    head["arrays"]["a"]["dtype"] = "|O"
    members["project.json"] = json.dumps(head).encode()
    with pytest.raises(ProjectFileError, match="not allowed"):
        read_project(_rewrite(p, members, tmp_path / "obj.bpstudio"))


def test_a_failed_save_leaves_the_old_file(saved, monkeypatch):
    before = saved.read_bytes()
    session = Session.open(saved)
    session.view_state = {"bad": object()}  # not JSON
    with pytest.raises(ProjectFileError):
        session.save(saved)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


# ----------------------------------------------------------------------------------- the CSV


@pytest.fixture
def csv_file(tmp_path) -> Path:
    p = tmp_path / "data" / "points.csv"
    p.parent.mkdir()
    rows = ["x1,x2,label"] + [f"{i % 7},{i % 5},{'AB'[i % 2]}" for i in range(40)]
    p.write_text("\n".join(rows) + "\n")
    return p


def _csv_session(csv_file: Path, tmp_path: Path, embed: bool = False) -> Path:
    session = Session(DatasetRef.csv(csv_file, DatasetOptions(val_fraction=0.25)))
    return session.save(tmp_path / "csv.bpstudio", embed_limit=10_000 if embed else None)


def test_a_csv_project_reopens_with_its_file(csv_file, tmp_path):
    again = Session.open(_csv_session(csv_file, tmp_path))
    assert again.dataset_status is DatasetStatus.OK
    assert again.dataset.options.val_fraction == 0.25
    assert again.dataset.load_table().n_rows == 40


def test_a_moved_csv_is_reported_and_can_be_located(csv_file, tmp_path):
    path = _csv_session(csv_file, tmp_path)
    moved = tmp_path / "elsewhere.csv"
    csv_file.rename(moved)
    again = Session.open(path)
    assert again.dataset_status is DatasetStatus.MISSING
    with pytest.raises(DatasetMissingError) as info:
        again.dataset.load_table()
    assert "locate" in str(info.value) and info.value.ref is again.dataset
    assert again.dataset.relocate(moved) is DatasetStatus.OK
    assert again.dataset.load_table().n_rows == 40


def test_a_changed_csv_is_reported_and_can_be_accepted(csv_file, tmp_path):
    path = _csv_session(csv_file, tmp_path)
    csv_file.write_text(csv_file.read_text().replace("A", "B", 1))  # same size, other bytes
    again = Session.open(path)
    assert again.dataset_status is DatasetStatus.CHANGED
    with pytest.raises(DatasetChangedError, match="changed"):
        again.dataset.load_table()
    again.dataset.accept_current()
    assert again.dataset.check() is DatasetStatus.OK


def test_an_embedded_csv_travels_with_the_project(csv_file, tmp_path):
    path = _csv_session(csv_file, tmp_path, embed=True)
    csv_file.unlink()
    again = Session.open(path)
    assert again.dataset_status is DatasetStatus.EMBEDDED
    assert again.dataset.load_table().n_rows == 40


def test_a_csv_larger_than_the_limit_is_not_embedded(csv_file, tmp_path):
    session = Session(DatasetRef.csv(csv_file))
    path = session.save(tmp_path / "big.bpstudio", embed_limit=csv_file.stat().st_size - 1)
    assert session.dataset.embedded is None
    assert not any(name.startswith("blobs/") for name in _members(path))


def test_a_project_moved_with_its_csv_finds_it_again(csv_file, tmp_path):
    project = tmp_path / "data" / "exp.bpstudio"
    Session(DatasetRef.csv(csv_file)).save(project)
    moved = tmp_path / "moved"
    (tmp_path / "data").rename(moved)
    again = Session.open(moved / "exp.bpstudio")
    assert again.dataset_status is DatasetStatus.OK
    assert Path(again.dataset.path) == (moved / "points.csv").resolve()
    # a different file beside the project is not taken for it
    other = tmp_path / "other"
    other.mkdir()
    (other / "points.csv").write_text("x1,label\n1,A\n")
    (moved / "exp.bpstudio").rename(other / "exp.bpstudio")
    again = Session.open(other / "exp.bpstudio")
    assert again.dataset_status is DatasetStatus.MISSING
    assert Path(again.dataset.path) == csv_file.resolve()  # still where it was saved from
