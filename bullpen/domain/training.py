"""Training sets: pre-game features joined to outcomes, and the season split."""

from __future__ import annotations

import pandas as pd


def outcomes(games: pd.DataFrame) -> pd.Series:
    """1.0 home win, 0.0 home loss, NaN for ties and games not yet played."""
    home, away = games["home_score"].astype(float), games["away_score"].astype(float)
    y = (home > away).astype(float)
    return y.where((home != away) & home.notna() & away.notna()).set_axis(games["game_id"])


def labelled(features: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Features of decided games with their outcome in `y`."""
    y = outcomes(games)
    frame = features.assign(y=features["game_id"].map(y))
    return frame.dropna(subset=["y"]).reset_index(drop=True)


def training_seasons(available: list[int], before: int) -> list[int]:
    """Seasons a model for `before` may train on.

    The first season in the data is dropped when there are others: its Elo and
    pitcher histories start from nothing, so its features describe no one.
    """
    seasons = sorted(s for s in available if s < before)
    return seasons[1:] if len(seasons) > 1 else seasons
