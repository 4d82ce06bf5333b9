"""Vectorised "before this date" aggregates over grouped, date-ordered rows.

The one primitive every pre-game feature is built on. For each row it sums a
value over the earlier rows of its group whose date is strictly before the
row's date (optionally only the last `n` of them), so rows sharing a date, like
a doubleheader's two games, never see each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class DateWindows:
    """Index arithmetic for one grouping of a frame, reused across value columns.

    `frame` must be sorted by `keys` then `date` (ties in any order).
    """

    def __init__(self, frame: pd.DataFrame, keys: list[str], date: str = "date") -> None:
        n = len(frame)
        position = np.arange(n)
        self._group_ids = frame.groupby(keys, sort=False).ngroup().to_numpy()
        group_start = frame.groupby(keys, sort=False).cumcount().to_numpy()
        self._group_start = position - group_start
        same_day = frame.groupby([*keys, date], sort=False).cumcount().to_numpy()
        # Index of the first row of this row's (group, date): rows before it are "earlier".
        self._first_today = position - same_day
        self._n = n
        self._day = (frame[date] - pd.Timestamp("1970-01-01")).dt.days.to_numpy()

    def sum(self, values: np.ndarray | pd.Series, last: int | None = None) -> np.ndarray:
        """Sum of `values` over earlier-dated rows of the group (the last `last` of them)."""
        v = np.nan_to_num(np.asarray(values, dtype=float))
        # Cumulate within each group only, and read the sums at rows before
        # today: no later or other-group value can touch the result, not even
        # through floating-point rounding.
        inclusive = pd.Series(v).groupby(self._group_ids).cumsum().to_numpy()
        start = self._window_start(last)
        return self._before(inclusive, self._first_today) - self._before(inclusive, start)

    def _before(self, inclusive: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Group sum of the rows before `index` (0 when `index` is the group's first row)."""
        out = np.zeros(self._n)
        has = index > self._group_start
        out[has] = inclusive[index[has] - 1]
        return out

    def sum_days(self, values: np.ndarray | pd.Series, days: int) -> np.ndarray:
        """Sum of `values` over the group's rows dated in the `days` calendar days before."""
        v = np.nan_to_num(np.asarray(values, dtype=float))
        inclusive = pd.Series(v).groupby(self._group_ids).cumsum().to_numpy()
        # Rows are sorted by (group, date): a key that orders them the same way
        # finds each window's first row with one binary search.
        key = self._group_ids.astype(np.int64) * 1_000_000 + self._day
        start = np.searchsorted(key, key - days, side="left")
        return self._before(inclusive, self._first_today) - self._before(inclusive, start)

    def count(self, last: int | None = None) -> np.ndarray:
        return (self._first_today - self._window_start(last)).astype(float)

    def previous(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """The value on the group's latest earlier-dated row (NaN when there is none)."""
        v = np.asarray(values, dtype=float)
        before = self._first_today - 1
        out = np.full(self._n, np.nan)
        has = before >= self._group_start
        out[has] = v[before[has]]
        return out

    def _window_start(self, last: int | None) -> np.ndarray:
        if last is None:
            return self._group_start
        return np.maximum(self._group_start, self._first_today - last)


def shrunk_rate(total: np.ndarray, count: np.ndarray, prior: np.ndarray | float, weight: float):
    """(total + prior * weight) / (count + weight): pulled toward `prior` when data is thin."""
    return (total + np.asarray(prior) * weight) / (count + weight)
