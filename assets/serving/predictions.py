"""Daily "as of" predictions: one partition per game date.

The partition key is the as-of date. On that morning a day's games are known
with their announced starting pitchers but without scores
(`bullpen.domain.asof`); their features are computed from every earlier game,
and the serving model (`bullpen.serving.active`) scores them.
"""

import datetime as dt

import pandas as pd
from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, Output, asset

from assets.metadata import markdown_table
from assets.resources import StoreResource
from assets.serving.partitions import daily_partitions
from bullpen.domain.asof import as_of_schedule, pregame_features
from bullpen.domain.features import FEATURE_VERSION
from bullpen.domain.model import WinModel
from bullpen.serving.active import pointer_of, serving_entry
from bullpen.serving.predictions import score, to_frame
from bullpen.settings import get_settings
from bullpen.store import read_games, write_predictions


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
    entry = serving_entry(engine)
    if entry is None:
        raise Failure("no model to serve in the registry: run batch_job first")
    active = pointer_of(entry)
    if active.feature_version != FEATURE_VERSION:
        raise Failure(
            f"model {entry.version} expects feature version {active.feature_version}, "
            f"but this code computes {FEATURE_VERSION}: retrain (run batch_job) before serving"
        )
    model = WinModel.from_bytes(entry.artifact, threads=get_settings().model_threads)
    scored = score(model, pregame_features(read_games(engine, before=day), scheduled_games))
    written = write_predictions(engine, to_frame(scored.rows, active))
    context.log.info(f"{day}: wrote {written} predictions from {entry.version}")
    if scored.unscorable:
        context.log.warning(f"{day}: no probability for {scored.unscorable} (NaN features)")
    return MaterializeResult(
        metadata={
            "games": MetadataValue.int(written),
            "unscorable": MetadataValue.json(scored.unscorable),
            "model_version": MetadataValue.text(entry.version),
            "model_kind": MetadataValue.text(entry.kind),
            "feature_version": MetadataValue.text(active.feature_version),
            "predictions": MetadataValue.md(
                markdown_table(
                    ["home", "away", "p_home"],
                    ((r["home"], r["away"], r["p_home"]) for r in scored.rows),
                )
            ),
        }
    )
