"""What a network's output layer means for a task: the predicted class of an output row, accuracy,
and the default output activation + loss for a task. One home for these rules.

The engine (accuracy while training), the data layer (``Preprocessor.decode``), the CLI and the
views (surface, trace) all read the predicted class from here, so they can never disagree:

- several output units: the class is the unit with the largest activation (argmax; a tie goes to
  the first unit);
- one output unit (two classes, a sigmoid): class 1 when a > 0.5, else class 0 (0.5 itself is
  class 0, like argmax over ``[1 − a, a]``, which ``decode`` uses for probabilities).

Targets are read the same way (one-hot rows → argmax; a 0/1 column → the value). Imports nothing of
the project but NumPy, so every layer may use it. Leaves out: thresholds other than 0.5, top-k.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.5  # one sigmoid output: class 1 above this, class 0 at or below it

#: The head a task gets unless the person picks another: (output activation, loss).
TASK_HEADS: dict[str, tuple[str, str]] = {
    "classification": ("softmax", "cross_entropy"),
    "regression": ("linear", "mse"),
}
#: Output activations that suit a task (the editor keeps a choice that fits).
TASK_OUTPUTS: dict[str, tuple[str, ...]] = {
    "classification": ("softmax", "sigmoid"),
    "regression": ("linear", "tanh"),
}
PROBABILITY_OUTPUTS = ("softmax", "sigmoid")


def predicted_class(A: np.ndarray) -> np.ndarray:
    """Class index per row of outputs ``A`` (N, k): argmax, or ``A > 0.5`` for one output."""
    A = np.asarray(A)
    if A.ndim == 1:
        A = A.reshape(1, -1)
    if A.shape[1] == 1:
        return (A[:, 0] > THRESHOLD).astype(np.intp)
    return A.argmax(axis=1)


def predicted_class_one(a: np.ndarray) -> int:
    """The predicted class of ONE output vector ``a`` (k,)."""
    return int(predicted_class(np.asarray(a).reshape(1, -1))[0])


def target_class(Y: np.ndarray) -> np.ndarray:
    """Class index per row of targets: argmax of one-hot rows, or the 0/1 value of one column."""
    return predicted_class(Y)


def accuracy(A: np.ndarray, Y: np.ndarray, labels: np.ndarray | None = None) -> float:
    """Share of rows whose predicted class is the target's (NaN for no rows). ``labels``: the
    targets' classes when already known (``target_class(Y)``)."""
    A = np.asarray(A)
    if A.shape[0] == 0:
        return float("nan")
    if labels is None:
        labels = target_class(Y)
    return float(np.count_nonzero(predicted_class(A) == labels)) / A.shape[0]


def default_head(
    task: str, n_outputs: int, output: str | None = None, loss: str | None = None
) -> tuple[str, str]:
    """(output activation, loss) for a task, filling whichever of the two is None.

    Classes get softmax + cross-entropy, or sigmoid + cross-entropy when there is a single output
    unit (softmax over one unit is the constant 1); values get linear + MSE. A chosen output that
    is not a probability (linear, tanh, …) gets MSE, the only loss that fits it.
    """
    classification = task == "classification"
    if output is None:
        output = TASK_HEADS["classification" if classification else "regression"][0]
        if output == "softmax" and int(n_outputs) < 2:
            output = "sigmoid"
    if loss is None:
        loss = "cross_entropy" if classification and output in PROBABILITY_OUTPUTS else "mse"
    return output, loss


def head_fits(task: str, n_outputs: int, output: str, loss: str) -> bool:
    """Whether a chosen head suits the task (else the editor switches to ``default_head``)."""
    if output not in TASK_OUTPUTS.get(task, (output,)):
        return False
    if output == "softmax" and int(n_outputs) < 2:
        return False
    return not (task == "regression" and loss != "mse")


__all__ = [
    "PROBABILITY_OUTPUTS",
    "TASK_HEADS",
    "TASK_OUTPUTS",
    "THRESHOLD",
    "accuracy",
    "default_head",
    "head_fits",
    "predicted_class",
    "predicted_class_one",
    "target_class",
]
