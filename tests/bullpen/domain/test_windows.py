from __future__ import annotations

import numpy as np
import pandas as pd

from bullpen.domain.windows import DateWindows, shrunk_rate


def _frame() -> pd.DataFrame:
    # Team A plays a doubleheader on day 2; team B has one game a day.
    return pd.DataFrame(
        {
            "team": ["A", "A", "A", "A", "B", "B"],
            "date": pd.to_datetime(
                ["2022-04-01", "2022-04-02", "2022-04-02", "2022-04-03", "2022-04-01", "2022-04-02"]
            ),
            "v": [1.0, 10.0, 100.0, 1000.0, 5.0, 7.0],
        }
    )


def test_sums_only_earlier_dates_within_group() -> None:
    frame = _frame()
    w = DateWindows(frame, ["team"])
    np.testing.assert_array_equal(w.sum(frame["v"]), [0, 1, 1, 111, 0, 5])
    np.testing.assert_array_equal(w.count(), [0, 1, 1, 3, 0, 1])


def test_last_n_window_excludes_same_day() -> None:
    frame = _frame()
    w = DateWindows(frame, ["team"])
    np.testing.assert_array_equal(w.sum(frame["v"], last=2), [0, 1, 1, 110, 0, 5])


def test_previous_value_skips_same_day() -> None:
    frame = _frame()
    w = DateWindows(frame, ["team"])
    prev = w.previous(frame["v"])
    np.testing.assert_array_equal(prev[1:4], [1, 1, 100])
    assert np.isnan(prev[0]) and np.isnan(prev[4])


def test_shrunk_rate_pulls_toward_prior() -> None:
    assert shrunk_rate(np.array([0.0]), np.array([0.0]), 0.5, 10)[0] == 0.5
    assert shrunk_rate(np.array([10.0]), np.array([10.0]), 0.5, 10)[0] == 0.75


def test_calendar_day_window_counts_the_days_before_only() -> None:
    frame = _frame()
    w = DateWindows(frame, ["team"])
    # Day 3 of team A sees days 1-2 with a 2-day window, only day 2 with a 1-day window.
    np.testing.assert_array_equal(w.sum_days(frame["v"], 2), [0, 1, 1, 111, 0, 5])
    np.testing.assert_array_equal(w.sum_days(frame["v"], 1), [0, 1, 1, 110, 0, 5])


def test_calendar_day_window_skips_gaps_and_other_groups() -> None:
    frame = pd.DataFrame(
        {
            "team": ["A", "A", "A", "B"],
            "date": pd.to_datetime(["2022-04-01", "2022-04-05", "2022-04-06", "2022-04-05"]),
            "v": [1.0, 2.0, 4.0, 8.0],
        }
    )
    w = DateWindows(frame, ["team"])
    np.testing.assert_array_equal(w.sum_days(frame["v"], 3), [0, 0, 2, 0])
