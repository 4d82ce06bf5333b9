"""A day's games "as of" its morning: what is known before the first pitch, and its features.

On the morning of a date its games are known with their announced starting
pitchers but without scores. Two ways to get there: `as_of_schedule` blanks the
results of games the game logs already have (replaying history), and
`schedule_frame` shapes the live schedule (games not played yet, with the
currently announced starters; "" is the unknown starter). `pregame_features`
computes their features from every earlier final game plus the schedule, which
is exactly what `build_features` promises for any game.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bullpen.domain.features import build_features
from bullpen.domain.gamelogs import GAME_COLUMNS

# What is known before the first pitch; every other game column (scores, box
# score, outs) is blanked in the as-of schedule.
PREGAME_COLUMNS: tuple[str, ...] = (
    "game_id", "date", "game_number", "season", "home", "away", "home_league", "away_league",
    "day_night", "park", "home_sp_id", "home_sp_name", "away_sp_id", "away_sp_name",
)  # fmt: skip
RESULT_COLUMNS: tuple[str, ...] = tuple(
    c for c in GAME_COLUMNS if c not in PREGAME_COLUMNS and c != "source_line"
)


def as_of_schedule(games: pd.DataFrame) -> pd.DataFrame:
    """The games with results blanked (NaN), as they were known on the morning of the game."""
    schedule = games.copy()
    schedule[list(RESULT_COLUMNS)] = np.nan
    return schedule.astype({c: "float64" for c in RESULT_COLUMNS})


def schedule_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Live schedule rows (`bullpen.store.live.read_schedule`) as an as-of schedule frame."""
    frame = pd.DataFrame({name: rows[name] for name in PREGAME_COLUMNS if name in rows})
    for name in ("home_league", "away_league", "day_night", "park"):
        frame[name] = rows[name].fillna("") if name in rows else ""
    for side in ("home", "away"):
        frame[f"{side}_sp_id"] = frame[f"{side}_sp_id"].fillna("")
        frame[f"{side}_sp_name"] = frame[f"{side}_sp_name"].fillna("")
    frame[list(RESULT_COLUMNS)] = np.nan
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    return frame[[*PREGAME_COLUMNS, *RESULT_COLUMNS]].astype({c: "float64" for c in RESULT_COLUMNS})


def pregame_features(history: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """Features of the scheduled games, computed from the earlier games plus the schedule."""
    # Same dtypes on both sides, so the all-NaN result columns of the schedule
    # cannot change how pandas types the combined frame.
    history = history.astype({c: "float64" for c in RESULT_COLUMNS})
    frame = pd.concat([history, schedule], ignore_index=True)
    features = build_features(frame)
    return features[features["game_id"].isin(schedule["game_id"])].reset_index(drop=True)
