"""The inspector's words and formulas: each stage of `engine.stages.walk` as Qt rich text.

Mathematics is written in the seed's notation with real superscripts and subscripts (Qt rich text
`<sup>`/`<sub>`, italic symbols, ⊙, Σ, fractions as ᵃ⁄_b), for the vector equation of the stage and
for ONE chosen entry with this sample's numbers substituted, e.g.
`δ⁴₁ = ∂J/∂a⁴₁ · σ'(z⁴₁) = (−0.007) · 0.0069 = −4.8·10⁻⁵`. Numbers come from the `SampleWalk`;
nothing here computes backprop (the products shown are the engine's values, which the tests check
equal the product of the factors). Also: the "where does this gradient come from?" text with one
link per factor (`stage:<index>`), and the mini-batch table. Plain-text names for tooltips are in
`plain_name`. Indices are 0-based in the API and printed from 1.
"""

from __future__ import annotations

import math
import re

import numpy as np

from bpstudio.engine.stages import (
    BP1,
    BP2,
    BP34,
    FORWARD,
    LOSS,
    UPDATE,
    MiniBatchGradient,
    Origin,
    SampleWalk,
    Stage,
    gradient_origin,
)

MAX_TERMS = 3  # terms of a sum written out before "+ …"
_SUP = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


def idx_text(*idx: int) -> str:
    """1-based index string: "21", or "12,3" when an index has two digits (as the seed would)."""
    parts = [str(i + 1) for i in idx]
    return ("," if any(len(p) > 1 for p in parts) else "").join(parts)


def _comma(j: int) -> str:
    """The separator between a letter index and unit j (0-based): "," once j + 1 has two digits."""
    return "," if j + 1 >= 10 else ""


def sym(s: str, layer: int | str | None = None, *idx: int, raw_sub: str = "") -> str:
    """`<i>s</i><sup>l</sup><sub>jk</sub>`: a symbol in the seed's notation (idx 0-based)."""
    out = f"<i>{s}</i>"
    if layer is not None:
        out += f"<sup>{layer}</sup>"
    if idx or raw_sub:
        out += f"<sub>{raw_sub or idx_text(*idx)}</sub>"
    return out


def plain_name(s: str, layer: int, *idx: int) -> str:
    """Unicode-only name for tooltips and plain text: plain_name("w", 3, 1, 0) → "w³₂₁"."""
    return f"{s}{str(layer).translate(_SUP)}{idx_text(*idx).translate(_SUB)}"


def num(v: float, digits: int = 4) -> str:
    """A number as rich text: 0.5312, −1.27, 3.1·10<sup>−5</sup>."""
    v = float(v)
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-3 <= a < 1e5:
        text = f"{v:.{digits}g}"
        if "e" in text:
            text = f"{v:.0f}"
    else:
        m, e = f"{v:.{max(1, digits - 2)}e}".split("e")
        m = m.rstrip("0").rstrip(".")
        text = f"10<sup>{int(e)}</sup>" if m == "1" else f"{m}·10<sup>{int(e)}</sup>"
    return text.replace("-", "−")


def par(v: float) -> str:
    """A number as a factor: negative ones and powers of ten in parentheses."""
    text = num(v)
    return f"({text})" if float(v) < 0 or "10<sup>" in text else text


def frac(top: str, bottom: str) -> str:
    return f"<sup>{top}</sup>⁄<sub>{bottom}</sub>"


def d_(top: str, bottom: str) -> str:
    """A partial derivative ∂top/∂bottom, inline."""
    return f"∂{top}/∂{bottom}"


SIGMA_PRIME = {
    "sigmoid": "σ′(<i>z</i>) = <i>a</i>(1 − <i>a</i>)",
    "tanh": "σ′(<i>z</i>) = 1 − <i>a</i><sup>2</sup>",
    "relu": "σ′(<i>z</i>) = 1 if <i>z</i> &gt; 0, else 0",
    "leaky_relu": "σ′(<i>z</i>) = 1 if <i>z</i> &gt; 0, else 0.01",
    "elu": "σ′(<i>z</i>) = 1 if <i>z</i> &gt; 0, else <i>e</i><sup><i>z</i></sup>",
    "softplus": "σ′(<i>z</i>) = 1/(1 + <i>e</i><sup>−<i>z</i></sup>)",
    "linear": "σ′(<i>z</i>) = 1",
}


def _sum_terms(ws: np.ndarray, xs: np.ndarray) -> str:
    """The terms w·x of a sum with numbers: all of them when there are few, else the
    MAX_TERMS largest |w·x| (in index order) and how many there are."""
    n = len(ws)
    if n <= MAX_TERMS + 1:
        return " + ".join(f"{par(ws[i])}·{par(xs[i])}" for i in range(n))
    top = sorted(np.argsort(-np.abs(ws * xs), kind="stable")[:MAX_TERMS])
    body = " + ".join(f"{par(ws[i])}·{par(xs[i])}" for i in top)
    return f"{body} + … <span style='color:gray'>(the {MAX_TERMS} largest of {n} terms)</span>"


class Focus:
    """The entry a stage's numbers are written for: unit j of the stage's layer, input k."""

    def __init__(self, layer: int = 2, j: int = 0, k: int = 0) -> None:
        self.layer, self.j, self.k = layer, j, k

    def clamp(self, w: SampleWalk, layer: int) -> tuple[int, int]:
        j = min(max(self.j, 0), w.sizes[layer - 1] - 1)
        k = min(max(self.k, 0), w.sizes[layer - 2] - 1) if layer >= 2 else 0
        return j, k


def stage_parts(w: SampleWalk, stage: Stage, focus: Focus) -> tuple[str, str, str, str]:
    """(heading, vector equation, this sample's entry with numbers, a note), all rich text."""
    L = w.L
    kind, l = stage.kind, stage.layer
    if kind == FORWARD:
        return _forward(w, l, *focus.clamp(w, l))
    if kind == LOSS:
        return _loss(w, focus.clamp(w, L)[0])
    if kind == BP1:
        return _bp1(w, focus.clamp(w, L)[0])
    if kind == BP2:
        return _bp2(w, l, focus.clamp(w, l)[0])
    if kind == BP34:
        return _bp34(w, l, *focus.clamp(w, l))
    if kind == UPDATE:
        layer = min(max(focus.layer, 2), L)
        return _update(w, layer, *focus.clamp(w, layer))
    raise ValueError(kind)


def _forward(w: SampleWalk, l: int, j: int, k: int) -> tuple[str, str, str, str]:
    act = w.activation[l]
    a_prev = "x" if l == 2 else None
    vec = (
        f"{sym('z', l)} = {sym('W', l)}{sym('a', l - 1)} + {sym('b', l)},&nbsp;&nbsp; "
        f"{sym('a', l)} = σ({sym('z', l)})&nbsp;&nbsp; <span style='color:gray'>(σ = {act})</span>"
    )
    terms = _sum_terms(w.W[l][j], w.a[l - 1])
    z = w.z[l][j]
    w_jk = sym("w", l, raw_sub=f"{j + 1}{_comma(j)}<i>k</i>")
    ent = (
        f"{sym('z', l, j)} = Σ<sub><i>k</i></sub> {w_jk}"
        f"{sym('a', l - 1, raw_sub='<i>k</i>')} + {sym('b', l, j)} = {terms} + {par(w.b[l][j])}"
        f" = <b>{num(z)}</b><br>"
    )
    if act == "softmax":
        ent += (
            f"{sym('a', l, j)} = <i>e</i><sup>{sym('z', l, j)}</sup> / Σ<sub><i>i</i></sub> "
            f"<i>e</i><sup>{sym('z', l, raw_sub='<i>i</i>')}</sup> = <b>{num(w.a[l][j])}</b>"
        )
    else:
        ent += f"{sym('a', l, j)} = {act}({num(z)}) = <b>{num(w.a[l][j])}</b>"
    src = "the input x" if a_prev else f"{sym('a', l - 1)} (layer {l - 1})"
    note = (
        f"Reads {src} and {sym('W', l)}, {sym('b', l)}; writes {sym('z', l)} and {sym('a', l)}. "
        f"Values flow left to right."
    )
    return f"Forward pass, layer {l}", vec, ent, note


def _loss(w: SampleWalk, j: int) -> tuple[str, str, str, str]:
    L, k = w.L, w.sizes[-1]
    out = w.activation[L]
    aj, yj = w.a[L][j], w.y[j]
    if w.loss_name == "mse":
        vec = (
            f"<i>J</i> = {frac('1', '2<i>k</i>')} Σ<sub><i>j</i></sub> "
            f"({sym('a', L, raw_sub='<i>j</i>')} − <i>y</i><sub><i>j</i></sub>)<sup>2</sup>"
            f",&nbsp;&nbsp; {d_('<i>J</i>', sym('a', L, raw_sub='<i>j</i>'))} = "
            f"({sym('a', L, raw_sub='<i>j</i>')} − <i>y</i><sub><i>j</i></sub>)/<i>k</i>"
        )
        ent = (
            f"<i>J</i> = <b>{num(w.J)}</b> &nbsp;(k = {k})<br>"
            f"{d_('<i>J</i>', sym('a', L, j))} = ({num(aj)} − {num(yj)})/{k} = "
            f"<b>{num(w.grad_a[j])}</b>"
        )
    elif out == "softmax":
        vec = (
            f"<i>J</i> = −Σ<sub><i>j</i></sub> <i>y</i><sub><i>j</i></sub> ln "
            f"{sym('a', L, raw_sub='<i>j</i>')},&nbsp;&nbsp; "
            f"{d_('<i>J</i>', sym('a', L, raw_sub='<i>j</i>'))} = −<i>y</i><sub><i>j</i></sub> / "
            f"{sym('a', L, raw_sub='<i>j</i>')}"
        )
        ent = (
            f"<i>J</i> = <b>{num(w.J)}</b><br>{d_('<i>J</i>', sym('a', L, j))} = {num(-yj)} / "
            f"{num(aj)} = <b>{num(w.grad_a[j])}</b>"
        )
    else:
        vec = (
            f"<i>J</i> = −{frac('1', '<i>k</i>')} Σ<sub><i>j</i></sub> [<i>y</i><sub><i>j</i></sub>"
            f" ln <i>a</i><sub><i>j</i></sub> + (1 − <i>y</i><sub><i>j</i></sub>) ln(1 − "
            f"<i>a</i><sub><i>j</i></sub>)]"
        )
        ent = (
            f"<i>J</i> = <b>{num(w.J)}</b><br>{d_('<i>J</i>', sym('a', L, j))} = "
            f"(−{num(yj)}/{num(aj)} + (1 − {num(yj)})/(1 − {num(aj)}))/{k} = "
            f"<b>{num(w.grad_a[j])}</b>"
        )
    ys = ", ".join(num(v) for v in w.y[:8]) + (", …" if w.y.size > 8 else "")
    note = (
        f"The target is y = ({ys}). The loss is where the backward pass starts: "
        f"∇<sub><i>a</i></sub><i>J</i> says how each output should move."
    )
    return "Loss J of this sample", vec, ent, note


def _bp1(w: SampleWalk, j: int) -> tuple[str, str, str, str]:
    L = w.L
    out = w.activation[L]
    dL, zL = sym("δ", L, j), sym("z", L, j)
    if out == "softmax":
        dadz = d_(sym("a", raw_sub="<i>i</i>"), sym("z", raw_sub="<i>j</i>"))
        vec = (
            f"{sym('δ', L)} = ({d_(sym('a', L), sym('z', L))})<sup>T</sup> "
            f"∇<sub><i>a</i></sub><i>J</i>,&nbsp; with {dadz} = <i>a</i><sub><i>i</i></sub>"
            f"([<i>i</i> = <i>j</i>] − <i>a</i><sub><i>j</i></sub>)"
        )
        a, g = w.a[L], w.grad_a
        ent = (
            f"{dL} = Σ<sub><i>i</i></sub> {d_(sym('a', L, raw_sub='<i>i</i>'), zL)} · "
            f"{d_('<i>J</i>', sym('a', L, raw_sub='<i>i</i>'))} = {sym('a', L, j)}"
            f"({d_('<i>J</i>', sym('a', L, j))} − Σ<sub><i>i</i></sub> "
            f"<i>a</i><sub><i>i</i></sub>{d_('<i>J</i>', '<i>a</i><sub><i>i</i></sub>')}) = "
            f"{num(a[j])}·({num(g[j])} − {par(float(a @ g))}) = <b>{num(w.delta[L][j])}</b>"
        )
        note = (
            "Softmax's σ′ is a full k×k Jacobian (every output depends on every z), so BP1's "
            "elementwise form ∇J ⊙ σ′(z) does not hold here."
        )
        if w.shortcut is not None:
            ent += (
                f"<br>With cross-entropy this simplifies to {dL} = {sym('a', L, j)} − "
                f"<i>y</i><sub>{j + 1}</sub> = {num(w.a[L][j])} − {num(w.y[j])} = "
                f"<b>{num(w.shortcut[j])}</b>"
            )
        return f"BP1: the output error {sym('δ', L)}", vec, ent, note
    vec = (
        f"{sym('δ', L)} = ∇<sub><i>a</i></sub><i>J</i> ⊙ σ′({sym('z', L)})"
        f"&nbsp;&nbsp;<span style='color:gray'>({SIGMA_PRIME.get(out, '')})</span>"
    )
    ent = (
        f"{dL} = {d_('<i>J</i>', sym('a', L, j))} · σ′({zL}) = {par(w.grad_a[j])} · "
        f"{par(w.sigma_prime[L][j])} = <b>{num(w.delta[L][j])}</b>"
    )
    note = (
        f"{sym('δ', L, j)} = ∂<i>J</i>/∂{sym('z', L, j)}: how much the loss changes when "
        f"{sym('z', L, j)} moves."
    )
    if w.shortcut is not None:
        k = w.sizes[-1]
        ent += (
            f"<br>With cross-entropy σ′ cancels: {dL} = ({sym('a', L, j)} − "
            f"<i>y</i><sub>{j + 1}</sub>)/{k} = <b>{num(w.shortcut[j])}</b>"
        )
    return f"BP1: the output error {sym('δ', L)}", vec, ent, note


def _bp2(w: SampleWalk, l: int, j: int) -> tuple[str, str, str, str]:
    act = w.activation[l]
    vec = (
        f"{sym('δ', l)} = (({sym('W', l + 1)})<sup>T</sup> {sym('δ', l + 1)}) ⊙ "
        f"σ′({sym('z', l)})&nbsp;&nbsp;<span style='color:gray'>({SIGMA_PRIME.get(act, '')})</span>"
    )
    col = w.W[l + 1][:, j]
    terms = _sum_terms(col, w.delta[l + 1])
    w_kj = sym("w", l + 1, raw_sub=f"<i>k</i>{_comma(j)}{j + 1}")
    ent = (
        f"{sym('δ', l, j)} = (Σ<sub><i>k</i></sub> "
        f"{w_kj}{sym('δ', l + 1, raw_sub='<i>k</i>')}) · "
        f"σ′({sym('z', l, j)}) = ({terms}) · {par(w.sigma_prime[l][j])}<br>"
        f"&nbsp;&nbsp;&nbsp;&nbsp; = {par(w.backsum[l][j])} · {par(w.sigma_prime[l][j])} = "
        f"<b>{num(w.delta[l][j])}</b>"
    )
    note = (
        f"The error of layer {l + 1} flows back through the same weights (transposed: column "
        f"{j + 1} of {sym('W', l + 1)}), scaled by how steep σ is at {sym('z', l, j)}. "
        f"Values flow right to left."
    )
    return f"BP2: the error of layer {l}", vec, ent, note


def _bp34(w: SampleWalk, l: int, j: int, k: int) -> tuple[str, str, str, str]:
    vec = (
        f"{d_('<i>J</i>', sym('b', l))} = {sym('δ', l)} <b>(BP3)</b>,&nbsp;&nbsp; "
        f"{d_('<i>J</i>', sym('W', l))} = {sym('δ', l)} ({sym('a', l - 1)})<sup>T</sup> "
        f"<b>(BP4)</b>"
    )
    ent = (
        f"{d_('<i>J</i>', sym('b', l, j))} = {sym('δ', l, j)} = <b>{num(w.db[l][j])}</b><br>"
        f"{d_('<i>J</i>', sym('w', l, j, k))} = {sym('a', l - 1, k)} · {sym('δ', l, j)} = "
        f"{par(w.a[l - 1][k])} · {par(w.delta[l][j])} = <b>{num(w.dW[l][j, k])}</b>"
    )
    note = (
        "Click any cell of ∂J/∂W below to see where its two factors come from. "
        "Training averages these over the mini-batch (see “This mini-batch”)."
    )
    return f"BP3 + BP4: the gradients of layer {l}", vec, ent, note


def _update(w: SampleWalk, l: int, j: int, k: int) -> tuple[str, str, str, str]:
    u = w.update
    name = f"W{l}"
    wv = w.W[l][j, k]
    g = u.grad[name][j, k]
    dJ = w.dW[l][j, k]
    ws = sym("w", l, j, k)
    gs = "<i>g</i>"
    lines = []
    if u.weight_decay:
        lines.append(
            f"{gs} = {d_('<i>J</i>', ws)} + λ{ws} = {par(dJ)} + {num(u.weight_decay)}·{par(wv)}"
            f" = {num(g)} &nbsp;<span style='color:gray'>(L2 on weights, not biases)</span>"
        )
    else:
        lines.append(f"{gs} = {d_('<i>J</i>', ws)} = {num(g)}")
    new = u.new[name][j, k]
    a = num(u.lr)
    if u.optimizer == "sgd":
        vec = f"θ ← θ − α {gs}"
        lines.append(f"{ws} ← {ws} − α{gs} = {num(wv)} − {a}·{par(g)} = <b>{num(new)}</b>")
    elif u.optimizer == "momentum":
        v = u.state["v"][name][j, k]
        mu = u.momentum
        v_prev = u.state_before["v"][name][j, k]
        lines.append(
            f"<i>v</i> ← μ<i>v</i> − α{gs} = {num(mu)}·{par(v_prev)} − {a}·{par(g)} = {num(v)}"
        )
        if u.nesterov:
            vec = "<i>v</i> ← μ<i>v</i> − α<i>g</i>,&nbsp; θ ← θ + μ<i>v</i> − α<i>g</i> (Nesterov)"
            lines.append(
                f"{ws} ← {ws} + μ<i>v</i> − α{gs} = {num(wv)} + {num(mu)}·{par(v)} − "
                f"{a}·{par(g)} = <b>{num(new)}</b>"
            )
        else:
            vec = "<i>v</i> ← μ<i>v</i> − α<i>g</i>,&nbsp; θ ← θ + <i>v</i> (momentum)"
            lines.append(f"{ws} ← {ws} + <i>v</i> = {num(wv)} + {par(v)} = <b>{num(new)}</b>")
    else:
        m = u.state["m"][name][j, k]
        v = u.state["v"][name][j, k]
        b1, b2, t = u.beta1, u.beta2, u.t
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        vec = (
            "<i>m</i> ← β<sub>1</sub><i>m</i> + (1 − β<sub>1</sub>)<i>g</i>,&nbsp; "
            "<i>v</i> ← β<sub>2</sub><i>v</i> + (1 − β<sub>2</sub>)<i>g</i><sup>2</sup>,&nbsp; "
            "θ ← θ − α m̂/(√v̂ + ε) (Adam)"
        )
        m_prev = u.state_before["m"][name][j, k]  # 0 for a fresh optimiser
        v_prev = u.state_before["v"][name][j, k]
        lines.append(f"<i>m</i> ← {num(b1)}·{par(m_prev)} + {num(1 - b1)}·{par(g)} = {num(m)}")
        lines.append(
            f"<i>v</i> ← {num(b2)}·{par(v_prev)} + {num(1 - b2)}·{par(g)}<sup>2</sup> = {num(v)}"
        )
        lines.append(
            f"bias correction (t = {t}): m̂ = <i>m</i>/(1 − β<sub>1</sub><sup>{t}</sup>) = "
            f"{num(m_hat)},&nbsp; v̂ = <i>v</i>/(1 − β<sub>2</sub><sup>{t}</sup>) = {num(v_hat)}"
        )
        lines.append(
            f"{ws} ← {ws} − α m̂/(√v̂ + ε) = {num(wv)} − {a}·{par(m_hat)}/"
            f"({num(math.sqrt(max(v_hat, 0.0)))} + {num(u.eps)}) = <b>{num(new)}</b>"
        )
    lines.append(
        f"Loss of this sample: <i>J</i> = {num(u.loss_before)} → <b>{num(u.loss_after)}</b> "
        f"after the step on every weight and bias"
    )
    fresh = all(not np.any(a) for per in u.state_before.values() for a in per.values())
    if u.source:
        state = (
            f"from the live {u.optimizer} state of {u.source} (t = {u.t}: the step training "
            f"takes next)"
        )
    elif fresh:
        state = f"from a fresh {u.optimizer} state (v, m start at 0, t = {u.t})"
    else:
        state = f"from the given {u.optimizer} state at step t = {u.t}"
    note = (
        f"Training takes this step with ∂J/∂θ averaged over a mini-batch (see “This "
        f"mini-batch”); here it uses this sample alone, {state}. Pick the layer and the "
        f"weight with the spin boxes."
    )
    return f"Update ({u.optimizer})", vec, "<br>".join(lines), note


# ---- where does this gradient come from? -------------------------------------------------------


def _factor_html(symbol: str) -> str:
    """Plain engine notation "a^2_1", "σ'(z^3_2)", "Σ_k w^4_k2 δ^4_k" → rich text."""

    def repl(m: re.Match) -> str:
        s, layer, idx = m.group(1), m.group(2), m.group(3)
        idx = re.sub(r"([a-z])", r"<i>\1</i>", idx)
        return f"<i>{s}</i><sup>{layer}</sup><sub>{idx}</sub>"

    text = re.sub(r"([a-zδ])\^(\d+)_([0-9a-z,]+)", repl, symbol)
    text = text.replace("Σ_k", "Σ<sub><i>k</i></sub>").replace("Σ_i", "Σ<sub><i>i</i></sub>")
    return text.replace("σ'", "σ′")


def origin_html(w: SampleWalk, origin: Origin) -> str:
    """The target as the product of its factors, each a link to the stage that produced it."""
    facs = []
    for f in origin.factors:
        s = _factor_html(f.symbol)
        facs.append(f"<a href='stage:{f.stage}'>{s}</a>" if f.stage is not None else s)
    values = " · ".join(par(f.value) for f in origin.factors)
    head = (
        f"<p style='font-size:13pt'>{_factor_html(origin.target)} = {' · '.join(facs)} = "
        f"{values} = <b>{num(origin.value)}</b> &nbsp;({origin.equation})</p>"
    )
    rows = []
    for f in origin.factors:
        where = (
            "the input: this sample's features"
            if f.stage is None
            else f"<a href='stage:{f.stage}'>{w.stages[f.stage].title}</a>"
        )
        rows.append(f"<li>{_factor_html(f.symbol)} = {num(f.value)} — from {where}</li>")
    chain = _chain(w, origin)
    return head + "<ul>" + "".join(rows) + "</ul>" + chain


def _chain(w: SampleWalk, origin: Origin) -> str:
    """Follow the δ factor back to the loss: δ^l ← δ^{l+1} ← … ← ∂J/∂a^L."""

    m = re.search(r"δ\^(\d+)_(\d+)", origin.target) or next(
        (re.search(r"δ\^(\d+)_(\d+)", f.symbol) for f in origin.factors if "δ" in f.symbol),
        None,
    )
    if m is None:
        return ""
    layer = int(m.group(1))
    steps = []
    for l in range(layer, w.L + 1):
        st = w.delta_stage(l)
        steps.append(f"<a href='stage:{st}'>{w.stages[st].title}</a>")
    steps.append(f"<a href='stage:{w.stage_index(LOSS)}'>Loss J</a>")
    return "<p>Back to the loss: " + " ← ".join(steps) + "</p>"


def origin_for(w: SampleWalk, kind: str, layer: int, j: int, k: int = 0) -> str:
    return origin_html(w, gradient_origin(w, kind, layer, j, k))


def minibatch_html(mb: MiniBatchGradient, rows: np.ndarray, limit: int = 12) -> str:
    """Each sample's ∂J/∂w and their mean, as an HTML table (first `limit` rows)."""
    is_w = mb.a_prev is not None
    layer, j, k = mb.layer, mb.j, mb.k
    a_head = sym("a", layer - 1, k)
    d_head = sym("δ", layer, j)
    head = (
        "<tr><th>row</th>"
        + (f"<th>{a_head}</th>" if is_w else "")
        + f"<th>{d_head}</th><th>{_factor_html(mb.name)}</th></tr>"
    )
    body = []
    for r in range(min(limit, len(rows))):
        cells = f"<td>{int(rows[r]) + 1}</td>"
        if is_w:
            cells += f"<td>{num(mb.a_prev[r])}</td>"
        cells += f"<td>{num(mb.delta[r])}</td><td>{num(mb.per_sample[r])}</td>"
        body.append(f"<tr>{cells}</tr>")
    more = (
        f"<tr><td colspan=4>… {len(rows) - limit} more rows</td></tr>" if len(rows) > limit else ""
    )
    name = _factor_html(mb.name)
    return (
        f"<p>{name} for each of the {len(rows)} samples of this mini-batch "
        f"({a_head + ' · ' + d_head if is_w else d_head} per sample):</p>"
        f"<table cellspacing=0 cellpadding=3 border=1>{head}{''.join(body)}"
        f"{more}</table><p>Mean over the batch: <b>{num(mb.mean)}</b>: the ∂J/∂θ training "
        f"uses for this step (BP3/BP4 in batch form divide by the batch size).</p>"
    )


__all__ = [
    "Focus",
    "frac",
    "minibatch_html",
    "num",
    "origin_for",
    "origin_html",
    "plain_name",
    "stage_parts",
    "sym",
]
