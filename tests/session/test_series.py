"""The per-step series stays true over a whole run: even bins from step 1, spikes kept."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.session.series import BinnedSeries, FullSeries


def _feed(series: BinnedSeries, n: int, chunk: int, y=None) -> np.ndarray:
    steps = np.arange(1, n + 1, dtype=np.float64)
    ys = np.sin(steps / 1000.0) if y is None else y
    for i in range(0, n, chunk):
        series.append(steps[i : i + chunk], ys[i : i + chunk])
    return ys


def test_short_series_keeps_every_point() -> None:
    s = BinnedSeries(max_bins=16)
    s.append([1, 2, 3], [0.5, 0.25, 0.125])
    assert s.x.tolist() == [1, 2, 3]
    assert s.y.tolist() == [0.5, 0.25, 0.125]
    assert s.width == 1


@pytest.mark.parametrize("chunk", [1, 7, 50, 1_000_000])
def test_million_steps_even_bins_from_step_one(chunk: int) -> None:
    s = BinnedSeries(max_bins=4096)
    n = 1_000_000 if chunk >= 50 else 20_000
    ys = _feed(s, n, chunk)
    assert s.max_bins // 2 <= len(s) <= s.max_bins
    assert s.x_first[0] == 1.0
    assert s.x_last[-1] == n
    # every bin but the last covers the same number of steps
    assert len(set(s.counts[:-1].tolist())) == 1
    assert int(s.counts[0]) == int(s.width)
    assert int(s.counts.sum()) == n == s.n_points
    # the bin means are the means of what they cover
    w = int(s.width)
    assert np.allclose(s.y[:-1], ys[: (len(s) - 1) * w].reshape(-1, w).mean(axis=1))


def test_a_spike_survives_as_the_max() -> None:
    s = BinnedSeries(max_bins=64)
    y = np.ones(100_000)
    y[54_321] = 1e3
    _feed(s, y.size, 333, y)
    assert np.nanmax(s.ymax) == 1e3
    assert np.nanmin(s.ymin) == 1.0
    env = s.view(columns=10)
    assert env.x.size <= 12 and np.nanmax(env.ymax) == 1e3


def test_non_finite_values_do_not_poison_the_mean() -> None:
    s = BinnedSeries(max_bins=4)
    s.append(np.arange(1, 9), [1, np.nan, 3, np.inf, 5, 6, 7, 8])
    assert np.isfinite(s.y).all()
    assert s.y_last[-1] == 8
    assert np.isnan(BinnedSeries().y).size == 0


def test_view_is_bounded_by_columns_and_window() -> None:
    s = BinnedSeries(max_bins=4096)
    _feed(s, 200_000, 1000)
    env = s.view(50_000, 60_000, columns=100)
    assert env.x.size <= 2 * 100 + 2
    assert env.x[1] >= 50_000 - s.width and env.x[-2] <= 60_000 + s.width
    whole = s.view(columns=500)
    assert whole.x.size <= 502 and whole.x[0] < 200_000 / 500


def test_round_trip_is_bit_exact() -> None:
    s = BinnedSeries(max_bins=32)
    _feed(s, 5_000, 17)
    t = BinnedSeries.from_arrays(s.to_arrays())
    for a, b in zip(s.to_arrays().values(), t.to_arrays().values(), strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    t.append([5_001], [0.0])  # and it goes on binning where it left off
    assert t.n_points == 5_001 and t.width == s.width
    with pytest.raises(ValueError):
        BinnedSeries.from_arrays({**s.to_arrays(), "n": np.zeros(3)})


def test_full_series_keeps_everything_and_views_bounded() -> None:
    f = FullSeries()
    f.append(np.arange(10_000), np.arange(10_000) % 7)
    assert len(f) == 10_000 and f.x[0] == 0
    env = f.view(columns=50)
    assert env.x.size <= 52 and env.ymax.max() == 6 and env.ymin.min() == 0
    g = FullSeries.from_arrays(f.to_arrays())
    assert np.array_equal(g.y, f.y)
    assert f.nearest(4.4) == (4.0, 4.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_series_grows_without_a_whole_copy_at_once(seed: int, monkeypatch) -> None:
    """Appends one point or a few at a time (as epochs arrive) never copy the whole series in
    one call: the doubling is spread over the appends after half full, a chunk at a time."""
    rng = np.random.default_rng(seed)
    f = FullSeries(initial=int(rng.integers(1, 100)))
    whole = []
    monkeypatch.setattr(FullSeries, "_make_room", lambda self, need: whole.append(need))
    n, most = 0, 0
    while n < 200_000:
        k = int(rng.integers(1, 4))
        before = f._moved if f._next is not None else 0
        if rng.random() < 0.5:
            f.append(float(n), float(-n))
            k = 1
        else:
            f.append(np.arange(n, n + k, dtype=float), -np.arange(n, n + k, dtype=float))
        moved = (f._moved if f._next is not None else f._n) - before
        if f._next is not None:  # still moving: what this append copied
            most = max(most, moved)
        n += k
    assert not whole  # never all at once
    assert most <= FullSeries.MOVE_CHUNK + FullSeries.MOVE_PER_POINT * 3
    assert np.array_equal(f.x, np.arange(n)) and np.array_equal(f.y, -np.arange(n))
    assert f.last() == (n - 1, -(n - 1))


def test_full_series_arrays_are_a_snapshot() -> None:
    """``to_arrays`` hands out read-only views that later appends and ``clear`` leave alone
    (the autosave writes them from another thread while the run goes on)."""
    f = FullSeries()
    f.append(np.arange(1000.0), np.arange(1000.0) * 2)
    snap = f.to_arrays()
    with pytest.raises(ValueError):
        snap["y"][0] = 5.0
    for i in range(1000, 5000):
        f.append(float(i), float(2 * i))
    f.clear()
    f.append(np.full(3000, 7.0), np.full(3000, 7.0))
    assert np.array_equal(snap["x"], np.arange(1000.0))
    assert np.array_equal(snap["y"], np.arange(1000.0) * 2)
    assert len(f) == 3000 and np.all(f.y == 7.0)
