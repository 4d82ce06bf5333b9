"""Redis clients, all built from one `RedisSettings`: single node or cluster, bounded in time.

* `sync_client` — batch work (warming, promotion, rollback, pointer repair): socket
  timeouts of `redis_batch_timeout_s` and `redis_batch_retries` retries, so a cluster
  failover (a few seconds with `cluster-node-timeout` 2000) costs retries, not a run.
* `async_client` — the request path: short socket timeouts, `redis_retries` retries and
  a blocking pool of `redis_max_connections` (redis-py raises past its pool size).
* `pubsub_client` — the request path's subscriber: in a cluster PUBLISH reaches every
  node, so one node will do.

Every client retries connection errors and timeouts with the same jittered backoff,
so replicas that lost Redis together do not reconnect in lockstep.
"""

from __future__ import annotations

from typing import Any

from redis import Redis, RedisCluster
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from bullpen.settings import RedisSettings

RETRY_ON = [RedisConnectionError, RedisTimeoutError]
# Backoff (cap, base) in seconds: batch work can wait out a failover, a request cannot.
BATCH_BACKOFF = (1.0, 0.05)
REQUEST_BACKOFF = (0.1, 0.01)


def _backoff(cap_base: tuple[float, float]) -> EqualJitterBackoff:
    cap, base = cap_base
    return EqualJitterBackoff(cap=cap, base=base)


def sync_client(settings: RedisSettings) -> Redis | RedisCluster:
    options: dict[str, Any] = {
        "socket_timeout": settings.redis_batch_timeout_s,
        "socket_connect_timeout": settings.redis_batch_timeout_s,
        "retry": Retry(_backoff(BATCH_BACKOFF), settings.redis_batch_retries),
        "retry_on_error": RETRY_ON,
    }
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, **options)
    return Redis.from_url(settings.redis_url, **options)


def _request_options(settings: RedisSettings) -> dict[str, Any]:
    return {
        "socket_timeout": settings.redis_socket_timeout_s,
        "socket_connect_timeout": settings.redis_connect_timeout_s,
        "retry": AsyncRetry(_backoff(REQUEST_BACKOFF), settings.redis_retries),
        "retry_on_error": RETRY_ON,
    }


def async_client(settings: RedisSettings) -> aioredis.Redis | aioredis.RedisCluster:
    options = _request_options(settings)
    if settings.redis_cluster:
        return aioredis.RedisCluster.from_url(
            settings.redis_url, max_connections=settings.redis_max_connections, **options
        )
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_deadline_s,
        **options,
    )
    return aioredis.Redis(connection_pool=pool)


def pubsub_client(settings: RedisSettings) -> aioredis.Redis:
    # No socket timeout (a subscriber waits for messages as long as it takes) and no
    # retry of reads: the listener reconnects itself, with its own backoff.
    return aioredis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        retry=AsyncRetry(_backoff(REQUEST_BACKOFF), settings.redis_retries),
    )
