"""σ and σ' as the training kernels run them equal the readable forms of activations.py.

The kernels bind each hidden layer's σ and σ' to its whole buffers (augmented: [A^l, 1], the ones
column included) with full-array constants (`kernels.bind_hidden`); this checks those bound calls,
for `fit`'s kernel and `fit_many`'s, at Z = 0 exactly (where relu's and leaky relu's σ' pick a
branch), on both sides of it, near it and far out, in both training dtypes.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.engine import HIDDEN_ACTIVATIONS, Network
from bpstudio.engine.activations import ACTIVATIONS
from bpstudio.engine.kernels import Kernel
from bpstudio.engine.many import _StackKernel

Z_VALUES = [0.0, -0.0, 1e-40, -1e-40, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0,
            3.0, -3.0, 20.0, -20.0, 80.0, -80.0, 0.0, 0.0]  # fmt: skip


@pytest.mark.parametrize("stacked", [False, True], ids=["fit", "fit_many"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_bound_hot_forms_equal_the_readable_ones(activation: str, dtype: str, stacked: bool):
    width, n = 10, 2  # Z is (n, width): the 20 values above
    net = Network([width, width, 2], activation=activation, output="sigmoid", dtype=dtype)
    # [(W^2)ᵀ; b^2] = [I; 0], so the kernel's own forward pass makes Z^2 = X exactly
    net.set_params(
        {"W2": np.eye(width), "b2": np.zeros(width), "W3": np.ones((2, width)), "b3": np.zeros(2)}
    )
    theta = net._theta
    if stacked:
        Theta = np.stack([theta, theta])
        kr = _StackKernel(net.sizes, net.all_activations, "mse", Theta, np.zeros_like(Theta),
                          False, True)  # fmt: skip
    else:
        kr = Kernel(net.sizes, net.all_activations, "mse", net.blocks(theta),
                    net.blocks(np.zeros_like(theta)), False, True)  # fmt: skip
    p = kr.plan(n)
    Z = np.array(Z_VALUES, dtype=dtype).reshape(n, width)
    X = np.ones((n, width + 1), dtype=dtype)
    X[:, :width] = Z
    kr.hidden_forward(X, p)

    act = ACTIVATIONS[activation]
    # σ' is computed from a = σ(z), e.g. a(1 − a) or a + 1: off by a few ulp of 1, not of σ'
    eps = float(np.finfo(dtype).eps)
    tol = {"rtol": 4 * eps, "atol": 4 * eps}
    expected_a = act.fn(Z)
    A_full = p.A_in[0]
    for a in A_full if stacked else [A_full]:
        np.testing.assert_allclose(a[:, :width], expected_a, **tol)
        np.testing.assert_array_equal(a[:, width], 1.0)  # the ones column, for the bias

    # σ'(Z) through the bound call BP2 makes, from A^2 (Δ = 1 reads σ' out)
    p.D[0][...] = 1.0
    if p.bprime[0] is not None:
        p.bprime[0]()
    D_full = p.D[0].base if p.D[0].base is not None else p.D[0]
    expected_d = act.derivative(Z)
    for d in D_full if stacked else [D_full]:
        np.testing.assert_allclose(d[:, :width], expected_d, **tol)
        np.testing.assert_array_equal(d[:, width], 0.0)  # Δ's extra column stays 0
    assert p.A[0].dtype == np.dtype(dtype) and p.D[0].dtype == np.dtype(dtype)
