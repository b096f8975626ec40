"""Headless command line: ``bpstudio [gui|train|sweep|predict|datasets|gradcheck|export|runs|
info|install-desktop]``.

``bpstudio`` alone opens the window (imported lazily, so the headless commands never load Qt);
``bpstudio EXP.bpstudio`` opens a project in it. ``train --project EXP.bpstudio`` appends the run
(history, checkpoints, weights) to a project, ``runs`` lists a project's runs (``--csv``: their
per-epoch history), ``export EXP.bpstudio MODEL --run N`` writes one run's model.
``train`` fits a network on a CSV file or a ``builtin:NAME`` dataset with defaults that work
without tuning (standardised inputs; two relu layers of 32; softmax + cross-entropy for classes,
linear + MSE for values; adam, α = 0.01, batch 32, 100 epochs, float32), shows a progress bar
on a terminal, prints a summary and can export the model and a metrics JSON. ``sweep`` takes
the same options plus ``--param NAME=VALUES`` and trains 2–12 variants that differ only in that
setting (same data split, same initial weights where the shapes allow) through `fit_many`, then
prints them sorted by the validation metric. ``predict`` applies an exported model to a raw CSV;
``export`` converts it (``.py``: PyTorch code); ``install-desktop`` adds the launcher entry (see
``bpstudio.desktop_entry``).

Exit codes: 0 success; 1 a check failed (gradcheck above tolerance, training diverged);
2 bad arguments or bad data (every ``BPStudioError``, and an unreadable/unwritable file), with ONE
line on stderr — control characters escaped, length bounded — and no traceback or NumPy warning;
130 interrupted (SIGINT), 143 terminated (SIGTERM), both after the current write is cleaned up.
Anything else is a bug and keeps its traceback. No output file may be an input or another output
of the same command (:func:`check_outputs`). Predictions CSVs neutralise text cells that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …, OWASP CSV injection).
Leaves out: resuming training from a saved model, test-split reporting, plotting.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from bpstudio.errors import BPStudioError
from bpstudio.io.cells import printable

PROG = "bpstudio"

# Defaults for `train`, decided here because they are the CLI's promise ("works without tuning"),
# not the engine's: FitConfig keeps the textbook defaults (plain SGD, α = 0.1) that the window
# teaches with, and every hyperparameter not named here (momentum, β1/β2, schedule step and γ)
# comes from FitConfig. Measured on builtin:spirals (480 train / 120 val rows), 10 seeds: relu
# 32,32 + adam α=0.01 reaches ≥ 95 % val accuracy by epoch 18–24 and ends at 99.2–100 % after 100
# epochs (~0.2 s); tanh at α=0.01 ended at 82–97 %. The same settings also do best or equal-best on
# the other built-ins (xor, circles, moons, blobs, checkerboard, sine, plane, gaussian_bump).
DEFAULT_HIDDEN = "32,32"
DEFAULT_ACTIVATION = "relu"
DEFAULT_OPTIMIZER = "adam"
DEFAULT_LR = 0.01
DEFAULT_BATCH = 32
DEFAULT_EPOCHS = 100
DEFAULT_DTYPE = "float32"  # as fast or faster, same accuracy on the built-ins
RELU_FAMILY = ("relu", "leaky_relu", "elu")
PROGRESS_AFTER_S = 1.0  # runs shorter than this never show a bar
GRADCHECK_MAX_PARAMS = 20_000  # finite differences: 2 forward passes per parameter
GRADCHECK_MAX_SAMPLES = 10_000


class CLIError(BPStudioError):
    """A user mistake the parser can't see (e.g. --patience without a validation split)."""


class _UsageError(Exception):
    """argparse's complaint, turned into one line instead of usage + message + exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


# ------------------------------------------------------------------------------- argument types


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a number >= {low}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _float_in(low: float, high: float | None, *, low_open: bool, high_open: bool = True):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
        too_low = value <= low if low_open else value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if not np.isfinite(value) or too_low or too_high:
            lo = "(" if low_open else "["
            hi = ("inf)" if high is None else f"{high:g})") if high_open else f"{high:g}]"
            raise argparse.ArgumentTypeError(f"expected a number in {lo}{low:g}, {hi}, got {text}")
        return value

    return parse


_positive_float = _float_in(0.0, None, low_open=True)
_non_negative_float = _float_in(0.0, None, low_open=False)
_fraction = _float_in(0.0, 1.0, low_open=False)


def _int_list(text: str) -> list[int]:
    """'32,16' → [32, 16]; '' or 'none' → [] (no hidden layer)."""
    text = text.strip()
    if text.lower() in ("", "none", "-"):
        return []
    out = []
    for part in text.replace("x", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated layer sizes like 32,16, got '{text}'"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got '{text}'")
        out.append(value)
    return out


def _names(table: Any) -> list[str]:
    return [str(name) for name in table]


def _choice_list(allowed: Sequence[str], what: str) -> Callable[[str], list[str] | str]:
    """One name, or a comma-separated list (one per hidden layer)."""

    def parse(text: str) -> list[str] | str:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        bad = [p for p in parts if p not in allowed]
        if not parts or bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what} '{bad[0] if bad else text}'; choose from {', '.join(allowed)}"
            )
        return parts[0] if len(parts) == 1 else parts

    return parse


# Settings `sweep --param` can vary: name → (train option, what it is, value parser, log range ok).
# "width" sets every hidden layer; "widthN" layer N only (checked against --hidden later).
SWEEP_PARAMS: dict[str, tuple[str, str, str, bool]] = {
    "lr": ("lr", "learning rate α", "positive_float", True),
    "batch": ("batch_size", "batch size", "positive_int", False),
    "width": ("hidden", "units of every hidden layer", "positive_int", False),
    "activation": ("activation", "hidden activation", "activation", False),
    "init": ("init", "weight initialiser", "init", False),
    "optimizer": ("optimizer", "optimiser", "optimizer", False),
    "l2": ("weight_decay", "L2 strength", "non_negative_float", True),
    "seed": ("seed", "weights and shuffling; the split keeps --seed", "non_negative_int", False),
}
SWEEP_ALIASES = {"alpha": "lr", "batch-size": "batch", "batch_size": "batch", "hidden": "width",
                 "weight-decay": "l2", "weight_decay": "l2", "optimiser": "optimizer"}  # fmt: skip
SWEEP_MIN, SWEEP_MAX = 2, 12


def _sweep_param(activations: Sequence[str], inits: Sequence[str], optimizers: Sequence[str]):
    """'lr=0.001,0.01' or 'lr=log:1e-4:1e-1:6' → (name, [values]); 'width3=8,16' → ('width3', …)."""

    def choice(allowed: Sequence[str], what: str) -> Callable[[str], str]:
        def parse(text: str) -> str:
            if text not in allowed:
                raise argparse.ArgumentTypeError(
                    f"unknown {what} '{text}'; choose from {', '.join(allowed)}"
                )
            return text

        return parse

    parsers: dict[str, Callable[[str], Any]] = {
        "positive_float": _positive_float,
        "non_negative_float": _non_negative_float,
        "positive_int": _positive_int,
        "non_negative_int": _non_negative_int,
        "activation": choice(activations, "activation"),
        "init": choice(inits, "initialiser"),
        "optimizer": choice(optimizers, "optimizer"),
    }

    def parse(text: str) -> tuple[str, list[Any]]:
        name, sep, values = text.partition("=")
        name = SWEEP_ALIASES.get(name.strip().lower(), name.strip().lower())
        layer = name[5:] if name.startswith("width") and name[5:].isdigit() else None
        key = "width" if layer is not None else name
        if not sep or key not in SWEEP_PARAMS:
            raise argparse.ArgumentTypeError(
                f"expected NAME=VALUES with NAME one of {', '.join(SWEEP_PARAMS)} "
                f"(or widthN for layer N), got '{text}'"
            )
        _, _, kind, log_ok = SWEEP_PARAMS[key]
        values = values.strip()
        if values.lower().startswith("log:"):
            parts = values.split(":")
            if not log_ok:
                raise argparse.ArgumentTypeError(f"a log range only applies to lr and l2: '{text}'")
            try:
                low, high, count = float(parts[1]), float(parts[2]), int(parts[3])
                if len(parts) != 4:
                    raise ValueError
            except (ValueError, IndexError):
                raise argparse.ArgumentTypeError(
                    f"expected log:LOW:HIGH:COUNT such as log:1e-4:1e-1:6, got '{values}'"
                ) from None
            if not (0 < low < high and math.isfinite(high)):
                raise argparse.ArgumentTypeError(
                    f"a log range needs 0 < LOW < HIGH, got '{values}'"
                )
            if not SWEEP_MIN <= count <= SWEEP_MAX:
                raise argparse.ArgumentTypeError(
                    f"a sweep takes {SWEEP_MIN}-{SWEEP_MAX} values, got {count}"
                )
            parsed = [float(f"{v:.6g}") for v in np.geomspace(low, high, count)]
        else:
            parsed = [parsers[kind](v.strip()) for v in values.split(",") if v.strip()]
        if not SWEEP_MIN <= len(parsed) <= SWEEP_MAX:
            raise argparse.ArgumentTypeError(
                f"a sweep takes {SWEEP_MIN}-{SWEEP_MAX} values, got {len(parsed)} in '{text}'"
            )
        if len(set(parsed)) != len(parsed):
            raise argparse.ArgumentTypeError(f"a value is listed twice in '{text}'")
        return name, parsed

    return parse


# ---------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from bpstudio import __version__
    from bpstudio.engine import (
        HIDDEN_ACTIVATIONS,
        INITIALIZERS,
        LOSSES,
        OPTIMIZERS,
        OUTPUT_ACTIVATIONS,
        SCHEDULES,
        FitConfig,
    )

    engine_defaults = FitConfig()
    hidden_acts = _names(HIDDEN_ACTIVATIONS)
    inits = _names(INITIALIZERS)
    if "xavier" not in inits:
        inits.append("xavier")

    parser = _Parser(
        prog=PROG,
        description="Backprop Studio: watch backpropagation train a network. "
        "Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the window (the default)")
    p.add_argument("--dataset", help="start on this dataset, e.g. builtin:spirals or a CSV path")
    p.add_argument(
        "project", nargs="?", metavar="EXP.bpstudio", help="open this project in the window"
    )
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser(
        "train",
        help="train a network on a CSV file or builtin:NAME",
        description="Train a network headless. DATA is a CSV path or builtin:NAME "
        "(see 'bpstudio datasets').",
    )
    p.add_argument("data", metavar="DATA", help="CSV path or builtin:NAME")
    p.add_argument(
        "--target",
        action="append",
        metavar="COL",
        help="target column (repeat for several); default: the dataset's label / last column",
    )
    p.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="default auto: text or few-valued integer targets are classes",
    )
    p.add_argument(
        "--drop", action="append", metavar="COL", default=[], help="ignore this column (repeat)"
    )
    p.add_argument(
        "--categorical",
        action="append",
        metavar="COL",
        default=[],
        help="one-hot encode this column even if it has many values or looks numeric (repeat)",
    )
    p.add_argument(
        "--hidden",
        type=_int_list,
        default=_int_list(DEFAULT_HIDDEN),
        metavar="N,N",
        help=f"hidden layer sizes (default {DEFAULT_HIDDEN}; 'none' for no hidden layer)",
    )
    p.add_argument(
        "--activation",
        type=_choice_list(hidden_acts, "activation"),
        default=DEFAULT_ACTIVATION,
        metavar="NAME[,NAME]",
        help=f"hidden activation, or one per hidden layer: {', '.join(hidden_acts)} "
        f"(default {DEFAULT_ACTIVATION})",
    )
    p.add_argument(
        "--output",
        choices=_names(OUTPUT_ACTIVATIONS),
        help="output activation (default: softmax for classes, linear for values)",
    )
    p.add_argument(
        "--loss",
        choices=_names(LOSSES),
        help="default: cross_entropy with a softmax/sigmoid output on classes, else mse",
    )
    p.add_argument(
        "--init",
        choices=inits,
        help="weight initialiser (default: he for relu-like activations, else xavier)",
    )
    p.add_argument(
        "--optimizer",
        choices=_names(OPTIMIZERS),
        default=DEFAULT_OPTIMIZER,
        help="(default %(default)s)",
    )
    p.add_argument(
        "--lr", type=_positive_float, default=DEFAULT_LR, help=f"learning rate α ({DEFAULT_LR})"
    )
    p.add_argument(
        "--momentum",
        type=_fraction,
        default=engine_defaults.momentum,
        help=f"for --optimizer momentum (default {engine_defaults.momentum:g})",
    )
    p.add_argument(
        "--schedule",
        choices=_names(SCHEDULES),
        default=engine_defaults.schedule,
        help="learning-rate schedule (default %(default)s)",
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=DEFAULT_BATCH, help="(default %(default)s)"
    )
    p.add_argument(
        "--epochs", type=_positive_int, default=DEFAULT_EPOCHS, help="(default %(default)s)"
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="weights, shuffling and the train/val split (default %(default)s)",
    )
    p.add_argument(
        "--val-split",
        type=_fraction,
        default=0.2,
        metavar="F",
        help="fraction held out for validation (default 0.2; 0 = none)",
    )
    p.add_argument(
        "--patience",
        type=_positive_int,
        help="stop when val loss hasn't improved for this many epochs (keeps the best weights)",
    )
    p.add_argument(
        "--weight-decay",
        type=_non_negative_float,
        default=engine_defaults.weight_decay,
        help="L2 strength",
    )
    p.add_argument(
        "--scaling",
        choices=("standardize", "minmax", "none"),
        default="standardize",
        help="input scaling, fitted on the training rows (default %(default)s)",
    )
    p.add_argument(
        "--missing",
        choices=("drop", "impute"),
        default="drop",
        help="rows with missing values: drop (default) or impute mean / most frequent",
    )
    p.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default=DEFAULT_DTYPE,
        help="training and model dtype (default %(default)s)",
    )
    p.add_argument("--samples", type=_positive_int, help="builtin datasets: number of rows")
    p.add_argument("--noise", type=_non_negative_float, help="builtin datasets: noise level")
    p.add_argument(
        "--export",
        metavar="MODEL",
        help="save the model (.npz, .json; .safetensors, .onnx and .py = PyTorch code with "
        "pip install 'bpstudio[export]')",
    )
    p.add_argument("--metrics", metavar="JSON", help="write final metrics + history as JSON")
    p.add_argument(
        "--project",
        metavar="EXP.bpstudio",
        help="append this run (history, checkpoints, weights) to a project file, creating it "
        "if needed; see 'bpstudio runs'",
    )
    p.add_argument("--run-name", metavar="NAME", help="the run's name in --project (default Run N)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)
    train = p

    # sweep: every train option (same parsing, same defaults), plus the setting to vary
    p = sub.add_parser(
        "sweep",
        parents=[train],
        conflict_handler="resolve",
        help="train variants that differ in one setting and compare them",
        description="Train 2-12 variants of a network that differ only in one setting, on the "
        "same data split and from the same initial weights where the shapes allow, and print "
        "them sorted by the validation metric. Takes every option of 'bpstudio train'.",
    )
    p.add_argument(
        "--param",
        required=True,
        type=_sweep_param(hidden_acts, inits, _names(OPTIMIZERS)),
        metavar="NAME=VALUES",
        help="the setting and its 2-12 values: "
        + ", ".join(f"{name} ({what})" for name, (_, what, _, _) in SWEEP_PARAMS.items())
        + "; VALUES is a comma list (lr=0.001,0.01,0.1) or, for lr and l2, a log range "
        "log:LOW:HIGH:COUNT (lr=log:1e-4:1e-1:6); width2=8,16 sets layer 2 only "
        "(layers numbered from 1, the input)",
    )
    p.add_argument(
        "--export", metavar="MODEL", help="save the best variant's model (as train --export)"
    )
    p.add_argument(
        "--metrics", metavar="JSON", help="write every variant's settings, scores and history"
    )
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "predict",
        help="apply an exported model to a CSV file",
        description="One output row per input row: 'prediction' (the class label as spelled in "
        "the training data, or the value in original units) and p(<class>) columns.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA", help="CSV path or builtin:NAME")
    p.add_argument("--out", metavar="CSV", help="output CSV (default: standard output)")
    p.add_argument(
        "--keep-columns", action="store_true", help="copy the input columns into the output"
    )
    p.add_argument(
        "--impute",
        action="store_true",
        help="fill missing feature values with the training means / most frequent values "
        "(default only for models trained with --missing impute; otherwise such rows get an "
        "empty prediction and a 'reason' column says why)",
    )
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("datasets", help="list the built-in datasets")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser(
        "gradcheck",
        help="compare backprop with finite differences",
        description="Central finite differences vs backprop on a random network and batch; "
        "exits 1 if any relative error is above --tol.",
    )
    p.add_argument("--sizes", type=_int_list, default=[2, 5, 3], metavar="N,N,N")
    p.add_argument("--activation", type=_choice_list(hidden_acts, "activation"), default="tanh")
    p.add_argument("--output", choices=_names(OUTPUT_ACTIVATIONS), default="sigmoid")
    p.add_argument("--loss", choices=_names(LOSSES), default="mse")
    p.add_argument("--samples", type=_positive_int, default=4)
    p.add_argument("--seed", type=_non_negative_int, default=0)
    p.add_argument("--eps", type=_positive_float, default=1e-6)
    p.add_argument("--tol", type=_positive_float, default=1e-6)
    p.add_argument(
        "--all", action="store_true", help="every allowed activation × output × loss combination"
    )
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser(
        "export",
        help="convert a model file to another format or to PyTorch code, or export a project's run",
        description="MODEL is a model file, or a project (EXP.bpstudio) with --run N. The suffix "
        "of OUT picks the format: .npz, .json, .safetensors, .onnx, or .py (PyTorch code: a "
        "torch.nn.Module with its weights in a .safetensors file beside it). .safetensors, .onnx "
        "and .py need pip install 'bpstudio[export]'.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file, or a project with --run N")
    p.add_argument("out", metavar="OUT", help="target path; the suffix picks the format")
    p.add_argument(
        "--run", type=_positive_int, metavar="N", help="which run of the project (from 1)"
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "install-desktop",
        help="add Backprop Studio to the desktop's launcher (a .desktop entry and icons)",
        description="Write a freedesktop .desktop entry and the icon for the current user under "
        "$XDG_DATA_HOME (default ~/.local/share), so the desktop's launcher lists the app.",
    )
    p.add_argument("--uninstall", action="store_true", help="remove the entry and the icons")
    p.set_defaults(func=cmd_install_desktop)

    p = sub.add_parser(
        "runs",
        help="list the runs of a project",
        description="One line per run: number, name, network, optimiser, α, batch, epochs, "
        "final train/val loss, val accuracy (classes) or RMSE (values).",
    )
    p.add_argument("project", metavar="EXP.bpstudio")
    p.add_argument(
        "--csv", metavar="FILE", help="write every run's per-epoch history (long format) to FILE"
    )
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("info", help="describe a model file")
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(func=cmd_info)
    return parser


# ------------------------------------------------------------------------------------------ gui


def _import_run_app() -> Callable[..., int]:
    try:
        from bpstudio.ui import run_app
    except ImportError:
        from bpstudio.ui.app import run_app
    return run_app


def cmd_gui(args: argparse.Namespace) -> int:
    project = getattr(args, "project", None)
    if project is not None:
        from bpstudio.session import Session

        Session.open(project)  # a bad or missing file: one line and exit 2, before any window
    try:
        run_app = _import_run_app()
    except ImportError as exc:
        raise CLIError(
            f"the window can't start ({exc}); the headless commands still work: bpstudio --help"
        ) from None
    # run_app's argv holds extra Qt arguments only (it adds the program name itself).
    if project is None:
        return int(run_app([], dataset=args.dataset) or 0)
    import inspect

    if "project" not in inspect.signature(run_app).parameters:
        raise CLIError("this version of the window can't open projects yet")
    return int(run_app([], dataset=args.dataset, project=str(project)) or 0)


# ---------------------------------------------------------------------------------------- train


class _Progress:
    """One-line progress bar on a terminal's stderr: ≤ 10 draws/s, none in the first second."""

    def __init__(self, stream: IO[str], epochs: int, enabled: bool) -> None:
        self.stream = stream
        self.epochs = epochs
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.drawn = False
        self.epoch = 0
        self.fraction = 0.0
        self.text = ""

    def __call__(self, event: Any) -> None:
        now = time.perf_counter()
        if hasattr(event, "train_loss"):  # EpochEvent
            self.epoch = event.epoch
            parts = [f"loss {event.train_loss:.4g}"]
            if event.val_loss is not None:
                parts.append(f"val {event.val_loss:.4g}")
            if event.val_accuracy is not None:
                parts.append(f"acc {event.val_accuracy:.1%}")
            self.text = "  ".join(parts)
            fraction = event.epoch / self.epochs
        else:  # StepEvent: only moves the bar within a long epoch
            fraction = (event.epoch - 1 + event.batch / event.n_batches) / self.epochs
        self.fraction = min(fraction, 1.0)
        if now - self.start < PROGRESS_AFTER_S or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self._draw(now)

    def _draw(self, now: float) -> None:
        width = 24
        filled = int(round(width * self.fraction))
        bar = "#" * filled + "." * (width - filled)
        elapsed = now - self.start
        line = f"\repoch {self.epoch}/{self.epochs} [{bar}] {self.text}  {elapsed:.1f}s"
        self.stream.write(line.ljust(79))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self._draw(time.perf_counter())  # the last state, which throttling may have skipped
            self.stream.write("\n")
            self.stream.flush()


@contextlib.contextmanager
def _stop_on_ctrl_c(control: Any) -> Iterator[None]:
    """First Ctrl-C stops training after the current mini-batch; a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if control.stop_requested:
            raise KeyboardInterrupt
        control.request_stop()
        sys.stderr.write("\nstopping after this mini-batch (Ctrl-C again to abort)\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _one_blas_thread() -> contextlib.AbstractContextManager[None]:
    from bpstudio.engine.threads import one_blas_thread

    return one_blas_thread()


def _accuracy(A: np.ndarray, Y: np.ndarray) -> float:
    from bpstudio.heads import accuracy

    return accuracy(A, Y)


def _rmse(pre: Any, net: Any, X: np.ndarray, Y: np.ndarray) -> list[float]:
    """Per-target RMSE in the target's original units (Y holds the scaled targets)."""
    values, _ = pre.decode(net.forward(X))
    truth = np.asarray(Y, dtype="float64") * pre.target_scale + pre.target_offset
    pred = np.asarray(values, dtype="float64").reshape(truth.shape)
    return [float(r) for r in np.sqrt(np.mean((pred - truth) ** 2, axis=0))]


def _fmt_rmse(names: Sequence[str], rmse: Sequence[float]) -> str:
    if len(rmse) == 1:
        return f"{rmse[0]:.4g} ({names[0]} units)"
    return ", ".join(f"{name} {r:.4g}" for name, r in zip(names, rmse, strict=True))


def _builtin_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.samples is not None or args.noise is not None:
        if not str(args.data).startswith("builtin:"):
            raise CLIError("--samples/--noise only apply to builtin:NAME datasets")
        if args.samples is not None:
            params["n_samples"] = args.samples
        if args.noise is not None:
            params["noise"] = args.noise
    return params


def _default_head(task: str, n_outputs: int, output: str | None, loss: str | None):
    from bpstudio.heads import default_head

    return default_head(task, n_outputs, output, loss)


def _describe_net(sizes: list[int], activation: Any, output: str, loss: str) -> str:
    act = ",".join(activation) if isinstance(activation, list) else activation
    return f"network {'-'.join(map(str, sizes))} ({act} hidden, {output} output, {loss} loss)"


def _prepare_dataset(args: argparse.Namespace) -> Any:
    """Check the options of `train` (and `sweep`) against each other and the data; load DATA and
    split, encode and scale it as `prepare` does."""
    from bpstudio.data import DatasetOptions, load_table, prepare

    if args.patience is not None and args.val_split == 0:
        raise CLIError("--patience watches the validation loss; give --val-split > 0")
    activation = args.activation
    if isinstance(activation, list) and len(activation) != len(args.hidden):
        raise CLIError(
            f"--activation lists {len(activation)} names for {len(args.hidden)} hidden layers"
        )
    check_outputs(
        {"DATA": args.data},
        {"--export": args.export, "--metrics": args.metrics, "--project": args.project},
    )
    table = load_table(args.data, **_builtin_params(args))
    options = DatasetOptions(
        target=list(args.target) if args.target else None,
        task=args.task,
        missing=args.missing,
        scaling=args.scaling,
        val_fraction=args.val_split,
        seed=args.seed,
        drop_columns=list(args.drop),
        categorical=list(args.categorical),
    )
    ds = prepare(table, options)
    if ds.X_train.shape[0] == 0:
        raise CLIError(f"{args.data}: no rows left to train on")
    if args.patience is not None and ds.X_val.shape[0] == 0:
        raise CLIError("--patience needs validation rows, but the split left none")
    return ds


def _default_init(activation: Any) -> str:
    first = activation[0] if isinstance(activation, list) else activation
    return "he" if first in RELU_FAMILY else "xavier"


def _make_network(args: argparse.Namespace, ds: Any, init: str | None = None) -> Any:
    """The network `train` builds for these options and data (`init` overrides the default)."""
    from bpstudio.engine import Network
    from bpstudio.engine.validate import check_memory

    output, loss = _default_head(ds.task, ds.n_outputs, args.output, args.loss)
    sizes = [ds.n_inputs, *args.hidden, ds.n_outputs]
    check_memory(sizes, ds.X_train.shape[0], args.batch_size, args.dtype)  # before allocating
    return Network(
        sizes,
        activation=args.activation,
        output=output,
        loss=loss,
        init=init or args.init or _default_init(args.activation),
        seed=args.seed,
        dtype=args.dtype,
    )


def _print_dataset(args: argparse.Namespace, ds: Any, out: IO[str]) -> None:
    classification = ds.task == "classification"
    what = f"{len(ds.classes)} classes" if classification and ds.classes else ds.task
    print(
        f"{args.data}: {what}, {ds.n_inputs} inputs, "
        f"{ds.X_train.shape[0]} train / {ds.X_val.shape[0]} val rows"
        + (f" ({ds.n_dropped} dropped)" if ds.n_dropped else ""),
        file=out,
    )
    for note in ds.notes:  # dropped columns / rows, latin-1 fallback, …: say what happened
        print(f"note: {note}", file=out)


def _fit_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The `fit` options the train options ask for."""
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "momentum": args.momentum,
        "schedule": args.schedule,
        "weight_decay": args.weight_decay,
        "patience": args.patience,
        "seed": args.seed,
    }


def _final_scores(ds: Any, net: Any) -> dict[str, Any]:
    """Loss, accuracy (classes) and RMSE in the target's units (values) of the final weights."""
    classification = ds.task == "classification"
    has_val = ds.X_val.shape[0] > 0
    X_val, Y_val = ds.X_val, ds.Y_val
    with _one_blas_thread():
        return {
            "train_loss": float(net.loss(ds.X_train, ds.Y_train)),
            "val_loss": float(net.loss(X_val, Y_val)) if has_val else None,
            "train_accuracy": (
                _accuracy(net.forward(ds.X_train), ds.Y_train) if classification else None
            ),
            "val_accuracy": (
                _accuracy(net.forward(X_val), Y_val) if classification and has_val else None
            ),
            # The loss is on standardised targets; RMSE in the target's units is what users read.
            "train_rmse": (
                None if classification else _rmse(ds.preprocessor, net, ds.X_train, ds.Y_train)
            ),
            "val_rmse": (
                _rmse(ds.preprocessor, net, X_val, Y_val)
                if has_val and not classification
                else None
            ),
        }


def cmd_train(args: argparse.Namespace) -> int:
    from bpstudio.engine import FitControl, fit
    from bpstudio.io import atomic_write_json, save_model

    out = sys.stdout
    ds = _prepare_dataset(args)
    net = _make_network(args, ds)
    sizes, activation, output, loss = net.sizes, args.activation, net.output, net.loss_name
    has_val = ds.X_val.shape[0] > 0
    X_val = ds.X_val if has_val else None
    Y_val = ds.Y_val if has_val else None
    _print_dataset(args, ds, out)
    print(
        f"{_describe_net(sizes, activation, output, loss)}, {args.optimizer} lr {args.lr:g}, "
        f"batch {args.batch_size}",
        file=out,
        flush=True,
    )

    control = FitControl()
    show_bar = not args.quiet and sys.stderr.isatty()
    progress = _Progress(sys.stderr, args.epochs, show_bar) if show_bar else None
    overrides = _fit_overrides(args)
    callback: Any = progress
    project = _ProjectRun.open(args) if args.project else None
    extra_fit: dict[str, Any] = {}
    if project is not None:
        callback = project.add(args, ds, net, args.run_name, then=progress)
        extra_fit["grad_norm_every"] = project.grad_norm_every(ds.X_train.shape[0], args.batch_size)
    try:
        with _one_blas_thread(), _stop_on_ctrl_c(control):
            history = fit(
                net,
                ds.X_train,
                ds.Y_train,
                X_val=X_val,
                Y_val=Y_val,
                control=control,
                callback=callback,
                **overrides,
                **extra_fit,
            )
    finally:
        if progress is not None:
            progress.close()

    # Final figures from the final (or best, after early stopping) weights, not the last epoch.
    scores = _final_scores(ds, net)
    train_loss, val_loss = scores["train_loss"], scores["val_loss"]
    train_acc, val_acc = scores["train_accuracy"], scores["val_accuracy"]
    train_rmse, val_rmse = scores["train_rmse"], scores["val_rmse"]

    reason = history.stop_reason
    line = {
        "finished": f"finished {history.epochs} epochs",
        "stopped": f"stopped by the user after {history.epochs} epochs",
        "early_stopped": f"stopped early after {history.epochs} epochs "
        f"(best val loss at epoch {history.best_epoch})",
        "diverged": f"diverged after {history.epochs} epochs",
    }.get(reason, f"{reason} after {history.epochs} epochs")
    kept = ""
    if reason == "finished" and history.best_epoch not in (None, history.epochs):
        kept = f"; kept the best weights (lowest val loss, epoch {history.best_epoch})"
    print(f"{line} ({history.steps} steps) in {history.seconds:.2f} s{kept}", file=out)
    scores = [f"train loss {train_loss:.4g}"]
    if val_loss is not None:
        scores.append(f"val loss {val_loss:.4g}")
    if train_acc is not None:
        scores.append(f"train accuracy {train_acc:.1%}")
    if val_acc is not None:
        scores.append(f"val accuracy {val_acc:.1%}")
    for label, rmse in (("train", train_rmse), ("val", val_rmse)):
        if rmse is not None:
            scores.append(f"{label} RMSE {_fmt_rmse(ds.target_names, rmse)}")
    print(", ".join(scores), file=out)
    if reason == "diverged" and history.message:
        print(f"{PROG}: {history.message}", file=sys.stderr)

    summary = {
        "dataset": str(args.data),
        "task": ds.task,
        "classes": list(ds.classes) if ds.classes else None,
        "feature_names": list(ds.feature_names),
        "target_names": list(ds.target_names),
        "n_train": int(ds.X_train.shape[0]),
        "n_val": int(ds.X_val.shape[0]),
        "train_loss": train_loss,
        "val_loss": val_loss,
        "train_accuracy": train_acc,
        "val_accuracy": val_acc,
        "train_rmse": train_rmse,
        "val_rmse": val_rmse,
        "epochs": int(history.epochs),
        "steps": int(history.steps),
        "seconds": float(history.seconds),
        "stop_reason": reason,
        "best_epoch": history.best_epoch,
        "message": history.message,
        "network": net.config(),
        "fit": {**overrides, "dtype": args.dtype},
    }
    if args.export and reason == "diverged":
        print(f"{PROG}: not saving {args.export}: the training diverged", file=sys.stderr)
    elif args.export:
        path = save_model(args.export, net, ds.preprocessor, extra=summary)
        print(f"saved model to {path}", file=out)
    if args.metrics:
        metrics = dict(summary)
        metrics["history"] = {
            "train_loss": list(history.epoch_train_loss),
            "val_loss": list(history.epoch_val_loss),
            "train_accuracy": list(history.epoch_train_accuracy),
            "val_accuracy": list(history.epoch_val_accuracy),
        }
        atomic_write_json(args.metrics, metrics)
        print(f"wrote metrics to {args.metrics}", file=out)
    if project is not None:
        project.finish([history], [summary], out)
    return 1 if reason == "diverged" else 0


class _ProjectRun:
    """``train --project`` and ``sweep --project``: runs recorded into a project (opened before
    training, so a bad project file stops the command at once), appended and saved after it."""

    def __init__(self, path: Path, session: Any) -> None:
        self.path, self.session = path, session
        self._recording: list[tuple[Any, Any]] = []  # (run, recorder) in the order added
        self._sweep: int | None = None  # the sweep's id (its first variant's run id), if any

    @classmethod
    def open(cls, args: argparse.Namespace) -> _ProjectRun:
        from bpstudio.session import Session

        path = Path(args.project)
        if path.suffix.lower() != ".bpstudio":
            raise CLIError(f"{path}: a project file ends in .bpstudio")
        if not path.parent.is_dir():
            raise CLIError(f"{path}: the folder {path.parent} does not exist")
        return cls(path, Session.open(path) if path.exists() else Session())

    def add(
        self,
        args: argparse.Namespace,
        ds: Any,
        net: Any,
        name: str | None,
        then: Any = None,
        *,
        sweep: bool = False,
    ) -> Any:
        """A new run of ``net`` trained with ``args``' settings; returns the ``fit`` callback that
        records it (calling ``then`` with every event too). With ``sweep`` the run is one
        variant of the sweep the first such run since ``open`` began (``Run.sweep``, as the
        window's Compare… records it: a sweep counts as one run in the session's memory bound)."""
        from bpstudio.data import DatasetOptions
        from bpstudio.engine import FitConfig, NetworkSpec
        from bpstudio.session import DatasetRef, FitRecorder

        options = DatasetOptions(
            target=list(args.target) if args.target else None,
            task=args.task,
            missing=args.missing,
            scaling=args.scaling,
            val_fraction=args.val_split,
            seed=args.seed,
            drop_columns=list(args.drop),
            categorical=list(args.categorical),
        )
        fit_config = FitConfig(**_fit_overrides(args))
        session = self.session
        # The project's current settings follow its latest run, as the window's would.
        session.dataset = DatasetRef.from_source(args.data, _builtin_params(args), options)
        session.network = NetworkSpec.from_config(net.config())
        session.fit = fit_config
        pre = ds.preprocessor
        run = session.new_run(
            net.config(),
            fit_config,
            name=name,
            task=ds.task,
            preprocessor=pre.to_dict(),
            target_scale=None if ds.task == "classification" else list(pre.target_scale),
        )
        if sweep:
            if self._sweep is None:
                self._sweep = run.id
            run.sweep = self._sweep
        recorder = FitRecorder(run, net, then=then)
        self._recording.append((run, recorder))
        return recorder

    @staticmethod
    def grad_norm_every(n_rows: int, batch_size: int) -> int:
        """Measure per-layer gradient norms about 16 times an epoch (every step on small data)."""
        n_batches = -(-int(n_rows) // max(1, int(batch_size)))
        return max(1, n_batches // 16)

    def finish(self, histories: list[Any], summaries: list[dict[str, Any]], out: IO[str]) -> None:
        """Close every run added (in the order added) and save the project."""
        for (run, recorder), history, summary in zip(
            self._recording, histories, summaries, strict=True
        ):
            recorder.finish(history)
            run.summary = dict(summary)
        self.session.save(self.path)
        first = len(self.session.runs) - len(self._recording) + 1
        for i, (run, _) in enumerate(self._recording):
            print(f"added run {first + i} ({run.name}) to {self.path}", file=out)


# ---------------------------------------------------------------------------------------- sweep


def _variant(args: argparse.Namespace, name: str, value: Any) -> argparse.Namespace:
    """A copy of the train options with the swept setting set to `value`."""
    variant = argparse.Namespace(**vars(args))
    if name.startswith("width"):
        hidden = list(args.hidden)
        if not hidden:
            raise CLIError("--param width needs hidden layers; give --hidden, e.g. --hidden 16,16")
        if name == "width":
            hidden = [value] * len(hidden)
        else:
            layer = int(name[5:])
            if not 2 <= layer <= len(hidden) + 1:
                raise CLIError(
                    f"--param {name}: layer {layer} is not a hidden layer; the hidden layers are "
                    f"2 to {len(hidden) + 1} (layer 1 is the input)"
                )
            hidden[layer - 2] = value
        variant.hidden = hidden
    else:
        setattr(variant, SWEEP_PARAMS[name][0], value)
    return variant


class _SweepProgress:
    """`_Progress`'s bar over every variant's epochs (fit_many calls back once per run)."""

    def __init__(self, bar: _Progress, n_runs: int) -> None:
        self.bar = bar
        self.n_runs = n_runs
        self.total = n_runs * bar.epochs
        self.done = 0

    def __call__(self, event: Any) -> None:
        if not hasattr(event, "train_loss"):  # StepEvent
            return
        self.done += 1
        bar = self.bar
        bar.epoch = event.epoch
        bar.fraction = min(self.done / self.total, 1.0)
        bar.text = f"{self.n_runs} variants"
        now = time.perf_counter()
        if now - bar.start >= PROGRESS_AFTER_S and now - bar.last_draw >= 0.1:
            bar.last_draw = now
            bar._draw(now)


def _fmt_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class _SweepRow:
    """One variant after training: its value of the swept setting, net, history, fit options and
    final scores (as `_final_scores`)."""

    value: Any
    net: Any
    history: Any
    fit: dict[str, Any]
    scores: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        h = self.history
        return {
            "value": self.value, **self.scores, "epochs": int(h.epochs), "steps": int(h.steps),
            "stop_reason": h.stop_reason, "best_epoch": h.best_epoch, "message": h.message,
            "fit": self.fit, "network": self.net.config(),
        }  # fmt: skip


@dataclass
class _Sweep:
    """A trained sweep, best variant first: what `sweep` prints, exports and (later) stores."""

    name: str
    values: list[Any]
    ds: Any
    rows: list[_SweepRow]
    metric: str
    seconds: float
    kernels: int  # how many groups fit_many trained (1: all variants through one kernel)
    project: _ProjectRun | None = None  # --project: the variants' runs, recorded while training
    in_order: list[_SweepRow] = field(default_factory=list)  # rows in the order of the values


def _sweep_header(args: argparse.Namespace, ds: Any, name: str, values: list, net: Any) -> str:
    fixed = [
        part
        for key, part in (
            ("optimizer", args.optimizer),
            ("lr", f"lr {args.lr:g}"),
            ("batch", f"batch {args.batch_size}"),
            ("l2", f"L2 {args.weight_decay:g}" if args.weight_decay else ""),
        )
        if key != name and part
    ]
    sizes = [ds.n_inputs, *args.hidden, ds.n_outputs]
    same = "same data split" + {
        "seed": "",
        "init": "",
        "width": ", same initial weights where the shapes allow",
    }.get("width" if name.startswith("width") else name, ", same initial weights")
    return (
        f"sweep {name} over {len(values)} values; base "
        f"{_describe_net(sizes, args.activation, net.output, net.loss_name)}, "
        f"{', '.join([*fixed, f'{args.epochs} epochs'])}\n({same}; only {name} differs)"
    )


def _train_sweep(args: argparse.Namespace, out: IO[str]) -> _Sweep:
    """Load the data once, build one network per value, train them with `fit_many`, rank them."""
    from bpstudio.engine import FitControl, fit_many, stack_groups

    name, values = args.param
    ds = _prepare_dataset(args)
    # Only the swept setting differs: every variant keeps the base run's initialiser (so an
    # activation sweep starts relu and tanh from the same weights) unless init is swept.
    init = None if name == "init" else (args.init or _default_init(args.activation))
    variants = [_variant(args, name, value) for value in values]
    nets = [_make_network(v, ds, init=init) for v in variants]
    if name.startswith("width"):  # the layers whose shape did not change start as the base's
        base = _make_network(args, ds, init=init).params
        for net in nets:
            net.set_params(
                {k: (base[k] if base[k].shape == v.shape else v) for k, v in net.params.items()}
            )
    configs = [_fit_overrides(v) for v in variants]
    _print_dataset(args, ds, out)
    print(_sweep_header(args, ds, name, values, nets[0]), file=out, flush=True)

    classification = ds.task == "classification"
    has_val = ds.X_val.shape[0] > 0
    control = FitControl()
    show_bar = not args.quiet and sys.stderr.isatty()
    bar = _Progress(sys.stderr, args.epochs, show_bar) if show_bar else None
    progress = _SweepProgress(bar, len(nets)) if bar is not None else None
    project = _ProjectRun.open(args) if args.project else None
    if project is not None:  # each variant's run records its own events, then the bar sees them
        every = _ProjectRun.grad_norm_every(ds.X_train.shape[0], args.batch_size)
        for variant, value, net, conf in zip(variants, values, nets, configs, strict=True):
            label = f"{name} {_fmt_value(value)}"
            run_name = f"{args.run_name} ({label})" if args.run_name else label
            conf["callback"] = project.add(variant, ds, net, run_name, then=progress, sweep=True)
            conf["grad_norm_every"] = every
    t0 = time.perf_counter()
    try:
        with _one_blas_thread(), _stop_on_ctrl_c(control):
            histories = fit_many(
                nets,
                ds.X_train,
                ds.Y_train,
                configs,
                X_val=ds.X_val if has_val else None,
                Y_val=ds.Y_val if has_val else None,
                control=control,
                callback=progress,
            )
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    groups = stack_groups(nets, ds.X_train.shape[0], configs)
    rows = [
        _SweepRow(value, net, hist, _fit_overrides(v), _final_scores(ds, net))
        for value, net, hist, v in zip(values, nets, histories, variants, strict=True)
    ]
    in_order = list(rows)  # the runs go into a project in the order the values were given

    def rank(row: _SweepRow) -> tuple:
        diverged = row.history.stop_reason == "diverged"
        s = row.scores
        if has_val and classification:
            return (diverged, -s["val_accuracy"], s["val_loss"])
        return (diverged, s["val_loss"] if has_val else s["train_loss"])

    rows.sort(key=rank)
    if not has_val:
        metric = "train loss"
    elif classification:
        metric = "val accuracy"
    else:
        units = f"{ds.target_names[0]} units" if len(ds.target_names) == 1 else "mean"
        metric = f"val RMSE ({units})"
    return _Sweep(name, list(values), ds, rows, metric, seconds, len(groups), project, in_order)


def _print_sweep(sweep: _Sweep, out: IO[str]) -> None:
    """The results table, best first; diverged variants say why on stderr."""
    has_val = sweep.ds.X_val.shape[0] > 0
    classification = sweep.ds.task == "classification"
    n = len(sweep.rows)
    how = (
        "together" if sweep.kernels == 1
        else "one by one" if sweep.kernels == n
        else f"in {sweep.kernels} groups"
    )  # fmt: skip
    print(
        f"trained {n} variants {how} in {sweep.seconds:.2f} s; sorted by {sweep.metric}", file=out
    )
    head = f"{'rank':<5}{sweep.name:<12}"
    if has_val:
        head += f"{'val acc' if classification else 'val RMSE':>10}{'val loss':>11}"
    print(head + f"{'train loss':>12}{'epochs':>8}  result", file=out)
    for i, row in enumerate(sweep.rows, start=1):
        s, h = row.scores, row.history
        line = f"{i:<5}{_fmt_value(row.value):<12}"
        if has_val and classification:
            line += f"{s['val_accuracy']:>10.1%}{s['val_loss']:>11.4g}"
        elif has_val:
            line += f"{float(np.mean(s['val_rmse'])):>10.4g}{s['val_loss']:>11.4g}"
        result = h.stop_reason.replace("_", " ")
        if h.stop_reason == "early_stopped" or (
            h.stop_reason == "finished" and h.best_epoch not in (None, h.epochs)
        ):
            result += f" (best epoch {h.best_epoch})"
        print(line + f"{s['train_loss']:>12.4g}{h.epochs:>8}  {result}", file=out)
    for row in sweep.rows:
        if row.history.stop_reason == "diverged":
            print(
                f"{PROG}: {sweep.name} {_fmt_value(row.value)}: {row.history.message}",
                file=sys.stderr,
            )


def _save_sweep(args: argparse.Namespace, sweep: _Sweep, out: IO[str]) -> None:
    """--export (the best variant's model), --metrics (every variant) and --project (every
    variant as a run)."""
    from bpstudio.io import atomic_write_json, save_model

    if sweep.project is not None:
        rows = sweep.in_order
        summaries = [{k: v for k, v in row.summary().items() if k != "value"} for row in rows]
        sweep.project.finish([row.history for row in rows], summaries, out)

    ds, best = sweep.ds, sweep.rows[0]
    if args.export and best.history.stop_reason == "diverged":
        print(f"{PROG}: not saving {args.export}: every variant diverged", file=sys.stderr)
    elif args.export:
        extra = {
            "dataset": str(args.data), "task": ds.task,
            "sweep": {"param": sweep.name, "values": sweep.values},
            "feature_names": list(ds.feature_names), "target_names": list(ds.target_names),
            **{k: v for k, v in best.summary().items() if k != "value"},
        }  # fmt: skip
        path = save_model(args.export, best.net, ds.preprocessor, extra=extra)
        print(f"saved the best variant ({sweep.name} {_fmt_value(best.value)}) to {path}", file=out)
    if args.metrics:
        variants = []
        for row in sweep.rows:
            h = row.history
            variants.append({**row.summary(), "history": {
                "train_loss": list(h.epoch_train_loss), "val_loss": list(h.epoch_val_loss),
                "train_accuracy": list(h.epoch_train_accuracy),
                "val_accuracy": list(h.epoch_val_accuracy),
            }})  # fmt: skip
        atomic_write_json(args.metrics, {
            "dataset": str(args.data), "task": ds.task, "param": sweep.name,
            "values": sweep.values, "sorted_by": sweep.metric,
            "n_train": int(ds.X_train.shape[0]), "n_val": int(ds.X_val.shape[0]),
            "seconds": sweep.seconds, "variants": variants,
        })  # fmt: skip
        print(f"wrote metrics to {args.metrics}", file=out)


def cmd_sweep(args: argparse.Namespace) -> int:
    out = sys.stdout
    sweep = _train_sweep(args, out)
    _print_sweep(sweep, out)
    _save_sweep(args, sweep, out)
    return 1 if all(row.history.stop_reason == "diverged" for row in sweep.rows) else 0


# -------------------------------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int:
    from bpstudio.data import load_table
    from bpstudio.io import load_model
    from bpstudio.io.atomic import atomic_open
    from bpstudio.io.predict import predict_frame

    check_outputs({"MODEL": args.model, "DATA": args.data}, {"--out": args.out})
    model = load_model(args.model)
    pre = model.preprocessor
    if pre is None:
        raise CLIError(
            f"{args.model}: the model has no preprocessor; export it with bpstudio train"
        )
    table = load_table(args.data)
    frame = table.frame
    n_rows = len(frame)
    pred = predict_frame(
        model, frame, source=str(args.data), keep_columns=args.keep_columns, impute=args.impute
    )
    A, labels, result, ok = pred.outputs, pred.labels, pred.frame, pred.ok
    n_bad, skipped = pred.n_failed, pred.skipped_text(frame.index)
    report = sys.stdout if args.out else sys.stderr
    for note in pred.notes:
        print(f"note: {note}", file=report)
    if args.out:
        with atomic_open(args.out, "w") as handle:
            result.to_csv(handle, index=False)
        print(f"wrote {n_rows - n_bad} predictions to {args.out}{skipped}", file=report)
    else:
        result.to_csv(sys.stdout, index=False)
        if skipped:
            print(f"{n_rows - n_bad} of {n_rows} rows predicted{skipped}", file=report)

    # When the file still has the target column(s), say how well the model did on it.
    if ok.any() and all(name in frame.columns for name in pre.target_names):
        sub = frame[ok]
        shown_values = labels[ok]
        print(_score_line(pre, sub, A[ok], shown_values, str(args.data)), file=report)
    return 0


def _score_line(pre: Any, frame: Any, A: np.ndarray, values: np.ndarray, source: str) -> str:
    """Accuracy (classes) or RMSE in the target's own units (values) on a labelled file."""

    from bpstudio.data import DataError

    if pre.classes:
        labelled = frame[pre.target_names[0]].notna().to_numpy()  # score the rows with a label
        if not labelled.any():
            return f"no accuracy: the target column of {source} is empty"
        try:
            Y = pre.encode_targets(frame[labelled], source=source)
        except DataError as exc:
            return f"no accuracy: {_one_line(exc)}"
        return f"accuracy on {source}: {_accuracy(A[labelled], Y):.1%} of {len(Y)} rows"
    from bpstudio.data.table import to_numbers

    truth = np.column_stack([to_numbers(frame[name]).to_numpy(float) for name in pre.target_names])
    pred = np.asarray(values, dtype=float).reshape(truth.shape)
    ok = np.isfinite(truth).all(axis=1)
    if not ok.any():
        return f"no RMSE: the target column(s) of {source} hold no numbers"
    rmse = np.sqrt(np.mean((pred[ok] - truth[ok]) ** 2, axis=0))
    parts = [f"{name} {r:.4g}" for name, r in zip(pre.target_names, rmse, strict=True)]
    return f"RMSE on {source} ({int(ok.sum())} rows): " + ", ".join(parts)


# ------------------------------------------------------------------------- datasets / gradcheck


def cmd_datasets(args: argparse.Namespace) -> int:
    from bpstudio.data import BUILTIN_DATASETS

    width = max(len(name) for name in BUILTIN_DATASETS) + len("builtin:")
    for name, spec in BUILTIN_DATASETS.items():
        print(
            f"{'builtin:' + name:<{width}}  {spec.task:<14}  {spec.n_samples:>5} rows  "
            f"{spec.description}"
        )
    return 0


def _gradcheck_targets(output: str, loss: str, n: int, k: int, rng: np.random.Generator):
    if output == "softmax":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if output == "sigmoid":
        if loss == "cross_entropy":
            return rng.integers(0, 2, size=(n, k)).astype(float)
        return rng.uniform(0, 1, size=(n, k))
    if output == "tanh":
        return rng.uniform(-0.9, 0.9, size=(n, k))
    return rng.normal(size=(n, k))


def _gradcheck_one(
    sizes: list[int], activation: Any, output: str, loss: str, args: argparse.Namespace
) -> Any:
    from bpstudio.engine import Network, gradient_check

    net = Network(sizes, activation=activation, output=output, loss=loss, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    X = rng.normal(size=(args.samples, sizes[0]))
    Y = _gradcheck_targets(output, loss, args.samples, sizes[-1], rng)
    return gradient_check(net, X, Y, eps=args.eps)


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from bpstudio.engine import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, compatible_losses

    sizes = list(args.sizes)
    if len(sizes) < 2:
        raise CLIError("--sizes needs at least an input and an output layer, e.g. 2,5,3")
    if args.output == "softmax" and sizes[-1] < 2:
        raise CLIError("a softmax output needs at least 2 units (last of --sizes)")
    # Two forward passes per parameter: the cost is parameters × samples. Keep it to seconds.
    from bpstudio.engine.validate import network_params

    n_params = network_params(sizes)
    if n_params > GRADCHECK_MAX_PARAMS or args.samples > GRADCHECK_MAX_SAMPLES:
        raise CLIError(
            f"gradcheck perturbs every parameter: {n_params:,} parameters × {args.samples:,} "
            f"samples is too much; keep to {GRADCHECK_MAX_PARAMS:,} parameters and "
            f"{GRADCHECK_MAX_SAMPLES:,} samples (e.g. --sizes 2,5,3 --samples 4)"
        )
    if args.all:
        failures = 0
        worst = 0.0
        n = 0
        print(f"gradient check, all combinations on {'-'.join(map(str, sizes))}, tol {args.tol:g}")
        for act in _names(HIDDEN_ACTIVATIONS):
            for output in _names(OUTPUT_ACTIVATIONS):
                if output == "softmax" and sizes[-1] < 2:
                    continue
                for loss in compatible_losses(output):
                    result = _gradcheck_one(sizes, act, output, loss, args)
                    ok = result.max_error <= args.tol
                    failures += not ok
                    worst = max(worst, result.max_error)
                    n += 1
                    flag = "ok" if ok else "FAIL"
                    print(f"  {act:<11} {output:<8} {loss:<14} {result.max_error:.2e}  {flag}")
        print(f"{n - failures}/{n} passed, worst relative error {worst:.2e}")
        return 1 if failures else 0

    result = _gradcheck_one(sizes, args.activation, args.output, args.loss, args)
    act = ",".join(args.activation) if isinstance(args.activation, list) else args.activation
    print(
        f"gradient check: {'-'.join(map(str, sizes))}, {act} hidden, {args.output} output, "
        f"{args.loss} loss, {args.samples} samples, eps {args.eps:g}, float64"
    )
    for name, error in result.errors.items():
        print(f"  {name:<4} relative error {error:.2e}")
    ok = result.max_error <= args.tol
    verdict = "OK" if ok else "FAILED"
    print(f"max relative error {result.max_error:.2e} (tolerance {args.tol:g}): {verdict}")
    return 0 if ok else 1


# --------------------------------------------------------------------------------- export / info


def cmd_export(args: argparse.Namespace) -> int:
    from bpstudio.io import load_model, save_model
    from bpstudio.io.project_file import is_project_path

    if is_project_path(args.model):
        check_outputs({"EXP": args.model}, {"OUT": args.out})
        return _export_run(args)
    if args.run is not None:
        raise CLIError(f"{args.model}: --run picks a run of a project (EXP.bpstudio)")
    check_outputs({"MODEL": args.model}, {"OUT": args.out})
    model = load_model(args.model)
    # Copy the stored preprocessor dict as is, so nothing is lost in a round trip.
    pre = model.metadata.get("preprocessor")
    path = save_model(args.out, model.net, pre, extra=model.metadata.get("extra"))
    if path.suffix.lower() == ".py":
        print(f"wrote {path} and {path.with_suffix('.safetensors').name} (PyTorch code; "
              f"run: python {path.name} new.csv --out predictions.csv)")  # fmt: skip
        return 0
    print(f"wrote {path}")
    return 0


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from bpstudio import desktop_entry

    root = desktop_entry.data_home()
    if args.uninstall:
        removed = desktop_entry.uninstall(root)
        if not removed:
            print(f"nothing to remove: no {desktop_entry.DESKTOP_FILE} or icons under {root}")
        for path in removed:
            print(f"removed {path}")
        return 0
    written = desktop_entry.install(root)
    print(f"wrote {written[0]}")
    print(f"wrote {len(written) - 1} icons under {root / 'icons' / 'hicolor'}")
    print(
        "Backprop Studio is now in your desktop's launcher ('bpstudio install-desktop "
        "--uninstall' removes it)"
    )
    return 0


def _open_project(path: str) -> Any:
    from bpstudio.session import Session

    if not Path(path).exists():
        raise CLIError(f"{path}: no such project file")
    return Session.open(path)


def _export_run(args: argparse.Namespace) -> int:
    """``export EXP.bpstudio MODEL --run N``: run N's final weights and preprocessor."""
    from bpstudio.io import save_model

    session = _open_project(args.model)
    n_runs = len(session.runs)
    if n_runs == 0:
        raise CLIError(f"{args.model}: the project has no runs to export")
    if args.run is None:
        if n_runs > 1:
            raise CLIError(f"{args.model}: which run? give --run N (1 to {n_runs})")
        number = 1
    else:
        number = args.run
    if number > n_runs:
        raise CLIError(f"{args.model}: no run {number}; the project has {n_runs} run(s)")
    run = session.run_number(number)
    if run.params is None:
        raise CLIError(f"{args.model}: run {number} ({run.name}) has no trained weights")
    extra = dict(run.summary) or {"epochs": run.epochs, "stop_reason": str(run.stop_reason)}
    extra.update({"project": str(args.model), "run": number, "run_name": run.name})
    path = save_model(args.out, run.network(), run.preprocessor, extra=extra)
    print(f"wrote run {number} ({run.name}) to {path}")
    return 0


def _fmt_figure(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.4g}"


def cmd_runs(args: argparse.Namespace) -> int:
    from bpstudio.session import runs_table, write_history_csv

    check_outputs({"EXP": args.project}, {"--csv": args.csv})
    session = _open_project(args.project)
    for row in runs_table(session.runs):
        score = (
            f"val RMSE {_fmt_figure(row['val_rmse'])}"
            if row["val_accuracy"] is None and row["val_rmse"] is not None
            else f"val accuracy {_fmt_figure(row['val_accuracy'], percent=True)}"
        )
        print(
            f"{row['number']}  {row['name']}  {row['network']}  {row['optimizer']}  "
            f"α {row['lr']:g}  batch {row['batch_size']}  {row['epochs']} epochs  "
            f"train loss {_fmt_figure(row['train_loss'])}  "
            f"val loss {_fmt_figure(row['val_loss'])}  {score}"
            + (f"  parent {row['parent']}" if row["parent"] else "")
        )
    if not session.runs:
        print(f"{args.project}: no runs yet", file=sys.stderr)
    if args.csv:
        write_history_csv(args.csv, session.runs)
        print(f"wrote the history of {len(session.runs)} run(s) to {args.csv}", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from bpstudio.io import load_model

    model = load_model(args.model)
    cfg = model.net.config()
    acts = cfg.get("activations") or []

    def listed(values: Any, limit: int = 20) -> str:
        values = [printable(v, 60) for v in values]
        more = f", … ({len(values)} in all)" if len(values) > limit else ""
        return ", ".join(values[:limit]) + more

    def say(line: str) -> None:
        print(printable(line, 2000))  # text from the file: no terminal escapes, bounded

    say(f"{args.model}: {model.format}, format version {model.metadata.get('format_version')}")
    say(
        f"network {'-'.join(map(str, cfg['sizes']))}, hidden {listed(acts) or '-'}, "
        f"output {cfg.get('output')}, loss {cfg.get('loss')}, {cfg.get('dtype')}"
    )
    if model.classes:
        say(f"classes: {listed(model.classes)}")
    extra = model.extra
    if extra.get("feature_names"):
        say(f"features: {listed(extra['feature_names'])}")
    figures = [
        f"{key} {extra[key]:.4g}"
        for key in ("train_loss", "val_loss")
        if isinstance(extra.get(key), (int, float))
    ]
    if isinstance(extra.get("val_accuracy"), (int, float)):
        figures.append(f"val_accuracy {extra['val_accuracy']:.1%}")
    rmse, names = extra.get("val_rmse"), extra.get("target_names")
    if isinstance(rmse, list) and names and len(rmse) == len(names) and None not in rmse:
        figures.append(f"val RMSE {_fmt_rmse([printable(n, 40) for n in names], rmse)}")
    if figures:
        say("trained: " + ", ".join(figures) + f", {extra.get('epochs')} epochs")
    return 0


# ----------------------------------------------------------------------------------------- main


#: An error line quotes at most this many characters (a hostile file may hold megabytes).
MAX_ERROR_CHARS = 400


def _one_line(exc: BaseException) -> str:
    raw = str(exc)
    if isinstance(exc, OSError) and exc.strerror:  # "[Errno 28] …: '/dev/full'" → "/dev/full: …"
        what = exc.strerror[0].lower() + exc.strerror[1:]
        raw = f"{exc.filename}: {what}" if exc.filename else what
    if len(raw) > 8 * MAX_ERROR_CHARS:
        raw = raw[: 8 * MAX_ERROR_CHARS]
    text = " ".join(raw.split()) or type(exc).__name__
    return printable(text, MAX_ERROR_CHARS)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them doesn't exist yet: compare where they would be
        return a.resolve() == b.resolve()


def check_outputs(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    """Refuse a command whose output file is one of its inputs or another output.

    ``inputs`` / ``outputs`` map the option's name (as the user typed it: "DATA", "--out") to a
    path, or None when not given; ``builtin:NAME`` inputs are not files. Every command that
    writes a file calls this before reading or writing anything.
    """
    ins = [(k, Path(v)) for k, v in inputs.items() if v and not str(v).startswith("builtin:")]
    outs = [(k, Path(v)) for k, v in outputs.items() if v]
    for i, (name, path) in enumerate(outs):
        for other, src in ins:
            if _same_file(path, src):
                raise CLIError(
                    f"{name} {printable(path, 120)} is the same file as {other}; writing it "
                    "would destroy the input — choose another output path"
                )
        for other, dst in outs[:i]:
            if _same_file(path, dst):
                raise CLIError(
                    f"{name} and {other} are the same file ({printable(path, 120)}); "
                    "give each output its own path"
                )


def _user_errors() -> tuple[type[BaseException], ...]:
    # BPStudioError covers DataError, EngineError, ModelFileError and CLIError; the imports
    # below only make sure each package's error is a subclass even if one fails to import.
    errors: list[type[BaseException]] = [BPStudioError, CLIError, OSError]
    with contextlib.suppress(ImportError):
        from bpstudio.data import DataError

        errors.append(DataError)
    with contextlib.suppress(ImportError):
        from bpstudio.engine import EngineError

        errors.append(EngineError)
    from bpstudio.io import ModelFileError

    errors.append(ModelFileError)
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bpstudio`` script and ``python -m bpstudio``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].lower().endswith(".bpstudio"):  # `bpstudio EXP.bpstudio` opens it
        argv = ["gui", *argv]
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(_one_line(exc), file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        args.dataset = None
        args.func = cmd_gui
    try:
        with _terminate_as_exit(args.func is not cmd_gui), _quiet_numerics():
            return int(args.func(args))
    except BrokenPipeError:  # e.g. `bpstudio predict … | head`: stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _user_errors() as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            f"{PROG}: error: out of memory; use a smaller network, batch or dataset",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return 143


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``finally`` blocks (temp files) run."""


@contextlib.contextmanager
def _terminate_as_exit(enabled: bool) -> Iterator[None]:
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _quiet_numerics() -> Iterator[None]:
    """Overflow/invalid values are checked and reported by name where they matter (prepare,
    validate, the divergence detector); NumPy's RuntimeWarnings next to that line only confuse."""
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
