"""PyTorch export: a trained network as a standalone, readable Python file plus its weights.

``export_pytorch("model.py", net, preprocessor)`` writes two files side by side:

- ``model.safetensors``: the ordinary bpstudio safetensors model file (arrays ``W2, b2, …`` in
  the seed's shapes, the metadata in the header), so ``bpstudio predict`` reads it too;
- ``model.py``: a module that imports only torch, safetensors, NumPy and pandas. It defines
  ``InputScaling`` (a^1 = (x − offset) / scale, fitted on the training rows), one ``nn.Linear``
  per layer named after the notation (``layer2`` holds ``W2`` as its ``weight`` and ``b2`` as its
  ``bias``; ``nn.Linear`` stores W^l as ``(n_l, n_{l−1})``, like the seed), the activations as
  trained (``act2``, …; softmax / sigmoid heads give class probabilities) and, for regression,
  ``TargetScaling`` back to the target's own units; ``encode(frame)`` does the raw-column side
  (numbers, one-hot categories, the training imputation values); ``predict(frame)`` returns the
  table ``bpstudio predict`` writes (``prediction`` or ``prediction(<target>)``, ``p(<class>)``);
  run as a script, ``python model.py new.csv --out predictions.csv`` writes it.

The arithmetic follows ``Preprocessor.transform`` → ``Network.forward`` → ``Preprocessor.decode``
step by step: scaling in float64, layers in the network's dtype, decoding in float64, so the
script's output equals ``bpstudio predict``'s to float rounding. The generated CSV reader is a
plain ``pandas.read_csv`` (UTF-8 with or without BOM, header on line 1, ``, ; TAB |`` picked from
the header line, decimal point, the same missing-value spellings); for other files read the table
yourself and call ``predict``. Leaves out: ``--keep-columns`` and the accuracy line of
``bpstudio predict``; training in PyTorch (the module is ready for it, the script only predicts).
"""

from __future__ import annotations

import os
import pprint
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bpstudio.engine import Network

#: ``nn`` modules for each activation name of the engine (same constants: leaky slope, ELU α).
TORCH_ACTIVATIONS = {
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU({slope!r})",
    "elu": "nn.ELU(alpha=1.0)",
    "softplus": "nn.Softplus()",
    "linear": "nn.Identity()",
    "softmax": "nn.Softmax(dim=-1)",
}
_INDENT = " " * 4


def _literal(value: Any, indent: int = 0) -> str:
    """A Python literal of ``value`` (floats as ``repr``, so they read back exactly)."""
    text = pprint.pformat(value, width=96 - indent, compact=True, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _as_preprocessor(preprocessor: Any) -> Any:
    from bpstudio.io.onnx_export import _as_preprocessor as convert

    return convert(preprocessor)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def _activation(name: str) -> str:
    from bpstudio.engine.activations import LEAKY_SLOPE
    from bpstudio.io.metadata import ModelFileError

    if name not in TORCH_ACTIVATIONS:
        raise ModelFileError(f"activation {name!r} has no PyTorch equivalent here")
    return TORCH_ACTIVATIONS[name].format(slope=float(LEAKY_SLOPE))


_TARGET_SCALING = '''\
class TargetScaling(nn.Module):
    """y = a^L * scale + offset: the network's scaled output back in the target's units."""

    def __init__(self, offset: list[float], scale: list[float]) -> None:
        super().__init__()
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float64))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a.to(torch.float64) * self.scale + self.offset


'''


def build_pytorch_source(net: Network, preprocessor: Any, weights_name: str) -> str:
    """The text of the generated module (see the module docstring)."""
    from bpstudio import __version__
    from bpstudio.data.csvio import EXTRA_NA
    from bpstudio.io.metadata import ModelFileError

    pre = _as_preprocessor(preprocessor)
    if pre is None:
        raise ModelFileError(
            "the PyTorch export needs the model's preprocessing (columns, scaling, classes); "
            "export a model saved by bpstudio train or the window"
        )
    sizes = [int(n) for n in net.sizes]
    if pre.n_inputs != sizes[0]:
        raise ModelFileError(
            f"the preprocessor gives {pre.n_inputs} inputs but the network takes {sizes[0]}; "
            "export the model the network was trained with"
        )
    acts = list(net.all_activations)
    L = len(sizes)
    classification = pre.task == "classification"
    dtype = "torch.float64" if str(net.dtype) == "float64" else "torch.float32"
    columns = [
        (f.name, f.kind, f.impute if f.kind == "categorical" else _number(f.impute), f.categories)
        for f in pre.features
    ]
    shape = "-".join(map(str, sizes))
    if classification:
        what_out = (
            f"the class probabilities ({', '.join(map(str, pre.classes))})"
            if sizes[-1] > 1
            else f"P(class {pre.classes[-1]!r}) of {list(pre.classes)}"
        )
    else:
        what_out = f"{', '.join(pre.target_names)} in the target's own units"

    layer_lines, forward_lines = [], []
    for l in range(2, L + 1):
        layer_lines.append(
            f"        # layer {l}: z{l} = W{l} a{l - 1} + b{l}; weight = W{l} "
            f"({sizes[l - 1]}, {sizes[l - 2]}), bias = b{l} ({sizes[l - 1]},)"
        )
        layer_lines.append(
            f"        self.layer{l} = nn.Linear({sizes[l - 2]}, {sizes[l - 1]}, dtype=DTYPE)"
        )
        layer_lines.append(f"        self.act{l} = {_activation(acts[l - 2])}")
        note = "  # the output layer" if l == L else ""
        forward_lines.append(f"        a{l} = self.act{l}(self.layer{l}(a{l - 1})){note}")
    if classification:
        forward_lines.append(f"        return a{L}")
    else:
        offset, scale = _floats(pre.target_offset), _floats(pre.target_scale)
        layer_lines.append(
            f"        self.unscale = TargetScaling({_literal(offset, 36)}, {_literal(scale, 36)})"
        )
        forward_lines.append(f"        return self.unscale(a{L})  # back to the target's units")

    weights_doc = f"``{weights_name}``"
    return _TEMPLATE.format(
        version=__version__,
        shape=shape,
        acts=", ".join(acts),
        weights_doc=weights_doc,
        weights_name=weights_name,
        module=Path(weights_name).stem,
        out_short="class probabilities" if classification else "values in original units",
        inputs=textwrap.fill(
            f"Input: the raw columns {', '.join(pre.input_columns)} (numbers in their own units, "
            "text columns as categories).",
            width=96,
        ),
        what_out=what_out,
        missing=(
            "filled with the training mean / most frequent value (trained with missing='impute')"
            if pre.missing == "impute"
            else "an error unless --impute (trained on complete rows)"
        ),
        dtype=dtype,
        columns=_literal(columns, 10),
        feature_names=_literal(list(pre.feature_names), 16),
        impute=pre.missing == "impute",
        task=pre.task,
        classes=_literal(None if pre.classes is None else list(pre.classes), 10),
        targets=_literal(list(pre.target_names), 10),
        na=_literal(list(EXTRA_NA), 17),
        offset=_literal(_floats(pre.offset), 12),
        scale=_literal(_floats(pre.scale), 12),
        n_layers=L,
        n_in=sizes[0],
        target_scaling="" if classification else _TARGET_SCALING,
        layers="\n".join(layer_lines),
        forward="\n".join(forward_lines),
    )


def pytorch_source_for(
    path: str | os.PathLike[str], net: Network, preprocessor: Any = None
) -> tuple[Path, str]:
    """Check that ``path`` can hold the module and build its text: returns the ``.safetensors``
    path beside it (where ``bpstudio.io.model_file.export_pytorch`` writes the weights) and the
    module's source. Writes nothing."""
    from bpstudio.io.metadata import ModelFileError

    path = Path(path)
    if path.suffix.lower() != ".py":
        raise ModelFileError(f"{path}: the PyTorch export is a Python file; name it *.py")
    if not path.stem.isidentifier():
        raise ModelFileError(
            f"{path}: name the file so Python can import it (letters, digits and _, e.g. "
            "my_model.py)"
        )
    weights = path.with_suffix(".safetensors")
    try:
        source = build_pytorch_source(net, preprocessor, weights.name)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return weights, source


_TEMPLATE = '''\
"""Backprop Studio network {shape} ({acts}) as a PyTorch module.

Generated by bpstudio {version}. The trained weights are read from {weights_doc}
beside this file (arrays W2, b2, ...). Layers are numbered from 1 (the input) as in Backprop Studio:
``layer<l>`` computes z^l = W^l a^(l-1) + b^l (its ``weight`` is W^l, shape (n_l, n_(l-1)),
its ``bias`` b^l) and ``act<l>`` gives a^l.

{inputs}
Missing cells: {missing}.
Output: {what_out}.

    python {module}.py new.csv --out predictions.csv   # the columns `bpstudio predict` writes

    from {module} import encode, load, read_table
    net = load()                                  # a torch.nn.Module, in eval mode
    frame = read_table("new.csv")                 # or any pandas DataFrame with the columns
    table = net.predict(frame)                    # the prediction table, as a DataFrame
    out = net(torch.from_numpy(encode(frame)))    # the raw forward pass: {out_short}

Needs torch, safetensors, numpy and pandas.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import torch
    from safetensors.torch import load_file
    from torch import nn
except ImportError as exc:
    raise ImportError(f"{{__file__}} needs torch and safetensors: pip install torch safetensors "
                      f"({{exc}})") from exc

WEIGHTS = Path(__file__).with_name({weights_name!r})
DTYPE = {dtype}  # the dtype the network was trained in
TASK = {task!r}
# The raw input columns in training order: (name, kind, value for a missing cell, categories).
COLUMNS = {columns}
# The network's inputs: numeric columns as themselves, categories one-hot as name=value.
FEATURE_NAMES = {feature_names}
IMPUTE = {impute!r}  # fill missing cells with the training values (else a missing cell is an error)
CLASSES = {classes}
TARGETS = {targets}
# Cells read as missing, besides pandas' defaults (as Backprop Studio reads CSV files).
MISSING_TOKENS = {na}


class InputScaling(nn.Module):
    """a^1 = (x - offset) / scale, with offset and scale fitted on the training rows."""

    def __init__(self) -> None:
        super().__init__()
        offset = {offset}
        scale = {scale}
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(torch.float64) - self.offset) / self.scale


{target_scaling}class Network(nn.Module):
    """The trained network: input scaling, then layers 2..{n_layers}."""

    def __init__(self) -> None:
        super().__init__()
        self.scaling = InputScaling()
{layers}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, {n_in}) raw inputs in FEATURE_NAMES order (see ``encode``)."""
        a1 = self.scaling(x).to(DTYPE)  # layer 1: the inputs, scaled
{forward}

    @torch.no_grad()
    def predict(self, frame: pd.DataFrame, impute: bool = IMPUTE) -> pd.DataFrame:
        """The table ``bpstudio predict`` writes for ``frame``: class labels as spelled in the
        training data and one p(<class>) column per class, or the values in original units."""
        x = torch.from_numpy(encode(frame, impute))
        out = self(x).to(torch.float64).numpy()
        return decode(out, frame.index)


def load(weights: str | Path = WEIGHTS) -> Network:
    """The network with its trained weights (W2 -> layer2.weight, b2 -> layer2.bias, ...)."""
    net = Network()
    tensors = load_file(str(weights))
    state = net.state_dict()
    for l in range(2, {n_layers} + 1):
        state[f"layer{{l}}.weight"] = tensors[f"W{{l}}"]
        state[f"layer{{l}}.bias"] = tensors[f"b{{l}}"]
    net.load_state_dict(state)  # strict: every name and shape must match
    return net.eval()  # (not net.to(DTYPE): the scaling buffers stay float64, as in training)


# ----------------------------------------------------------------- raw columns <-> arrays


def _numbers(column: pd.Series, name: str) -> np.ndarray:
    """A column as float64 (NaN where missing); text among the numbers is an error."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype="float64", copy=True)
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        values = pd.to_numeric(column, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
        text = np.isnan(values) & column.notna().to_numpy()
        if text.any():
            row = int(np.argmax(text))
            raise ValueError(f"column {{name!r}} has text {{column.iloc[row]!r}} in row "
                             f"{{row + 1}}")
    values[~np.isfinite(values)] = np.nan
    return values


def _labels(column: pd.Series) -> pd.Series:
    """Cells as category names in Backprop Studio's spelling (1.0 -> "1", " a " -> "a")."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if pd.api.types.is_bool_dtype(column.dtype):
        names = [str(bool(v)) for v in uniques]
    elif pd.api.types.is_numeric_dtype(column.dtype):
        v = np.asarray(uniques, dtype="float64")
        if np.all(v == np.round(v)) and np.all(np.abs(v) < 2**53):
            names = [str(int(x)) for x in v]
        else:
            names = [repr(float(x)) for x in v]
    else:
        names = [str(x).strip() for x in uniques]
    table = np.array(names + [np.nan], dtype=object)  # code -1 (missing) picks the NaN
    return pd.Series(table[codes], index=column.index, dtype=object)


def encode(frame: pd.DataFrame, impute: bool = IMPUTE) -> np.ndarray:
    """Raw columns -> x (N, {n_in}) float64: numbers as they are, categories one-hot (all zeros
    for a value never seen in training), missing cells filled with the training values."""
    absent = [name for name, *_ in COLUMNS if name not in frame.columns]
    if absent:
        raise ValueError(f"no column {{absent[0]!r}}; the file needs {{[c[0] for c in COLUMNS]}}")
    x = np.zeros((len(frame), len(FEATURE_NAMES)), dtype="float64")
    j = 0
    for name, kind, fill, categories in COLUMNS:
        if kind == "numeric":
            values = _numbers(frame[name], name)
            gaps = np.isnan(values)
            if gaps.any():
                if not impute or fill is None:
                    raise ValueError(f"column {{name!r}} is missing a value in row "
                                     f"{{int(np.argmax(gaps)) + 1}}; fill it in or pass --impute")
                values[gaps] = fill
            x[:, j] = values
            j += 1
        else:
            labels = _labels(frame[name])
            gaps = labels.isna().to_numpy()
            if gaps.any():
                if not impute or fill is None:
                    raise ValueError(f"column {{name!r}} is missing a value in row "
                                     f"{{int(np.argmax(gaps)) + 1}}; fill it in or pass --impute")
                labels = labels.where(~gaps, fill)
            codes = pd.Index(categories, dtype=object).get_indexer(labels.to_numpy())
            rows = np.flatnonzero(codes >= 0)
            x[rows, j + codes[rows]] = 1.0
            j += len(categories)
    return x


def decode(out: np.ndarray, index: pd.Index | None = None) -> pd.DataFrame:
    """Network outputs -> the prediction table (the rules of ``bpstudio predict``)."""
    result = pd.DataFrame(index=index)
    if TASK != "classification":
        if len(TARGETS) == 1:
            result["prediction"] = out[:, 0]
        else:
            for j, name in enumerate(TARGETS):
                result[f"prediction({{name}})"] = out[:, j]
        return result
    k = len(CLASSES)
    if out.shape[1] == 1 and k == 2:  # a single sigmoid unit: P(the second class)
        p = np.clip(out[:, 0], 0.0, 1.0)
        out = np.column_stack([1.0 - p, p])
    probabilities = np.clip(out, 0.0, None)
    total = probabilities.sum(axis=1, keepdims=True)
    probabilities = np.divide(
        probabilities, total, out=np.full_like(probabilities, 1.0 / k), where=total > 0
    )
    result["prediction"] = np.asarray(CLASSES, dtype=object)[np.argmax(out, axis=1)]
    for j, name in enumerate(CLASSES):
        result[f"p({{name}})"] = probabilities[:, j]
    return result


def read_table(path: str) -> pd.DataFrame:
    """A CSV file with a header line: UTF-8 (BOM or not), separated by , ; TAB or |."""
    with open(path, encoding="utf-8-sig") as handle:
        header = handle.readline()
    sep = max(",;\\t|", key=header.count)
    frame = pd.read_csv(
        path, sep=sep, encoding="utf-8-sig", na_values=MISSING_TOKENS, keep_default_na=True,
        skipinitialspace=True, skip_blank_lines=True,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Predict with the trained network.")
    parser.add_argument("data", help="CSV file with the input columns")
    parser.add_argument("--out", help="output CSV (default: standard output)")
    parser.add_argument("--impute", action="store_true", default=IMPUTE,
                        help="fill missing cells with the training means / most frequent values")
    args = parser.parse_args(argv)
    try:
        table = load().predict(read_table(args.data), impute=args.impute)
    except (OSError, ValueError) as exc:
        print(f"{{Path(__file__).name}}: error: {{args.data}}: {{exc}}", file=sys.stderr)
        return 2
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {{len(table)}} predictions to {{args.out}}")
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
