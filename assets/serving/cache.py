"""Warm the prediction cache: a date's predictions and their features into Redis.

Every registered model with predictions of the date is warmed by the one
recipe promotion and rollback use too (`bullpen.serving.active.warm`), under
keys versioned by model and feature version, so a candidate's keys sit beside
the serving model's and a promotion is one pointer flip. The pointer itself is
`bullpen.serving.active`'s: this asset only asks it to reconcile Redis with
the store.
"""

import datetime as dt

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.resources import RedisResource, StoreResource
from assets.retries import cache_retries
from assets.serving.partitions import game_dates
from bullpen.serving import active
from bullpen.store import get_model, read_predictions


@asset(
    partitions_def=game_dates,
    deps=["game_predictions"],
    description="The as-of date's predictions and features, warmed into Redis with TTLs.",
)
def prediction_cache(
    context: AssetExecutionContext, store: StoreResource, redis: RedisResource
) -> MaterializeResult:
    day = dt.date.fromisoformat(context.partition_key)
    engine = store.engine()
    predicted = read_predictions(engine, on=day)
    versions = sorted(predicted["model_version"].unique()) if len(predicted) else []
    entries = [e for e in (get_model(engine, v) for v in versions) if e is not None]
    client = redis.client()
    keys = size = 0
    seconds = 0.0
    with cache_retries(context):
        for entry in entries:
            warmed = active.warm(engine, client, entry, [day], redis.ttl_s)
            keys, size = keys + warmed.written, size + warmed.bytes
            seconds += warmed.seconds
        pointer = active.reconcile(engine, client)
    names = [e.version for e in entries]
    context.log.info(f"{day}: warmed {keys} keys ({size} bytes) for {names}")
    note = (
        {} if entries else {"note": MetadataValue.text(f"no predictions of {day}: nothing warmed")}
    )
    return MaterializeResult(
        metadata=note
        | {
            "keys_written": MetadataValue.int(keys),
            "bytes": MetadataValue.int(size),
            "keys_per_second": MetadataValue.float(keys / seconds if seconds else 0.0),
            "model_versions": MetadataValue.text(", ".join(names) or "none"),
            "active_model": MetadataValue.text(pointer.model_version if pointer else "none"),
            "ttl_s": MetadataValue.int(redis.ttl_s),
        }
    )
