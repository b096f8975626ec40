"""The metadata document every model file carries, and ``ModelFileError``.

Shared by ``model_file`` (``.npz``/``.json``/``.safetensors``) and ``onnx_export`` (``.onnx``), so
neither imports the other for it: ``FORMAT_NAME``/``FORMAT_VERSION``, the parameter names and seed
shapes (``param_names``), and ``build_metadata`` (network config, parameter shapes, preprocessor
dict, class labels, ``extra``). Leaves out: reading and checking a document (``model_file``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bpstudio.errors import BPStudioError
from bpstudio.io.atomic import json_safe

if TYPE_CHECKING:
    from bpstudio.engine import Network

FORMAT_NAME = "bpstudio-model"
FORMAT_VERSION = 1


class ModelFileError(BPStudioError, ValueError):
    """A model file that can't be written or read; the message is one line for the user."""


def param_names(sizes: list[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Names and seed shapes: W^l is (n_l, n_{l-1}), b^l is (n_l,), for l = 2..L."""
    out: list[tuple[str, tuple[int, ...]]] = []
    for l in range(2, len(sizes) + 1):
        # sizes is 0-based in Python, layers are 1-based in the notation: n_l = sizes[l - 1].
        out.append((f"W{l}", (sizes[l - 1], sizes[l - 2])))
        out.append((f"b{l}", (sizes[l - 1],)))
    return out


def _preprocessor_dict(preprocessor: Any) -> dict[str, Any] | None:
    if preprocessor is None:
        return None
    if isinstance(preprocessor, dict):
        return preprocessor
    return preprocessor.to_dict()


def build_metadata(net: Network, preprocessor: Any = None, extra: dict | None = None) -> dict:
    """The JSON-safe metadata document shared by all formats."""
    config = net.config()
    sizes = [int(n) for n in config["sizes"]]
    pre = _preprocessor_dict(preprocessor)
    classes = None
    if pre is not None:
        classes = pre.get("classes")
    if classes is None and preprocessor is not None and not isinstance(preprocessor, dict):
        classes = getattr(preprocessor, "classes", None)
    from bpstudio import __version__

    return json_safe(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "bpstudio_version": __version__,
            "network": config,
            "param_shapes": {name: list(shape) for name, shape in param_names(sizes)},
            "preprocessor": pre,
            "classes": list(classes) if classes is not None else None,
            "extra": extra or {},
        }
    )


__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "ModelFileError", "build_metadata", "param_names"]
