"""Series that keep a run's history true at any length, and what a plot of them may draw.

A training run produces one loss per mini-batch and a gradient norm per layer every few steps: a
ten-minute run of a small net is millions of points. Two containers keep that history honest:

- ``BinnedSeries`` (per-step series) thins *evenly over the whole run*. Points fall into bins of a
  fixed width on the x axis, counted from the first x appended (``origin``); bin ``k`` covers
  ``[origin + k·width, origin + (k+1)·width)``. When there are more than ``max_bins`` bins,
  neighbouring bins merge pairwise (``k → k // 2``) and the width doubles, so every bin always
  covers the same span and the first bin always starts at the first point. Each bin keeps the
  count, the first and last x, the min, max and mean of its finite y values and the last y: a
  spike survives as a bin's max, and the mean is the average over every point the bin covers.
- ``FullSeries`` (per-epoch series, a few thousand points) keeps every point.

Both answer ``view(lo, hi, columns)`` with an ``Envelope``: at most ~``columns`` points between
``lo`` and ``hi`` (one per pixel column, say), each with the mean and the min/max envelope of what
it covers, so the cost of drawing is bounded by the screen, not by the length of the run. Both
round-trip through ``to_arrays`` / ``from_arrays`` (plain float64/int64 arrays: the project file
stores them as ``.npy``) bit-exactly.

Leaves out: x values that go back in time (a series is appended in increasing x), and any Qt —
plots in ``bpstudio.ui`` read these, the session's runs own them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

DEFAULT_MAX_BINS = 4096  # bins kept per step series: 2048…4096 after a merge, ~32 kB per field


class Envelope(NamedTuple):
    """What a plot draws for a stretch of a series: per point its x, mean y, min y and max y."""

    x: np.ndarray
    y: np.ndarray
    ymin: np.ndarray
    ymax: np.ndarray


def _as_1d(values: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()


def _columns_reduce(
    x: np.ndarray,
    y_sum: np.ndarray,
    y_cnt: np.ndarray,
    ymin: np.ndarray,
    ymax: np.ndarray,
    weight: np.ndarray,
    lo: float,
    hi: float,
    columns: int,
) -> Envelope:
    """Merge consecutive points into ``columns`` equal slices of [lo, hi] (x weighted by count)."""
    span = hi - lo
    col = np.floor((x - lo) / span * columns) if span > 0 else np.zeros_like(x)
    col = np.clip(col, -1, columns).astype(np.int64)  # the neighbours outside keep their own
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    w = np.add.reduceat(weight, starts)
    xs = np.add.reduceat(x * weight, starts) / np.maximum(w, 1)
    s = np.add.reduceat(y_sum, starts)
    c = np.add.reduceat(y_cnt, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    mn = np.fmin.reduceat(ymin, starts)
    mx = np.fmax.reduceat(ymax, starts)
    return Envelope(xs, mean, mn, mx)


def _window(x_first: np.ndarray, x_last: np.ndarray, lo: float | None, hi: float | None) -> slice:
    """The points that reach into [lo, hi], plus one neighbour on each side (lines leave the view
    towards them instead of stopping at its edge)."""
    n = x_first.size
    i0 = 0 if lo is None else max(0, int(np.searchsorted(x_last, lo, side="left")) - 1)
    i1 = n if hi is None else min(n, int(np.searchsorted(x_first, hi, side="right")) + 1)
    return slice(i0, max(i0, i1))


class BinnedSeries:
    """A per-step series thinned evenly over the whole run (see the module docstring)."""

    _FIELDS = ("k", "n", "x_sum", "x_first", "x_last", "y_min", "y_max", "y_sum", "y_count")

    def __init__(self, max_bins: int = DEFAULT_MAX_BINS) -> None:
        if max_bins < 4:
            raise ValueError("max_bins must be at least 4")
        self.max_bins = int(max_bins)
        self.clear()

    # --- state ---------------------------------------------------------------------------------
    def clear(self) -> None:
        self.origin: float | None = None
        self.width = 1.0
        self.n_points = 0  # points appended since the last clear
        self.version = 0  # bumps on every change (views redraw when it moves)
        self._k = np.empty(0, np.int64)
        self._n = np.empty(0, np.int64)
        self._y_count = np.empty(0, np.int64)
        for name in ("x_sum", "x_first", "x_last", "y_min", "y_max", "y_sum", "y_last"):
            setattr(self, f"_{name}", np.empty(0))
        self.version += 1

    def __len__(self) -> int:
        return int(self._k.size)

    @property
    def x(self) -> np.ndarray:
        """Each bin's mean x (for a bin of one point, that point's x)."""
        return self._x_sum / np.maximum(self._n, 1)

    @property
    def y(self) -> np.ndarray:
        """Each bin's mean of its finite values (NaN where it has none)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self._y_count > 0, self._y_sum / np.maximum(self._y_count, 1), np.nan)

    @property
    def ymin(self) -> np.ndarray:
        return np.where(np.isfinite(self._y_min), self._y_min, np.nan)

    @property
    def ymax(self) -> np.ndarray:
        return np.where(np.isfinite(self._y_max), self._y_max, np.nan)

    @property
    def x_first(self) -> np.ndarray:
        return self._x_first

    @property
    def x_last(self) -> np.ndarray:
        return self._x_last

    @property
    def counts(self) -> np.ndarray:
        """How many appended points each bin covers."""
        return self._n

    @property
    def y_last(self) -> np.ndarray:
        """Each bin's last value as appended (NaN and inf included)."""
        return self._y_last

    def last(self) -> tuple[float, float] | None:
        """The x and y of the last point appended, or None."""
        if not len(self):
            return None
        return float(self._x_last[-1]), float(self._y_last[-1])

    # --- appending -----------------------------------------------------------------------------
    def append(self, x: Any, y: Any) -> None:
        """Append points in increasing x (a scalar or arrays of equal length)."""
        xs, ys = _as_1d(x), _as_1d(y)
        if xs.shape != ys.shape:
            raise ValueError(f"x and y lengths differ: {xs.size} vs {ys.size}")
        m = xs.size
        if m == 0:
            return
        if self.origin is None:
            self.origin = float(xs[0])
        k = np.floor((xs - self.origin) / self.width).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        ends = np.r_[starts[1:], m] - 1
        finite = np.isfinite(ys)
        new = {
            "k": k[starts],
            "n": np.diff(np.r_[starts, m]).astype(np.int64),
            "x_sum": np.add.reduceat(xs, starts),
            "x_first": xs[starts],
            "x_last": xs[ends],
            "y_min": np.minimum.reduceat(np.where(finite, ys, np.inf), starts),
            "y_max": np.maximum.reduceat(np.where(finite, ys, -np.inf), starts),
            "y_sum": np.add.reduceat(np.where(finite, ys, 0.0), starts),
            "y_count": np.add.reduceat(finite.astype(np.int64), starts),
            "y_last": ys[ends],
        }
        if len(self) and self._k[-1] == new["k"][0]:  # the first new points join the last bin
            self._n[-1] += new["n"][0]
            self._x_sum[-1] += new["x_sum"][0]
            self._x_last[-1] = new["x_last"][0]
            self._y_min[-1] = min(self._y_min[-1], new["y_min"][0])
            self._y_max[-1] = max(self._y_max[-1], new["y_max"][0])
            self._y_sum[-1] += new["y_sum"][0]
            self._y_count[-1] += new["y_count"][0]
            self._y_last[-1] = new["y_last"][0]
            new = {key: v[1:] for key, v in new.items()}
        for key, v in new.items():
            setattr(self, f"_{key}", np.concatenate([getattr(self, f"_{key}"), v]))
        self.n_points += m
        while len(self) > self.max_bins:
            self._merge()
        self.version += 1

    def limit(self, max_bins: int) -> None:
        """Keep at most ``max_bins`` bins from now on, merging pairwise now if needed (an older
        run's history, thinned so that a session of many runs stays small)."""
        if max_bins < 4:
            raise ValueError("max_bins must be at least 4")
        self.max_bins = int(max_bins)
        if len(self) > self.max_bins:
            while len(self) > self.max_bins:
                self._merge()
            self.version += 1

    def _merge(self) -> None:
        """Neighbouring bins merge pairwise; the width doubles (bins stay aligned to origin)."""
        self.width *= 2.0
        k = self._k // 2
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        ends = np.r_[starts[1:], k.size] - 1
        self._k = k[starts]
        for name in ("n", "x_sum", "y_sum", "y_count"):
            setattr(self, f"_{name}", np.add.reduceat(getattr(self, f"_{name}"), starts))
        self._y_min = np.minimum.reduceat(self._y_min, starts)
        self._y_max = np.maximum.reduceat(self._y_max, starts)
        self._x_first = self._x_first[starts]
        self._x_last = self._x_last[ends]
        self._y_last = self._y_last[ends]

    # --- reading -------------------------------------------------------------------------------
    def view(
        self, lo: float | None = None, hi: float | None = None, columns: int | None = None
    ) -> Envelope:
        """The bins reaching into [lo, hi] (all of them by default), merged into about
        ``columns`` points when there are more than twice that many."""
        sl = _window(self._x_first, self._x_last, lo, hi)
        x = self.x[sl]
        if columns is None or x.size <= 2 * columns or x.size < 3:
            return Envelope(x, self.y[sl], self.ymin[sl], self.ymax[sl])
        a = float(x[0] if lo is None else lo)
        b = float(x[-1] if hi is None else hi)
        env = _columns_reduce(
            x,
            self._y_sum[sl],
            self._y_count[sl],
            self._y_min[sl],
            self._y_max[sl],
            self._n[sl].astype(np.float64),
            a,
            b,
            int(columns),
        )
        return env._replace(
            ymin=np.where(np.isfinite(env.ymin), env.ymin, np.nan),
            ymax=np.where(np.isfinite(env.ymax), env.ymax, np.nan),
        )

    def nearest(self, x: float) -> tuple[float, float] | None:
        """The bin (mean x, mean y) whose span is closest to ``x``."""
        if not len(self):
            return None
        i = int(np.searchsorted(self._x_last, x, side="left"))
        if i >= len(self):
            i = len(self) - 1
        elif i > 0 and x - self._x_last[i - 1] <= self._x_first[i] - x:
            i -= 1
        return float(self.x[i]), float(self.y[i])

    # --- files ---------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole state as plain arrays (a project file stores them as .npy)."""
        out = {name: getattr(self, f"_{name}").copy() for name in (*self._FIELDS, "y_last")}
        origin = np.nan if self.origin is None else self.origin
        out["meta"] = np.array([origin, self.width, float(self.n_points), float(self.max_bins)])
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> BinnedSeries:
        """Rebuild from ``to_arrays``; raises ValueError on arrays that do not fit together."""
        meta = np.asarray(arrays["meta"], dtype=np.float64)
        if meta.shape != (4,) or not np.isfinite(meta[1:]).all() or meta[1] <= 0:
            raise ValueError("series: bad meta")
        s = cls(max_bins=int(meta[3]))
        n = None
        for name in (*cls._FIELDS, "y_last"):
            v = np.asarray(arrays[name])
            if v.ndim != 1 or (n is not None and v.size != n):
                raise ValueError(f"series: field {name} has the wrong shape")
            n = v.size
            dtype = np.int64 if name in ("k", "n", "y_count") else np.float64
            setattr(s, f"_{name}", v.astype(dtype, copy=True))
        s.origin = None if np.isnan(meta[0]) else float(meta[0])
        s.width = float(meta[1])
        s.n_points = int(meta[2])
        return s


class FullSeries:
    """A per-epoch series: every point kept, in arrays that double when full.

    A doubling is spread over many appends: once the arrays are half full, arrays of twice the
    size are made (``np.empty``: the OS maps their pages only when written) and appends move the
    held points over a chunk at a time (``MOVE_PER_POINT`` per point appended on average), so
    when the old arrays fill, the new ones already hold everything and take over. No append
    copies more than a few hundred points. (Measured here: on this machine's virtualised memory a
    first write to fresh pages can cost 1–60 ms per 4 MB under load, so doubling the ~20 per-epoch
    series of a history in one go at 2¹⁹ epochs froze the window for a large part of a second.)
    """

    MOVE_PER_POINT = 4  # held points moved to the next arrays per point appended (≥ 2 suffices)
    MOVE_CHUNK = 256  # points moved at a time (2 kB of each array)

    def __init__(self, initial: int = 64) -> None:
        self._x = np.empty(initial)
        self._y = np.empty(initial)
        self._n = 0
        self._next: tuple[np.ndarray, np.ndarray] | None = None  # arrays being filled
        self._moved = 0  # points already copied into them
        self._owed = 0  # points to move (moved a chunk at a time)
        self.version = 0

    def clear(self) -> None:
        # new arrays, not the old ones rewritten: what to_arrays handed out stays as it was
        self._x, self._y = np.empty(64), np.empty(64)
        self._n = 0
        self._next, self._moved, self._owed = None, 0, 0
        self.version += 1

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    ymin = y
    ymax = y
    x_first = x
    x_last = x

    @property
    def n_points(self) -> int:
        return self._n

    def last(self) -> tuple[float, float] | None:
        return (float(self._x[self._n - 1]), float(self._y[self._n - 1])) if self._n else None

    def append(self, x: Any, y: Any) -> None:
        if isinstance(x, int | float) and isinstance(y, int | float):  # one point: the usual case
            if self._n == self._x.size:
                self._make_room(self._n + 1)
            self._x[self._n] = x
            self._y[self._n] = y
            self._n += 1
            self.version += 1
            if 2 * self._n > self._x.size:
                self._move(1)
            return
        xs, ys = _as_1d(x), _as_1d(y)
        if xs.shape != ys.shape:
            raise ValueError(f"x and y lengths differ: {xs.size} vs {ys.size}")
        need = self._n + xs.size
        if need > self._x.size:
            self._make_room(need)
        self._x[self._n : need] = xs
        self._y[self._n : need] = ys
        self._n = need
        self.version += 1
        if 2 * self._n > self._x.size:
            self._move(xs.size)

    def _move(self, appended: int) -> None:
        """Copy some more held points into the next, twice as large, arrays (made when the
        current ones pass half full); switch to them once they hold every point."""
        if self._next is None:
            cap = 2 * self._x.size
            self._next = (np.empty(cap), np.empty(cap))
            self._moved, self._owed = 0, 0
        self._owed += self.MOVE_PER_POINT * appended
        full = self._n == self._x.size
        if self._owed < min(self.MOVE_CHUNK, self._n - self._moved) and not full:
            return
        end = self._n if full else min(self._n, self._moved + self._owed)
        nx, ny = self._next
        nx[self._moved : end] = self._x[self._moved : end]
        ny[self._moved : end] = self._y[self._moved : end]
        self._owed = max(0, self._owed - (end - self._moved))
        self._moved = end
        if self._moved == self._n:
            self._x, self._y = nx, ny
            self._next, self._moved, self._owed = None, 0, 0

    def _make_room(self, need: int) -> None:
        """Arrays for at least ``need`` points at once (a batch larger than the room left)."""
        cap = max(self._x.size, 1)
        while cap < need:
            cap *= 2
        for name in ("_x", "_y"):
            new = np.empty(cap)
            new[: self._n] = getattr(self, name)[: self._n]
            setattr(self, name, new)
        self._next, self._moved, self._owed = None, 0, 0

    def view(
        self, lo: float | None = None, hi: float | None = None, columns: int | None = None
    ) -> Envelope:
        sl = _window(self.x, self.x, lo, hi)
        x, y = self.x[sl], self.y[sl]
        if columns is None or x.size <= 2 * columns or x.size < 3:
            return Envelope(x.copy(), y.copy(), y.copy(), y.copy())
        finite = np.isfinite(y)
        return _columns_reduce(
            x,
            np.where(finite, y, 0.0),
            finite.astype(np.int64),
            np.where(finite, y, np.nan),
            np.where(finite, y, np.nan),
            np.ones_like(x),
            float(x[0] if lo is None else lo),
            float(x[-1] if hi is None else hi),
            int(columns),
        )

    def nearest(self, x: float) -> tuple[float, float] | None:
        if not self._n:
            return None
        xs = self.x
        i = int(np.searchsorted(xs, x))
        if i >= self._n:
            i = self._n - 1
        elif i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
            i -= 1
        return float(xs[i]), float(self._y[i])

    @property
    def nbytes(self) -> int:
        held = self._x.nbytes + self._y.nbytes
        return held + (0 if self._next is None else self._next[0].nbytes + self._next[1].nbytes)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The points as read-only views, not copies: appends only write past them and
        ``clear`` takes new arrays, so they keep what they show now (a snapshot to write from
        another thread while the series grows; copy to change them)."""
        x, y = self._x[: self._n], self._y[: self._n]
        x.flags.writeable = False
        y.flags.writeable = False
        return {"x": x, "y": y}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FullSeries:
        x = np.asarray(arrays["x"], dtype=np.float64)
        y = np.asarray(arrays["y"], dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError("series: x and y do not fit together")
        s = cls(max(64, x.size))
        s.append(x, y)
        return s


__all__ = ["DEFAULT_MAX_BINS", "BinnedSeries", "Envelope", "FullSeries"]
