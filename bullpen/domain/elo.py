"""Team Elo with margin-of-victory updates and season carry-over.

Ratings are pre-game: every game of a date is rated from the state at the start
of that date, and the date's results are applied together afterwards, so the
second game of a doubleheader never sees the first one's score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bullpen.domain.teams import franchise

MEAN_RATING = 1500.0


@dataclass(frozen=True)
class EloParams:
    k: float = 4.0
    home_advantage: float = 24.0
    carry_over: float = 0.6  # share of last season's deviation from the mean kept
    mov_scale: float = 1.0  # 0 turns margin-of-victory weighting off

    def as_dict(self) -> dict[str, float]:
        return {"k": self.k, "home_advantage": self.home_advantage,
                "carry_over": self.carry_over, "mov_scale": self.mov_scale}  # fmt: skip


def expected_home(elo_home: np.ndarray, elo_away: np.ndarray, home_advantage: float) -> np.ndarray:
    return 1.0 / (1.0 + 10.0 ** (-(elo_home + home_advantage - elo_away) / 400.0))


def _mov_multiplier(margin: int, winner_elo_diff: float, scale: float) -> float:
    if scale == 0.0:
        return 1.0
    # FiveThirtyEight's damping: big wins by the favourite count less.
    return 1.0 + scale * (math.log(abs(margin) + 1.0) * 2.2 / (winner_elo_diff * 0.001 + 2.2) - 1.0)


def pregame_elo(games: pd.DataFrame, params: EloParams | None = None) -> pd.DataFrame:
    """Pre-game ratings for every game in `games` (sorted by date).

    Games without a result (scheduled, or a blanked "as of" day) are rated but
    move nothing. Returns `game_id, elo_home, elo_away, elo_p_home`.
    """
    p = params or EloParams()
    order = games.sort_values(["date", "game_number", "game_id"], kind="stable")
    home = [franchise(t) for t in order["home"]]
    away = [franchise(t) for t in order["away"]]
    seasons = order["season"].to_numpy()
    dates = order["date"].to_numpy()
    hs = order["home_score"].to_numpy(dtype=float)
    as_ = order["away_score"].to_numpy(dtype=float)
    ratings: dict[str, float] = {}
    rated_season: dict[str, int] = {}
    pre_h = np.empty(len(order))
    pre_a = np.empty(len(order))
    n, start = len(order), 0
    while start < n:
        end = start
        while end < n and dates[end] == dates[start]:
            end += 1
        for i in range(start, end):
            pre_h[i] = _current(ratings, rated_season, home[i], int(seasons[i]), p.carry_over)
            pre_a[i] = _current(ratings, rated_season, away[i], int(seasons[i]), p.carry_over)
        for i in range(start, end):
            if not (np.isnan(hs[i]) or np.isnan(as_[i])):
                _apply(ratings, home[i], away[i], pre_h[i], pre_a[i], hs[i], as_[i], p)
        start = end
    return pd.DataFrame(
        {
            "game_id": order["game_id"].to_numpy(),
            "elo_home": pre_h,
            "elo_away": pre_a,
            "elo_p_home": expected_home(pre_h, pre_a, p.home_advantage),
        }
    )


def _current(
    ratings: dict[str, float], rated_season: dict[str, int], team: str, season: int, keep: float
) -> float:
    rating = ratings.get(team, MEAN_RATING)
    if rated_season.get(team, season) != season:
        rating = MEAN_RATING + keep * (rating - MEAN_RATING)
        ratings[team] = rating
    rated_season[team] = season
    return rating


def _apply(
    ratings: dict[str, float],
    home: str,
    away: str,
    pre_h: float,
    pre_a: float,
    home_score: float,
    away_score: float,
    p: EloParams,
) -> None:
    expected = 1.0 / (1.0 + 10.0 ** (-(pre_h + p.home_advantage - pre_a) / 400.0))
    if home_score == away_score:
        actual, margin = 0.5, 0
    else:
        actual = 1.0 if home_score > away_score else 0.0
        margin = int(abs(home_score - away_score))
    diff = pre_h + p.home_advantage - pre_a
    winner_diff = diff if actual == 1.0 else -diff
    shift = p.k * _mov_multiplier(margin, winner_diff, p.mov_scale) * (actual - expected)
    ratings[home] = ratings.get(home, MEAN_RATING) + shift
    ratings[away] = ratings.get(away, MEAN_RATING) - shift
