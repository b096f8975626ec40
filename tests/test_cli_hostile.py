"""The CLI against hostile files and a hostile system: FIFOs, a read-only folder, /dev/full,
SIGKILL / SIGTERM in the middle of a large export, outputs aimed at inputs, rows that can't be
predicted, formulas and terminal escapes in labels, values that make NumPy warn.

A full disk is simulated with /dev/full (ENOSPC on every write): a small tmpfs would need a
mount, which CI can't do unprivileged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bpstudio.engine import Network
from bpstudio.io import save_model
from tests.hostile import (
    REPO,
    assert_one_line_refusal,
    flowers_csv,
    run_inprocess,
    run_subprocess,
    small_model,
)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@pytest.fixture
def model(tmp_path) -> Path:
    return small_model(tmp_path)


# --- non-regular files --------------------------------------------------------------------


@needs_fifo
@pytest.mark.parametrize(
    "argv",
    [
        ["train", "{fifo}"],
        ["predict", "{model}", "{fifo}"],
        ["predict", "{fifo}", "{csv}"],
        ["info", "{fifo}"],
        ["export", "{fifo}", "{tmp}/out.json"],
    ],
    ids=["train-csv", "predict-csv", "predict-model", "info", "export"],
)
def test_a_fifo_never_hangs_the_cli(tmp_path, model, argv):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    subs = {"fifo": fifo, "model": model, "csv": tmp_path / "flowers.csv", "tmp": tmp_path}
    t0 = time.perf_counter()
    result = run_subprocess(*[a.format(**subs) for a in argv], timeout=30)
    assert_one_line_refusal(result.returncode, result.stderr)
    assert "not a regular file" in result.stderr
    assert time.perf_counter() - t0 < 30


@needs_fifo
def test_predict_into_a_fifo_with_no_reader_is_refused_not_blocked(tmp_path, model):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    code, _, err = run_inprocess("predict", model, tmp_path / "flowers.csv", "--out", fifo)
    assert_one_line_refusal(code, err)
    assert "a pipe with no reader" in err


# --- a folder that can't be written, a full disk ------------------------------------------------


def _unwritable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        tempfile.mkstemp(dir=folder)
    except PermissionError:
        return folder
    # root ignores permission bits: use a folder no one can create files in (sysfs)
    folder.chmod(0o755)
    if os.path.isdir("/sys/kernel"):
        return Path("/sys/kernel")
    pytest.skip("no folder here refuses writes to this user")


@pytest.mark.parametrize("flag", ["--export", "--metrics"])
def test_a_read_only_folder_is_one_line_and_leaves_nothing(tmp_path, flag):
    folder = _unwritable_folder(tmp_path)
    name = "m.npz" if flag == "--export" else "metrics.json"
    before = set(os.listdir(folder))
    result = run_subprocess("train", "builtin:xor", "--epochs", "1", "-q", flag, folder / name)
    assert_one_line_refusal(result.returncode, result.stderr)
    assert "permission denied" in result.stderr.lower()
    assert set(os.listdir(folder)) == before


@needs_dev_full
@pytest.mark.parametrize(
    "argv",
    [["predict", "{model}", "{csv}", "--out", "/dev/full"],
     ["train", "{csv}", "--epochs", "1", "-q", "--metrics", "/dev/full"]],
    ids=["predict-out", "train-metrics"],
)  # fmt: skip
def test_a_full_disk_is_one_line(tmp_path, model, argv):
    subs = {"model": model, "csv": tmp_path / "flowers.csv"}
    result = run_subprocess(*[a.format(**subs) for a in argv])
    assert_one_line_refusal(result.returncode, result.stderr)
    assert "/dev/full: no space left on device" in result.stderr
    assert not any(n.startswith(".full.") for n in os.listdir("/dev"))  # no temp beside it


# --- killed in the middle of a large export -----------------------------------------------------


def _big_model(folder: Path) -> Path:
    net = Network([200, 1500, 1500, 10], activation="tanh", output="linear", loss="mse", seed=0)
    return save_model(folder / "big.npz", net)  # 2.6 M parameters: a 60 MB JSON export


def _temps(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_mid_export_keeps_the_old_file_and_no_temp_survives_the_next_write(tmp_path, sig):
    big = _big_model(tmp_path)
    out = tmp_path / "out.json"
    out.write_text("the previous export\n")
    caught = False
    for _ in range(3):  # the temp file lives for a fraction of a second: catch it
        proc = subprocess.Popen(
            [sys.executable, "-m", "bpstudio", "export", str(big), str(out)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if _temps(tmp_path):
                proc.send_signal(sig)
                caught = True
                break
            time.sleep(0.0005)
        _, err = proc.communicate(timeout=60)
        if caught:
            break
        out.write_text("the previous export\n")
    assert caught, "the export finished before its temp file was seen"
    assert out.read_text() == "the previous export\n"  # the old file is intact
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert _temps(tmp_path), "SIGKILL can't clean up: the temp is there until the next write"
    else:
        assert proc.returncode == 143 and err.strip() == "bpstudio: terminated"
        assert not _temps(tmp_path)  # SIGTERM cleans up at once
    result = run_subprocess("train", "builtin:xor", "--epochs", "1", "-q",
                            "--metrics", tmp_path / "m.json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not _temps(tmp_path)  # the next write in the folder removed the dead writer's temp
    assert out.read_text() == "the previous export\n"


# --- no output may be an input or another output ------------------------------------------------


def _same_bytes(paths):
    return {p: Path(p).read_bytes() for p in paths}


@pytest.mark.parametrize(
    "argv, guarded",
    [
        (["predict", "{model}", "{csv}", "--out", "{csv}"], "DATA"),
        (["predict", "{model}", "{csv}", "--out", "{model}"], "MODEL"),
        (["predict", "{model}", "{csv}", "--out", "{link}"], "DATA"),  # a symlink to the input
        (["predict", "{model}", "{csv}", "--out", "{hard}"], "DATA"),  # a hard link
        (["predict", "{model}", "{link}", "--out", "{csv}"], "DATA"),
        (["predict", "{model}", "{csv}", "--out", "{tmp}/./sub/../flowers.csv"], "DATA"),
        (["train", "{csv}", "--metrics", "{csv}"], "DATA"),
        (["train", "{csv}", "--export", "{tmp}/flowers.csv"], "DATA"),
        (["train", "{csv}", "--export", "{tmp}/a.json", "--metrics", "{tmp}/a.json"], "--export"),
        (["export", "{model}", "{model}"], "MODEL"),
        (["export", "{model}", "{tmp}/sub/../model.npz"], "MODEL"),
    ],
)
def test_no_output_overwrites_an_input_or_another_output(tmp_path, model, argv, guarded):
    csv = tmp_path / "flowers.csv"
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(csv)
    os.link(csv, tmp_path / "hard.csv")
    subs = {"model": model, "csv": csv, "tmp": tmp_path, "link": tmp_path / "link.csv",
            "hard": tmp_path / "hard.csv"}  # fmt: skip
    before = _same_bytes([csv, model])
    code, _, err = run_inprocess(*[a.format(**subs) for a in argv])
    assert_one_line_refusal(code, err)
    assert guarded in err
    assert _same_bytes([csv, model]) == before
    assert not (tmp_path / "a.json").exists()


# --- predict: every row, with reasons ---------------------------------------------------------


def test_predict_writes_every_row_and_says_why_some_could_not_be_predicted(tmp_path, model):
    rows = pd.read_csv(tmp_path / "flowers.csv").head(6)
    rows = rows.astype({"sepal": object})
    rows.loc[1, "petal"] = np.nan
    rows.loc[3, "sepal"] = "n/a?"
    rows.loc[4, "sepal"] = "inf"
    rows.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "p.csv"
    code, stdout, err = run_inprocess("predict", model, tmp_path / "new.csv", "--out", out)
    assert code == 0 and err == ""
    assert "wrote 3 predictions" in stdout and "3 row(s) could not be predicted" in stdout
    frame = pd.read_csv(out, keep_default_na=False)
    assert len(frame) == 6
    assert frame["reason"].tolist() == [
        "", "'petal' is missing", "", "'sepal' holds text 'n/a?'", "'sepal' is infinite", ""
    ]  # fmt: skip
    good = frame["reason"] == ""
    assert (frame.loc[good, "prediction"] != "").all() and (
        frame.loc[~good, "prediction"] == ""
    ).all()
    assert "accuracy on" in stdout and "of 3 rows" in stdout
    code, stdout, _ = run_inprocess(
        "predict", model, tmp_path / "new.csv", "--impute", "--out", out
    )
    frame = pd.read_csv(out, keep_default_na=False)
    assert frame["reason"].tolist()[1] == ""  # --impute fills the gap


def test_formulas_and_escapes_in_labels_are_neutralised(tmp_path):
    path = small_model(tmp_path, ".json")
    doc = json.loads(path.read_text())
    labels = ['=HYPERLINK("http://evil","x")', "-1.5", "\x1b]0;pwned\x07"]
    doc["classes"] = doc["preprocessor"]["classes"] = labels
    path.write_text(json.dumps(doc))
    frame = pd.read_csv(tmp_path / "flowers.csv")
    frame["note"] = ["@SUM(A1)", "+1", "-2.5", "plain"] * (len(frame) // 4)
    frame.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "p.csv"
    code, _, err = run_inprocess("predict", path, tmp_path / "new.csv", "--out", out,
                                 "--keep-columns")  # fmt: skip
    assert code == 0, err
    text = out.read_text()
    assert "\x1b" not in text and "\\x1b]0;pwned\\x07" in text
    result = pd.read_csv(out, keep_default_na=False, dtype=str)
    for column in result.columns:
        for cell in result[column]:
            if cell[:1] in "=+-@":
                float(cell)  # only numbers may start like a formula
    assert set(result["note"]) == {"'@SUM(A1)", "+1", "-2.5", "plain"}  # numbers stay
    assert "'=HYPERLINK" in text
    code, stdout, _ = run_inprocess("info", path)
    assert code == 0 and "\x1b" not in stdout and "\x07" not in stdout


# --- no NumPy warnings next to the one line ----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["train", "builtin:circles", "--noise", "1e308", "--epochs", "1"],
     ["train", "{big}", "--task", "regression", "--epochs", "1"],
     ["train", "{big}", "--task", "regression", "--scaling", "none", "--epochs", "1"]],
    ids=["noise-1e308", "targets-1e308", "targets-1e308-unscaled"],
)  # fmt: skip
def test_huge_values_give_one_named_line_and_no_warnings(tmp_path, argv):
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "".join(f"{i},{(-1) ** i * 1e308}\n" for i in range(40)))
    result = run_subprocess(*[a.format(big=big) for a in argv])
    assert_one_line_refusal(result.returncode, result.stderr)
    assert "RuntimeWarning" not in result.stderr
    assert "'y'" in result.stderr or "'x1'" in result.stderr or "Y column 1" in result.stderr


def test_a_layer_too_large_for_memory_is_refused_with_the_figure():
    result = run_subprocess("train", "builtin:xor", "--hidden", "100000000", "--epochs", "1")
    assert_one_line_refusal(result.returncode, result.stderr)
    assert "GiB of memory" in result.stderr and "W2 alone is 100,000,000 × 2" in result.stderr


def test_alpha_1e6_float64_diverges_and_saves_nothing(tmp_path):
    model = tmp_path / "m.npz"
    result = run_subprocess("train", "builtin:spirals", "--optimizer", "sgd", "--lr", "1e6",
                            "--dtype", "float64", "--export", model, "-q")  # fmt: skip
    assert result.returncode == 1
    assert "diverged" in result.stderr and "not saving" in result.stderr
    assert not model.exists()


def test_sigmoid_cross_entropy_on_a_regression_target_is_refused():
    result = run_subprocess("train", "builtin:sine", "--output", "sigmoid", "--loss",
                            "cross_entropy", "--epochs", "1")  # fmt: skip
    assert_one_line_refusal(result.returncode, result.stderr)
    assert "Cross-entropy needs targets in [0, 1]" in result.stderr


def test_thousands_separators_train_on_the_column(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("price,y\n" + "".join(f'"{1000 + 250 * i:,}",{int(i > 20)}\n'
                                        for i in range(40)))  # fmt: skip
    code, out, err = run_inprocess("train", csv, "--epochs", "5", "-q")
    assert code == 0, err
    assert "thousands separators" in out and "1 inputs" in out


@pytest.fixture(autouse=True)
def _flowers(tmp_path):
    flowers_csv(tmp_path / "flowers.csv")


def test_a_fifo_named_like_a_project_is_refused_at_once(tmp_path) -> None:
    import os
    import subprocess
    import sys

    fifo = tmp_path / "exp.bpstudio"
    os.mkfifo(fifo)
    for argv in (["runs", str(fifo)], ["export", str(fifo), str(tmp_path / "m.npz"), "--run", "1"]):
        r = subprocess.run(
            [sys.executable, "-m", "bpstudio", *argv], capture_output=True, text=True, timeout=30
        )
        assert r.returncode == 2 and "not a regular file" in r.stderr, r.stderr
