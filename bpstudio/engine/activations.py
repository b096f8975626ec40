"""Activation functions σ, each beside its derivative σ', in one table keyed by the UI name.

Every entry carries two forms:

- the readable one, used by `Network.forward/gradients/trace` and the gradient check: `fn(z) -> a`
  and `derivative(z) -> σ'(z)` (new arrays, numerically safe);
- the hot-path one, used by `fit` and `fit_many` (`kernels.py`, `many.py`): `hot(dtype, full)`
  gives `apply_(z, tmp)`, which overwrites `z` with `σ(z)` (`tmp`, if given, is scratch of z's
  shape), and `backprop_(a, delta, tmp)`, which multiplies `delta` in place by σ'(z) written *in
  terms of a = σ(z)*, so the training loop never keeps `z` (e.g. σ'(z) = a(1 − a), sigmoid).

Softmax is not elementwise: its `vjp` applies the Jacobian (BP1's general form for softmax) and it
has no `derivative`; it is allowed as an output only. What is left out: parametrised activations
(leaky slope and ELU α are fixed at 0.01 and 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray] | None
    hot: Callable[..., tuple]  # (dtype, full=None) -> (apply_, backprop_), see "hot-path forms"
    elementwise: bool = True

    def vjp(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """∂J/∂z from ∂J/∂a: `grad_a ⊙ σ'(z)` (elementwise activations)."""
        return grad_a * self.derivative(z)


# ---- readable forms ---------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    # 1/(1+e^{-z}) written as exp(-log(1+e^{-z})): no overflow for very negative z.
    return np.exp(-np.logaddexp(0.0, -z))


def d_sigmoid(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return s * (1.0 - s)


def d_tanh(z: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(z) ** 2


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def d_relu(z: np.ndarray) -> np.ndarray:
    return (z > 0).astype(z.dtype)


def leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def d_leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def elu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def d_elu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))).astype(z.dtype)


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)  # log(1 + e^z) without overflow


def identity(z: np.ndarray) -> np.ndarray:
    return z.copy()


def d_identity(z: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # subtract the row max: exp never overflows
    return e / e.sum(axis=-1, keepdims=True)


# ---- hot-path forms ------------------------------------------------------------------------------
# `hot(dtype, full=None)` returns (apply_, backprop_): apply_(z, tmp=None) overwrites z with σ(z);
# backprop_(a, delta, tmp) multiplies delta in place by σ'(z) computed from a = σ(z). Constants are
# arrays of the training dtype, bound once: a Python float in a ufunc call costs about as much as
# the ufunc itself on tiny arrays (NumPy 2 scalar conversion), and a float64 constant would upcast
# float32 work. They are 0-d, except the operands of `maximum`/`minimum`: NumPy has no fast loop
# for those against a 0-d operand (about 3× slower than against an array of the same shape, on a
# 64 × 65 buffer), so they come from `full(value)`, which the kernels give as a read-only array
# of the buffer's shape (0-d when `full` is None). `tmp` spares leaky relu and ELU a new array.
# The kernels bind each hidden layer's pair to its buffers (`kernels.bind_hidden`).

HotApply = Callable[..., None]  # apply_(z, tmp=None)
HotPair = tuple[HotApply, Callable[[np.ndarray, np.ndarray, np.ndarray], None]]
Full = Callable[[float], np.ndarray] | None


def _c(value: float, dtype: np.dtype) -> np.ndarray:
    return np.array(value, dtype=dtype)


def _full(full: Full, value: float, dtype: np.dtype) -> np.ndarray:
    """A constant for `maximum`/`minimum`: `full(value)` if given, else 0-d."""
    return _c(value, dtype) if full is None else full(value)


def _sigmoid_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    one = _c(1.0, dtype)

    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        np.negative(z, out=z)
        np.exp(z, out=z)  # may overflow to inf for z << 0: 1/(1+inf) = 0 is the right limit
        np.add(z, one, out=z)
        np.divide(one, z, out=z)  # = np.reciprocal(z), bit for bit, and faster (~2× in float64)

    def backprop_(a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> None:
        np.subtract(one, a, out=tmp)  # σ'(z) = a(1 − a)
        np.multiply(tmp, a, out=tmp)
        np.multiply(delta, tmp, out=delta)

    return apply_, backprop_


def _tanh_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    one = _c(1.0, dtype)

    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        np.tanh(z, out=z)

    def backprop_(a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> None:
        np.multiply(a, a, out=tmp)  # σ'(z) = 1 − a²
        np.subtract(one, tmp, out=tmp)
        np.multiply(delta, tmp, out=delta)

    return apply_, backprop_


def _relu_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    zero, zeros = _c(0.0, dtype), _full(full, 0.0, dtype)

    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        np.maximum(z, zeros, out=z)

    def backprop_(a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> None:
        np.greater(a, zero, out=tmp)  # σ'(z) = [a > 0] (`greater` is no faster with `zeros`)
        np.multiply(delta, tmp, out=delta)

    return apply_, backprop_


def _leaky_relu_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    zero, slope, slopes = _c(0.0, dtype), _c(LEAKY_SLOPE, dtype), _full(full, LEAKY_SLOPE, dtype)

    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        np.maximum(z, np.multiply(z, slope, out=tmp), out=z)

    def backprop_(a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> None:
        np.greater(a, zero, out=tmp)  # σ'(z) = 1 if a > 0 else slope: max([a > 0], slope)
        np.maximum(tmp, slopes, out=tmp)
        np.multiply(delta, tmp, out=delta)

    return apply_, backprop_


def _elu_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    one, zeros, ones = _c(1.0, dtype), _full(full, 0.0, dtype), _full(full, 1.0, dtype)

    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        neg = np.minimum(z, zeros, out=tmp)
        np.expm1(neg, out=neg)
        np.maximum(z, zeros, out=z)
        np.add(z, neg, out=z)

    def backprop_(a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> None:
        np.add(a, one, out=tmp)  # σ'(z) = e^z = a + 1 for z ≤ 0, 1 for z > 0: min(a + 1, 1)
        np.minimum(tmp, ones, out=tmp)
        np.multiply(delta, tmp, out=delta)

    return apply_, backprop_


def _softplus_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    zeros = _full(full, 0.0, dtype)

    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        # log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}), logaddexp(0, z)'s own formula: NumPy's
        # logaddexp has no vector loop (about 9× slower on a 64 × 65 buffer); exp and log1p
        # have, so this differs from it by a few ulp
        t = np.abs(z, out=tmp)
        np.negative(t, out=t)
        np.exp(t, out=t)
        np.log1p(t, out=t)
        np.maximum(z, zeros, out=z)
        np.add(z, t, out=z)

    def backprop_(a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> None:
        np.negative(a, out=tmp)  # σ'(z) = sigmoid(z) = 1 − e^{−a}
        np.expm1(tmp, out=tmp)
        np.negative(tmp, out=tmp)
        np.multiply(delta, tmp, out=delta)

    return apply_, backprop_


def _softmax_hot(dtype: np.dtype, full: Full = None) -> HotPair:
    def apply_(z: np.ndarray, tmp: np.ndarray | None = None) -> None:
        z -= z.max(axis=1, keepdims=True)  # subtract the row max: exp never overflows
        np.exp(z, out=z)
        z /= np.add.reduce(z, axis=1, keepdims=True)

    return apply_, None


def _no_hot(dtype: np.dtype, full: Full = None) -> tuple[None, None]:
    return None, None  # identity: nothing to apply, σ' = 1


class _Softmax(Activation):
    def vjp(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        # Softmax's Jacobian is not diagonal: ∂a_i/∂z_j = a_i(δ_ij − a_j), so BP1 becomes
        # δ = a ⊙ (∇_a J − (∇_a J · a)) instead of ∇_a J ⊙ σ'(z).
        return a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, d_sigmoid, _sigmoid_hot),
    "tanh": Activation("tanh", np.tanh, d_tanh, _tanh_hot),
    "relu": Activation("relu", relu, d_relu, _relu_hot),
    "leaky_relu": Activation("leaky_relu", leaky_relu, d_leaky_relu, _leaky_relu_hot),
    "elu": Activation("elu", elu, d_elu, _elu_hot),
    "softplus": Activation("softplus", softplus, sigmoid, _softplus_hot),
    "linear": Activation("linear", identity, d_identity, _no_hot),
    "softmax": _Softmax("softmax", softmax, None, _softmax_hot, elementwise=False),
}

HIDDEN_ACTIVATIONS: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "linear",
)
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "softmax", "linear", "tanh")
