"""ONNX export: a trained network (+ its input/target scaling) as a graph other tools can run.

The graph follows the notation (layers numbered from 1 = the input):

- input ``x``: float32 ``(N, n_1)``, the engine's inputs in ``Preprocessor.feature_names`` order,
  numeric features in raw units, one-hot columns (``island=Biscoe``) as 0/1;
- input scaling, when the preprocessor has any: ``Sub(x, input_offset) → Div(·, input_scale)``,
  giving ``a1``; the weights are *not* folded, so ``W2, b2, …`` stay exactly the trained arrays;
- per layer l = 2..L: ``Gemm(a^{l−1}, W^l, b^l, transB=1)`` named ``z{l}`` (batch form
  ``Z^l = A^{l−1} (W^l)ᵀ + b^l``), then the activation node ``a{l}``;
- output: ``probabilities`` (classification: a^L as the network gives it), ``y`` (regression, in
  the target's own units: a^L = ``y_scaled`` goes through ``Mul(target_scale) → Add(target_offset)``
  when targets were scaled), or ``output`` (no preprocessor: a^L in the network's own units).

Initialisers ``W{l}`` have shape ``(n_l, n_{l−1})``, ``b{l}`` shape ``(n_l,)``, float32,
C-contiguous. ``metadata_props`` carries the bpstudio metadata document (key ``bpstudio``) and,
for readers that don't parse it, ``feature_names``, ``classes``, ``target_names``, ``network``
(each a JSON string). The file is checked with ``onnx.checker`` and written atomically.

Leaves out: the raw-CSV side of preprocessing (column parsing, imputation of missing cells,
one-hot encoding of text), which the caller does before feeding ``x``; reading ONNX files back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bpstudio.io.atomic import atomic_write_bytes
from bpstudio.io.metadata import ModelFileError, build_metadata

if TYPE_CHECKING:
    from bpstudio.engine import Network

#: Opset 17 (ONNX 1.12) has every op used here and loads in onnxruntime ≥ 1.12 and OpenCV 4.7+.
OPSET = 17
#: IR version 8 is the one that goes with opset 17; newer runtimes read it, older ones too.
IR_VERSION = 8
INPUT_NAME = "x"


def _activation_node(helper: Any, name: str, src: str, dst: str, node_name: str):
    """One ONNX node computing σ elementwise (softmax over the last axis) from ``src``."""
    from bpstudio.engine.activations import LEAKY_SLOPE

    table = {
        "sigmoid": ("Sigmoid", {}),
        "tanh": ("Tanh", {}),
        "relu": ("Relu", {}),
        "leaky_relu": ("LeakyRelu", {"alpha": float(LEAKY_SLOPE)}),
        "elu": ("Elu", {"alpha": 1.0}),
        "softplus": ("Softplus", {}),
        "linear": ("Identity", {}),
        "softmax": ("Softmax", {"axis": -1}),
    }
    if name not in table:
        raise ModelFileError(f"activation {name!r} has no ONNX equivalent here")
    op, attrs = table[name]
    return helper.make_node(op, [src], [dst], name=node_name, **attrs)


def _as_preprocessor(preprocessor: Any) -> Any:
    """A Preprocessor object (or None) from an object, its ``to_dict()`` form, or None."""
    if preprocessor is None or not isinstance(preprocessor, dict):
        return preprocessor
    from bpstudio.data import DataError, Preprocessor

    try:
        return Preprocessor.from_dict(preprocessor)
    except DataError as exc:
        raise ModelFileError(str(exc)) from None


def _is_identity(offset: np.ndarray, scale: np.ndarray) -> bool:
    return bool(np.all(offset == 0.0) and np.all(scale == 1.0))


def _f32(value: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(value, dtype=np.float32))


def build_onnx_model(net: Network, preprocessor: Any = None, metadata: dict | None = None):
    """The ``onnx.ModelProto`` for ``net`` (see the module docstring for the layout)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    pre = _as_preprocessor(preprocessor)
    if metadata is None:
        metadata = build_metadata(net, preprocessor)
    sizes = [int(n) for n in net.sizes]
    n_in, n_out = sizes[0], sizes[-1]
    if pre is not None and pre.n_inputs != n_in:
        raise ModelFileError(
            f"the preprocessor gives {pre.n_inputs} inputs but the network takes {n_in}; "
            "export the model the network was trained with"
        )

    nodes = []
    inits = []
    current = INPUT_NAME
    # Input scaling, kept explicit: a^1 = (x − offset) / scale, exactly Preprocessor.transform.
    if pre is not None and not _is_identity(pre.offset, pre.scale):
        inits.append(numpy_helper.from_array(_f32(pre.offset), "input_offset"))
        inits.append(numpy_helper.from_array(_f32(pre.scale), "input_scale"))
        nodes.append(
            helper.make_node("Sub", [current, "input_offset"], ["x_centered"], name="x_centered")
        )
        nodes.append(helper.make_node("Div", ["x_centered", "input_scale"], ["a1"], name="a1"))
        current = "a1"

    if pre is None:
        final = "output"
    elif pre.task == "classification":
        final = "probabilities"
    else:
        scaled_targets = not _is_identity(pre.target_offset, pre.target_scale)
        final = "y_scaled" if scaled_targets else "y"

    params = net.get_params()
    activations = list(net.all_activations)
    L = len(sizes)
    for l in range(2, L + 1):
        W, b = _f32(params[f"W{l}"]), _f32(params[f"b{l}"])
        inits.append(numpy_helper.from_array(W, f"W{l}"))
        inits.append(numpy_helper.from_array(b, f"b{l}"))
        # Z^l = A^{l-1} (W^l)ᵀ + b^l: Gemm with transB keeps W^l in the seed's (n_l, n_{l-1}).
        nodes.append(
            helper.make_node("Gemm", [current, f"W{l}", f"b{l}"], [f"z{l}"], name=f"z{l}", transB=1)
        )
        out = final if l == L else f"a{l}"
        nodes.append(_activation_node(helper, activations[l - 2], f"z{l}", out, f"a{l}"))
        current = out

    if final == "y_scaled":
        # Back to the target's units: y = y_scaled · target_scale + target_offset (decode).
        inits.append(numpy_helper.from_array(_f32(pre.target_scale), "target_scale"))
        inits.append(numpy_helper.from_array(_f32(pre.target_offset), "target_offset"))
        nodes.append(helper.make_node("Mul", [final, "target_scale"], ["y_times"], name="y_times"))
        nodes.append(helper.make_node("Add", ["y_times", "target_offset"], ["y"], name="y"))
        final = "y"

    feature_names = list(pre.feature_names) if pre is not None else None
    classes = list(pre.classes) if pre is not None and pre.classes is not None else None
    target_names = list(pre.target_names) if pre is not None else None
    input_doc = _input_doc(n_in, pre, feature_names)
    output_doc = _output_doc(final, n_out, classes, target_names)
    graph = helper.make_graph(
        nodes,
        "bpstudio_" + "_".join(map(str, sizes)),
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", n_in], input_doc)],
        [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["N", n_out], output_doc)],
        initializer=inits,
        doc_string=f"{input_doc} {output_doc}",
    )
    from bpstudio import __version__

    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="bpstudio",
        producer_version=str(__version__),
        doc_string=(
            f"Backprop Studio network {'-'.join(map(str, sizes))} "
            f"({', '.join(activations)}). {input_doc} {output_doc}"
        ),
    )
    model.ir_version = IR_VERSION
    props = {
        "bpstudio": metadata,
        "format_version": metadata.get("format_version"),
        "feature_names": feature_names,
        "classes": classes,
        "target_names": target_names,
        "network": metadata.get("network"),
        "input": INPUT_NAME,
        "output": final,
    }
    helper.set_model_props(model, {key: json.dumps(value) for key, value in props.items()})
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # onnx's ValidationError/InferenceError: a bug here, say so briefly
        text = " ".join(str(exc).split())[:200]
        raise ModelFileError(f"the ONNX graph failed onnx.checker ({text})") from None
    return model


def _input_doc(n_in: int, pre: Any, feature_names: list[str] | None) -> str:
    if pre is None:
        return f"x: float32 (N, {n_in}), the network's inputs as it was trained on them."
    scaled = "" if _is_identity(pre.offset, pre.scale) else "; the graph scales them itself"
    return (
        f"x: float32 (N, {n_in}) in this column order: {', '.join(feature_names)}. Numeric "
        f"features in raw units{scaled}; one-hot columns (name=value) as 0/1, all 0 for an "
        "unseen value; no missing values (impute them first)."
    )


def _output_doc(
    final: str, n_out: int, classes: list[str] | None, target_names: list[str] | None
) -> str:
    if final == "probabilities":
        if n_out == 1:
            return f"probabilities: (N, 1), P(class '{classes[-1]}') of {classes}."
        return f"probabilities: (N, {n_out}), one column per class: {', '.join(classes)}."
    if final == "y":
        return f"y: (N, {n_out}), {', '.join(target_names)} in original units."
    return f"output: (N, {n_out}), the network's output a^L."


def export_onnx(
    path: str | os.PathLike[str],
    net: Network,
    preprocessor: Any = None,
    metadata: dict | None = None,
) -> Path:
    """Write ``net`` (+ preprocessor object or dict) as an ONNX file, atomically."""
    path = Path(path)
    try:
        model = build_onnx_model(net, preprocessor, metadata)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    atomic_write_bytes(path, model.SerializeToString())
    return path
