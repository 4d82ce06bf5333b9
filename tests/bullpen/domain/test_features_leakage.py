"""Features are pre-game: nothing from a game's own date or later can reach them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bullpen.domain.features import FEATURE_NAMES, build_features
from bullpen.domain.gamelogs import GAME_COLUMNS
from bullpen.sources.parsed import read_gamelogs


@pytest.fixture(scope="module")
def games(gamelogs_dir: Path) -> pd.DataFrame:
    return read_gamelogs(gamelogs_dir, [2021, 2022]).frame()


@pytest.fixture(scope="module")
def baseline(games: pd.DataFrame) -> pd.DataFrame:
    return build_features(games).set_index("game_id")


# Every box-score count a feature could read (at-bats to errors, both sides).
STATS = [c for c in GAME_COLUMNS if c.startswith(("home_", "away_"))
         and c.split("_", 1)[1] not in ("score", "league", "sp_id", "sp_name")]  # fmt: skip


def _dates(games: pd.DataFrame) -> list[pd.Timestamp]:
    return sorted(games["date"].unique())


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    cols = list(FEATURE_NAMES)
    np.testing.assert_allclose(a[cols].to_numpy(), b.loc[a.index, cols].to_numpy(), rtol=0, atol=0)


settings_ = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@settings_
@given(index=st.integers(min_value=0, max_value=10_000))
def test_changing_a_days_results_leaves_that_day_and_earlier_unchanged(
    games: pd.DataFrame, baseline: pd.DataFrame, index: int
) -> None:
    day = _dates(games)[index % len(_dates(games))]
    changed = games.copy()
    on_day = changed["date"] == day
    # Reverse every result of the day and inflate the box-score stats.
    changed.loc[on_day, ["home_score", "away_score"]] = (
        changed.loc[on_day, ["away_score", "home_score"]].to_numpy() + 7
    )
    changed.loc[on_day, STATS] += 9
    after = build_features(changed).set_index("game_id")
    upto = games.loc[games["date"] <= day, "game_id"]
    _assert_same(baseline.loc[upto], after)
    later = games.loc[games["date"] > day, "game_id"]
    if len(later):  # and the change does reach later games: the test can fail
        assert not np.allclose(
            baseline.loc[later, list(FEATURE_NAMES)].to_numpy(),
            after.loc[later, list(FEATURE_NAMES)].to_numpy(),
        )


@settings_
@given(index=st.integers(min_value=0, max_value=10_000))
def test_day_features_from_truncated_history_match(
    games: pd.DataFrame, baseline: pd.DataFrame, index: int
) -> None:
    """Delete everything after a date, blank that date's results: same features."""
    day = _dates(games)[index % len(_dates(games))]
    known = games[games["date"] <= day].copy()
    on_day = known["date"] == day
    known.loc[on_day, ["home_score", "away_score"]] = np.nan
    known.loc[on_day, STATS] = 0
    replay = build_features(known).set_index("game_id")
    _assert_same(baseline.loc[known.loc[on_day, "game_id"]], replay)
