"""Training panel: the learning-rate spin box's range and its stepping."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox

from bpstudio.ui.training_panel import DEFAULT_PACE, LR_RANGE, PACES, TrainingPanel


@pytest.fixture
def panel(qtbot) -> TrainingPanel:
    p = TrainingPanel()
    qtbot.addWidget(p)
    return p


def test_learning_rate_can_be_set_high_enough_to_diverge(panel: TrainingPanel, qtbot) -> None:
    spin = panel.findChild(QDoubleSpinBox, "learningRateSpin")
    assert spin.maximum() == LR_RANGE[1] == 1000.0
    assert "1000" in spin.toolTip()  # the limit is stated, not a silent clamp
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "50")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert panel.learning_rate() == 50.0
    assert panel.fit_config()["lr"] == 50.0


@pytest.mark.parametrize(
    ("value", "up", "down"),
    [(0.1, 0.11, 0.099), (0.001, 0.0011, 0.00099), (10.0, 11.0, 9.9), (1000.0, 1000.0, 990.0)],
)
def test_learning_rate_steps_by_its_order_of_magnitude(
    panel: TrainingPanel, value: float, up: float, down: float
) -> None:
    spin = panel.lr_spin
    spin.setValue(value)
    spin.stepUp()
    assert spin.value() == pytest.approx(up)
    spin.setValue(value)
    spin.stepDown()
    assert spin.value() == pytest.approx(down)


# ----------------------------------------------------------------- speed (pace)


def test_speed_slider_is_a_log_scale_from_one_step_to_full_speed(panel: TrainingPanel, qtbot):
    from PySide6.QtWidgets import QLabel, QSlider

    slider = panel.findChild(QSlider, "speedSlider")
    label = panel.findChild(QLabel, "speedLabel")
    assert panel.pace() == DEFAULT_PACE and label.text() == "100 steps/s"
    seen: list = []
    panel.paceChanged.connect(seen.append)
    slider.setValue(slider.minimum())
    assert panel.pace() == 1.0 and label.text() == "1 step/s"
    slider.setValue(slider.maximum())
    assert panel.pace() is None and label.text() == "full speed"
    assert seen == [1.0, None]
    # a decade per 10 positions: equal ratios between neighbours
    ratios = [b / a for a, b in zip(PACES, PACES[1:], strict=False)]
    assert min(ratios) > 1.2 and max(ratios) < 1.32
    assert PACES[0] == 1.0 and PACES[-1] == 1000.0
    slider.setValue(11)
    assert label.text() == "12.5 steps/s"


def test_pace_is_saved_with_the_settings(panel: TrainingPanel, qtbot):
    panel.set_pace(12.5)
    saved = panel.settings()
    assert saved["pace"] == 12.5
    other = TrainingPanel()
    qtbot.addWidget(other)
    other.apply_settings(json.loads(json.dumps(saved)))
    assert other.pace() == 12.5
    other.apply_settings({**saved, "pace": None})
    assert other.pace() is None and other.speed_label.text() == "full speed"
    other.apply_settings({"pace": -3})  # a broken file: the default pace
    assert other.pace() == DEFAULT_PACE


def test_speed_stays_live_during_a_run(panel: TrainingPanel):
    panel.set_state("running")
    assert panel.speed_slider.isEnabled()
    assert not panel.batch_spin.isEnabled()
