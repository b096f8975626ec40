"""The backprop inspector: stages in order with the engine's numbers, Next/Back, Play, clicks."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from bpstudio.engine import FitConfig, Network, fit
from bpstudio.ui.backprop_inspector import PLAY_MS, BackpropInspector


def _dataset(n=40, seed=0, k=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float) if k == 1 else np.eye(k)[rng.integers(k, size=n)]
    return SimpleNamespace(
        X_train=X[: n - 10], Y_train=Y[: n - 10], X_val=X[n - 10 :], Y_val=Y[n - 10 :]
    )


def _plain(html: str) -> str:
    """Rich text → plain: tags dropped, m·10<sup>e</sup> → me (a float Python reads)."""
    html = re.sub(r"·10<sup>([−-]?\d+)</sup>", r"e\1", html)
    html = re.sub(r"(?<![\d.])10<sup>([−-]?\d+)</sup>", r"1e\1", html)
    html = re.sub(r"·10([−-]\d+)", r"e\1", html)  # QTextDocument.toPlainText
    text = re.sub(r"<[^>]+>", "", html).replace("&nbsp;", " ")
    return text.replace("−", "-")


def _numbers(text: str) -> list[float]:
    return [float(t) for t in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", text)]


@pytest.fixture
def inspector(qtbot):
    w = BackpropInspector()
    qtbot.addWidget(w)
    w.resize(1200, 700)
    return w


def _ready(w, net=None, ds=None, cfg=None):
    ds = ds or _dataset()
    net = net or Network([2, 4, 3, 1], activation="tanh", output="sigmoid", loss="mse", seed=1)
    w.set_dataset(ds)
    if cfg is not None:
        w.set_fit_config(cfg)
    w.set_network(net)
    return net, ds


def test_stages_step_in_order_and_name_their_equation(inspector, qtbot):
    _ready(inspector)
    titles = []
    for _ in range(inspector.n_stages):
        titles.append(inspector.stage_label.text())
        qtbot.mouseClick(inspector.next_button, Qt.MouseButton.LeftButton)
    assert titles == [
        "Forward, layer 2",
        "Forward, layer 3",
        "Forward, layer 4",
        "Loss J",
        "BP1, layer 4",
        "BP2, layer 3",
        "BP2, layer 2",
        "BP3 + BP4, layer 4",
        "BP3 + BP4, layer 3",
        "BP3 + BP4, layer 2",
        "Update (sgd)",
    ]
    assert not inspector.next_button.isEnabled()
    assert inspector.findChild(type(inspector.stage_label), "inspectorStage") is not None


def test_next_then_back_returns_to_the_same_state(inspector, qtbot):
    _ready(inspector)
    for i in range(inspector.n_stages - 1):
        inspector.set_stage(i)
        before = inspector.state()
        with qtbot.waitSignal(inspector.stageChanged, timeout=1000) as sig:
            qtbot.mouseClick(inspector.next_button, Qt.MouseButton.LeftButton)
        assert sig.args[0] == i + 1
        assert inspector.state() != before
        qtbot.mouseClick(inspector.back_button, Qt.MouseButton.LeftButton)
        assert inspector.state() == before
    inspector.set_stage(0)
    inspector.setFocus()
    qtbot.keyClick(inspector, Qt.Key.Key_Right)
    assert inspector.stage == 1
    qtbot.keyClick(inspector, Qt.Key.Key_End)
    assert inspector.stage == inspector.n_stages - 1


def test_entry_numbers_equal_the_trace(inspector):
    net, ds = _ready(inspector)
    inspector.set_sample_index(3)
    x, y = ds.X_train[3], ds.Y_train[3]
    tr = net.trace(x, y)
    inspector.set_focus(3, 1, 0)
    inspector.set_stage(5)  # BP2, layer 3
    text = _plain(inspector.entry.text())
    assert text.startswith("δ32")  # j = 1 is printed from 1: δ^3_2
    assert _numbers(text)[-1] == pytest.approx(tr[3].delta[1], rel=2e-3)
    inspector.set_stage(4)  # BP1: δ^4_1 = ∂J/∂a · σ'(z)
    nums = _numbers(_plain(inspector.entry.text()).split("=", 2)[-1])
    assert nums[-1] == pytest.approx(tr[4].delta[0], rel=2e-3)
    assert nums[0] * nums[1] == pytest.approx(tr[4].delta[0], rel=2e-3)
    inspector.set_stage(0)  # forward: z^2_2 and a^2_2
    text = _plain(inspector.entry.text())
    assert f"{tr[2].z[1]:.4g}".replace("-", "-") in text
    assert f"{tr[2].a[1]:.4g}" in text


def test_softmax_bp1_says_jacobian(inspector):
    ds = _dataset(k=3)
    net = Network([2, 5, 3], output="softmax", loss="cross_entropy", seed=2)
    _ready(inspector, net, ds)
    inspector.set_stage(inspector.walk.stage_index("BP1"))
    assert "Jacobian" in inspector.note.text()
    assert "T" in _plain(inspector.equation.text())  # (∂a/∂z)ᵀ ∇J
    assert "simplifies" in inspector.entry.text()


@pytest.mark.parametrize(
    "cfg",
    [
        FitConfig(optimizer="sgd", lr=0.3),
        FitConfig(optimizer="momentum", lr=0.2, nesterov=True),
        FitConfig(optimizer="adam", lr=0.01, weight_decay=0.01),
    ],
    ids=["sgd", "nesterov", "adam-l2"],
)
def test_update_stage_shows_the_engine_step(inspector, cfg):
    net, ds = _ready(inspector, cfg=cfg)
    inspector.set_stage(inspector.n_stages - 1)
    x, y = ds.X_train[0], ds.Y_train[0]
    trained = net.copy()
    fit(trained, x[None], y[None], config=cfg, epochs=1, batch_size=1, shuffle=False)
    after = trained.loss(x[None], y[None])
    text = _plain(inspector.entry.text())
    assert f"{after:.4g}" in text
    assert inspector.stage_label.text().startswith(f"Update ({cfg.optimizer}")
    if cfg.optimizer == "adam":
        assert "bias correction" in text and "λ" in text
    if cfg.nesterov:
        assert "Nesterov" in _plain(inspector.equation.text())


def test_clicking_a_weight_shows_the_product_of_its_factors(inspector, qtbot):
    net, ds = _ready(inspector)
    inspector.set_stage(inspector.walk.stage_index("BP3+BP4", 3))
    grid = inspector._grids[-1]  # ∂J/∂W^3
    with qtbot.waitSignal(inspector.weightClicked, timeout=1000) as sig:
        qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_center(2, 1))
    assert sig.args == [3, 2, 1]
    tr = net.trace(ds.X_train[0], ds.Y_train[0])
    text = _plain(inspector.origin_view.toPlainText())
    a, d = tr[2].a[1], tr[3].delta[2]
    assert "∂J/∂w332" in text.replace(" ", "")
    m = re.search(
        r"=\s*\(?(-?[\d.e-]+)\)?\s*·\s*\(?(-?[\d.e-]+)\)?\s*=\s*(-?[\d.]+(?:e-?\d+)?)", text
    )
    nums = [float(v) for v in m.groups()]
    assert nums[0] == pytest.approx(a, rel=1e-3) and nums[1] == pytest.approx(d, rel=1e-3)
    assert nums[2] == pytest.approx(a * d, rel=2e-3)
    # each factor links to its stage: following δ's link goes to BP2, layer 3
    inspector._on_link(type("U", (), {"toString": lambda self: "stage:5"})())
    assert inspector.stage_label.text() == "BP2, layer 3"


def test_minibatch_mode_lists_each_sample_and_the_mean(inspector):
    net, ds = _ready(inspector, cfg=FitConfig(batch_size=8))
    inspector.show_origin("w", 2, 1, 0)
    html = _plain(inspector.batch_view.toPlainText())
    mean = net.gradients(ds.X_train[:8], ds.Y_train[:8])["W2"][1, 0]
    assert "8 samples" in html
    assert f"{mean:.4g}" in html


def test_play_advances_on_a_timer_and_stops_when_hidden(inspector, qtbot):
    _ready(inspector)
    inspector.show()
    inspector.timer.setInterval(10)
    inspector.play()
    assert inspector.timer.isActive()
    qtbot.waitUntil(lambda: inspector.stage >= 2, timeout=2000)
    inspector.hide()
    assert not inspector.timer.isActive() and not inspector.play_button.isChecked()
    assert PLAY_MS >= 500  # a pace a person can read


def test_highlight_follows_the_stage(inspector, qtbot):
    _ready(inspector)
    with qtbot.waitSignal(inspector.highlightChanged, timeout=1000) as sig:
        inspector.set_stage(5)  # BP2, layer 3
    h = sig.args[0]
    assert h["direction"] == "backward" and h["write"] == {3} and h["links"] == {4}
    assert (3, 0) in h["focus_neurons"] and (4, 0, 0) in h["focus_links"]
    inspector.set_stage(0)
    assert inspector.highlight()["direction"] == "forward"


def test_show_all_and_784_inputs(inspector, qtbot):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(20, 784))
    Y = np.eye(3)[rng.integers(3, size=20)]
    ds = SimpleNamespace(X_train=X, Y_train=Y)
    net = Network([784, 16, 3], activation="relu", output="softmax", loss="cross_entropy")
    _ready(inspector, net, ds)
    assert inspector.image_label.isVisibleTo(inspector)
    assert "784 terms" in inspector.entry.text()
    inspector.show()
    qtbot.mouseClick(inspector.all_check, Qt.MouseButton.LeftButton)
    assert inspector.all_check.isChecked()
    html = inspector.all_view.toHtml()
    assert html.count("stage:") == inspector.n_stages


def test_hidden_in_a_shown_window_waits_until_shown(qtbot):
    from PySide6.QtWidgets import QTabWidget

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    insp = BackpropInspector()
    tabs.addTab(QLabelStub(), "other")
    tabs.addTab(insp, "inspector")
    net, ds = _ready(insp)
    tabs.show()
    tabs.setCurrentIndex(0)
    before = insp.walk
    net.params["W2"][0, 0] += 1.0
    insp.set_network(net)
    assert insp.walk is before  # nothing computed for a hidden tab
    tabs.setCurrentIndex(1)
    assert insp.walk is not before
    assert insp.walk.W[2][0, 0] == pytest.approx(net.params["W2"][0, 0])


def test_auto_focus_follows_the_largest_delta_until_the_user_picks(inspector):
    _ready(inspector)
    w = inspector.walk
    inspector.set_stage(w.stage_index("BP2", 3))
    assert inspector.focus.j == int(np.argmax(np.abs(w.delta[3])))
    inspector.set_focus(3, 0, 0)
    inspector.set_stage(w.stage_index("BP2", 2))
    assert inspector.focus.j == 0 and not inspector.auto_focus


def QLabelStub():  # noqa: N802 - a widget factory for the tab test
    from PySide6.QtWidgets import QLabel

    return QLabel("another view")


def test_a_sample_that_does_not_fit_says_why(inspector):
    _ready(inspector)
    inspector.set_sample(np.zeros(5), np.zeros(1), 0)
    assert inspector.walk is None
    assert "5 inputs" in inspector.equation.text() and "takes 2 inputs" in inspector.equation.text()
    assert not inspector.next_button.isEnabled()


@pytest.mark.parametrize(
    ("sizes", "act", "output", "loss"),
    [
        ([2, 1], "tanh", "sigmoid", "mse"),  # no hidden layer: no BP2 stage
        ([2, 3, 2], "relu", "sigmoid", "cross_entropy"),
        ([2, 12, 11, 3], "elu", "linear", "mse"),  # two-digit indices
        ([3, 4, 2], "softplus", "tanh", "mse"),
    ],
)
def test_every_stage_renders_for_varied_networks(inspector, sizes, act, output, loss):
    rng = np.random.default_rng(0)
    k = sizes[-1]
    X = rng.normal(size=(12, sizes[0]))
    Y = (
        rng.uniform(-0.5, 0.5, size=(12, k))
        if output in ("linear", "tanh")
        else (rng.integers(0, 2, size=(12, k)).astype(float))
    )
    ds = SimpleNamespace(X_train=X, Y_train=Y)
    net = Network(sizes, activation=act, output=output, loss=loss, dtype="float32")
    _ready(inspector, net, ds, FitConfig(optimizer="momentum", nesterov=True, batch_size=4))
    # (L−1) forward + loss + BP1 + (L−2) BP2 + (L−1) BP3/BP4 + update = 3L − 1
    assert inspector.n_stages == 3 * len(sizes) - 1
    for i in range(inspector.n_stages):
        inspector.set_stage(i)
        assert inspector.entry.text() and "nan" not in inspector.entry.text().lower()
        for g in inspector._grids:
            g.grab()
    inspector.click_weight(len(sizes), k - 1, sizes[-2] - 1)
    assert "BP4" in inspector.origin_view.toPlainText()
