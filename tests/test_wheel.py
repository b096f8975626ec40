"""The built wheel: it carries the sample CSVs and the icons, and a fresh install of it runs.

Slow (a wheel build and a venv: ~10 s here with pip's cache warm), marked ``slow``; it still runs
in ``make test``. The wheel is built from a copy of the sources, so no stale ``build/`` folder can
add or hide files, and installed into a new venv the way a user would (``pip install`` of the
wheel, dependencies resolved from its metadata, no test extras): pip's cache supplies numpy,
pandas, PySide6 & co. (on a cold cache pip downloads them, ~200 MB, and this takes longer).
The venv is made without pip (``pip --python`` installs into it), which saves ensurepip's time.
Then the installed ``bpstudio`` lists the datasets, trains on a bundled sample, opens the window
offscreen with File → Open starting in the installed samples folder, and an export that needs
the optional packages says which ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bpstudio.resources import ICON_NAME, ICON_SIZES, SAMPLE_FILES

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "bpstudio", src / "bpstudio", ignore=shutil.ignore_patterns("__pycache__")
    )
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (built,) = tmp.glob("bpstudio-*.whl")
    return built


def test_wheel_carries_samples_and_icons(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "bpstudio/resources/"
    for name in SAMPLE_FILES:
        assert f"{data}sample_data/{name}" in names
    assert f"{data}icons/{ICON_NAME}.svg" in names
    for n in ICON_SIZES:
        assert f"{data}icons/{ICON_NAME}-{n}.png" in names
    lessons = [n for n in names if n.startswith(f"{data}lessons/") and n.endswith(".md")]
    assert len(lessons) >= 6
    assert not [n for n in names if n.startswith(("tests/", "scripts/")) or "__pycache__" in n]


def test_installed_wheel_lists_datasets_and_trains_on_a_bundled_sample(wheel, tmp_path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin"

    def run(*argv: str, code: int = 0) -> str:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
        )
        assert done.returncode == code, done.stderr[-2000:]
        return done.stdout + done.stderr

    where = run(
        str(python),
        "-c",
        "import bpstudio, bpstudio.resources as r; print(bpstudio.__file__); "
        "print(r.sample_data_dir())",
    ).split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the wheel's copy, not ours
    samples = Path(where[1])
    bpstudio = str(venv / "bin" / "bpstudio")  # the console script pip wrote
    assert "builtin:spirals" in run(bpstudio, "datasets")
    model = tmp_path / "iris.npz"
    out = run(bpstudio, "train", str(samples / "iris.csv"), "--epochs", "20", "-q", "--export",
              str(model))  # fmt: skip
    assert "iris.csv: 3 classes, 4 inputs" in out and "val accuracy" in out
    # no test extras here: exports that need optional packages name them, in one line
    for target in ("iris.onnx", "iris.safetensors", "iris_model.py"):
        said = run(bpstudio, "export", str(model), str(tmp_path / target), code=2)
        assert "pip install 'bpstudio[export]'" in said and len(said.strip().splitlines()) == 1
    # the window opens from the installed copy (icon, samples folder) and closes itself
    shown = run(str(python), "-c", _WINDOW_CHECK)
    assert "window shown (Backprop Studio" in shown
    assert f"start={samples}" in shown and f"icon={len(ICON_SIZES)}" in shown


_WINDOW_CHECK = """
import os
os.environ["BPSTUDIO_QUIT_AFTER_MS"] = "0"
from PySide6.QtWidgets import QApplication
from bpstudio.ui import dialogs
from bpstudio.ui.app import app_icon, run_app
code = run_app([])
app = QApplication.instance() or QApplication([])
print(f"start={dialogs._last_dir()} icon={len(app_icon().availableSizes())}")
raise SystemExit(code)
"""
