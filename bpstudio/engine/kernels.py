"""The training hot path: BP1–BP4 for one mini-batch through buffers allocated once per fit.

Same equations as `backprop.py` (read that first), rewritten for speed. Where it departs:
- every array is preallocated (one `Plan` per distinct batch length) and written with `out=`;
- activations are applied in place over Z^l, and σ'(Z^l) is computed from A^l, so Z is never kept;
  each hidden layer's σ and σ' are bound once to its buffers (`bind_hidden`, which `fit_many`'s
  kernel uses too) and run over whole contiguous buffers (see "augmented" below);
- `maximum`/`minimum` get operands of the buffer's shape, not 0-d constants (relu's 0, the log
  floor, ELU's 0 and 1, leaky relu's slope): NumPy has no fast loop for a 0-d operand there
  (about 3× slower on a 64 × 65 buffer); add, subtract, multiply and divide keep 0-d constants,
  which are as fast (activations.py, "hot-path forms");
- a scale `s` (learning rate α, or Adam's (1 − β1), divided by the batch size N) is folded into
  Δ^L, so BP3/BP4 write the finished step `N·s·∂J/∂θ` straight into the flat gradient vector and
  BP2 carries the factor down for free (it is linear in Δ);
- weights are stored as (W^l)ᵀ, so the forward GEMM is `A @ WT` and BP2 is `Δ @ WTᵀ` (a BLAS
  transpose flag, no copy); b^l is stored as one more row under (W^l)ᵀ;
- "augmented" mode, for small layers where every NumPy call costs more than its arithmetic: each
  activation buffer carries an extra column of ones, so `[A^{l-1}, 1] @ [(W^l)ᵀ; b^l]` adds the
  bias inside the forward GEMM, and `[A^{l-1}, 1]ᵀ @ Δ^l` yields ∂J/∂W^l (BP4) and, in its last
  row, Σ_rows Δ^l = ∂J/∂b^l (BP3) in one call. The GEMMs see [A^l, 1] and a view of A^l without
  the column; σ and σ' run over the whole buffers, the column included (Δ^l and the scratch get
  one too, Δ's kept at 0), because on the strided view NumPy costs about four times as much on
  these small arrays; the ones column is put back after σ unless σ(1) = 1 (relu, leaky relu,
  ELU). Large layers skip it: the strided buffers it needs cost more there than the two calls
  it saves.
Constants (1, the scale s) are 0-d arrays of the training dtype: cheaper to pass than Python floats.
The hidden layers' forward pass and BP2–BP4 (`KernelBase.hidden_forward`/`backward`) are the same
code in both kernels; `many.py` lists where `fit_many`'s step departs from this one.
Left out: fusing layers, multi-threading (BLAS threads are left as the caller set them).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from bpstudio.engine.activations import ACTIVATIONS
from bpstudio.engine.losses import LOG_FLOOR, LOSS_TABLE

# Augment (fold biases into the GEMMs) when batch × widest layer is at most this many elements.
AUGMENT_MAX_ELEMENTS = 8192


def use_augmented(sizes: list[int], batch: int) -> bool:
    return batch * max(sizes) <= AUGMENT_MAX_ELEMENTS


def delta_mode(output: str, loss: str, rows_sum_to_one: bool) -> str:
    """Which BP1 kernel to use: a matched-pair shortcut when it is exact, else the general form."""
    if loss == "cross_entropy" and output == "softmax" and rows_sum_to_one:
        return "softmax_ce"
    if loss == "cross_entropy" and output == "sigmoid":
        return "sigmoid_ce"
    if loss == "mse" and ACTIVATIONS[output].elementwise:
        return "mse"
    return "general"


def bind_hidden(kr: KernelBase, A: list, D: list, T: list) -> tuple[list, list, list]:
    """σ and σ' of each hidden layer bound to its whole buffers, for both kernels' plans.

    `A`, `D`, `T` are the hidden layers' A^l, Δ^l and scratch buffers, whole: augmented, with
    the trailing column ([A^l, 1]) that the GEMMs see through a view without it. Elementwise work
    runs over the whole contiguous buffer, that column included: on a strided view NumPy costs
    about four times as much on these small arrays (it loops row by row). Δ's extra column must
    start at 0 and stays 0 (σ' only multiplies it). Returns (σ, σ', ones): σ and σ' as calls
    without arguments (None for the identity), and the ones column to put back after σ, or None
    where none is needed (not augmented, or σ(1) = 1: relu, leaky relu, elu, identity).
    The constants `maximum`/`minimum` compare with are read-only arrays of the buffer's shape,
    one per (shape, value) (see activations.py, "hot-path forms").
    """
    consts: dict[tuple, np.ndarray] = {}

    def full_for(shape: tuple[int, ...]):
        def full(value: float) -> np.ndarray:
            c = consts.get((shape, value))
            if c is None:
                c = consts[(shape, value)] = np.full(shape, value, dtype=kr.dtype)
                c.flags.writeable = False
            return c

        return full

    applies, bprimes, ones = [], [], []
    for name, a, d, t, keeps in zip(kr.activations[:-1], A, D, T, kr.keeps_one[:-1], strict=True):
        apply_, backprop_ = ACTIVATIONS[name].hot(kr.dtype, full_for(a.shape))
        applies.append(None if apply_ is None else partial(apply_, a, t))
        bprimes.append(None if backprop_ is None else partial(backprop_, a, d, t))
        ones.append(a[..., -1:] if kr.augment and not keeps else None)
    return applies, bprimes, ones


def layer_tuples(kr: KernelBase, p, X_T: Any) -> None:
    """The per-layer argument tuples a step loops over (see `KernelBase.hidden_forward` and
    `KernelBase.backward`), set on plan `p`, which has `A_in`, `A`, `D` (cut views), `apply`,
    `bprime` and `ones_col`; `X_T(a)` is a's transpose as BP4 wants it (the layout differs)."""
    aug = kr.augment
    last = len(kr.sizes) - 2
    # forward, hidden layers: (input or None for X, weights, bias or None, Z^l/A^l, σ, ones)
    p.hidden = [
        (
            p.A_in[i - 1] if i else None,
            kr.blocks[i] if aug else kr.WT[i],
            None if aug else kr.b[i],
            p.A[i],
            p.apply[i],
            p.ones_col[i],
        )
        for i in range(last)
    ]
    # backward, output first: (input ᵀ or None for Xᵀ, Δ^l, ∂W target, ∂b or None,
    # W^l for BP2 or None at l = 2, Δ^{l-1}, σ'^{l-1} bound to its buffers)
    p.backward = [
        (
            X_T(p.A_in[i - 1]) if i else None,
            p.D[i],
            kr.gblocks[i] if aug else kr.gWT[i],
            None if aug else kr.gb[i],
            kr.W[i] if i else None,
            p.D[i - 1] if i else None,
            p.bprime[i - 1] if i else None,
        )
        for i in range(last, -1, -1)
    ]


class Plan:
    """Buffers for one batch length n, and the per-layer argument tuples a step loops over."""

    def __init__(self, n: int, kr: Kernel) -> None:
        dt, aug = kr.dtype, kr.augment
        self.n = n
        k = kr.k
        widths = kr.sizes[1:-1]
        # Augmented, hidden A^l, Δ^l and T^l get a trailing column ([A^l, 1] for the GEMMs);
        # σ and σ' run over the whole buffers (see `bind_hidden`).
        extra = 1 if aug else 0
        self.A_in = [np.ones((n, w + extra), dtype=dt) for w in widths]
        D_full = [np.zeros((n, w + extra), dtype=dt) for w in widths]
        T_full = [np.empty((n, w + extra), dtype=dt) for w in widths]
        cut = slice(None, -1) if aug else slice(None)
        self.A = [a[:, cut] for a in self.A_in]
        self.D = [d[:, cut] for d in D_full] + [np.empty((n, k), dtype=dt)]
        self.T = [t[:, cut] for t in T_full] + [np.empty((n, k), dtype=dt)]
        self.apply, self.bprime, self.ones_col = bind_hidden(kr, self.A_in, D_full, T_full)
        # the log floor as a full array: `maximum` has no fast loop for a 0-d operand
        self.floor = np.full((n, k), LOG_FLOOR, dtype=dt)
        self.rowmax = np.empty((n, 1), dtype=dt)
        self.ones_row = np.ones((1, n), dtype=dt)  # BP3 as a GEMV: 1ᵀΔ sums the rows
        self.s = np.zeros((), dtype=dt)  # s = fold / n
        self.s_k = np.zeros((), dtype=dt)  # s / k (MSE and sigmoid-CE carry 1/k)
        layer_tuples(kr, self, lambda a: a.T)

    def set_scale(self, fold: float, k: int) -> None:
        self.s[()] = fold / self.n
        self.s_k[()] = fold / (self.n * k)


class KernelBase:
    """What `Kernel` and `many._StackKernel` (the same step over a leading run axis) share: the
    per-layer views of θ and of the gradient, the hot activations, the BP1 mode and constants,
    one plan (buffers) per batch length and the scale folded into Δ^L.

    `blocks`/`gblocks` are the per-layer [(W^l)ᵀ; b^l] views of θ and of the gradient vector
    (see `Network.blocks`), (n_{l-1} + 1, n_l) or, with a run axis, (K, n_{l-1} + 1, n_l).
    """

    plan_type: type  # built as plan_type(n, kernel), one per batch length

    def __init__(
        self,
        sizes: list[int],
        activations: list[str],
        loss: str,
        blocks: list[np.ndarray],
        gblocks: list[np.ndarray],
        rows_sum_to_one: bool,
        augment: bool,
    ) -> None:
        self.sizes = sizes
        self.activations = activations
        self.output = activations[-1]
        self.loss = loss
        self.k = sizes[-1]
        self.augment = augment
        self.dtype = blocks[0].dtype
        self.blocks = blocks
        self.WT = [blk[..., :-1, :] for blk in blocks]
        self.b = [blk[..., -1:, :] for blk in blocks]  # (…, 1, n_l): broadcasts over rows
        self.W = [np.swapaxes(w, -1, -2) for w in self.WT]  # W^l views: BP2 is Δ @ W, no copy
        self.gblocks = gblocks
        self.gWT = [blk[..., :-1, :] for blk in gblocks]
        self.gb = [blk[..., -1:, :] for blk in gblocks]
        hot = [ACTIVATIONS[a].hot(self.dtype) for a in activations]
        self.apply = [h[0] for h in hot]  # None for the identity: saves a call per layer
        self.bprime = [h[1] for h in hot]
        # σ(1) = 1 (relu, leaky relu, elu, identity): an augmented buffer's ones column survives σ
        self.keeps_one = []
        for apply in self.apply:
            probe = np.ones((1, 1), dtype=self.dtype)
            if apply is not None:
                apply(probe)
            self.keeps_one.append(bool(probe[0, 0] == 1.0))
        self.mode = delta_mode(self.output, loss, rows_sum_to_one)
        self.one = np.array(1.0, dtype=self.dtype)
        self.ones_k = np.ones((self.k, 1), dtype=self.dtype)
        # A row sum above this keeps every probability ≥ 1e-12 (the log floor) a normal float.
        self.tiny_sum = 1e13 * float(np.finfo(self.dtype).tiny)
        self.plans: dict[int, Any] = {}
        self.fold: Any = 1.0

    def plan(self, n: int):
        p = self.plans.get(n)
        if p is None:
            p = self.plans[n] = self.plan_type(n, self)
            p.set_scale(self.fold, self.k)
        return p

    def set_fold(self, fold) -> None:
        """The factor folded into Δ^L (α for SGD/momentum; one per run with a run axis); the
        1/N is added per plan."""
        self.fold = fold
        for p in self.plans.values():
            p.set_scale(fold, self.k)

    def hidden_forward(self, X: np.ndarray, p) -> None:
        """Z^l = A^{l-1} (W^l)ᵀ + b^l and A^l = σ(Z^l) for the hidden layers (plan p's buffers)."""
        matmul = np.matmul
        for a_in, Wm, b, z, apply, ones in p.hidden:
            matmul(X if a_in is None else a_in, Wm, out=z)  # Z^l = A^{l-1} (W^l)ᵀ + b^l
            if b is not None:
                np.add(z, b, out=z)
            if apply is not None:
                apply()  # A^l = σ(Z^l), in place over [Z^l, 1] (and σ(1) in the ones column …)
                if ones is not None:
                    ones[...] = 1.0  # … which is put back

    def backward(self, X_T: np.ndarray, p) -> None:
        """BP2–BP4 from Δ^L down (Δ^L already in p.D[-1]); `X_T` is X's transpose."""
        matmul = np.matmul
        for a_in_T, d, gW, gb, W, d_prev, bprime in p.backward:
            # BP4: ∂J/∂W^l = (Δ^l)ᵀ A^{l-1} / N, stored transposed; augmented, the last row
            # is BP3: ∂J/∂b^l = mean of Δ^l (the 1/N is in s)
            matmul(X_T if a_in_T is None else a_in_T, d, out=gW)
            if gb is not None:
                matmul(p.ones_row, d, out=gb)  # BP3: 1ᵀΔ^l (a GEMV beats add.reduce here)
            if W is not None:
                matmul(d, W, out=d_prev)  # BP2: Δ^l = (Δ^{l+1} W^{l+1}) ⊙ σ'(Z^l)
                if bprime is not None:
                    bprime()

    def _output_z(self, a_last: np.ndarray, out: np.ndarray) -> None:
        """Z^L = A^{L-1} (W^L)ᵀ + b^L into `out`."""
        if self.augment:
            np.matmul(a_last, self.blocks[-1], out=out)
        else:
            np.matmul(a_last, self.WT[-1], out=out)
            np.add(out, self.b[-1], out=out)


class Kernel(KernelBase):
    """One mini-batch of forward + backprop writing the (scaled) gradient into `gblocks`.

    In augmented mode the X given to `step` must have a ones column.
    """

    plan_type = Plan

    def step(self, X: np.ndarray, Y: np.ndarray, AL: np.ndarray, p: Plan) -> float:
        """Forward + backward on (X, Y); A^L goes to `AL`; gradients ×(N·s); returns mean loss."""
        self.hidden_forward(X, p)
        a_last = p.A_in[-1] if p.hidden else X
        self._output_z(a_last, AL)

        # BP1 (loss alongside): Δ^L, scaled by s
        n = p.n
        d, t = p.D[-1], p.T[-1]
        mode = self.mode
        if mode == "softmax_ce":
            # softmax. Any per-row shift gives the same result; subtracting the max of the whole
            # batch (one fast reduction) instead of each row's max (a slow short-axis reduction)
            # already keeps exp from overflowing. If a row's values sit so far below the batch
            # max that its sum nearly underflows, Z^L is recomputed and shifted row by row.
            m = p.rowmax
            # (the ufuncs' own reduce: np.max/np.min add a Python wrapper's microsecond)
            np.subtract(AL, np.maximum.reduce(AL, axis=None), out=AL)
            np.exp(AL, out=AL)
            np.matmul(AL, self.ones_k, out=m)  # row sums as a GEMV: faster than add.reduce
            if not np.minimum.reduce(m, axis=None) >= self.tiny_sum:  # rare: recompute Z^L,
                self._output_z(a_last, AL)  # shift by each row's max
                np.max(AL, axis=1, keepdims=True, out=m)
                np.subtract(AL, m, out=AL)
                np.exp(AL, out=AL)
                np.add.reduce(AL, axis=1, keepdims=True, out=m)
            np.divide(AL, m, out=AL)
            np.maximum(AL, p.floor, out=t)  # logs clipped
            np.log(t, out=t)
            loss = -float(np.vdot(Y, t)) / n
            np.subtract(AL, Y, out=d)  # BP1, matched pair: Δ^L = A^L − Y
            np.multiply(d, p.s, out=d)
        else:
            if self.apply[-1] is not None:
                self.apply[-1](AL)
            if mode == "mse":
                # BP1: Δ^L = ∇_A J ⊙ σ'(Z^L) with ∇_A J = (A − Y)/k
                np.subtract(AL, Y, out=d)
                loss = float(np.vdot(d, d)) / (2.0 * n * self.k)
                np.multiply(d, p.s_k, out=d)
                if self.bprime[-1] is not None:
                    self.bprime[-1](AL, d, t)
            elif mode == "sigmoid_ce":
                np.maximum(AL, p.floor, out=t)
                np.log(t, out=t)
                s1 = float(np.vdot(Y, t))
                np.subtract(self.one, AL, out=t)
                np.maximum(t, p.floor, out=t)
                np.log(t, out=t)
                s2 = float(np.add.reduce(t, axis=None)) - float(np.vdot(Y, t))
                loss = -(s1 + s2) / (n * self.k)
                np.subtract(AL, Y, out=d)  # BP1, matched pair: Δ^L = (A^L − Y)/k
                np.multiply(d, p.s_k, out=d)
            else:
                lo = LOSS_TABLE[self.loss]
                loss = lo.value(AL, Y, self.output)
                grad_a = lo.gradient(AL, Y, self.output)
                d[...] = ACTIVATIONS[self.output].vjp(None, AL, grad_a)  # BP1 general form
                np.multiply(d, p.s, out=d)

        self.backward(X.T, p)
        return loss
