"""Clients on the machine's shared Redis (127.0.0.1:6379), each test package on its own DB.

Only `bp:*` keys are removed from a shared DB; a Redis Cluster started by the tests is
private and flushed whole.
"""

from __future__ import annotations

import redis

# DB numbers nobody else uses on the shared server.
ONLINE_URL = "redis://127.0.0.1:6379/13"
PROMOTION_URL = "redis://127.0.0.1:6379/11"


def clean(client: redis.Redis | redis.RedisCluster) -> None:
    if isinstance(client, redis.RedisCluster):
        client.flushall(target_nodes=redis.RedisCluster.PRIMARIES)
        return
    keys = list(client.scan_iter("bp:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def sync_client(url: str, cluster: bool = False) -> redis.Redis | redis.RedisCluster:
    if cluster:
        return redis.RedisCluster.from_url(url, socket_timeout=2)
    return redis.Redis.from_url(url, socket_timeout=2)
