"""Render the main window in its key states to PNG files, for people (README, reviews).

States: ``01-fresh`` (as opened), ``02-spirals-training`` (mid-training on two spirals, plots
filled, paused), ``03-vanishing-gradients`` (6 sigmoid hidden layers: the gradient-norm curves
fan out by orders of magnitude), ``04-import-dialog`` (the CSV import dialog on a sample file),
``05-dark`` (the spirals run in the dark palette), and on XOR with a 2 → 8 → 8 → 2 net paused
mid-training: ``06-network-diagram`` (the Network tab), ``07-backprop-trace`` (the Backprop
trace tab: one sample's forward and backward pass with BP1–BP4), ``08-weights`` (the Weights tab)
and ``09-trace-dark``.

Run it under a real X server so fonts and styles are the ones people see:
``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py out/``
(it also works with ``QT_QPA_PLATFORM=offscreen``). Settings go to a temporary folder.

Leaves out: animated captures and per-widget crops.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

# No Qt at module level: the training child re-runs nothing from here, but keep it cheap anyway.


def _pump(app, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.005)


def _train_for(app, w, *, epochs: int | None = None, seconds: float = 4.0) -> None:
    """Train (a finite run to its end, or until-stopped for ``seconds``, then pause)."""
    done: list[str] = []
    w.runEnded.connect(done.append)
    if epochs:
        w.training_panel.until_stopped_check.setChecked(False)
        w.training_panel.epochs_spin.setValue(epochs)
        w.toggle_training()
        _pump(app, 120, lambda: bool(done))
    else:
        w.training_panel.until_stopped_check.setChecked(True)
        w.toggle_training()
        _pump(app, seconds)
        w.toggle_training()  # pause: the run stays, the status bar shows where it is
        _pump(app, 10, lambda: w.paused_step is not None)
    _pump(app, 0.5)
    w.runEnded.disconnect(done.append)


def _tanh_classifier(width: int) -> dict:
    """Two tanh hidden layers of ``width`` units, softmax + cross-entropy."""
    return {
        "hidden": [width, width],
        "activations": ["tanh", "tanh"],
        "output": "softmax",
        "loss": "cross_entropy",
        "init": "xavier_uniform",
        "seed": 0,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bpstudio.ui import dialogs, theme
    from bpstudio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Backprop Studio")
    theme.apply_theme(app, "light")
    tmp = tempfile.mkdtemp(prefix="bpstudio-shots-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
    settings = QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat)
    dialogs.show_error = lambda parent, t, m: print(f"error dialog: {t}: {m}", file=sys.stderr)
    saved: list[str] = []

    def shot(widget, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        saved.append(str(path))
        print(path)

    w = MainWindow(settings=settings, restore=False)
    w.resize(1400, 860)
    w.show()
    _pump(app, 1.0)
    try:
        shot(w, "01-fresh")

        w.dataset_panel.select_builtin("spirals")
        w.network_editor.set_spec(_tanh_classifier(16))
        w.training_panel.apply_settings(
            {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "epochs": 300}
        )
        # a finite run: at ~10k steps/s a timed run would show thousands of converged epochs
        _train_for(app, w, epochs=120)
        shot(w, "02-spirals-training")
        theme.apply_theme(app, "dark")
        _pump(app, 0.5)
        shot(w, "05-dark")
        theme.apply_theme(app, "light")
        w.stop()
        _pump(app, 10, lambda: w.state == "idle")

        w.dataset_panel.select_builtin("xor")
        w.network_editor.set_spec(_tanh_classifier(8))
        w.training_panel.apply_settings(
            {"optimizer": "sgd", "lr": 0.1, "batch_size": 10, "epochs": 300}
        )
        tabs = w.view_tabs
        tabs.setCurrentIndex(1)  # Network: its weights stream in while training
        _train_for(app, w, epochs=150)
        w.inspector.set_sample_index(7)
        _pump(app, 0.3)
        shot(w, "06-network-diagram")
        tabs.setCurrentIndex(2)
        _pump(app, 0.3)
        shot(w, "07-backprop-trace")
        tabs.setCurrentIndex(3)
        _pump(app, 0.3)
        shot(w, "08-weights")
        tabs.setCurrentIndex(2)
        theme.apply_theme(app, "dark")
        _pump(app, 0.5)
        shot(w, "09-trace-dark")
        theme.apply_theme(app, "light")
        w.stop()
        _pump(app, 10, lambda: w.state == "idle")
        tabs.setCurrentIndex(0)

        w.dataset_panel.select_builtin("circles")
        w.network_editor.set_spec(
            {
                "hidden": [8] * 6,
                "activations": ["sigmoid"] * 6,
                "output": "softmax",
                "loss": "cross_entropy",
                "init": "xavier_uniform",
                "seed": 0,
            }
        )
        w.training_panel.apply_settings({"optimizer": "sgd", "lr": 0.5, "batch_size": 16})
        _train_for(app, w, epochs=30)
        shot(w, "03-vanishing-gradients")

        # opened by a path relative to the checkout, so the picture shows no machine's folders
        root = Path(__file__).resolve().parents[1]
        sample = Path("bpstudio") / "resources" / "sample_data" / "iris.csv"
        if (root / sample).exists():
            os.chdir(root)
            w.open_csv(str(sample))
            _pump(app, 20, lambda: w.dataset_panel.import_dialog is not None)
            dialog = w.dataset_panel.import_dialog
            if dialog is not None:
                _pump(app, 0.5)
                shot(dialog, "04-import-dialog")
                dialog.reject()
    finally:
        w.close()
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
