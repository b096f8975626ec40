"""Editing one weight w^l_jk or bias b^l_j by hand while training is paused or idle.

Where a person edits (each sends a :class:`ParamRef` and a value or text to :class:`ParamEditor`):

- the Network tab's diagram: Shift+click a link or a neuron to type a value in a small popup
  (:class:`ParamEditPopup`), right-click for the same, Shift+drag up/down to change it
  continuously;
- the weights heatmap: Shift+click a cell;
- the inspector's "Where does this gradient come from?" panel: the entry it explains has a field
  (a plain click on a link or cell leads there).

On every change the network's parameter changes at once; the views that draw the weights
(surface, diagrams, inspector, heatmap…) are redrawn on a short debounce timer (a drag sends many
values a second), the training loss is read out again (in the popup and the status bar), a
paused run's child gets the new parameters (it trains on from them when resumed), and the run
records it: a note "w^3_21 set to 0.5 at step N" (``Run.notes``) and its stored ``params``.
Each edit is one command on the window's undo stack (a drag merges into one), which undo and
redo run through the same path, also while paused (other undo waits for training to end).

Refused, with a message and never a traceback: typed text that is not a finite number, and any
edit while training runs (pause first) or while a sweep trains.

Leaves out: editing several entries at once, and rewriting a run's earlier checkpoints (they
stay what training saved; the note says when the edit came).
"""

from __future__ import annotations

import math
import time
from typing import Any, NamedTuple

import numpy as np
from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from bpstudio.ui.stage_text import idx_text
from bpstudio.ui.undo import AppliedCommand

REFRESH_MS = 30  # debounce: views redraw at most ~30 times a second while dragging
SEND_MS = 60  # the paused child gets the latest parameters at most ~16 times a second
LOSS_ROWS = 2048  # the training loss read-out uses at most this many rows (evenly spaced)
_UNDO_ID = 4  # QUndoCommand.id of a parameter edit (merging drags)


class ParamRef(NamedTuple):
    """One parameter: ``kind`` "w" (w^l_jk, unit j of layer l ← unit k of l − 1) or "b"
    (b^l_j); units 0-based, printed from 1."""

    kind: str
    layer: int
    j: int
    k: int = 0

    @property
    def array(self) -> str:
        return f"{'W' if self.kind == 'w' else 'b'}{self.layer}"

    @property
    def index(self) -> tuple[int, ...]:
        return (self.j, self.k) if self.kind == "w" else (self.j,)

    @property
    def name(self) -> str:
        """The seed's notation in plain text: ``w^3_21``, ``b^2_4``."""
        return f"{self.kind}^{self.layer}_{idx_text(*self.index)}"

    @property
    def html(self) -> str:
        return f"<i>{self.kind}</i><sup>{self.layer}</sup><sub>{idx_text(*self.index)}</sub>"


def parse_value(text: str) -> float:
    """A finite number from what the user typed ("0.5", "-1e-3", "1,5"), or ValueError with a
    message that says what is wrong."""
    s = str(text).strip().replace("−", "-").replace(",", ".")
    if not s:
        raise ValueError("Type a number, e.g. 0.5 or -1e-3.")
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"“{text}” is not a number: type e.g. 0.5 or -1e-3.") from None
    if not math.isfinite(v):
        raise ValueError(f"{text.strip()} is not allowed: a weight must be a finite number.")
    return v


def drag_value(v0: float, dy: float) -> float:
    """The value after dragging ``dy`` pixels up from ``v0``: 1 % of max(|v0|, 0.5) a pixel, so a
    small weight moves finely and a large one in proportion."""
    return float(v0 + dy * 0.01 * max(abs(v0), 0.5))


class ParamEditCommand(AppliedCommand):
    """Set one parameter from ``before`` to ``after`` (already applied when pushed); the steps
    of one drag of the same parameter merge into one."""

    def __init__(self, editor: ParamEditor, ref: ParamRef, before: float, after: float, drag: int):
        super().__init__(f"set {ref.name}", before, after)
        self.editor, self.ref, self.drag = editor, ref, drag

    def id(self) -> int:
        return _UNDO_ID

    def can_merge(self, other: AppliedCommand) -> bool:
        o: ParamEditCommand = other  # type: ignore[assignment]
        return bool(self.drag) and o.drag == self.drag and o.ref == self.ref

    def apply_value(self, value: Any, how: str) -> None:
        self.editor.apply(self.ref, value, note=how)


class ParamEditor(QObject):
    """The window's one path for hand edits of the network's parameters (see the module)."""

    edited = Signal(object, float)  # ParamRef, new value (after every change, undo included)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.pending_notes: list[dict[str, Any]] = []  # edits before any run: for the next one
        self.last_loss: tuple[float, float] | None = None  # (before, after) of the last edit
        self.last_update_ms = 0.0  # the last redraw of every weight view (measured)
        self._drag_token = 0
        self._drag = 0  # the drag the value being applied belongs to (0: typed)
        self._loss_before: float | None = None
        self._loss_cache: tuple[tuple[int, int, int], float] | None = None
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setObjectName("paramEditRefreshTimer")
        self.refresh_timer.setSingleShot(True)
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self.flush)
        self.send_timer = QTimer(self)
        self.send_timer.setObjectName("paramEditSendTimer")
        self.send_timer.setSingleShot(True)
        self.send_timer.setInterval(SEND_MS)
        self.send_timer.timeout.connect(self._send)

    # ------------------------------------------------------------------ asking
    def refusal(self) -> str:
        """Why no edit is possible now, or "" when it is."""
        runs = self.w.runs
        if self.w._net is None:
            return "There is no network to edit yet."
        if runs.sweeping:
            return "A sweep is training: wait for it to end, then edit a weight."
        if runs.state in ("running", "stopping"):
            return "Training is running: pause it (Space) to edit a weight or bias."
        return ""

    def value(self, ref: ParamRef) -> float:
        return float(self.w._net.params[ref.array][ref.index])

    def valid(self, ref: ParamRef) -> bool:
        net = self.w._net
        if net is None or ref.array not in net.params:
            return False
        shape = net.params[ref.array].shape
        return all(0 <= i < n for i, n in zip(ref.index, shape, strict=True))

    # ------------------------------------------------------------------ editing
    def set_text(self, ref: ParamRef, text: str) -> str:
        """Set ``ref`` to the number typed; returns "" or the message saying why not."""
        try:
            value = parse_value(text)
        except ValueError as exc:
            return str(exc)
        return self.set_value(ref, value)

    def begin_drag(self) -> int:
        """A new drag: its values merge into one undo command."""
        self._drag_token += 1
        return self._drag_token

    def set_value(self, ref: ParamRef, value: float, drag: int = 0) -> str:
        """Set ``ref`` to ``value`` as an edit (undoable, recorded); "" or why not."""
        why = self.refusal()
        if why:
            return why
        if not self.valid(ref):
            return f"The network has no {ref.name}."
        if not math.isfinite(value):
            return "A weight must be a finite number."
        old = self.value(ref)
        if value == old:
            return ""
        self._drag = drag
        try:
            self.apply(ref, value)
        finally:
            self._drag = 0
        self.w.undo_stack.push(ParamEditCommand(self, ref, old, float(value), drag))
        return ""

    def apply(self, ref: ParamRef, value: float, note: str = "") -> None:
        """Put ``value`` into the network and let everything follow (the undo path too)."""
        if self.refusal() or not self.valid(ref):  # another network now: nothing to undo here
            return
        net = self.w._net
        if self._loss_before is None:
            self._loss_before = self.train_loss()
        net.params[ref.array][ref.index] = value
        self._record(ref, value, note)
        self.w.traced.invalidate()
        self.w.param_views.mark_stale()
        if not self.refresh_timer.isActive():
            self.refresh_timer.start()
        if self.w.runs.state == "paused" and not self.send_timer.isActive():
            self.send_timer.start()
        self.edited.emit(ref, float(value))

    def flush(self) -> None:
        """Redraw every weight view on screen now, and read the loss out again."""
        self.refresh_timer.stop()
        t0 = time.perf_counter()
        self.w.param_views.update(limit=None)
        for t in self.w.throttled:  # the inspector, diagnostics, gradient check: no wait
            t.flush()
        self.last_update_ms = 1000.0 * (time.perf_counter() - t0)
        after = self.train_loss()
        before = self._loss_before
        self._loss_before = None
        if after is not None:
            self.last_loss = (before if before is not None else after, after)
            self.w.statusBar().showMessage(self.loss_text(), 8000)

    def _send(self) -> None:
        if self.w._net is not None:
            self.w.runs.set_params(self.w._net.get_params())

    def stop(self) -> None:
        self.refresh_timer.stop()
        if self.send_timer.isActive():
            self.send_timer.stop()
            self._send()

    # ------------------------------------------------------------------ the record
    def _step(self) -> int:
        runs = self.w.runs
        if runs.paused_step is not None:
            return int(runs.paused_step)
        return int(runs.steps_done)

    def _record(self, ref: ParamRef, value: float, note: str) -> None:
        """The run whose weights the network holds notes the edit and stores the new params
        (the values of one drag amend one note)."""
        book = self.w.book
        run = book.training_run or book.weights_of
        step = self._step()
        text = f"{ref.name} set to {value:.6g} at step {step}" + (f" ({note})" if note else "")
        entry = {"step": step, "param": ref.name, "value": float(value), "text": text}
        drag = 0 if note else self._drag
        notes = run.notes if run is not None else self.pending_notes
        last = notes[-1] if notes else {}
        amend = bool(drag) and last.get("drag") == drag and last.get("param") == ref.name
        entry = {**entry, "drag": drag} if drag else entry
        if run is None:
            if amend:
                notes[-1] = entry
            else:
                notes.append(entry)
            return
        run.add_note(entry, self.w._net.get_params(), replace_last=amend)

    def adopt_pending(self, run: Any) -> None:
        """A run starts from weights edited before it existed: it keeps those notes."""
        if run is not None and self.pending_notes:
            run.notes.extend(self.pending_notes)
            self.pending_notes = []

    # ------------------------------------------------------------------ loss read-out
    def train_loss(self) -> float | None:
        """The training loss J of the network as it is (every row up to LOSS_ROWS, else an
        evenly spaced LOSS_ROWS of them), or None without data that fits. The last value is
        kept for the same weights and data (the "before" of an edit is the last "after")."""
        ds, net = self.w._dataset, self.w._net
        if ds is None or net is None or not len(ds.X_train):
            return None
        X, Y = ds.X_train, ds.Y_train
        if X.shape[1] != net.sizes[0]:
            return None
        key = (id(net), id(ds), hash(net._theta.tobytes()))
        if self._loss_cache is not None and self._loss_cache[0] == key:
            return self._loss_cache[1]
        if len(X) > LOSS_ROWS:
            rows = np.linspace(0, len(X) - 1, LOSS_ROWS).astype(np.int64)
            X, Y = X[rows], Y[rows]
        with np.errstate(all="ignore"):
            loss = float(net.loss(X, Y))
        self._loss_cache = (key, loss)
        return loss

    def loss_text(self) -> str:
        if self.last_loss is None:
            return ""
        before, after = self.last_loss
        n = len(self.w._dataset.X_train) if self.w._dataset is not None else 0
        rows = f" (on {LOSS_ROWS:,} of {n:,} rows)" if n > LOSS_ROWS else ""
        return f"Training loss J = {before:.6g} → {after:.6g}{rows}"


class ParamEditPopup(QFrame):
    """A small inline editor for one parameter: its name in the seed's notation, the value to
    type (Enter sets it, Esc closes), the loss after it, or why the value was refused."""

    def __init__(self, editor: ParamEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("paramEditPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.editor = editor
        self.ref: ParamRef | None = None
        self.name_label = QLabel("")
        self.name_label.setObjectName("paramEditName")
        self.field = QLineEdit()
        self.field.setObjectName("paramEditValue")
        self.field.setMinimumWidth(120)
        self.message = QLabel("")
        self.message.setObjectName("paramEditMessage")
        self.message.setWordWrap(True)
        self.message.setMaximumWidth(360)
        row = QHBoxLayout()
        row.addWidget(self.name_label)
        row.addWidget(self.field, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addLayout(row)
        lay.addWidget(self.message)
        self.field.returnPressed.connect(self.commit)

    def open_for(self, ref: ParamRef, at: QPoint | None = None) -> None:
        self.ref = ref
        self.name_label.setText(f"<span style='font-size:13pt'>{ref.html} =</span>")
        self.field.setText(f"{self.editor.value(ref):.6g}")
        why = self.editor.refusal()
        self.field.setEnabled(not why)
        self.message.setText(why or "Enter sets it (Ctrl+Z undoes), Esc closes.")
        self.adjustSize()
        if at is not None:
            self.move(at + QPoint(12, 12))
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    def commit(self) -> str:
        """Set the typed value; the popup stays open to show the loss, or the message."""
        if self.ref is None:
            return ""
        why = self.editor.set_text(self.ref, self.field.text())
        if why:
            self.message.setText(f"<span style='color:#c0392b'>{why}</span>")
        else:
            self.editor.flush()
            self.message.setText(self.editor.loss_text())
            self.field.setText(f"{self.editor.value(self.ref):.6g}")
            self.field.selectAll()
        return why


def may_undo(window: Any, redo: bool = False) -> bool:
    """Undo / redo may run now: always when idle; while paused only a parameter edit (the
    network, the settings and the data stay as the run has them until it ends)."""
    runs, stack = window.runs, window.undo_stack
    if not runs.busy():
        return True
    if runs.state != "paused" or runs.sweeping:
        return False
    cmd = stack.command(stack.index() if redo else stack.index() - 1)
    return isinstance(cmd, ParamEditCommand)


def install(window: Any) -> ParamEditor:
    """Wire hand edits into the window: the diagrams, the heatmap and the inspector ask; the
    editor edits; the run controller's state says when editing is allowed; the paused run's
    optimiser state reaches the inspector's update stage."""
    editor = ParamEditor(window)
    popup = ParamEditPopup(editor, window)
    window.param_editor, window.param_popup = editor, popup
    runs, insp = window.runs, window.inspector
    runs.before_command = editor.stop  # a pending edit reaches the child before Resume / Step
    drags: dict[tuple[int, int], int] = {}  # (view id, its drag token) → the editor's

    def request(kind: str, layer: int, j: int, k: int, where: QPoint) -> None:
        ref = ParamRef(kind, int(layer), int(j), int(k))
        if editor.valid(ref):
            popup.open_for(ref, where if not where.isNull() else None)

    def dragged(view: Any, kind: str, layer: int, j: int, k: int, value: float, token: int):
        key = (id(view), int(token))
        if key not in drags:
            drags.clear()
            drags[key] = editor.begin_drag()
        why = editor.set_value(ParamRef(kind, int(layer), int(j), int(k)), value, drags[key])
        if why:
            window.statusBar().showMessage(why, 5000)

    def typed_in_inspector(kind: str, layer: int, j: int, k: int, text: str) -> None:
        why = editor.set_text(ParamRef(kind, int(layer), int(j), int(k)), text)
        if why:
            insp.set_param_message(why, error=True)
        else:
            editor.flush()
            insp.set_param_message(editor.loss_text())

    def on_state(state: str) -> None:
        editable = state in ("idle", "paused") and not runs.sweeping
        for view in (window.network_view, window.stage_diagram):
            view.editable = editable
        insp.param_edit.setEnabled(editable)
        insp.param_set.setEnabled(editable)
        insp.set_param_message("" if editable else "Pause training to edit a weight or bias.")
        if not editable:
            popup.hide()
        if state != "paused":
            insp.set_optimizer_state(None)
        if state in ("running", "paused"):
            editor.adopt_pending(window.book.training_run)

    def on_progress(_p: Any) -> None:
        if runs.optimizer_state is not None:
            insp.set_optimizer_state(runs.optimizer_state, "the paused run")

    for view in (window.network_view, window.stage_diagram):
        view.editRequested.connect(request)
        view.paramDragged.connect(lambda *a, v=view: dragged(v, *a))
    window.weights_view.editRequested.connect(request)
    insp.paramEditRequested.connect(typed_in_inspector)
    runs.stateChanged.connect(on_state)
    runs.progressed.connect(on_progress)
    editor.edited.connect(lambda *_: window._update_undo_actions())
    on_state(str(runs.state))
    return editor


__all__ = [
    "install",
    "may_undo",
    "ParamEditCommand",
    "ParamEditPopup",
    "ParamEditor",
    "ParamRef",
    "drag_value",
    "parse_value",
]
