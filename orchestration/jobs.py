"""Jobs: the batch side (game logs → models → backtest) and the daily as-of predictions."""

from __future__ import annotations

from dagster import AssetSelection, PartitionedConfig, define_asset_job

from assets.serving import daily_partitions

BATCH_GROUPS = ("ingestion", "features", "modeling")
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
        partitions_def=daily_partitions,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=date_tags,
    ),
    description="One as-of date: that day's schedule and its predictions from the served model.",
)
