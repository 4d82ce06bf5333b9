"""Daily "as of" predictions: one partition per game date.

The partition key is the as-of date. On that morning a day's games are known
with their announced starting pitchers but without scores, so the stored games
of that date are stripped to what is known before the first pitch, their
features are computed from every earlier game, and the served model scores them.
"""

import datetime as dt

import numpy as np
import pandas as pd
from dagster import (
    AssetExecutionContext,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
)
from sqlalchemy import Engine

from assets.metadata import markdown_table
from assets.registry import serving_model
from bullpen.features import build_features
from bullpen.model import WinModel
from bullpen.settings import get_settings
from bullpen.store import GAME_FRAME_COLUMNS, read_games, write_predictions
from orchestration.resources import StoreResource

# end_offset=1 adds today's partition: a schedule built from a daily job
# otherwise targets the last *completed* day, i.e. yesterday's games.
# Dates are MLB's local (US Eastern) dates, so partitions follow that clock.
daily_partitions = DailyPartitionsDefinition(
    start_date="2000-03-01", end_offset=1, timezone="America/New_York"
)

# What is known before the first pitch; every other game column (scores, box
# score, outs) is blanked in the as-of schedule.
PREGAME_COLUMNS: tuple[str, ...] = (
    "game_id", "date", "game_number", "season", "home", "away", "home_league", "away_league",
    "day_night", "park", "home_sp_id", "home_sp_name", "away_sp_id", "away_sp_name",
)  # fmt: skip
RESULT_COLUMNS: tuple[str, ...] = tuple(c for c in GAME_FRAME_COLUMNS if c not in PREGAME_COLUMNS)


def as_of_schedule(games: pd.DataFrame) -> pd.DataFrame:
    """The games with results blanked (NaN), as they were known on the morning of the game."""
    schedule = games.copy()
    schedule[list(RESULT_COLUMNS)] = np.nan
    return schedule.astype({c: "float64" for c in RESULT_COLUMNS})


def _as_of(context: AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


@asset(
    partitions_def=daily_partitions,
    description="The games of the as-of date with their starting pitchers, scores blanked.",
)
def scheduled_games(context: AssetExecutionContext, store: StoreResource) -> Output[pd.DataFrame]:
    day = _as_of(context)
    schedule = as_of_schedule(read_games(store.engine(), on=day))
    metadata: dict[str, MetadataValue] = {
        "date": MetadataValue.text(day.isoformat()),
        "games": MetadataValue.int(len(schedule)),
    }
    if schedule.empty:
        context.log.info(f"no games on {day}")
        metadata["note"] = MetadataValue.text(f"no games in the store on {day}")
    else:
        metadata["schedule"] = MetadataValue.md(
            markdown_table(
                ["game_id", "away", "away SP", "home", "home SP"],
                schedule[["game_id", "away", "away_sp_name", "home", "home_sp_name"]].itertuples(
                    index=False
                ),
            )
        )
    return Output(schedule, metadata=metadata)


@asset(
    partitions_def=daily_partitions,
    description="P(home win) for the as-of date's games from the served model, in the store.",
)
def game_predictions(
    context: AssetExecutionContext, scheduled_games: pd.DataFrame, store: StoreResource
) -> MaterializeResult:
    day = _as_of(context)
    if scheduled_games.empty:
        return MaterializeResult(
            metadata={
                "games": MetadataValue.int(0),
                "note": MetadataValue.text(f"no games on {day}: nothing to predict"),
            }
        )
    engine = store.engine()
    entry = serving_model(engine)
    model = WinModel.from_bytes(entry.artifact, threads=get_settings().model_threads)
    features = _pregame_features(read_games(engine, before=day), scheduled_games)
    predictions = prediction_frame(features, model, entry.version)
    written = write_predictions(engine, predictions)
    context.log.info(f"{day}: wrote {written} predictions from {entry.version}")
    return MaterializeResult(
        metadata={
            "games": MetadataValue.int(written),
            "model_version": MetadataValue.text(entry.version),
            "model_kind": MetadataValue.text(entry.kind),
            "feature_version": MetadataValue.text(model.feature_version),
            "predictions": MetadataValue.md(
                markdown_table(
                    ["home", "away", "p_home"],
                    predictions[["home", "away", "p_home"]].itertuples(index=False),
                )
            ),
        }
    )


def _pregame_features(history: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """Features of the scheduled games, computed from the earlier games plus the schedule."""
    # Same dtypes on both sides, so the all-NaN result columns of the schedule
    # cannot change how pandas types the combined frame.
    history = history.astype({c: "float64" for c in RESULT_COLUMNS})
    frame = pd.concat([history, schedule], ignore_index=True)
    features = build_features(frame)
    return features[features["game_id"].isin(schedule["game_id"])].reset_index(drop=True)


def pregame_features_on(engine: Engine, day: dt.date) -> pd.DataFrame:
    """The features of `day`'s games as that morning knew them (promotion and its checks)."""
    schedule = as_of_schedule(read_games(engine, on=day))
    return _pregame_features(read_games(engine, before=day), schedule)


def prediction_frame(features: pd.DataFrame, model: WinModel, version: str) -> pd.DataFrame:
    """Rows for `write_predictions`: game, teams, P(home win), model and feature versions."""
    out = features[["game_id", "date", "home", "away"]].copy()
    out["p_home"] = model.predict(features)
    out["model_version"] = version
    out["feature_version"] = model.feature_version
    return out
