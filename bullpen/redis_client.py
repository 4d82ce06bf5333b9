"""Synchronous Redis clients for the batch side (warming, the model pointer).

Single node or cluster from one URL plus a flag; every call is bounded by
socket timeouts and retried with backoff, so a failover (a few seconds with
`cluster-node-timeout` 2000) costs retries, not a failed run.
"""

from __future__ import annotations

from redis import Redis, RedisCluster
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry


def make_sync_redis(
    url: str, cluster: bool = False, timeout_s: float = 5.0
) -> Redis | RedisCluster:
    common = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(EqualJitterBackoff(cap=1.0, base=0.05), retries=6),  # jitter: no herds
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }
    if cluster:
        return RedisCluster.from_url(url, **common)
    return Redis.from_url(url, **common)
