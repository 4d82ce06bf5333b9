"""Retrying a step that met a passing cache fault, instead of failing the run.

A Redis failover, a restarted node or a replica that did not acknowledge a warm batch
(`bullpen.cache.NotReplicated`) usually clears within seconds. Inside `cache_retries()`
those errors ask Dagster to run the step again (shown in the UI as "up for retry"),
up to `MAX_RETRIES` times with a growing wait; after that the run fails with the
error. Warming is idempotent (SETs of the same bytes), so a retried step is safe.
Store errors are not retried here: a run against a store that is down fails visibly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetExecutionContext, OpExecutionContext, RetryRequested
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError

from bullpen.cache.writer import NotReplicated

MAX_RETRIES = 3
FIRST_WAIT_S = 2.0
TRANSIENT = (NotReplicated, RedisConnectionError, RedisTimeoutError, RedisClusterException)


@contextmanager
def cache_retries(context: OpExecutionContext | AssetExecutionContext) -> Iterator[None]:
    try:
        yield
    except TRANSIENT as exc:
        wait = FIRST_WAIT_S * 2**context.retry_number
        context.log.warning(f"cache fault ({type(exc).__name__}: {exc}); retrying in {wait:g} s")
        raise RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from exc
