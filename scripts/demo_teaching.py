"""Show the teaching widgets on real networks: the backprop inspector with the network diagram,
the gradient check panel, the activation diagnostics and the confusion matrix.

Two cases: a playground net (built-in "circles", 2 → 6 → 4 → 2, tanh, softmax, trained) and a
784-input network on a small synthetic 28×28 image set (three classes: a horizontal bar, a
vertical bar, a diagonal; no downloads), 784 → 32 → 3 with ReLU.

    .venv/bin/python scripts/demo_teaching.py                 # a window to click through
    .venv/bin/python scripts/demo_teaching.py --shots DIR      # PNGs of every stage, then exit

Run the second under Xvfb so fonts are the ones people see:
``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/demo_teaching.py --shots out``.
This is a demo harness, not the app: the main window wires these widgets in its own way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np


def image_dataset(n: int = 360, seed: int = 0) -> SimpleNamespace:
    """Synthetic 28×28 grey images of three classes, flattened to 784 inputs in [0, 1]."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 28, 28))
    labels = rng.integers(3, size=n)
    for i, c in enumerate(labels):
        p = int(rng.integers(6, 22))
        w = int(rng.integers(2, 4))
        if c == 0:
            X[i, p : p + w, 4:24] = 1.0  # a horizontal bar
        elif c == 1:
            X[i, 4:24, p : p + w] = 1.0  # a vertical bar
        else:
            off = int(rng.integers(-5, 6))
            for t in range(4, 24):
                u = min(27, max(0, t + off))
                X[i, t, u : u + w] = 1.0  # a diagonal
    X = np.clip(X + rng.normal(0, 0.15, size=X.shape), 0, 1).reshape(n, 784)
    Y = np.eye(3)[labels]
    a, b = int(0.7 * n), int(0.85 * n)
    return SimpleNamespace(
        name="synthetic 28×28 bars",
        X_train=X[:a], Y_train=Y[:a], X_val=X[a:b], Y_val=Y[a:b], X_test=X[b:], Y_test=Y[b:],
        classes=["horizontal", "vertical", "diagonal"],
    )  # fmt: skip


def playground():
    from bpstudio.data import load_table, prepare
    from bpstudio.engine import FitConfig, Network, fit

    ds = prepare(load_table("builtin:circles"))
    net = Network([2, 6, 4, 2], activation="tanh", output="softmax", loss="cross_entropy", seed=3)
    cfg = FitConfig(optimizer="momentum", lr=0.1, batch_size=16, epochs=60)
    fit(net, ds.X_train, ds.Y_train, config=cfg)
    return ds, net, cfg


def images():
    from bpstudio.engine import FitConfig, Network, fit

    ds = image_dataset()
    net = Network([784, 32, 3], activation="relu", output="softmax", loss="cross_entropy", seed=0)
    cfg = FitConfig(optimizer="adam", lr=0.003, batch_size=32, epochs=8)
    fit(net, ds.X_train, ds.Y_train, config=cfg)
    return ds, net, cfg


def build(ds, net, cfg):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QScrollArea, QSplitter, QTabWidget

    from bpstudio.ui.activation_diagnostics import ActivationDiagnostics
    from bpstudio.ui.backprop_inspector import BackpropInspector
    from bpstudio.ui.confusion_view import ConfusionMatrixView
    from bpstudio.ui.gradient_check_panel import GradientCheckPanel
    from bpstudio.ui.network_view import NetworkDiagramView
    from bpstudio.ui.weight_tiles import WeightTilesView

    tabs = QTabWidget()
    diagram = NetworkDiagramView()
    inspector = BackpropInspector()
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(diagram)
    split.addWidget(inspector)
    split.setSizes([330, 620])
    tabs.addTab(split, "Backprop inspector")
    check = GradientCheckPanel()
    tabs.addTab(check, "Gradient check")
    diag = ActivationDiagnostics()
    tabs.addTab(diag, "Saturation")
    conf = ConfusionMatrixView()
    tabs.addTab(conf, "Confusion")
    tiles = WeightTilesView()
    tiles_scroll = QScrollArea()
    tiles_scroll.setWidgetResizable(True)
    tiles_scroll.setWidget(tiles)
    tabs.addTab(tiles_scroll, "Weight tiles")
    tiles.set_network(net)
    tiles.weightClicked.connect(
        lambda l, j, k: (tabs.setCurrentIndex(0), inspector.click_weight(l, j, k))
    )

    diagram.set_network(net)
    inspector.set_dataset(ds)
    inspector.set_fit_config(cfg)
    inspector.set_network(net)
    inspector.highlightChanged.connect(diagram.set_highlight)
    inspector.weightClicked.connect(lambda *_: None)

    def on_sample(i: int) -> None:
        diagram.set_sample(ds.X_train[i], ds.Y_train[i], i)
        check.set_sample(ds.X_train[i], ds.Y_train[i])

    inspector.sampleChanged.connect(on_sample)
    on_sample(0)
    diagram.set_fill_mode("activation")
    check.set_dataset(ds)
    check.set_network(net)
    check.set_batch(ds.X_train[: cfg.batch_size], ds.Y_train[: cfg.batch_size])
    diag.set_dataset(ds)
    diag.set_network(net)
    conf.set_dataset(ds)
    conf.set_network(net)
    return SimpleNamespace(
        tabs=tabs, diagram=diagram, inspector=inspector, check=check, diag=diag, conf=conf,
        tiles=tiles,
    )  # fmt: skip


def _pump(app, n: int = 5) -> None:
    for _ in range(n):
        app.processEvents()


def shots(app, out: Path) -> None:
    from bpstudio.engine import FitConfig, Network

    out.mkdir(parents=True, exist_ok=True)
    for tag, (ds, net, cfg) in (("play", playground()), ("mnist", images())):
        ui = build(ds, net, cfg)
        ui.tabs.resize(1400, 960)
        ui.tabs.show()
        insp = ui.inspector
        # a sample the network is not yet sure about: its numbers are not all ≈ 0
        losses = [
            net.loss(ds.X_train[i : i + 1], ds.Y_train[i : i + 1]) for i in range(len(ds.X_train))
        ]
        pick = int(np.argmin(np.abs(np.log(np.maximum(losses, 1e-12)) - np.log(0.3))))
        insp.set_sample_index(pick)
        ui.diagram.set_sample(ds.X_train[pick], ds.Y_train[pick], pick)
        _pump(app)
        for i in range(insp.n_stages):
            insp.set_stage(i)
            _pump(app)
            title = insp.current.title.lower().replace(" + ", "-").replace(", ", "-")
            name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in title)
            ui.tabs.grab().save(str(out / f"{tag}-{i + 1:02d}-{name}.png"))
        L = insp.walk.L
        insp.set_stage(insp.walk.stage_index("BP3+BP4", L))
        G = np.abs(insp.walk.dW[L][:11, :11])
        j, k = np.unravel_index(int(np.argmax(G)), G.shape)
        insp.click_weight(L, int(j), int(k))
        _pump(app)
        ui.tabs.grab().save(str(out / f"{tag}-origin.png"))
        insp.side_tabs.setCurrentIndex(1)
        _pump(app)
        ui.tabs.grab().save(str(out / f"{tag}-minibatch.png"))
        insp.set_show_all(True)
        _pump(app)
        ui.tabs.grab().save(str(out / f"{tag}-all.png"))
        insp.set_show_all(False)
        ui.tabs.setCurrentIndex(1)
        ui.check.set_batch_kind("random")
        if net._theta.size <= 60_000:
            ui.check.run_check()
            _pump(app)
            ui.tabs.grab().save(str(out / f"{tag}-gradcheck.png"))
            if tag == "play":
                ui.check.demo_box.setChecked(True)
                ui.check.set_break("forget_sigma_prime")
                ui.check.run_broken_check()
                ui.check.run_broken_training()
                _pump(app)
                ui.tabs.grab().save(str(out / f"{tag}-gradcheck-broken.png"))
        ui.tabs.setCurrentIndex(2)
        ui.diag.refresh()
        _pump(app)
        ui.tabs.grab().save(str(out / f"{tag}-diagnostics.png"))
        ui.tabs.setCurrentIndex(3)
        ui.conf.set_split("val")
        _pump(app)
        ui.tabs.grab().save(str(out / f"{tag}-confusion.png"))
        if ui.tiles.W is not None:
            ui.tabs.setCurrentIndex(4)
            _pump(app)
            ui.tabs.grab().save(str(out / f"{tag}-weight-tiles.png"))
        ui.tabs.close()
    # a deep sigmoid net at a large initial scale: the saturation notice
    ds = image_dataset(200, seed=1)
    deep = Network([784] + [24] * 5 + [3], activation="sigmoid", output="softmax",
                   loss="cross_entropy", seed=0)  # fmt: skip
    for name, p in deep.params.items():
        if name.startswith("W"):
            p *= 16.0  # a large initial scale: most sigmoid units sit in a flat tail
    ui = build(ds, deep, FitConfig())
    ui.tabs.resize(1400, 900)
    ui.tabs.show()
    ui.tabs.setCurrentIndex(2)
    ui.diag.refresh()
    _pump(app)
    ui.tabs.grab().save(str(out / "deep-sigmoid-diagnostics.png"))
    ui.tabs.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=Path, help="save PNGs of every stage here, then exit")
    parser.add_argument("--images", action="store_true", help="open the 784-input case")
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if args.shots:
        shots(app, args.shots)
        return 0
    ui = build(*(images() if args.images else playground()))
    ui.tabs.resize(1400, 960)
    ui.tabs.setWindowTitle("Backprop Studio: teaching widgets")
    ui.tabs.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
