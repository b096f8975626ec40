"""Training panel: the learning-rate spin box's range and its stepping."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox

from bpstudio.ui.training_panel import LR_RANGE, TrainingPanel


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
