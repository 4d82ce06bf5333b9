"""The promotion job's two steps: warm green's keys, then flip blue → green.

`warm_green` moves the candidate to `warming`, computes its predictions for
the scheduled games of the coming days with the daily job's own serving code
(features as of each morning, `prediction_frame`), stores them, writes their
cache keys next to blue's and fails unless every key is there. Only then does
`promote_green` flip the pointer (`bullpen.serving.active.promote`: store, then
Redis, then publish). Both steps are idempotent, so a run killed anywhere is
completed by running it again.
"""

import datetime as dt

from dagster import Config, Failure, MetadataValue, OpExecutionContext, Output, op
from pydantic import Field

from assets.resources import RedisResource, StoreResource
from assets.retries import cache_retries
from bullpen.serving import active
from bullpen.serving.lifecycle import Status
from bullpen.serving.warming import days_with_games
from bullpen.store import get_model

MISSING_SAMPLE = 10


class PromotionConfig(Config):
    version: str = Field(description="The model version to promote (green).")
    as_of: str | None = Field(
        default=None, description="First day to warm, YYYY-MM-DD (default: today in New York)."
    )
    days: int | None = Field(
        default=None, ge=1, description="Days to warm (default: BULLPEN_PROMOTION_WARM_DAYS)."
    )


def actor(context: OpExecutionContext) -> str:
    return f"dagster:{context.job_name}:{context.run_id[:8]}"


def _as_of(config: PromotionConfig) -> dt.date | None:
    return dt.date.fromisoformat(config.as_of) if config.as_of else None


@op(description="Green's predictions for the coming days, computed, stored and warmed; 100% key "
    "coverage or the run fails before any pointer moves.")  # fmt: skip
def warm_green(
    context: OpExecutionContext, config: PromotionConfig, store: StoreResource, redis: RedisResource
) -> Output[str]:
    engine = store.engine()
    entry = get_model(engine, config.version)
    if entry is None:
        raise Failure(f"model {config.version} is not in the registry")
    status = active.begin_warming(engine, entry.version, actor(context))
    if status != Status.WARMING:  # already serving: a re-run after the flip
        context.log.info(f"{entry.version} is {status}: nothing to warm")
        return Output(entry.version, metadata={"status": MetadataValue.text(status)})
    days = days_with_games(engine, _as_of(config), config.days)
    with cache_retries(context):
        coverage = active.warm(engine, redis.client(), entry, days, redis.ttl_s)
    metadata = {
        "version": MetadataValue.text(entry.version),
        "days": MetadataValue.text(f"{days[0]} .. {days[-1]}"),
        "predictions_computed": MetadataValue.int(coverage.computed),
        "keys_expected": MetadataValue.int(coverage.expected),
        "keys_present": MetadataValue.int(coverage.present),
        "coverage": MetadataValue.float(round(coverage.ratio, 4)),
    }
    if coverage.empty:
        raise Failure(
            f"{entry.version}: no games scheduled {days[0]} .. {days[-1]}, so nothing was "
            "warmed and nothing verified: promote on dates with games (`as_of` in the run "
            "config, or BULLPEN_PROMOTION_AS_OF)",
            metadata=metadata,
        )
    if not coverage.complete:
        raise Failure(
            f"{entry.version}: {coverage.present}/{coverage.expected} keys warm; missing e.g. "
            f"{list(coverage.missing[:MISSING_SAMPLE])}",
            metadata=metadata,
        )
    context.log.info(f"{entry.version}: {coverage.present}/{coverage.expected} keys warm")
    return Output(entry.version, metadata=metadata)


@op(description="Flip the active model to green: store first, then the Redis pointer, published.")
def promote_green(
    context: OpExecutionContext, version: str, store: StoreResource, redis: RedisResource
) -> Output[str]:
    flip = active.promote(store.engine(), redis.client(), version, actor(context))
    context.log.info(
        f"active: {flip.active} (previous {flip.previous})"
        if flip.changed
        else f"{flip.active} was already active"
    )
    return Output(
        flip.active,
        metadata={
            "active": MetadataValue.text(flip.active),
            "previous": MetadataValue.text(flip.previous or "none"),
            "changed": MetadataValue.bool(flip.changed),
        },
    )
