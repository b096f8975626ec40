"""Model files for Backprop Studio: save/load a trained network with its preprocessor.

``save_model`` / ``load_model`` handle ``.npz``, ``.json`` and (when the optional ``safetensors``
package is installed) ``.safetensors``; ``save_model`` also writes ``.onnx`` (export only, when the
optional ``onnx`` package is installed; see ``onnx_export``) and ``.py`` (PyTorch code beside a
``.safetensors`` file; see ``pytorch_export``). ``EXPORT_FORMATS`` lists what this install can
write, for save dialogs, and ``MISSING_EXPORT_FORMATS`` the ones it can't, with the package to
install. All writes are atomic; loading never unpickles. No Qt here.
Leaves out: project files (dataset + window state).
"""

from __future__ import annotations

from bpstudio.io.atomic import atomic_write_bytes, atomic_write_json, json_safe
from bpstudio.io.model_file import (
    EXPORT_FORMATS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MISSING_EXPORT_FORMATS,
    LoadedModel,
    ModelFileError,
    build_metadata,
    load_model,
    save_model,
)

__all__ = [
    "EXPORT_FORMATS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "LoadedModel",
    "MISSING_EXPORT_FORMATS",
    "ModelFileError",
    "atomic_write_bytes",
    "atomic_write_json",
    "build_metadata",
    "json_safe",
    "load_model",
    "save_model",
]
