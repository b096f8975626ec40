"""``NetworkSpec``: the network a person describes (hidden layers, head, initialiser, seed).

The input and output sizes are not in it: they come from the data, so one spec fits any dataset
(``sizes(n_inputs, n_outputs)``, ``build(n_inputs, n_outputs)``). JSON-safe (``to_dict`` /
``from_dict``, tolerant of QSettings round trips); the network editor edits one, the session and
project files store one. A built network's full description is ``Network.config()`` (sizes
included); ``NetworkSpec.from_config`` goes back. Leaves out: per-layer initialisers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bpstudio.engine.network import Network


@dataclass
class NetworkSpec:
    """What the editor describes; input/output sizes are not in it (they come from the data)."""

    hidden: list[int] = field(default_factory=lambda: [8, 8])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    output: str = "softmax"
    loss: str = "cross_entropy"
    init: str = "xavier_uniform"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetworkSpec:
        """Tolerant of QSettings round-trips (numbers as strings, a single entry as a scalar)."""
        default = cls()

        def _list(v: Any) -> list:
            if v is None:
                return []
            return [v] if isinstance(v, (str, int, float)) else list(v)

        hidden = [int(h) for h in _list(d.get("hidden", default.hidden))]
        acts = [str(a) for a in _list(d.get("activations", default.activations))]
        acts = (acts + [acts[-1] if acts else "tanh"] * len(hidden))[: len(hidden)]
        return cls(
            hidden=hidden,
            activations=acts,
            output=str(d.get("output", default.output)),
            loss=str(d.get("loss", default.loss)),
            init=str(d.get("init", default.init)),
            seed=int(d.get("seed", default.seed)),
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NetworkSpec:
        """The spec of a built network (``Network.config()``): its hidden part and head."""
        sizes = [int(n) for n in config["sizes"]]
        return cls(
            hidden=sizes[1:-1],
            activations=[str(a) for a in config.get("activations") or []],
            output=str(config.get("output", "sigmoid")),
            loss=str(config.get("loss", "mse")),
            init=str(config.get("init", "xavier")),
            seed=int(config.get("seed", 0)),
        )

    def sizes(self, n_inputs: int, n_outputs: int) -> list[int]:
        return [int(n_inputs), *self.hidden, int(n_outputs)]

    def config(self, n_inputs: int, n_outputs: int, dtype: str = "float64") -> dict[str, Any]:
        """What ``Network.config()`` of the built network says (without building it)."""
        return self.build(n_inputs, n_outputs, dtype).config()

    def build(self, n_inputs: int, n_outputs: int, dtype: str = "float64") -> Network:
        return Network(
            self.sizes(n_inputs, n_outputs),
            activation=list(self.activations),
            output=self.output,
            loss=self.loss,
            init=self.init,
            seed=self.seed,
            dtype=dtype,
        )


def describe_sizes(sizes: list[int]) -> str:
    """``2-8-8-2``: the layer sizes n_1 … n_L as the CLI and the Runs table show them."""
    return "-".join(str(int(n)) for n in sizes)


__all__ = ["NetworkSpec", "describe_sizes"]
