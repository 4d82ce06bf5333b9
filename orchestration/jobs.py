"""Jobs: the batch side (game logs → models → backtest), the daily as-of predictions, and
the promotion of a checked candidate."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    PartitionedConfig,
    define_asset_job,
    in_process_executor,
    job,
)

from assets.promotion.ops import promote_green, warm_green
from assets.serving.partitions import game_dates

BATCH_GROUPS = ("ingestion", "features", "modeling")
# The live-loop jobs (retrain, grading, promotion) run their steps in the run's process: on
# two cores each step's own process would spend ~3 s importing before a second of work,
# CPU the live sensors need to re-price a scratched starter before first pitch (the season
# replay measured it). The batch keeps one process per step: its steps are heavy and parallel.
LIVE_EXECUTOR = in_process_executor
SERVING_GROUP = "serving"
DATE_TAG = "bullpen/date"

batch_job = define_asset_job(
    "batch_job",
    selection=AssetSelection.groups(*BATCH_GROUPS),
    description="Every unpartitioned asset: game logs → games → features → models → backtest.",
)


def date_tags(partition_key: str) -> dict[str, str]:
    """Run tags of one as-of date; dagster.yaml allows one run per `bullpen/date` at a time."""
    return {DATE_TAG: partition_key}


# A PartitionedConfig (rather than tags on the schedule) tags *every* run of a
# date, whether the schedule, a backfill or the UI launched it.
daily_predictions_job = define_asset_job(
    "daily_predictions_job",
    selection=AssetSelection.groups(SERVING_GROUP),
    config=PartitionedConfig(
        partitions_def=game_dates,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=date_tags,
    ),
    description="One as-of date: that day's schedule and its predictions from the served model.",
)


retrain_job = define_asset_job(
    "retrain_job",
    selection=AssetSelection.assets("training_set", "candidate_model"),
    description="Train a candidate on the store as it is (no re-ingestion) and run its blocking "
    "checks; promotion_sensor takes it from there. The season replay's weekly retrain.",
    executor_def=LIVE_EXECUTOR,
)


scorecard_job = define_asset_job(
    "scorecard_job",
    selection=AssetSelection.assets("live_scorecard", "model_clv_report"),
    description="Grade the published prices of a season, on results and against the closing "
    "line (launched when results arrive).",
    executor_def=LIVE_EXECUTOR,
)


PROMOTION_TAG = "bullpen/promotion"


@job(
    description="Warm green's keys for the coming days, verify 100% coverage, then flip the "
    "active model (store, Redis, publish). Launched by promotion_sensor; safe to re-run.",
    # dagster.yaml runs one promotion at a time: two would race to flip the pointer.
    tags={PROMOTION_TAG: "true"},
    executor_def=LIVE_EXECUTOR,
)
def promotion_job() -> None:
    promote_green(warm_green())
