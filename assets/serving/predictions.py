"""Daily "as of" predictions: one partition per game date.

The partition key is the as-of date. Its slate (`bullpen.serving.slate`) is the
date's games as that morning knew them: completed games with results blanked,
plus the live schedule's games not played yet with their announced starters.
`bullpen.serving.pricing` prices it with the serving model
(`bullpen.serving.active`); features of games not played yet are stored too, so
any model (a candidate, a rollback target) can score them later.
"""

import datetime as dt

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, Output, asset

from assets.metadata import markdown_table
from assets.resources import StoreResource
from assets.serving.partitions import game_dates
from bullpen.serving.active import serving_entry
from bullpen.serving.pricing import FeatureVersionMismatch, price_slate
from bullpen.serving.slate import Slate, slate


def _as_of(context: AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


@asset(
    partitions_def=game_dates,
    description="The as-of date's slate: its games with their starting pitchers, scores blanked.",
)
def scheduled_games(context: AssetExecutionContext, store: StoreResource) -> Output[Slate]:
    day = _as_of(context)
    today = slate(store.engine(), day)
    games = today.games
    metadata: dict[str, MetadataValue] = {
        "date": MetadataValue.text(day.isoformat()),
        "games": MetadataValue.int(len(games)),
        "not_played_yet": MetadataValue.int(len(today.live)),
        "postponed": MetadataValue.json(today.postponed),
    }
    if today.empty:
        context.log.info(f"no games on {day}")
        metadata["note"] = MetadataValue.text(f"no games scheduled or played on {day}")
    else:
        metadata["schedule"] = MetadataValue.md(
            markdown_table(
                ["game_id", "away", "away SP", "home", "home SP"],
                games[["game_id", "away", "away_sp_name", "home", "home_sp_name"]].itertuples(
                    index=False
                ),
            )
        )
    return Output(today, metadata=metadata)


@asset(
    partitions_def=game_dates,
    description="P(home win) for the as-of date's games from the served model, in the store.",
)
def game_predictions(
    context: AssetExecutionContext, scheduled_games: Slate, store: StoreResource
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
    try:
        priced = price_slate(engine, entry, scheduled_games)
    except FeatureVersionMismatch as exc:
        raise Failure(str(exc)) from exc
    written = len(priced.rows)
    context.log.info(f"{day}: wrote {written} predictions from {entry.version}")
    if priced.unscorable:
        context.log.warning(f"{day}: no probability for {priced.unscorable} (NaN features)")
    return MaterializeResult(
        metadata={
            "games": MetadataValue.int(written),
            "unscorable": MetadataValue.json(priced.unscorable),
            "not_played_yet": MetadataValue.int(priced.live),
            "model_version": MetadataValue.text(entry.version),
            "model_kind": MetadataValue.text(entry.kind),
            "feature_version": MetadataValue.text(entry.feature_version or ""),
            "predictions": MetadataValue.md(
                markdown_table(
                    ["home", "away", "p_home"],
                    ((r["home"], r["away"], r["p_home"]) for r in priced.rows),
                )
            ),
        }
    )
