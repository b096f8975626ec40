"""Dependencies point one way: cli > ui > session > io > engine | data (the import-linter
contracts in pyproject.toml check every import; ``make test`` runs them). Nothing below ui may
load Qt, and nothing headless loads scikit-learn (a benchmark-only dependency).

Each package is imported in a fresh interpreter so that modules imported by other tests in this
process cannot hide a stray Qt import.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "sklearn", "torch")


@pytest.mark.parametrize(
    "module",
    [
        "bpstudio.engine",
        "bpstudio.engine.stages",
        "bpstudio.engine.gradcheck_report",
        "bpstudio.engine.diagnostics",
        "bpstudio.data",
        "bpstudio.io",
        "bpstudio.io.pytorch_export",
        "bpstudio.resources",
        "bpstudio.desktop_entry",
        "bpstudio.session",
        "bpstudio.session.lessons",
        "bpstudio.cli",
    ],
)
def test_headless_packages_load_no_qt_or_sklearn(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "", f"{module} loaded: {result.stdout.strip()}"
