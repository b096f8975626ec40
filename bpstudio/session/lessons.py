"""Lessons: guided experiments as plain files a teacher can write.

A lesson is one Markdown file. It opens with a TOML preset between ``+++`` lines — the dataset,
the network, the training settings, the tab to show and the controls to hide — and each ``## ``
section after it is one step: what to do and what to look for. A step may end with a condition
in an HTML comment, ``<!-- when: runs >= 1 and hidden_layers >= 1 -->``; the lesson panel moves
on when it holds (a step without one waits for Next). Example::

    +++
    title = "XOR needs a hidden layer"
    tab = "surface"
    hide = ["optimizerCombo"]
    [dataset]
    name = "xor"
    [network]
    hidden = []
    [training]
    lr = 0.01
    +++
    ## Train it as it is
    Press **Train** and watch the decision surface.
    <!-- when: runs >= 1 -->

Conditions are clauses joined by ``and``: ``FACT OP VALUE`` (``== != >= <= > <``; VALUE a number,
``true``/``false``, or a word or quoted text) or ``changed FACT`` (differs from when the step
began). Facts are what the window reports (``FACTS`` lists them); an unknown fact is an error at
load time, so a typo in a teacher's file is caught when it opens, not in front of a class.
Nothing here is evaluated as Python.

Leaves out: branching lessons, quizzes, and anything that needs Qt (``bpstudio.ui.lesson_panel``
shows a lesson; the window applies its preset).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bpstudio.errors import BPStudioError

#: What a condition may ask about; the window fills these in (see ``MainWindow.lesson_facts``).
FACTS: dict[str, str] = {
    "runs": "runs finished since the lesson started",
    "hidden_layers": "number of hidden layers",
    "hidden_units": "units in the first hidden layer (0 without one)",
    "activation": "the hidden layers' activation ('mixed' when they differ, 'none')",
    "output": "the output activation",
    "loss": "the loss",
    "init": "the initialiser",
    "lr": "the learning rate α as set",
    "optimizer": "the optimiser",
    "batch_size": "the mini-batch size",
    "early_stopping": "early stopping on or off",
    "dataset": "the dataset's name",
    "tab": "the view tab on screen (surface, network, trace, weights, accuracy)",
    "epochs_trained": "epochs trained on the current weights",
    "steps_trained": "mini-batch steps trained on the current weights",
    "last_stop_reason": "how the last run ended (finished, stopped, early_stopped, diverged)",
    "last_train_loss": "the last run's final training loss",
    "last_val_loss": "the last run's final validation loss",
    "last_val_accuracy": "the last run's final validation accuracy, 0…1",
    "last_loss_rose": "true when the last run ended with a higher loss than it started",
}
TABS = ("surface", "network", "trace", "weights", "accuracy")
PRESET_KEYS = {"title", "summary", "tab", "hide", "dataset", "network", "training"}
_OPS = ("==", "!=", ">=", "<=", ">", "<")
_WHEN = re.compile(r"<!--\s*when:\s*(.*?)\s*-->", re.S)
MAX_LESSON_BYTES = 256 * 1024


class LessonError(BPStudioError):
    """A lesson file that can't be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Clause:
    fact: str
    op: str  # one of _OPS, or "changed"
    value: Any = None

    def holds(self, facts: dict[str, Any], start: dict[str, Any]) -> bool:
        have = facts.get(self.fact)
        if self.op == "changed":
            return have != start.get(self.fact)
        if have is None:
            return False
        want = self.value
        if isinstance(want, bool) or isinstance(have, bool):
            ok = {"==": bool(have) == bool(want), "!=": bool(have) != bool(want)}
            return ok.get(self.op, False)
        if isinstance(want, float):
            try:
                x = float(have)
            except (TypeError, ValueError):
                return False
            if not math.isfinite(x):
                return self.op == "!="
            return {
                "==": math.isclose(x, want, rel_tol=1e-9, abs_tol=1e-12),
                "!=": not math.isclose(x, want, rel_tol=1e-9, abs_tol=1e-12),
                ">=": x >= want,
                "<=": x <= want,
                ">": x > want,
                "<": x < want,
            }[self.op]
        return {"==": str(have) == want, "!=": str(have) != want}.get(self.op, False)


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Markdown, without the condition comment
    when: tuple[Clause, ...] = ()

    def done(self, facts: dict[str, Any], start: dict[str, Any]) -> bool:
        """True when every clause holds (a step with no condition is never done by itself)."""
        return bool(self.when) and all(c.holds(facts, start) for c in self.when)


@dataclass(frozen=True)
class Lesson:
    title: str
    steps: tuple[Step, ...]
    summary: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    tab: str | None = None
    hide: tuple[str, ...] = ()
    source: str = ""

    @property
    def dataset_source(self) -> str | None:
        name = self.dataset.get("name")
        return f"builtin:{name}" if name else None

    @property
    def dataset_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.dataset.items() if k != "name"}


def parse_condition(text: str, where: str = "lesson") -> tuple[Clause, ...]:
    """``"runs >= 1 and changed lr"`` → clauses; raises LessonError on anything else."""
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()):
        part = part.strip()
        if not part:
            raise LessonError(f"{where}: an empty clause in 'when: {text}'")
        m = re.fullmatch(r"changed\s+(\w+)", part)
        if m:
            clauses.append(Clause(_fact(m.group(1), where), "changed"))
            continue
        m = re.fullmatch(r"(\w+)\s*(==|!=|>=|<=|>|<)\s*(.+)", part)
        if not m:
            raise LessonError(
                f"{where}: can't read the condition '{part}'; write FACT OP VALUE, e.g. runs >= 1"
            )
        fact, op, raw = _fact(m.group(1), where), m.group(2), m.group(3).strip()
        clauses.append(Clause(fact, op, _value(raw, op, where)))
    return tuple(clauses)


def _fact(name: str, where: str) -> str:
    if name not in FACTS:
        raise LessonError(f"{where}: unknown fact '{name}'; known: {', '.join(FACTS)}")
    return name


def _value(raw: str, op: str, where: str) -> Any:
    low = raw.lower()
    if low in ("true", "false", "on", "off"):
        if op not in ("==", "!="):
            raise LessonError(f"{where}: true/false can only be compared with == or !=")
        return low in ("true", "on")
    try:
        return float(raw)
    except ValueError:
        pass
    if op not in ("==", "!="):
        raise LessonError(f"{where}: '{raw}' is not a number, so only == and != apply")
    return raw.strip("'\"")


def parse_lesson(text: str, source: str = "lesson") -> Lesson:
    """A lesson from its file's text (see the module docstring for the format)."""
    where = Path(source).name if source else "lesson"
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "+++":
        raise LessonError(f"{where}: a lesson starts with a '+++' line, then its preset in TOML")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise LessonError(f"{where}: the preset has no closing '+++' line") from None
    try:
        preset = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{where}: the preset is not valid TOML ({exc})") from None
    unknown = set(preset) - PRESET_KEYS
    if unknown:
        raise LessonError(
            f"{where}: unknown preset key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(PRESET_KEYS))}"
        )
    title = preset.get("title")
    if not isinstance(title, str) or not title.strip():
        raise LessonError(f'{where}: the preset needs a title = "…"')
    for key in ("dataset", "network", "training"):
        if not isinstance(preset.get(key, {}), dict):
            raise LessonError(f"{where}: [{key}] must be a table")
    tab = preset.get("tab")
    if tab is not None and tab not in TABS:
        raise LessonError(f"{where}: tab = '{tab}'; choose one of {', '.join(TABS)}")
    hide = preset.get("hide", [])
    if not (isinstance(hide, list) and all(isinstance(h, str) for h in hide)):
        raise LessonError(f"{where}: hide must be a list of control names")
    steps = _steps("\n".join(lines[end + 1 :]), where)
    return Lesson(
        title=title.strip(),
        summary=str(preset.get("summary", "")),
        steps=steps,
        dataset=dict(preset.get("dataset", {})),
        network=dict(preset.get("network", {})),
        training=dict(preset.get("training", {})),
        tab=tab,
        hide=tuple(hide),
        source=source,
    )


def _steps(body: str, where: str) -> tuple[Step, ...]:
    parts = re.split(r"^## +(.+)$", body, flags=re.M)
    steps = []
    for i in range(1, len(parts), 2):
        title, text = parts[i].strip(), parts[i + 1]
        whens = _WHEN.findall(text)
        if len(whens) > 1:
            raise LessonError(f"{where}: step '{title}' has more than one 'when:'")
        when = parse_condition(whens[0], f"{where}, step '{title}'") if whens else ()
        steps.append(Step(title, _WHEN.sub("", text).strip(), when))
    if not steps:
        raise LessonError(f"{where}: no steps; each step is a '## Title' section")
    return tuple(steps)


def load_lesson(path: str | Path) -> Lesson:
    p = Path(path)
    try:
        if not p.is_file():
            raise LessonError(f"{p.name}: not a lesson file (it does not exist or is a folder)")
        if p.stat().st_size > MAX_LESSON_BYTES:
            raise LessonError(f"{p.name}: too large for a lesson ({p.stat().st_size} bytes)")
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LessonError(f"{p.name}: a lesson is UTF-8 text") from None
    except OSError as exc:
        raise LessonError(f"{p.name}: can't be read ({exc.strerror or exc})") from None
    return parse_lesson(text, str(p))


def bundled_lessons() -> list[Lesson]:
    """The lessons that ship with Backprop Studio, in file-name order."""
    folder = resources.files("bpstudio.resources") / "lessons"
    out = []
    if folder.is_dir():
        for item in sorted(folder.iterdir(), key=lambda t: t.name):
            if item.name.endswith(".md"):
                out.append(parse_lesson(item.read_text(encoding="utf-8"), item.name))
    return out


__all__ = [
    "FACTS",
    "Clause",
    "Lesson",
    "LessonError",
    "Step",
    "bundled_lessons",
    "load_lesson",
    "parse_condition",
    "parse_lesson",
]
