"""Lesson files: the preset, the steps and their conditions; bad files refused with the reason."""

from __future__ import annotations

import re

import pytest

from bpstudio.data import make_builtin
from bpstudio.engine import HIDDEN_ACTIVATIONS, INITIALIZERS, LOSSES, OUTPUT_ACTIVATIONS
from bpstudio.session.lessons import (
    LessonError,
    bundled_lessons,
    load_lesson,
    parse_condition,
    parse_lesson,
)

MINIMAL = """+++
title = "T"
[dataset]
name = "xor"
+++
## First
Do a thing.
<!-- when: runs >= 1 and changed lr -->
## Second
Read this.
"""


def test_bundled_lessons_load_and_their_presets_are_valid() -> None:
    lessons = bundled_lessons()
    assert len(lessons) >= 6
    titles = " ".join(lesson.title.lower() for lesson in lessons)
    for topic in ("xor", "learning rate", "vanishing", "cross-entropy", "bp1", "overfitting"):
        assert topic in titles
    for lesson in lessons:
        assert lesson.steps and any(s.when for s in lesson.steps), lesson.title
        make_builtin(lesson.dataset["name"], **lesson.dataset_params)  # the dataset exists
        net = lesson.network
        assert set(net.get("activations", [])) <= set(HIDDEN_ACTIVATIONS)
        assert len(net.get("activations", [])) == len(net.get("hidden", []))
        assert net.get("output", "softmax") in OUTPUT_ACTIVATIONS
        assert net.get("loss", "cross_entropy") in LOSSES
        assert net.get("init", "xavier_uniform") in INITIALIZERS
        for step in lesson.steps:
            assert "<!--" not in step.text


def test_parse_minimal_lesson() -> None:
    lesson = parse_lesson(MINIMAL, "t.md")
    assert lesson.title == "T" and lesson.dataset_source == "builtin:xor"
    first, second = lesson.steps
    assert first.title == "First" and first.text == "Do a thing."
    assert not second.when
    assert not first.done({"runs": 1, "lr": 0.1}, {"runs": 0, "lr": 0.1})  # lr unchanged
    assert first.done({"runs": 1, "lr": 0.2}, {"runs": 0, "lr": 0.1})
    assert not first.done({"runs": 0, "lr": 0.2}, {"runs": 0, "lr": 0.1})


@pytest.mark.parametrize(
    ("text", "facts", "expected"),
    [
        ("activation == relu", {"activation": "relu"}, True),
        ("activation == relu", {"activation": "tanh"}, False),
        ("early_stopping == true", {"early_stopping": True}, True),
        ("early_stopping == true", {"early_stopping": False}, False),
        ("lr >= 5", {"lr": 20.0}, True),
        ("lr >= 5", {"lr": 0.1}, False),
        ("last_val_accuracy >= 0.9", {"last_val_accuracy": None}, False),
        ("last_stop_reason == early_stopped", {"last_stop_reason": "early_stopped"}, True),
        ("hidden_layers != 0", {"hidden_layers": 2}, True),
    ],
)
def test_conditions(text: str, facts: dict, expected: bool) -> None:
    assert all(c.holds(facts, {}) for c in parse_condition(text)) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title = 'x'\n", "starts with a '+++'"),
        ("+++\ntitle = 'x'\n## a\n", "no closing"),
        ("+++\ntitle = [\n+++\n## a\n", "not valid TOML"),
        ("+++\ntitle = 'x'\ncolour = 1\n+++\n## a\n", "unknown preset key"),
        ("+++\n+++\n## a\n", "needs a title"),
        ("+++\ntitle = 'x'\n+++\nno steps here\n", "no steps"),
        ("+++\ntitle = 'x'\n+++\n## a\n<!-- when: runz >= 1 -->\n", "unknown fact 'runz'"),
        ("+++\ntitle = 'x'\n+++\n## a\n<!-- when: runs >= many -->\n", "not a number"),
        ("+++\ntitle = 'x'\n+++\n## a\n<!-- when: __import__('os') -->\n", "can't read"),
        ("+++\ntitle = 'x'\ntab = 'nowhere'\n+++\n## a\n", "tab = 'nowhere'"),
    ],
)
def test_bad_lessons_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(LessonError, match=re.escape(message)):
        parse_lesson(text, "bad.md")


def test_load_lesson_from_a_file(tmp_path) -> None:
    p = tmp_path / "mine.md"
    p.write_text(MINIMAL, encoding="utf-8")
    assert load_lesson(p).title == "T"
    with pytest.raises(LessonError, match="does not exist"):
        load_lesson(tmp_path / "missing.md")
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(LessonError):
        load_lesson(tmp_path / "bin.md")
