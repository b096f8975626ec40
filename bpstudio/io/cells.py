"""Text that leaves Backprop Studio safely: for a terminal and for a spreadsheet.

``printable`` escapes control characters (a model file could carry terminal escape sequences in
a class name) and bounds the length of what a message quotes; ``neutralise_formulas`` makes the
cells of a table that a spreadsheet would run as a formula inert (OWASP CSV injection: a text
cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'``, unless it is a
number written as text). The CLI's messages and every predictions CSV (CLI and window) go through
these. Leaves out: HTML escaping (the window's labels do their own).
"""

from __future__ import annotations

from typing import Any


def printable(text: str, limit: int | None = None) -> str:
    """``text`` safe for a terminal: control characters (ESC, BEL, …) escaped, optionally cut."""
    text = str(text)
    if limit is not None and len(text) > 4 * limit:
        text = text[: 4 * limit]
    text = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_CONTROL_CHARS = "[\x00-\x08\x0b-\x1f\x7f-\x9f]"


def _safe_cell(text: str) -> str:
    if any(not ch.isprintable() and ch not in "\t\n" for ch in text):
        text = printable(text)  # a label with terminal escapes, shown as \x1b…
    if text.startswith(_FORMULA_START) and not _is_number(text.strip()):
        text = "'" + text
    return text


def neutralise_formulas(frame: Any) -> Any:
    """Text cells a spreadsheet would run as a formula get a leading ' (OWASP CSV injection);
    numbers written as text ("-1.5") stay as they are. Control characters (terminal escapes in
    a class label) are written escaped, as ``\x1b``."""
    import pandas as pd

    out = frame
    for column in frame.columns:
        s = frame[column]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        text = s.astype("string")
        risky = text.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
        risky |= text.str.contains(_CONTROL_CHARS, regex=True).fillna(False).to_numpy(dtype=bool)
        if not risky.any():
            continue
        values = s.astype(object).to_numpy(copy=True)
        changed = [_safe_cell(str(v)) for v in values[risky]]
        if all(a == str(b) for a, b in zip(changed, values[risky], strict=True)):
            continue
        if out is frame:
            out = frame.copy()
        values[risky] = changed
        out[column] = values
    header = [_safe_cell(str(c)) for c in out.columns]
    if header != list(out.columns):
        out = out.copy() if out is frame else out
        out.columns = header
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["neutralise_formulas", "printable"]
