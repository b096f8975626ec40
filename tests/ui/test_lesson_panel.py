"""The lesson panel advances when the person does what a step says, and Back/Next always work."""

from __future__ import annotations

from bpstudio.session.lessons import parse_lesson
from bpstudio.ui.lesson_panel import LessonPanel

LESSON = """+++
title = "Demo"
+++
## Train
<!-- when: runs >= 1 -->
## Add a layer
<!-- when: hidden_layers >= 1 and changed hidden_layers -->
## Read
Just read.
## Finish
<!-- when: runs >= 2 -->
"""


def test_steps_advance_with_the_facts(qtbot) -> None:
    panel = LessonPanel()
    qtbot.addWidget(panel)
    panel.set_lesson(parse_lesson(LESSON), {"runs": 0, "hidden_layers": 0})
    assert panel.index == 0 and "Step 1 of 4" in panel.progress_label.text()
    assert "runs finished" in panel.waiting_label.text()
    panel.update_facts({"runs": 0, "hidden_layers": 1})
    assert panel.index == 0  # not what step 1 asked for
    panel.update_facts({"runs": 1, "hidden_layers": 0})
    assert panel.index == 1 and panel.step_done(0)
    # 'changed' compares with the facts when the step began, so an edit is needed
    panel.update_facts({"runs": 1, "hidden_layers": 0})
    assert panel.index == 1
    panel.update_facts({"runs": 1, "hidden_layers": 1})
    assert panel.index == 2  # a reading step waits for Next
    panel.update_facts({"runs": 2, "hidden_layers": 1})
    assert panel.index == 2
    panel.next_button.click()
    assert panel.index == 3
    with qtbot.waitSignal(panel.lessonCompleted, timeout=1000):
        panel.update_facts({"runs": 2, "hidden_layers": 1})
    assert panel.completed() and "complete" in panel.waiting_label.text()
    panel.back_button.click()
    assert panel.index == 2 and panel.back_button.isEnabled()
    with qtbot.waitSignal(panel.closed, timeout=1000):
        panel.close_button.click()
