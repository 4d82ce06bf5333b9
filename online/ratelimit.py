"""Distributed per-key rate limits: GCRA in one atomic Lua script on Redis.

One Redis key per API key (`bp:v1:rl:{id}`) holds the GCRA "theoretical
arrival time", so every replica shares the limit and the script never touches
two keys (cluster-safe). Time comes from the Redis server (`TIME`), so replica
clocks do not matter.

To keep Redis off the per-request path, a replica leases up to
`rate_limit_lease` requests at once and spends them locally for at most
`LEASE_S`; with lease 1 the limit is exact. A lease can make another replica
wait slightly earlier than an exact limiter would; it never lets the total
exceed the limit. A denial is remembered locally until its Retry-After, so a
client that keeps hammering costs no Redis calls. If Redis is down the limiter
fails open (and counts it): availability of predictions beats strict limits.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from bullpen.cache.contract import rate_limit_key
from online.redis_client import SafeRedis

LEASE_S = 1.0

# KEYS[1]: state; ARGV: interval_us, burst, wanted. Returns {granted, retry_after_us}.
GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local available = math.floor((now + burst * interval - tat) / interval)
if available < 1 then
  return {0, tat - (burst - 1) * interval - now}
end
local granted = math.min(wanted, available)
tat = tat + granted * interval
redis.call('SET', KEYS[1], tat, 'PX', math.ceil((tat - now) / 1000) + 1000)
return {granted, 0}
"""


@dataclass(slots=True)
class _Lease:
    tokens: int = 0
    expires: float = 0.0
    denied_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    degraded: bool = False  # Redis was unavailable; allowed without a check


class RateLimiter:
    def __init__(self, redis: SafeRedis, per_second: float, burst: int, lease: int) -> None:
        self.redis = redis
        self.interval_us = max(1, round(1_000_000 / per_second))
        self.burst = burst
        self.lease = min(lease, burst)
        self._script = redis.client.register_script(GCRA)
        self._leases: dict[int, _Lease] = {}
        self._renewals: dict[int, asyncio.Future[None]] = {}

    def take_local(self, key_id: int) -> Decision | None:
        """A decision without Redis if the local lease or a remembered denial decides."""
        lease = self._leases.get(key_id)
        if lease is None:
            return None
        now = time.monotonic()
        if now < lease.denied_until:
            return Decision(False, math.ceil(lease.denied_until - now))
        if lease.tokens > 0 and now < lease.expires:
            lease.tokens -= 1
            return Decision(True)
        return None

    async def check(self, key_id: int) -> Decision:
        # One lease request per key at a time: concurrent requests wait for it and
        # spend its tokens instead of each asking Redis (a burst of slow requests).
        while (renewal := self._renewals.get(key_id)) is not None:
            local = self.take_local(key_id)
            if local is not None:
                return local
            await asyncio.shield(renewal)
        local = self.take_local(key_id)
        if local is not None:
            return local
        self._renewals[key_id] = renewal = asyncio.get_running_loop().create_future()
        try:
            return await self._renew(key_id)
        finally:
            del self._renewals[key_id]
            renewal.set_result(None)

    async def _renew(self, key_id: int) -> Decision:
        reply = await self.redis.run(
            self._script, [rate_limit_key(key_id)], [self.interval_us, self.burst, self.lease]
        )
        if reply is None:
            return Decision(True, degraded=True)
        granted, retry_us = int(reply[0]), int(reply[1])
        lease = self._leases.setdefault(key_id, _Lease())
        now = time.monotonic()
        if granted < 1:
            retry = max(1, math.ceil(retry_us / 1_000_000))
            lease.tokens, lease.denied_until = 0, now + retry_us / 1_000_000
            return Decision(False, retry)
        lease.tokens, lease.expires = granted - 1, now + LEASE_S
        return Decision(True)
