"""The plane a decision surface is drawn on: two view axes (u, v) mapped into the input space.

For two inputs the plane is the input space itself. For more, a :class:`Plane` is a 2-D affine
slice of the (standardised) input space the model sees, ``x = origin + u·axes[0] + v·axes[1]``:

- :func:`feature_plane` — two chosen features vary, every other input is held at its training
  mean (``origin``); points are drawn at their two feature values.
- :func:`pca_plane` — the first two principal components of the training inputs (NumPy SVD of the
  centred ``X_train``); ``origin`` is the mean, ``axes`` are orthonormal, and a point is drawn at
  its scores ``(x − mean)·axes``. The share of variance each component explains is kept for the
  axis labels.

Pure NumPy (no Qt), so the tests check the algebra directly. Leaves out: other projections (t-SNE,
LDA) and planes through a chosen sample rather than the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plane:
    """``to_inputs(UV) = origin + UV @ axes``; ``project(X) = (X − origin) @ axesᵀ``."""

    kind: str  # "inputs" (2-D data) | "features" | "pca"
    origin: np.ndarray  # (n,)
    axes: np.ndarray  # (2, n), orthonormal rows
    labels: tuple[str, str]  # axis titles
    features: tuple[int, int] | None = None  # the two varied inputs (kind "features"/"inputs")
    explained: tuple[float, float] | None = None  # share of variance of PC1, PC2 (kind "pca")

    def to_inputs(self, UV: np.ndarray) -> np.ndarray:
        """Points of the plane (rows of u, v) as rows of the model's inputs."""
        return self.origin + np.asarray(UV, dtype=np.float64) @ self.axes

    def project(self, X: np.ndarray) -> np.ndarray:
        """Rows of inputs → their (u, v) on the plane (orthogonal projection)."""
        return (np.asarray(X, dtype=np.float64) - self.origin) @ self.axes.T

    @property
    def note(self) -> str:
        """One line saying what the plane is, for the plot's tooltip / subtitle."""
        if self.kind == "pca":
            assert self.explained is not None
            share = 100 * (self.explained[0] + self.explained[1])
            return (
                f"Plane of the first two principal components through the mean "
                f"({share:.0f} % of the variance); points are projected onto it"
            )
        if self.kind == "features":
            return "Two features vary; every other input is held at its training mean"
        return ""


def _names(names: list[str] | None, n: int) -> list[str]:
    names = list(names or [])
    return names if len(names) == n else [f"x{i + 1}" for i in range(n)]


def input_plane(n_inputs: int = 2, names: list[str] | None = None) -> Plane:
    """The input space itself (2 inputs)."""
    nm = _names(names, n_inputs)
    return Plane("inputs", np.zeros(2), np.eye(2), (nm[0], nm[1]), (0, 1))


def feature_plane(X_train: np.ndarray, i: int, j: int, names: list[str] | None = None) -> Plane:
    """Features ``i`` and ``j`` vary; the others sit at their mean over ``X_train``."""
    X = np.asarray(X_train, dtype=np.float64)
    n = X.shape[1]
    if not (0 <= i < n and 0 <= j < n) or i == j:
        raise ValueError(f"choose two different features among 0…{n - 1}, not {i} and {j}")
    origin = np.nanmean(X, axis=0) if len(X) else np.zeros(n)
    origin = np.nan_to_num(origin)
    origin[[i, j]] = 0.0
    axes = np.zeros((2, n))
    axes[0, i] = axes[1, j] = 1.0
    nm = _names(names, n)
    return Plane("features", origin, axes, (nm[i], nm[j]), (i, j))


def pca_plane(X_train: np.ndarray) -> Plane:
    """The first two principal components of ``X_train`` (SVD of the centred rows)."""
    X = np.nan_to_num(np.asarray(X_train, dtype=np.float64))
    n = X.shape[1]
    mean = X.mean(axis=0) if len(X) else np.zeros(n)
    if len(X) < 2:
        axes = np.eye(2, n)
        explained = (0.0, 0.0)
    else:
        _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
        axes = np.zeros((2, n))
        k = min(2, Vt.shape[0])
        axes[:k] = Vt[:k]
        if k < 2:  # one column of data: any unit vector orthogonal to PC1
            axes[1] = np.eye(n)[np.argmin(np.abs(axes[0]))]
        # a deterministic sign: the largest entry of each component is positive
        for r in range(2):
            if axes[r, np.argmax(np.abs(axes[r]))] < 0:
                axes[r] = -axes[r]
        var = s**2
        total = float(var.sum()) or 1.0
        explained = (
            float(var[0]) / total,
            float(var[1]) / total if len(var) > 1 else 0.0,
        )
    labels = (f"PC1 ({100 * explained[0]:.0f} %)", f"PC2 ({100 * explained[1]:.0f} %)")
    return Plane("pca", mean, axes, labels, None, explained)


__all__ = ["Plane", "feature_plane", "input_plane", "pca_plane"]
