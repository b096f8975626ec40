"""Backprop Studio: see backpropagation train fully connected networks.

The package splits into ``engine`` (NumPy backprop), ``data`` (datasets and preprocessing),
``io`` (model files) and ``ui`` (the PySide6 window). Only ``ui`` imports Qt.
"""

from __future__ import annotations

__version__ = "0.1.0"
