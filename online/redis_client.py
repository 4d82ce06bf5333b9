"""Redis for the online tier: single node or cluster, every call bounded in time.

`SafeRedis` wraps the client so that a failing or slow Redis turns into
"no value" within `redis_deadline_s` and then is skipped for `redis_breaker_s`
(a small circuit breaker): the service keeps answering from the near-cache
and the store, and never hangs on the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from online.config import OnlineSettings

log = logging.getLogger(__name__)
# RedisClusterException is not a RedisError ("cannot be connected" while re-discovering
# a cluster mid-failover): without it that would escape as a 500.
FAILURES = (RedisError, RedisClusterException, OSError, asyncio.TimeoutError)

# Compare-and-delete: release a lock only if we still hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _retry(settings: OnlineSettings) -> Retry:
    # Equal jitter: replicas that lost Redis together do not reconnect in lockstep.
    return Retry(EqualJitterBackoff(cap=0.1, base=0.01), settings.redis_retries)


def make_redis(settings: OnlineSettings) -> Redis | RedisCluster:
    """A client for `redis_url`: a RedisCluster if `redis_cluster`, else a blocking pool."""
    common: dict[str, Any] = {
        "socket_timeout": settings.redis_socket_timeout_s,
        "socket_connect_timeout": settings.redis_connect_timeout_s,
        "retry": _retry(settings),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }
    if settings.redis_cluster:
        return RedisCluster.from_url(
            settings.redis_url, max_connections=settings.redis_max_connections, **common
        )
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_deadline_s,
        **common,
    )
    return Redis(connection_pool=pool)


def make_pubsub_client(settings: OnlineSettings) -> Redis:
    """A plain client for pub/sub: in a cluster PUBLISH reaches every node, so one node will do."""
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        retry=_retry(settings),
    )


class SafeRedis:
    """Bounded, failure-absorbing calls on an async Redis or RedisCluster."""

    def __init__(self, client: Redis | RedisCluster, deadline: float, breaker: float) -> None:
        self.client = client
        self.deadline = deadline
        self.breaker = breaker
        self._down_until = 0.0
        self._release = client.register_script(_RELEASE)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        if self.available:
            log.warning("redis unavailable for %.1fs: %r", self.breaker, exc)
        self._down_until = time.monotonic() + self.breaker

    def _admit(self) -> bool:
        """Closed: every call goes. Open: none until `breaker` s have passed, then one probe
        at a time (half-open) while the others keep skipping Redis; any success closes it.
        So a short breaker finds a recovered Redis (or a failed-over shard) quickly without
        letting every request pay the deadline of a dead one."""
        now = time.monotonic()
        if now < self._down_until:
            return False
        if self._down_until:
            self._down_until = now + self.deadline
        return True

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """`client.method(*args)`, or None if Redis failed, was slow, or is known down."""
        if not self._admit():
            return None
        try:
            async with asyncio.timeout(self.deadline):
                result = await getattr(self.client, method)(*args, **kwargs)
        except FAILURES as exc:
            self._failed(exc)
            return None
        self._down_until = 0.0
        return result

    async def run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        if not self._admit():
            return None
        try:
            async with asyncio.timeout(self.deadline):
                try:
                    result = await script(keys=keys, args=args)
                except NoScriptError:
                    # A replica promoted by a failover starts with an empty script cache,
                    # and redis-py reloads scripts on the primaries it knows of (maybe not
                    # this one yet): EVAL takes the script itself to the key's node.
                    result = await self.client.eval(script.script, len(keys), *keys, *args)
        except FAILURES as exc:
            self._failed(exc)
            return None
        self._down_until = 0.0
        return result

    async def get(self, key: str) -> bytes | None:
        return await self.call("get", key)

    async def set(self, key: str, value: bytes, ttl: int) -> bool:
        return bool(await self.call("set", key, value, ex=ttl))

    async def acquire(self, key: str, token: str, ms: int) -> bool | None:
        """True if we took the lock, False if someone holds it, None if Redis is down."""
        if not self.available:
            return None
        result = await self.call("set", key, token, nx=True, px=ms)
        return None if not self.available else bool(result)

    async def release(self, key: str, token: str) -> None:
        await self.run(self._release, [key], [token])

    async def ping(self) -> bool:
        """Ping even while the breaker is open; success closes it (used by /ready)."""
        try:
            async with asyncio.timeout(self.deadline):
                ok = bool(await self.client.ping())
        except FAILURES as exc:
            self._failed(exc)
            return False
        self._down_until = 0.0
        return ok

    async def aclose(self) -> None:
        await self.client.aclose()
