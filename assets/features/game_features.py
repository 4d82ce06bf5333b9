"""Games → pre-game features of every game, stored under the current FEATURE_VERSION."""

import time

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from assets.resources import StoreResource
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION, build_features
from bullpen.domain.inputs import INPUT_COLUMNS, with_inputs
from bullpen.store import read_games, write_features


@asset(
    deps=["games"],
    description=f"Pre-game features of every stored game (feature version {FEATURE_VERSION}).",
)
def game_features(context: AssetExecutionContext, store: StoreResource) -> MaterializeResult:
    started = time.perf_counter()
    engine = store.engine()
    games = read_games(engine)
    if games.empty:
        raise Failure("the store holds no games: materialize `games` first")
    frame = with_inputs(build_features(games), games, FEATURE_NAMES)
    # The store treats every column besides game_id, date and the inputs as a feature,
    # so the identifying columns build_features adds (season, teams) stay out.
    columns = ["game_id", "date", *FEATURE_NAMES, *INPUT_COLUMNS]
    rows = write_features(engine, frame[columns], FEATURE_VERSION)
    elapsed = time.perf_counter() - started
    context.log.info(f"wrote {rows} feature rows ({FEATURE_VERSION}) in {elapsed:.1f} s")
    return MaterializeResult(
        metadata={
            "rows": MetadataValue.int(rows),
            "feature_version": MetadataValue.text(FEATURE_VERSION),
            "feature_count": MetadataValue.int(len(FEATURE_NAMES)),
            "seasons": MetadataValue.json(sorted(int(s) for s in games["season"].unique())),
            "elapsed_seconds": MetadataValue.float(round(elapsed, 2)),
        }
    )
