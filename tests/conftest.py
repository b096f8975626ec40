"""Suite-wide settings: Qt runs offscreen, BLAS on one thread, so tests behave alike on CI, and
QSettings (recent files, window state) go to a throw-away folder, never the user's real config."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Qt reads XDG_CONFIG_HOME when the first QSettings is made; set it before any Qt import.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bpstudio-test-config-")
