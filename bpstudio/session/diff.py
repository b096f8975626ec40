"""What differs between the settings of two runs: ``α 0.01 → 0.1; layer 3 tanh → relu``.

:func:`settings_diff` compares two runs' network configs, fit settings and dataset references
and names every difference and nothing else, each as one :class:`Change` (``label``, old, new,
``text``). Layers are numbered as everywhere (layer 1 is the input; hidden activation i belongs
to layer i + 1). Two networks of the same depth are compared layer by layer (width, activation);
of different depths, the sizes and the activation lists as a whole. :func:`diff_text` joins the
changes with "; " (``"same settings"`` when there are none).

Leaves out: the weights and the history (two runs with the same settings can differ in those),
a run's name, status and time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bpstudio.session.run import Run

#: how a fit setting is named in a diff (the notation of the training panel)
FIT_LABELS = {
    "lr": "α",
    "batch_size": "batch",
    "optimizer": "optimiser",
    "weight_decay": "L2",
    "epochs": "epochs",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "beta1": "β1",
    "beta2": "β2",
    "eps": "ε",
    "schedule": "schedule",
    "step_size": "step size",
    "gamma": "γ",
    "patience": "patience",
    "shuffle": "shuffle",
    "seed": "shuffle seed",
    "grad_norm_every": "gradient norms every",
    "dtype": "training dtype",
}
NET_LABELS = {
    "output": "output",
    "loss": "loss",
    "init": "initialiser",
    "seed": "weight seed",
    "dtype": "dtype",
}


@dataclass(frozen=True)
class Change:
    """One difference: what (``label``), from ``old`` to ``new``."""

    key: str  # "fit.lr", "net.activation.3", "net.width.2", "net.sizes", "dataset", …
    label: str
    old: Any
    new: Any

    @property
    def text(self) -> str:
        return f"{self.label} {fmt(self.old)} → {fmt(self.new)}"


def fmt(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "-".join(fmt(v) for v in value)
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _net_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    sa, sb = [int(n) for n in a.get("sizes", [])], [int(n) for n in b.get("sizes", [])]
    aa, ab = list(a.get("activations") or []), list(b.get("activations") or [])
    if len(sa) == len(sb):
        for i, (na, nb) in enumerate(zip(sa, sb, strict=True)):
            if na != nb:
                what = "inputs" if i == 0 else "outputs" if i == len(sa) - 1 else "width"
                out.append(Change(f"net.width.{i + 1}", f"layer {i + 1} {what}", na, nb))
        for i in range(max(len(aa), len(ab))):
            va = aa[i] if i < len(aa) else None
            vb = ab[i] if i < len(ab) else None
            if va != vb:
                out.append(Change(f"net.activation.{i + 2}", f"layer {i + 2}", va, vb))
    else:
        out.append(Change("net.sizes", "layers", sa, sb))
        if aa != ab:
            out.append(Change("net.activations", "activations", ",".join(aa), ",".join(ab)))
    for key, label in NET_LABELS.items():
        if not _same(a.get(key), b.get(key)):
            out.append(Change(f"net.{key}", label, a.get(key), b.get(key)))
    return out


def _fit_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    out = []
    for key in dict.fromkeys([*a, *b]):
        if not _same(a.get(key), b.get(key)):
            out.append(Change(f"fit.{key}", FIT_LABELS.get(key, key), a.get(key), b.get(key)))
    return out


def _dataset_label(run: Run) -> str | None:
    ref = run.dataset
    if ref is None:
        return None
    params = ", ".join(f"{k}={fmt(v)}" for k, v in sorted((ref.params or {}).items()))
    return f"{ref.name}" + (f" ({params})" if params else "")


def settings_diff(a: Run, b: Run) -> list[Change]:
    """Every setting in which run ``b`` differs from run ``a``, from ``a``'s value to ``b``'s:
    the network (per layer when the depth is the same), the fit settings, the data."""
    out = _net_changes(dict(a.net_config), dict(b.net_config))
    out += _fit_changes(a.fit.to_dict(), b.fit.to_dict())
    da, db = a.dataset, b.dataset
    if (da is None) != (db is None) or (
        da is not None and db is not None and (not da.same_data(db) or da.options != db.options)
    ):
        out.append(Change("dataset", "data", _dataset_label(a), _dataset_label(b)))
    return out


def diff_text(a: Run, b: Run, *, empty: str = "same settings") -> str:
    """The changes of :func:`settings_diff` as one line: ``α 0.01 → 0.1; layer 3 tanh → relu``."""
    changes = settings_diff(a, b)
    return "; ".join(c.text for c in changes) if changes else empty


__all__ = ["Change", "diff_text", "settings_diff"]
