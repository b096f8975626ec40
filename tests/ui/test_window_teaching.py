"""The teaching widgets and lessons inside the main window (offscreen).

The backprop inspector is the trace tab and lights the diagram; a click on a weight (diagram,
heatmap, image tiles) explains its gradient; the settings and the mini-batch reach the inspector;
the saturation and gradient-check tabs beside the gradient norms are fed only when visible and at
most ~4 times a second, the last weights always arriving; image-like inputs show images. Lessons:
each bundled one applies its preset; steps advance when the test does what they say; hidden
controls come back when the lesson closes.
"""

# ruff: noqa: F811 - the fixtures of test_main_window are imported, then requested by name

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel, QMenu, QPushButton, QWidget

from bpstudio.data import DatasetOptions
from bpstudio.engine.diagnostics import activation_diagnostics
from bpstudio.engine.stages import BP2
from bpstudio.session.lessons import FACTS, bundled_lessons
from bpstudio.ui import dialogs
from bpstudio.ui.main_window import TEACH_INTERVAL
from tests.ui.test_main_window import (  # noqa: F401 - fixtures
    TIMEOUT,
    _small_run,
    window,
)

LESSONS = bundled_lessons()


def _tab(w, key: str) -> None:
    w.set_current_tab(key)


def test_automation_contract_of_the_teaching_widgets(window):
    w = window
    for name in (
        "backpropInspector",
        "inspectorNextButton",
        "inspectorBackButton",
        "inspectorStage",
        "gradientCheckPanel",
        "gradientCheckButton",
        "gradientCheckVerdict",
        "activationDiagnostics",
        "networkEdgeCombo",
        "lessonPanel",
        "confusionMatrix",
        "speedSlider",
    ):
        assert len(w.findChildren(QWidget, name)) == 1, name  # there, and only once
    assert w.findChild(QMenu, "lessonsMenu") is not None
    assert w.view_tabs.tabText(w._tab_keys.index("trace")) == "Backprop inspector"


def test_inspector_stages_light_the_diagram_and_next_back_returns(qtbot, window):
    w = window
    _tab(w, "trace")
    insp = w.inspector
    qtbot.waitUntil(lambda: insp.walk is not None, timeout=TIMEOUT)
    start = insp.state()
    qtbot.mouseClick(w.findChild(QPushButton, "inspectorNextButton"), Qt.MouseButton.LeftButton)
    assert insp.stage == 1
    assert w.network_view.highlight == insp.highlight() and w.network_view.highlight
    assert w.findChild(QLabel, "inspectorStage").text() == insp.current.title
    qtbot.mouseClick(w.findChild(QPushButton, "inspectorBackButton"), Qt.MouseButton.LeftButton)
    assert insp.state() == start
    # a BP2 stage: the diagram's highlight names the layer written and the direction
    insp.set_stage(next(i for i, s in enumerate(insp.walk.stages) if s.kind == BP2))
    h = w.network_view.highlight
    assert h["direction"] == insp.highlight()["direction"] and h["write"] == {insp.current.layer}
    # the inspector's own diagram, in the same tab, follows too and fills the neurons with δ
    assert w.stage_diagram.isVisible() and w.stage_diagram.highlight == h
    assert w.stage_diagram.fill_mode == "delta"
    insp.set_stage(0)
    assert w.stage_diagram.fill_mode == "activation"


def test_a_click_on_a_diagram_link_or_a_heatmap_cell_explains_that_weight(qtbot, window):
    w = window
    _tab(w, "network")
    nv = w.network_view
    qtbot.waitUntil(lambda: bool(nv._pos), timeout=TIMEOUT)
    pj, pk = nv._pos[1][1], nv._pos[0][0]  # unit 2 of layer 2 ← unit 1 of layer 1
    # a point on that link, clear of the neurons, where no other link is nearer
    for f in np.linspace(0.2, 0.8, 25):
        p = QPointF(pk.x() + f * (pj.x() - pk.x()), pk.y() + f * (pj.y() - pk.y()))
        if nv.edge_at(p) == (2, 1, 0):
            break
    else:
        pytest.fail("no point picks the link w²₂₁")
    with qtbot.waitSignal(nv.weightClicked, timeout=TIMEOUT):
        qtbot.mouseClick(nv.canvas, Qt.MouseButton.LeftButton, pos=p.toPoint())
    assert w.current_tab() == "trace" and w.inspector._origin == ("w", 2, 1, 0)
    walk = w.inspector.walk
    # the origin panel names the product a¹₁ · δ²₂ with both numbers
    html = w.inspector.origin_view.toPlainText()
    assert f"{walk.a[1][0]:.4g}"[:5] in html or f"{walk.a[1][0]:.3g}"[:4] in html

    _tab(w, "weights")
    wv = w.weights_view
    wv.set_layer("W3" if "W3" in wv.params else "W2")
    key = wv.current_layer()
    scene = wv.image.mapToScene(QPointF(0.5, 1.5))  # column 0, row 1
    click = type(
        "Click",
        (),
        {"scenePos": lambda self: scene, "button": lambda self: Qt.MouseButton.LeftButton},
    )()
    with qtbot.waitSignal(wv.weightClicked, timeout=TIMEOUT) as sig:
        wv._on_mouse_clicked(click)
    assert sig.args == [int(key[1:]), 1, 0]
    assert w.current_tab() == "trace" and w.inspector._origin == ("w", int(key[1:]), 1, 0)


def test_settings_and_the_mini_batch_reach_the_inspector(qtbot, window):
    w = window
    tp = w.training_panel
    tp.optimizer_combo.setCurrentIndex(tp.optimizer_combo.findData("adam"))
    assert w.inspector.cfg.optimizer == "adam"
    tp.lr_spin.setValue(0.07)
    assert w.inspector.cfg.lr == pytest.approx(0.07)
    tp.batch_spin.setValue(8)
    w.inspector.set_sample_index(13)
    X, _Y, rows = w.inspector._batch
    assert list(rows) == list(range(8, 16))  # the block of 8 that holds sample 14
    np.testing.assert_array_equal(X, w.dataset.X_train[8:16])
    # a validation sample, and Random: the diagram follows the inspected sample
    insp = w.inspector
    insp.split_combo.setCurrentIndex(insp.split_combo.findData("val"))
    insp.set_sample_index(2, "val")
    np.testing.assert_array_equal(insp.sample()[0], w.dataset.X_val[2])
    insp.split_combo.setCurrentIndex(insp.split_combo.findData("train"))
    for _ in range(5):
        qtbot.mouseClick(
            w.findChild(QPushButton, "inspectorRandomButton"), Qt.MouseButton.LeftButton
        )
        assert w.network_view.sample_index == insp.sample_index


def test_diagnostics_are_fed_only_when_visible_throttled_and_get_the_last_weights(qtbot, window):
    w = window
    diag, fed = w.diagnostics, w.throttled[1]
    _small_run(w, epochs=30)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()  # the gradient-norm plot is on top: the diagnostics stay idle
    assert fed.delivered == 0 and diag.diagnostics is None
    w.grad_tabs.setCurrentWidget(diag)
    qtbot.waitUntil(lambda: diag.diagnostics is not None, timeout=TIMEOUT)
    w.training_panel.set_pace(100.0)  # ~1 s of training with snapshots at 10 a second
    _small_run(w, epochs=3)
    before = fed.delivered
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    seconds = w.session.current_run.seconds
    assert fed.delivered - before <= seconds / TEACH_INTERVAL + 2
    batch = w.dataset.X_train[:512], w.dataset.Y_train[:512]

    def final_weights_drawn() -> bool:
        fresh = activation_diagnostics(w.network, *batch)
        got = diag.diagnostics
        return got is not None and np.isclose(got.layers[0].delta_norm, fresh.layers[0].delta_norm)

    qtbot.waitUntil(final_weights_drawn, timeout=TIMEOUT)


def test_gradient_check_tab_checks_the_window_network(qtbot, window):
    w = window
    w.grad_tabs.setCurrentIndex(2)
    gc = w.gradient_check
    qtbot.waitUntil(lambda: gc.net is w.network, timeout=TIMEOUT)
    gc.set_batch_kind("batch")
    qtbot.mouseClick(w.findChild(QPushButton, "gradientCheckButton"), Qt.MouseButton.LeftButton)
    assert gc.report is not None and gc.report.passed
    assert "agree" in w.findChild(QLabel, "gradientCheckVerdict").text().lower()


def _image_csv(tmp_path, side: int = 28, n: int = 60):
    rng = np.random.default_rng(0)
    cls = rng.integers(0, 2, n)
    X = rng.random((n, side * side)) * 0.5
    for i, c in enumerate(cls):
        img = X[i].reshape(side, side)
        if c:
            img[:, side // 2] += 0.5
        else:
            img[side // 2, :] += 0.5
    head = ",".join(f"p{i}" for i in range(side * side)) + ",label"
    lines = [head] + [
        ",".join(f"{v:.3f}" for v in row) + f",{'hv'[c]}" for row, c in zip(X, cls, strict=True)
    ]
    path = tmp_path / "images.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_image_inputs_show_the_sample_as_an_image_and_weight_tiles(qtbot, window, tmp_path):
    w = window
    path = _image_csv(tmp_path)
    with qtbot.waitSignal(w.dataset_panel.datasetChanged, timeout=TIMEOUT):
        w.dataset_panel.open_csv(str(path), options=DatasetOptions())
    assert w.dataset.n_inputs == 784
    _tab(w, "trace")
    qtbot.waitUntil(lambda: w.inspector.walk is not None, timeout=TIMEOUT)
    assert w.inspector.image_label.isVisible()
    _tab(w, "weights")
    wv = w.weights_view
    assert wv.mode_combo.isVisible()
    wv.set_mode("tiles")
    assert wv.tiles.isVisible() and wv.tiles.W.shape == (w.network.sizes[1], 784)
    with qtbot.waitSignal(wv.weightClicked, timeout=TIMEOUT) as sig:
        wv.tiles.weightClicked.emit(2, 0, 29)
    assert sig.args == [2, 0, 29]
    assert w.current_tab() == "trace" and w.inspector._origin == ("w", 2, 0, 29)


# ---------------------------------------------------------------------- lessons
@pytest.mark.parametrize("lesson", LESSONS, ids=[les.title[:24] for les in LESSONS])
def test_each_bundled_lesson_applies_its_preset(window, lesson):
    w = window
    menu = w.findChild(QMenu, "lessonsMenu")
    act = next(a for a in menu.actions() if a.text().endswith(lesson.title))
    edits = w.undo_stack.count()
    act.trigger()
    assert w.lessons.lesson == lesson and w.lessons.dock.isVisible()
    assert w.findChild(QWidget, "lessonPanel").isVisible()
    assert w.dataset.name == lesson.dataset["name"]
    n = lesson.dataset.get("n_samples")
    if n:
        ds = w.dataset
        assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == n
    spec = w.network_editor.spec()
    assert spec.hidden == list(lesson.network["hidden"])
    assert spec.output == lesson.network["output"] and spec.loss == lesson.network["loss"]
    fit = w.training_panel.fit_config()
    for key in ("optimizer", "batch_size", "epochs"):
        if key in lesson.training:
            assert fit[key] == lesson.training[key], key
    assert fit["lr"] == pytest.approx(lesson.training["lr"])
    assert w.current_tab() == lesson.tab
    for name in lesson.hide:
        assert not w.findChild(QWidget, name).isVisible(), name
    facts = w.lesson_facts()
    assert set(facts) == set(FACTS)
    assert w.undo_stack.count() == edits  # the preset is the baseline, not an edit


def _lesson(title_start: str):
    return next(les for les in LESSONS if les.title.startswith(title_start))


def test_xor_lesson_advances_as_the_person_trains_and_adds_a_layer(qtbot, window):
    w = window
    w.lessons.start(_lesson("XOR"))
    panel = w.lessons.panel
    w.training_panel.set_pace(None)  # full speed: the run ends at once
    assert panel.index == 0
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    assert panel.step_done(0) and panel.index == 1
    w.network_editor.add_layer(8, "tanh")  # "add a hidden layer"
    assert panel.step_done(1)
    # hidden controls come back when the lesson closes
    hidden = [w.findChild(QWidget, n) for n in ("scheduleCombo", "earlyStoppingCheck")]
    assert not any(h.isVisible() for h in hidden)
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    assert all(h.isVisible() for h in hidden) and not w.lessons.dock.isVisible()


def test_one_sample_lesson_advances_on_the_tab_a_step_and_a_run(qtbot, window):
    w = window
    _tab(w, "surface")
    lesson = _lesson("One sample")
    w.lessons.start(lesson)
    panel = w.lessons.panel
    _tab(w, "network")
    assert panel.index == 0  # waits for the inspector tab
    _tab(w, "trace")
    assert panel.step_done(0) and panel.index == 1
    while not lesson.steps[panel.index].when:  # reading steps: Next
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    w.training_panel.set_pace(None)
    w.step()  # one mini-batch: steps_trained changes
    qtbot.waitUntil(lambda: panel.index == len(lesson.steps) - 1, timeout=TIMEOUT)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()  # resumes the paused run; it ends after its epochs
    assert panel.completed()


def test_open_lesson_file_through_dialogs(qtbot, window, monkeypatch, tmp_path, errors):
    w = window
    good = tmp_path / "mine.md"
    good.write_text(
        '+++\ntitle = "Mine"\ntab = "network"\nhide = ["optimizerCombo"]\n'
        "[training]\nlr = 0.2\n+++\n## Train\nPress Train.\n<!-- when: runs >= 1 -->\n"
    )
    monkeypatch.setattr(dialogs, "get_open_lesson_path", lambda parent: str(good))
    w.lessons.open_action.trigger()
    assert w.lessons.lesson.title == "Mine" and w.current_tab() == "network"
    assert not w.findChild(QWidget, "optimizerCombo").isVisible()
    bad = tmp_path / "bad.md"
    bad.write_text("+++\ntitle = 'x'\n+++\n## s\n<!-- when: no_such_fact > 1 -->\n")
    monkeypatch.setattr(dialogs, "get_open_lesson_path", lambda parent: str(bad))
    w.lessons.open_action.trigger()
    assert errors and "no_such_fact" in errors[-1][1]
    assert w.lessons.lesson.title == "Mine"  # the running lesson stays


def test_network_edge_combo_shows_gradients_and_updates_in_the_window(qtbot, window):
    w = window
    _tab(w, "network")
    nv = w.network_view
    combo = w.findChild(QWidget, "networkEdgeCombo")
    combo.setCurrentIndex(combo.findData("gradient"))
    x, y = w.inspector.sample()
    np.testing.assert_allclose(nv.edge_matrix(2), w.network.trace(x, y)[2].dW)
    before = w.network.get_params()["W2"].copy()
    _small_run(w, epochs=2)
    with qtbot.waitSignal(w.runEnded, timeout=TIMEOUT):
        w.toggle_training()
    combo.setCurrentIndex(combo.findData("update"))
    qtbot.waitUntil(lambda: nv.edge_matrix(2) is not None, timeout=TIMEOUT)
    # the last change the diagram saw: non-zero, and within the run's total change of W2
    dW = nv.edge_matrix(2)
    assert np.abs(dW).max() > 0
    assert np.abs(dW).max() <= np.abs(w.network.get_params()["W2"] - before).max() * 10 + 1e-12


def test_space_on_the_focused_inspector_plays_the_stages_not_training(qtbot, window):
    w = window
    _tab(w, "trace")
    insp = w.inspector
    qtbot.waitUntil(lambda: insp.walk is not None, timeout=TIMEOUT)
    insp.setFocus()
    qtbot.waitUntil(insp.hasFocus, timeout=TIMEOUT)
    qtbot.keyClick(insp, Qt.Key.Key_Space)
    assert insp.play_button.isChecked() and insp.timer.isActive()
    assert w.state == "idle"  # Space elsewhere trains; here it is the inspector's
    qtbot.keyClick(insp, Qt.Key.Key_Space)
    assert not insp.timer.isActive()


def test_a_lesson_open_at_quit_is_not_restored(qtbot, settings, errors):  # noqa: F811
    from bpstudio.ui import MainWindow

    w = MainWindow(settings=settings)
    w.show()
    w.lessons.start(_lesson("XOR"))
    assert w.lessons.dock.isVisible()
    w.close()
    w2 = MainWindow(settings=settings)
    try:
        w2.show()
        qtbot.waitExposed(w2)
        assert not w2.lessons.dock.isVisible() and w2.lessons.lesson is None
        assert w2.findChild(QWidget, "scheduleCombo").isVisible()
    finally:
        w2.close()
