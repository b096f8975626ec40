"""Dependencies point one way: ui → engine/data/io. Nothing below ui may load Qt.

Each package is imported in a fresh interpreter so that modules imported by other tests in this
process cannot hide a stray Qt import.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")


@pytest.mark.parametrize(
    "module", ["bpstudio.engine", "bpstudio.data", "bpstudio.io", "bpstudio.cli"]
)
def test_headless_packages_load_no_qt(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "", f"{module} loaded Qt modules: {result.stdout.strip()}"
