"""Warm the prediction cache: a date's predictions and their features into Redis.

Every model's predictions of the date are warmed under keys versioned by model
and feature version (`bullpen.cache`), so a candidate's keys sit beside the
active model's and a promotion is one pointer flip. The pointer itself is the
promotion's business (`bullpen.promotion`): this asset makes it match the
store's active model, and sets it from the newest predictions only when no
model was ever promoted and there is none yet, so the API has something to serve.
"""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.retries import cache_retries
from assets.serving import daily_partitions
from bullpen.cache import ActiveModel, features_entries, set_active, warm, write_entries
from bullpen.features import FEATURE_NAMES
from bullpen.promotion import reconcile
from bullpen.store import get_model, read_features, read_predictions
from orchestration.resources import RedisResource, StoreResource


@asset(
    partitions_def=daily_partitions,
    deps=["game_predictions"],
    description="The as-of date's predictions and features, warmed into Redis with TTLs.",
)
def prediction_cache(
    context: AssetExecutionContext, store: StoreResource, redis: RedisResource
) -> MaterializeResult:
    day = daily_partitions.time_window_for_partition_key(context.partition_key).start.date()
    engine = store.engine()
    predictions = read_predictions(engine, on=day)
    client = redis.client()
    keys = size = 0
    seconds = 0.0
    versions = sorted(predictions["model_version"].unique()) if len(predictions) else []
    with cache_retries(context):
        for (model_version, feature_version), rows in predictions.groupby(
            ["model_version", "feature_version"]
        ):
            records = rows.to_dict("records")
            result = warm(client, records, model_version, feature_version, redis.ttl_s)
            feats = read_features(engine, feature_version, game_ids=rows["game_id"].tolist())
            feature_rows = (
                (r["game_id"], {n: r[n] for n in FEATURE_NAMES if n in r})
                for r in feats.to_dict("records")
            )
            entries = features_entries(feature_rows, feature_version)
            extra = write_entries(client, entries, redis.ttl_s)
            keys, size = keys + result.keys + extra.keys, size + result.bytes + extra.bytes
            seconds += result.seconds + extra.seconds
        pointer = _bootstrap_pointer(client, predictions, engine)
    context.log.info(f"{day}: warmed {keys} keys ({size} bytes) for {versions}")
    return MaterializeResult(
        metadata={
            "keys_written": MetadataValue.int(keys),
            "bytes": MetadataValue.int(size),
            "keys_per_second": MetadataValue.float(keys / seconds if seconds else 0.0),
            "model_versions": MetadataValue.text(", ".join(versions) or "none"),
            "active_model": MetadataValue.text(pointer.model_version if pointer else "none"),
            "ttl_s": MetadataValue.int(redis.ttl_s),
        }
    )


def _bootstrap_pointer(client, predictions, engine) -> ActiveModel | None:  # type: ignore[no-untyped-def]
    # A promoted model wins (a flushed Redis gets the store's blue back); the
    # newest predictions only bootstrap a deployment that never promoted. A pointer
    # naming a model this store does not have (left in a shared Redis by another
    # store) is replaced: the API could only answer "not in the registry" with it.
    active = reconcile(engine, client)
    if predictions.empty or (active is not None and get_model(engine, active.model_version)):
        return active
    newest = predictions.sort_values("computed_at").iloc[-1]
    active = ActiveModel(str(newest["model_version"]), str(newest["feature_version"]))
    set_active(client, active)
    return active
