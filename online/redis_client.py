"""Redis on the request path: every call bounded in time, a failing Redis skipped.

`SafeRedis` wraps the async client (`bullpen.cache.clients.async_client`) so that
a failing or slow Redis turns into "no value" within `redis_deadline_s` and
then is skipped for `redis_breaker_s` (a small circuit breaker): the service
keeps answering from the near-cache and the store, and never hangs on the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

log = logging.getLogger(__name__)
# RedisClusterException is not a RedisError ("cannot be connected" while re-discovering
# a cluster mid-failover): without it that would escape as a 500.
FAILURES = (RedisError, RedisClusterException, OSError, asyncio.TimeoutError)

# Compare-and-delete: release a lock only if we still hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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
