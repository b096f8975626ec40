"""Robust CSV import on top of ``pandas.read_csv`` (C engine), in chunks with progress and cancel.

What this adds to the parser, in reading order: a clear error for missing/empty/binary files;
the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else Latin-1 with a note); the delimiter,
sniffed from the first 64 KB among ``, ; TAB |`` and required to give ≥ 2 columns; decimal commas;
whether line 1 is a header (else columns are named ``x1 … xn``); then one chunked pass of the C
parser, so only the sample is ever read twice. After parsing: header-only files are an error, blank
lines are dropped, rows with too many values are an error naming the line, rows with too few (which
pandas silently pads) are reported with their line numbers. ``frame.index`` holds each row's
1-based file line.

Bounds: only regular files are read (a FIFO, device or socket is refused before it is opened, so
nothing blocks on it); a line longer than :data:`MAX_LINE_BYTES` or a header of more than
:data:`MAX_COLUMNS` names is refused as soon as the parser reaches it, and Cancel acts within one
read of :data:`READ_BYTES`, not only between chunks. Numbers written with thousands
separators (``"1,234"``, or ``1.234,5`` with a decimal comma) are read as numbers, with a note.
Integer literals a float64 can't hold (beyond 1.8e308, or distinct integers that round to the
same float) are kept as floats but recorded in ``RawTable.lossy``; ``prepare`` refuses them.

Leaves out: multi-line quoted fields keep working but shift the reported line numbers after them;
comment lines and Excel files are not handled (the error says to save as CSV).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from bpstudio.data.errors import DataError
from bpstudio.data.table import RawTable, default_target_of, describe_columns, to_numbers

SAMPLE_BYTES = 64 * 1024
#: A line (a row, outside quotes or not) longer than this is refused: no real table needs it, and
#: the parser would hold the whole line (pandas used ~30 bytes of memory per byte of a long line).
MAX_LINE_BYTES = 8 * 1024 * 1024
#: A header naming more columns than this is refused (each column costs the parser and prepare).
MAX_COLUMNS = 100_000
#: The parser reads the file in pieces of this size; Cancel and the line bound act between them.
READ_BYTES = 1024 * 1024
#: Bytes of text per chunk; the chunk's row count is derived from the sample's mean line length.
CHUNK_BYTES = 16 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_PRIORITY = {",": 0, "|": 1, ";": 2, "\t": 3}  # tie-break when several split evenly
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: Missing-value spellings on top of pandas' defaults ("", "NA", "NaN", "null", "None", "N/A", …).
EXTRA_NA = ["?", "-", "--", "none", "NONE", "na", "missing", "MISSING", "Missing", ".", "#NA"]
_NA_TOKENS = {
    "", "na", "n/a", "nan", "null", "none", "?", "-", "--", "missing", ".", "#na", "#n/a", "<na>",
}  # fmt: skip
_MAGIC = {
    b"PK\x03\x04": "a zip archive or Excel .xlsx workbook; save the sheet as CSV",
    b"\xd0\xcf\x11\xe0": "an Excel .xls workbook; save the sheet as CSV",
    b"%PDF": "a PDF document; export the table as CSV",
    b"\x89PNG": "a PNG image, not a table",
    b"\x1f\x8b": "a gzip archive; unpack it first",
    b"\x93NUMPY": "a NumPy .npy array; save it as CSV",
}
_FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_LEGACY_NAMES = {"cp1252": "Windows-1252 (Latin-1)", "latin-1": "Latin-1", "utf-8": "UTF-8"}
_SEP_LINE = re.compile(r"^sep=[,;\t|]$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+([eE][+-]?\d+)?$")
_DECIMAL_DOT = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")

Progress = Callable[[float, int], None]
Cancel = Callable[[], bool]


def read_csv(path, *, progress: Progress | None = None, cancel: Cancel | None = None) -> RawTable:
    """Read a CSV file into a RawTable, or raise DataError saying what is wrong and what to do."""
    p = Path(path).expanduser()
    label = p.name or str(path)
    try:
        info = os.stat(p)
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{path}: is a folder, not a file; choose a .csv file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise DataError(
                f"{path}: is not a regular file (a pipe, device or socket); save the table to a "
                "file and open that"
            )
        size = info.st_size
        with open(p, "rb") as f:
            head = f.read(SAMPLE_BYTES)
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise DataError(
            f"{path}: cannot be read ({exc.strerror or exc}); check permissions"
        ) from None
    if size == 0 or not head.strip():
        raise DataError(f"{label}: the file is empty; choose a CSV with a header and data rows")
    _reject_binary(label, head)
    encoding, text, notes = _decode_sample(label, head, complete=size <= SAMPLE_BYTES)
    if encoding != "utf-16":
        _reject_control_chars(label, text)
    lines = text.splitlines()
    if size > SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut in half
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    forced = None
    if skip < len(lines) and _SEP_LINE.match(lines[skip].strip()):  # Excel's "sep=;" first line
        forced = lines[skip].strip()[4]
        skip += 1
        while skip < len(lines) and not lines[skip].strip():
            skip += 1
    lines = lines[skip:]
    if not lines:
        raise DataError(f"{label}: the file is empty; choose a CSV with a header and data rows")
    delimiter = forced or _sniff_delimiter(label, lines)
    rows = _split_rows(lines, delimiter)
    if len(rows[0]) > MAX_COLUMNS:
        raise DataError(
            f"{label}: line {skip + 1} has {len(rows[0]):,} columns, more than the {MAX_COLUMNS:,} "
            "bpstudio reads; keep the columns you need"
        )
    decimal = _sniff_decimal(rows, delimiter)
    has_header = _looks_like_header(rows, decimal)
    n_fields = Counter(len(r) for r in rows[1:] if any(c.strip() for c in r)).most_common(1)
    if has_header and n_fields and n_fields[0][0] > len(rows[0]):
        raise DataError(
            f"{label}: line {skip + 1} (the header) names {len(rows[0])} columns but the rows have "
            f"{n_fields[0][0]} values; add the missing column names"
        )
    n_cols = len(rows[0]) if has_header else max(len(rows[0]), n_fields[0][0] if n_fields else 0)
    avg_line = max(1.0, len(head) / max(1, head.count(b"\n")))  # bytes per line in the sample
    chunk_rows = max(1000, int(CHUNK_BYTES / avg_line))
    rows_hint = int(1.02 * size / avg_line) + 16
    spaced = (delimiter + " ") in text
    kwargs = dict(
        sep=delimiter,
        decimal=decimal,
        header=0 if has_header else None,
        names=None if has_header else [f"x{j + 1}" for j in range(n_cols)],
        index_col=False,
        skiprows=skip,
        skipinitialspace=spaced,  # costs ~30 % of parse time: only when the sample needs it
        skip_blank_lines=False,
        na_values=EXTRA_NA,
        keep_default_na=True,
        engine="c",
        chunksize=chunk_rows,
    )
    if progress is None and cancel is None:
        kwargs["chunksize"] = None  # one call: pandas ≥ 3 may parse a big file on several threads
    try:
        frame = _read_chunks(p, label, size, encoding, kwargs, progress, cancel, rows_hint)
    except UnicodeDecodeError:
        frame = None
        for fallback in ("cp1252", "latin-1"):
            if fallback == encoding or (encoding == "cp1252" and fallback != "latin-1"):
                continue
            try:
                frame = _read_chunks(p, label, size, fallback, kwargs, progress, cancel, rows_hint)
            except UnicodeDecodeError:
                continue
            was = _LEGACY_NAMES.get(encoding, encoding)
            notes.append(f"{label} is not valid {was} after the first 64 KB; "
                         f"read it as {_LEGACY_NAMES[fallback]}")  # fmt: skip
            encoding = fallback
            break
        if frame is None:
            raise DataError(f"{label}: text cannot be decoded; save it as UTF-8") from None
    first_line = skip + (2 if has_header else 1)
    frame = _tidy(label, frame, first_line, notes)
    frame = _thousands(label, frame, decimal, notes)
    frame, lossy = _big_integers(frame)
    if len(frame) == 0:
        raise DataError(f"{label}: has a header but no data rows; add at least one row of values")
    _report_short_rows(p, label, frame, encoding, delimiter, notes)
    if frame.shape[1] < 2:
        raise DataError(
            f"{label}: has only one column; a dataset needs features and a target "
            "(separate values with , ; tab or |)"
        )
    if decimal == ",":
        notes.append(f"{label}: numbers use a decimal comma (1,5 = 1.5)")
    if not has_header:
        notes.append(f"{label}: line {skip + 1} holds numbers, so the file has no header; "
                     f"columns are named x1 … x{frame.shape[1]}")  # fmt: skip
    columns = describe_columns(frame)
    return RawTable(
        frame=frame,
        name=p.stem,
        source=str(p),
        columns=columns,
        default_target=default_target_of(columns),
        notes=notes,
        delimiter=delimiter,
        encoding=encoding,
        has_header=has_header,
        lossy=lossy,
    )


# --- the sample ------------------------------------------------------------------------------


def _reject_binary(label: str, head: bytes) -> None:
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"{label}: looks like {what}")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(f"{label}: looks like a binary file, not text; choose a CSV text file")


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")  # C0 controls but tab/newlines, and DEL


def _reject_control_chars(label: str, text: str) -> None:
    if len(_CONTROL.findall(text)) > max(2, 0.01 * len(text)):
        raise DataError(f"{label}: looks like a binary file, not text; choose a CSV text file")


def _decode_sample(label: str, head: bytes, complete: bool) -> tuple[str, str, list[str]]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", head[3:].decode("utf-8", "replace"), []  # pandas drops the BOM itself
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        cut = len(head) - (len(head) % 2)
        return "utf-16", head[:cut].decode("utf-16", "replace"), []
    try:
        return "utf-8", head.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(head) - 3:  # a character cut by the 64 KB boundary
            return "utf-8", head[: exc.start].decode("utf-8", "replace"), []
    return _legacy(label, head)


def _legacy(label: str, data: bytes) -> tuple[str, str, list[str]]:
    """Windows-1252 (Latin-1 plus € and curly quotes) if it decodes, else Latin-1, with a note."""
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding, text, [f"{label} is not valid UTF-8; read it as {_LEGACY_NAMES[encoding]}"]
    raise AssertionError("latin-1 decodes every byte")


def _split_rows(lines: list[str], delimiter: str) -> list[list[str]]:
    try:
        reader = csv.reader(lines[:500], delimiter=delimiter, skipinitialspace=True)
        return [row for row in reader]
    except csv.Error:
        return [ln.split(delimiter) for ln in lines[:500]]


def _sniff_delimiter(label: str, lines: list[str]) -> str:
    body = [ln for ln in lines[:200] if ln.strip()]
    best, best_key = None, None
    for d in DELIMITERS:
        counts = [len(r) for r in _split_rows(body, d)]
        if not counts:
            continue
        mode, hits = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        consistency = hits / len(counts)
        key = (consistency >= 0.9, consistency, _DELIMITER_PRIORITY[d], mode)
        if best_key is None or key > best_key:
            best, best_key = d, key
    if best is None:
        raise DataError(
            f"{label}: line 1 has a single column (no comma, semicolon, tab or | between values); "
            "a dataset needs at least 2 columns"
        )
    return best


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    cells = [c.strip() for r in rows[:200] for c in r]
    commas = sum(1 for c in cells if _DECIMAL_COMMA.match(c))
    dots = sum(1 for c in cells if _DECIMAL_DOT.match(c))
    return "," if commas > dots else "."


def _is_number(cell: str, decimal: str) -> bool:
    cell = cell.strip()
    if decimal == ",":
        cell = cell.replace(",", ".")
    try:
        float(cell)
    except ValueError:
        return False
    return cell.lower() not in ("nan", "inf", "-inf", "infinity")


def _looks_like_header(rows: list[list[str]], decimal: str) -> bool:
    """Line 1 is data if every cell in a numeric column is a number (or missing) there too."""
    first, rest = rows[0], rows[1:]
    numeric_col = []
    for j in range(len(first)):
        cells = [
            r[j].strip() for r in rest if j < len(r) and r[j].strip().lower() not in _NA_TOKENS
        ]
        if not cells:  # a one-line file: judge line 1 on its own
            numeric_col.append(_is_number(first[j], decimal))
            continue
        numeric_col.append(sum(_is_number(c, decimal) for c in cells) >= 0.5 * len(cells))
    if not any(numeric_col):
        return True  # all text: assume names on line 1
    for j, cell in enumerate(first):
        if cell.strip().lower() in _NA_TOKENS:
            continue
        if numeric_col[j] and not _is_number(cell, decimal):
            return True
    return False


# --- the parse -------------------------------------------------------------------------------


class _Cancelled(Exception):
    """Raised inside the parser's read when the user cancels."""


class _LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _BoundedRaw(io.RawIOBase):
    """The file as the parser reads it: checks Cancel and the line length on every read."""

    def __init__(self, f: Any, cancel: Cancel | None) -> None:
        super().__init__()
        self._f = f
        self._cancel = cancel
        self._run = 0  # bytes since the last line break
        self.lines = 0  # line breaks so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._cancel is not None and self._cancel():
            raise _Cancelled
        n = self._f.readinto(buffer)
        if not n:
            return 0
        data = bytes(memoryview(buffer)[:n])
        first = data.find(b"\n")
        if first < 0:
            self._run += n
        else:
            self._run += first
            if self._run <= MAX_LINE_BYTES:
                self.lines += data.count(b"\n")
                self._run = n - data.rfind(b"\n") - 1
        if self._run > MAX_LINE_BYTES:
            raise _LineTooLong(self.lines + 1)
        return n


def _read_chunks(p, label, size, encoding, kwargs, progress, cancel, rows_hint) -> pd.DataFrame:
    assembler = _Assembler(rows_hint)
    rows = 0
    with open(p, "rb", buffering=0) as f:
        bounded = io.BufferedReader(_BoundedRaw(f, cancel), READ_BYTES)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                if kwargs["chunksize"] is None:  # no callbacks: check lines, then one call
                    while bounded.read(READ_BYTES):
                        pass  # memchr-fast: ~5 % of the parse; pandas is faster on a path
                    return _floats(_width(label, pd.read_csv(p, encoding=encoding, **kwargs)))
                reader = pd.read_csv(bounded, encoding=encoding, **kwargs)
                with reader:
                    for chunk in reader:
                        assembler.add(_width(label, chunk))
                        rows += len(chunk)
                        if cancel is not None and cancel():
                            raise DataError(f"{label}: loading cancelled after {rows} rows")
                        if progress is not None:
                            progress(min(1.0, f.tell() / size) if size else 1.0, rows)
        except (DataError, UnicodeDecodeError):
            raise
        except _Cancelled:
            raise DataError(f"{label}: loading cancelled after {rows} rows") from None
        except _LineTooLong as exc:
            raise DataError(
                f"{label}: line {exc.line} is longer than {MAX_LINE_BYTES // 2**20} MB; a CSV "
                "holds one row per line — check that this is a table with line breaks"
            ) from None
        except MemoryError:
            raise DataError(
                f"{label}: too large to read into memory ({size / 2**20:,.0f} MB on disk); "
                "keep fewer rows or columns"
            ) from None
        except pd.errors.ParserWarning:
            raise DataError(
                f"{label}: some rows have more values than the header has names; add the missing "
                "column names to line 1 or remove the extra values"
            ) from None
        except pd.errors.EmptyDataError:
            raise DataError(
                f"{label}: the file is empty; choose a CSV with a header and data rows"
            ) from None
        except pd.errors.ParserError as exc:
            raise _parser_error(label, str(exc), kwargs["sep"]) from None
        except (ValueError, TypeError, OverflowError, csv.Error, OSError) as exc:
            raise DataError(f"{label}: cannot be read as CSV ({exc}); check the file") from None
    if progress is not None:
        progress(1.0, rows)
    if assembler.columns is None:
        raise DataError(f"{label}: has a header but no data rows; add at least one row of values")
    return assembler.frame()


def _width(label: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Refuse more than MAX_COLUMNS columns (a header longer than the sample gets this far)."""
    if frame.shape[1] > MAX_COLUMNS:
        raise DataError(
            f"{label}: has {frame.shape[1]:,} columns, more than the {MAX_COLUMNS:,} bpstudio "
            "reads; keep the columns you need"
        )
    return frame


def _floats(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as float64, as the chunked path stores them (floats stay uncopied)."""
    kinds = [dt.kind for dt in frame.dtypes]
    if all(k in "iuf" for k in kinds) and ("i" in kinds or "u" in kinds):
        return frame.astype("float64")  # one call: per-column astype costs ~0.2 ms a column
    ints = [c for c, k in zip(frame.columns, kinds, strict=True) if k in "iu"]
    if ints:
        frame = frame.astype(dict.fromkeys(ints, "float64"))
    return frame


class _Assembler:
    """Collects parsed chunks without a final ``pd.concat`` of everything.

    Numeric columns are copied chunk by chunk into one preallocated float64 block of shape
    (n_numeric, capacity) — pandas' own block layout, so the DataFrame wraps it without a copy.
    The capacity comes from the sample's bytes per line and grows by half when a guess is short.
    Other columns (text, bool, numbers turned text in a later chunk) are concatenated per column.
    """

    def __init__(self, rows_hint: int) -> None:
        self.capacity = max(16, rows_hint)
        self.columns: list[str] | None = None
        self.numeric: dict[str, int] = {}  # column -> row of the block
        self.other: dict[str, list[pd.Series]] = {}
        self.block: np.ndarray | None = None
        self.n = 0

    def add(self, chunk: pd.DataFrame) -> None:
        m = len(chunk)
        if self.columns is None:
            self.columns = list(chunk.columns)
            for name in self.columns:
                s = chunk[name]
                if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(
                    s.dtype
                ):
                    self.numeric[name] = len(self.numeric)
                else:
                    self.other[name] = []
            self.block = np.empty((len(self.numeric), self.capacity), dtype="float64")
        if self.n + m > self.capacity:
            self.capacity = max(self.n + m, int(self.capacity * 1.5))
            grown = np.empty((self.block.shape[0], self.capacity), dtype="float64")
            grown[:, : self.n] = self.block[:, : self.n]
            self.block = grown
        for name in list(self.numeric):
            s = chunk[name]
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                row = self.block[self.numeric[name], self.n : self.n + m]
                if s.dtype == np.float64 or s.dtype.kind in "iu":
                    row[:] = s.to_numpy()  # one copy (and int → float); no NaN masking needed
                else:  # nullable / extension numbers
                    row[:] = s.to_numpy(dtype="float64", na_value=np.nan)
            else:  # text turned up further down: keep this column as a list of chunks from now on
                row = self.numeric.pop(name)
                self.other[name] = [pd.Series(self.block[row, : self.n].copy())]
        for name, parts in self.other.items():
            parts.append(chunk[name].reset_index(drop=True))
        self.n += m

    def frame(self) -> pd.DataFrame:
        n = self.n
        if n < 0.9 * self.capacity:  # a generous guess: give the memory back
            self.block = self.block[:, :n].copy()
        names = list(self.numeric)
        rows = [self.numeric[c] for c in names]
        if rows != list(range(len(rows))):  # a column left the block: keep the others in order
            self.block = self.block[rows]
        frame = pd.DataFrame(self.block[:, :n].T, columns=names, copy=False)
        for loc, name in enumerate(self.columns):
            if name in self.other:
                parts = self.other[name]
                s = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
                frame.insert(loc, name, s.to_numpy() if s.dtype == object else s.array)
        return frame


def _parser_error(label: str, message: str, delimiter: str) -> DataError:
    m = _FIELDS_ERROR.search(message)
    if m:
        expected, line, saw = m.groups()
        return DataError(
            f"{label}: line {line} has {saw} values but the header has {expected}; remove the "
            "extra values or put quotes around text that contains the "
            f"{_DELIMITER_NAMES[delimiter]}"
        )
    if "EOF inside string" in message or "EOF" in message:
        line = re.search(r"line (\d+)", message)
        where = f" starting at line {line.group(1)}" if line else ""
        return DataError(f'{label}: a quoted value{where} never ends; close the quote (")')
    return DataError(f"{label}: cannot be read as CSV ({message}); check the file")


# --- after the parse -------------------------------------------------------------------------


def _tidy(label: str, frame: pd.DataFrame, first_line: int, notes: list[str]) -> pd.DataFrame:
    if frame.shape[1] == 0:
        raise DataError(f"{label}: no columns found; check that the file is a table of values")
    names, renamed = [], 0
    for j, c in enumerate(frame.columns):
        name = str(c).strip()
        if not name or name.startswith("Unnamed: "):
            name, renamed = f"column{j + 1}", renamed + 1
        names.append(name)
    if len(set(names)) < len(names):  # "a", "a " after stripping: keep them apart
        names = unique_names(names)
        notes.append(f"{label}: some column names repeat; later copies got .1, .2, …")
    if renamed:
        notes.append(f"{label}: {renamed} column(s) had no name and were named column<N>")
    frame.columns = names
    frame.index = pd.RangeIndex(first_line, first_line + len(frame), name="line")
    first_na = frame.iloc[:, 0].isna().to_numpy()
    if first_na.any():  # a blank line is NaN in every column, so it is NaN in the first one
        cand = np.flatnonzero(first_na)
        blank = cand[frame.iloc[cand].isna().all(axis=1).to_numpy()]
        if len(blank):
            frame = frame.drop(index=frame.index[blank])
            trailing = len(blank) == blank[-1] - blank[0] + 1 and blank[-1] == len(first_na) - 1
            if not trailing:
                notes.append(f"{label}: skipped {len(blank)} empty line(s)")
    return frame


_THOUSANDS = {
    ".": (re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"), re.compile(r"^[+-]?\d+(\.\d+)?$"), ","),
    ",": (re.compile(r"^[+-]?\d{1,3}([. ]\d{3})+(,\d+)?$"), re.compile(r"^[+-]?\d+(,\d+)?$"), ". "),
}  # fmt: skip


def _thousands(label: str, frame: pd.DataFrame, decimal: str, notes: list[str]) -> pd.DataFrame:
    """Text columns whose every cell is a number, some with thousands separators → floats."""
    grouped, plain, seps = _THOUSANDS[decimal]
    converted = []
    for c in frame.columns:
        s = frame[c]
        if is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        present = s.dropna()
        if present.empty or not isinstance(present.iloc[0], str):
            continue
        head = present.iloc[:1000].astype(str).str.strip()
        if not head.str.fullmatch(grouped.pattern).any():
            continue  # decided on a sample: a text column costs one regex over 1,000 cells
        text = present.astype(str).str.strip()
        if not (text.str.fullmatch(grouped.pattern) | text.str.fullmatch(plain.pattern)).all():
            continue
        for sep in seps:
            text = text.str.replace(sep, "", regex=False)
        if decimal == ",":
            text = text.str.replace(",", ".", regex=False)
        values = np.full(len(s), np.nan)
        values[s.notna().to_numpy()] = to_numbers(text).to_numpy()
        frame[c] = values
        converted.append(str(c))
    if converted:
        shown = ", ".join(f"'{c}'" for c in converted[:5]) + (" …" if len(converted) > 5 else "")
        example = "1,234 = 1234" if decimal == "." else "1.234,5 = 1234.5"
        notes.append(f"{label}: column(s) {shown} use thousands separators ({example}); read "
                     "as numbers")  # fmt: skip
    return frame


def _big_integers(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Columns of integers too long for int64 (pandas keeps them as Python ints) → float64.

    Records the columns a float cannot hold: beyond ±1.8e308, or distinct integers that round to
    the same float (1e30 + 1 == 1e30 + 2 as floats).
    """
    lossy: dict[str, str] = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype != object or pd.api.types.infer_dtype(s, skipna=True) != "integer":
            continue
        floats = to_numbers(s)
        v = floats.to_numpy()
        where = frame.index.name == "line"
        if np.isinf(v).any():
            pos = int(np.argmax(np.isinf(v)))
            digits = len(str(abs(int(s.iloc[pos]))))
            at = f"line {frame.index[pos]}" if where else f"row {pos + 1}"
            lossy[str(c)] = (f"column '{c}' has a number too large for a float ({digits} digits, "
                             f"at {at})")  # fmt: skip
        else:
            ints = s.dropna()
            if ints.nunique() > floats.nunique():
                first = ints.groupby(floats.dropna().to_numpy()).agg(["min", "max"])
                pair = first[first["min"] != first["max"]].iloc[0]
                a, b = _clip(str(pair["min"])), _clip(str(pair["max"]))
                lossy[str(c)] = (f"column '{c}' has whole numbers too long for a float to tell "
                                 f"apart ({a} and {b} are the same float)")  # fmt: skip
        frame[c] = v
    return frame, lossy


def _clip(text: str, keep: int = 24) -> str:
    return text if len(text) <= keep else f"{text[:10]}…{text[-10:]} ({len(text)} digits)"


def unique_names(names: list[str]) -> list[str]:
    """Later copies of a name get .1, .2, … skipping any name already taken ("a", "a", "a.1")."""
    taken = set(names)
    out: list[str] = []
    used: set[str] = set()
    for name in names:
        if name in used:
            k = 1
            while f"{name}.{k}" in taken or f"{name}.{k}" in used:
                k += 1
            name = f"{name}.{k}"
        used.add(name)
        out.append(name)
    return out


def _report_short_rows(p, label, frame, encoding, delimiter, notes) -> None:
    """pandas pads short rows with NaN; re-read just the lines that might be."""
    last = frame.iloc[:, -1].isna().to_numpy()
    if not last.any():
        return
    want = set(frame.index[last].tolist())
    n_cols = frame.shape[1]
    short: list[int] = []
    with open(p, encoding=encoding, errors="replace", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            if lineno in want:
                fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
                if len(fields) < n_cols:
                    short.append(lineno)
                want.discard(lineno)
                if not want:
                    break
    if short:
        shown = ", ".join(map(str, short[:10])) + (", …" if len(short) > 10 else "")
        notes.append(
            f"{label}: {len(short)} row(s) have fewer values than the header (line {shown}); "
            "the missing values count as missing"
        )
