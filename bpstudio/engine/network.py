"""`Network`: a fully connected feed-forward net in the seed's notation, with a one-sample trace.

Layers are numbered from 1 (the input). W^l joins layer l−1 to l with shape (n_l, n_{l−1}); the
arrays are named "W2", "b2", "W3", …. All parameters live in ONE flat vector `_theta` so
optimisers update everything in a few NumPy calls. Layer l occupies one block of shape
(n_{l−1} + 1, n_l): (W^l)ᵀ, C-contiguous, because that is what the forward GEMM
`A^{l−1} @ (W^l)ᵀ` wants, followed by b^l as an extra row (so `fit` can fold the bias into that
GEMM). `params["Wl"]` is the transposed *view* of the (W^l)ᵀ rows and `params["bl"]` a view of
the last row: they have the seed's shapes and writing into them changes the network.

dtype: `Network.dtype` is the storage dtype of the parameters ("float64" default, or "float32").
`forward/loss/gradients` compute in that dtype; `trace` and `gradient_check` always compute in
float64.
Training dtype: see `training.fit`. Left out: convolutions, dropout, batch norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bpstudio.engine import backprop as bp
from bpstudio.engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpstudio.engine.errors import EngineError
from bpstudio.engine.initializers import INITIALIZER_TABLE, resolve_init
from bpstudio.engine.losses import LOSS_TABLE, check_pair

DTYPES = ("float32", "float64")


@dataclass
class LayerTrace:
    """One layer l of one sample: z^l, a^l, δ^l, ∂J/∂b^l (n_l,), ∂J/∂W^l (n_l, n_{l−1})."""

    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray
    db: np.ndarray
    dW: np.ndarray


def check_dtype(dtype: Any) -> str:
    name = np.dtype(dtype).name if dtype is not None else "float64"
    if name not in DTYPES:
        raise EngineError(f"Unsupported dtype {dtype!r}; use 'float32' or 'float64'.")
    return name


class Network:
    """Fully connected network; see the module docstring for notation and storage."""

    def __init__(
        self,
        sizes: list[int],
        activation: str | list[str] = "tanh",
        output: str = "sigmoid",
        loss: str = "mse",
        init: str = "xavier",
        seed: int = 0,
        dtype: str = "float64",
    ) -> None:
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or any(n < 1 for n in sizes):
            raise EngineError(
                f"A network needs at least an input and an output layer, each with ≥ 1 unit; "
                f"got sizes {sizes}."
            )
        n_hidden = len(sizes) - 2
        if isinstance(activation, str):
            activations = [activation] * n_hidden
        else:
            activations = list(activation)
            if len(activations) == 1 and n_hidden != 1:
                activations = activations * n_hidden
            if len(activations) != n_hidden:
                raise EngineError(
                    f"Give one activation per hidden layer: {n_hidden} hidden layer(s), "
                    f"{len(activations)} activation(s) given."
                )
        for name in activations:
            if name not in HIDDEN_ACTIVATIONS:
                raise EngineError(
                    f"Unknown hidden activation {name!r}; choose one of "
                    f"{', '.join(HIDDEN_ACTIVATIONS)}."
                )
        if output not in OUTPUT_ACTIVATIONS:
            raise EngineError(
                f"Unknown output activation {output!r}; choose one of "
                f"{', '.join(OUTPUT_ACTIVATIONS)}."
            )
        if output == "softmax" and sizes[-1] < 2:
            # softmax over one unit is the constant 1: its gradient is zero and nothing learns
            raise EngineError(
                "A softmax output needs at least 2 units (one per class); for one output use "
                "sigmoid (two classes) or linear (a value)."
            )
        check_pair(output, loss)
        self.sizes: list[int] = sizes
        self.activations: list[str] = activations
        self.output: str = output
        self.loss_name: str = loss
        self.init: str = resolve_init(init)
        self.seed: int = int(seed)
        self.dtype: str = check_dtype(dtype)
        self._allocate()
        self.reinitialize(self.seed)

    # ---- storage ----------------------------------------------------------------------------

    def _allocate(self) -> None:
        self._theta = np.zeros(
            sum(
                (n_in + 1) * n_out
                for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)
            ),
            dtype=self.dtype,
        )
        self._WT, self._b = self.block_views(self._theta)

    def blocks(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-layer views [(W^l)ᵀ; b^l] of shape (n_{l−1} + 1, n_l) into a vector laid out like
        `_theta`: the weights transposed, then the bias as one more row (see `kernels.py`)."""
        out, off = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            out.append(flat[off : off + (n_in + 1) * n_out].reshape(n_in + 1, n_out))
            off += (n_in + 1) * n_out
        return out

    def block_views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Views (W^l)ᵀ (n_{l−1}, n_l) and b^l (n_l,) into a flat vector laid out like `_theta`."""
        blocks = self.blocks(flat)
        return [blk[:-1] for blk in blocks], [blk[-1] for blk in blocks]

    def weight_mask(self) -> np.ndarray:
        """1 where `_theta` holds a weight, 0 where it holds a bias (for L2 weight decay)."""
        mask = np.ones(self._theta.size, dtype=self.dtype)
        for blk in self.blocks(mask):
            blk[-1] = 0.0
        return mask

    @property
    def n_layers(self) -> int:
        return len(self.sizes)

    @property
    def layer_names(self) -> list[str]:
        return [str(l) for l in range(2, self.n_layers + 1)]

    @property
    def all_activations(self) -> list[str]:
        """Hidden activations followed by the output activation (one per layer 2..L)."""
        return [*self.activations, self.output]

    @property
    def params(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for l, (WT, b) in enumerate(zip(self._WT, self._b, strict=True), start=2):
            out[f"W{l}"] = WT.T
            out[f"b{l}"] = b
        return out

    def layers(self, dtype: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W^l, b^l)] for l = 2..L, seed shapes; views unless `dtype` asks for a cast copy."""
        if dtype is None or np.dtype(dtype) == self._theta.dtype:
            return [(WT.T, b) for WT, b in zip(self._WT, self._b, strict=True)]
        return [
            (WT.T.astype(dtype), b.astype(dtype)) for WT, b in zip(self._WT, self._b, strict=True)
        ]

    def get_params(self) -> dict[str, np.ndarray]:
        return {k: np.ascontiguousarray(v).copy() for k, v in self.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        current = self.params
        missing = set(current) - set(params)
        extra = set(params) - set(current)
        if missing or extra:
            raise EngineError(
                f"Parameter names do not match the network {self.sizes}: "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}."
            )
        arrays = {k: np.asarray(v) for k, v in params.items()}
        for k, v in arrays.items():
            if v.shape != current[k].shape:
                raise EngineError(
                    f"{k} has shape {v.shape}, but this network needs {current[k].shape} "
                    f"(W^l is (n_l, n_(l-1)))."
                )
        for k, v in arrays.items():
            current[k][...] = v

    def reinitialize(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        init = INITIALIZER_TABLE[self.init]
        for WT, n_in, n_out in zip(self._WT, self.sizes[:-1], self.sizes[1:], strict=True):
            WT[...] = init(rng, n_out, n_in).T
        for b in self._b:
            b[...] = 0.0

    # ---- config ------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "output": self.output,
            "loss": self.loss_name,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, cfg: dict[str, Any], params: dict | None = None) -> Network:
        try:
            sizes = cfg["sizes"]
        except (KeyError, TypeError):
            raise EngineError("Network config needs at least 'sizes'.") from None
        acts = cfg.get("activations", cfg.get("activation", "tanh"))
        net = cls(
            sizes,
            activation=acts if acts else [],
            output=cfg.get("output", "sigmoid"),
            loss=cfg.get("loss", cfg.get("loss_name", "mse")),
            init=cfg.get("init", "xavier"),
            seed=cfg.get("seed", 0),
            dtype=cfg.get("dtype", "float64"),
        )
        if params is not None:
            net.set_params(params)
        return net

    def copy(self) -> Network:
        twin = Network.from_config(self.config())
        twin._theta[...] = self._theta
        return twin

    def astype(self, dtype: str) -> Network:
        """A copy with parameters stored as `dtype`."""
        twin = Network.from_config({**self.config(), "dtype": check_dtype(dtype)})
        twin._theta[...] = self._theta
        return twin

    def __repr__(self) -> str:
        return (
            f"Network({self.sizes}, activation={self.activations}, output={self.output!r}, "
            f"loss={self.loss_name!r}, dtype={self.dtype!r})"
        )

    # ---- computing -----------------------------------------------------------------------------

    def _check_xy(self, X: np.ndarray, Y: np.ndarray | None = None, dtype: Any = None):
        dtype = dtype or self.dtype
        X = np.asarray(X, dtype=dtype)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise EngineError(
                f"X must have shape (N, {self.sizes[0]}) for this network's {self.sizes[0]} "
                f"inputs; got {X.shape}."
            )
        if Y is None:
            return X, None
        Y = np.asarray(Y, dtype=dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1) if self.sizes[-1] == 1 else Y.reshape(1, -1)
        if Y.shape != (X.shape[0], self.sizes[-1]):
            raise EngineError(
                f"Y must have shape ({X.shape[0]}, {self.sizes[-1]}) (one row per sample, one "
                f"column per output unit, one-hot for classes); got {Y.shape}."
            )
        return X, Y

    def forward(self, X: np.ndarray) -> np.ndarray:
        X, _ = self._check_xy(X)
        _, acts = bp.forward(self.layers(), self.all_activations, X)
        return acts[-1]

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        X, Y = self._check_xy(X, Y)
        return LOSS_TABLE[self.loss_name].value(self.forward(X), Y, self.output)

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        X, Y = self._check_xy(X, Y)
        res = bp.backprop(self.layers(), self.all_activations, self.loss_name, X, Y)
        out: dict[str, np.ndarray] = {}
        for l, (dW, db) in enumerate(zip(res["dW"], res["db"], strict=True), start=2):
            out[f"W{l}"] = dW
            out[f"b{l}"] = db
        return out

    def trace(self, x: np.ndarray, y: np.ndarray) -> dict[int, LayerTrace]:
        """Every layer's z, a, δ, ∂J/∂b, ∂J/∂W for ONE sample, in float64 (for teaching views)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        X, Y = self._check_xy(x.reshape(1, -1), y.reshape(1, -1), dtype=np.float64)
        res = bp.backprop(self.layers(np.float64), self.all_activations, self.loss_name, X, Y)
        return {
            l: LayerTrace(
                z=res["z"][i][0],
                a=res["a"][i + 1][0],
                delta=res["delta"][i][0],
                db=res["db"][i],
                dW=res["dW"][i],
            )
            for i, l in enumerate(range(2, self.n_layers + 1))
        }
