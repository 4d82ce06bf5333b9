"""Single-flight misses in `online.service.PredictionService._lookup`, on a fake Redis.

A miss computes from the store, which is orders of magnitude slower than a hit, so a burst
of requests for one cold key must compute it once (in-process: one shared future; across
replicas: a Redis lock), and a failing computation must not leave a stuck in-flight entry.
The fake Redis records every call and scripts the lock's answer; the near-cache and the
metrics are the real ones. The model and store are not involved: `_lookup` takes the
computation as a callable.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bullpen.cache import contract as cache
from online.metrics import Metrics
from online.nearcache import NearCache
from online.service import EMPTY_DAY_TTL_S, PredictionService

KEY = cache.prediction_key("m1", "f1", "NYA202204070", "r1")
BODY: dict[str, Any] = {"game_id": "NYA202204070", "p_home": 0.5, "cached": True}
TTL = 3600


class FakeRedis:
    """What the service uses of SafeRedis. `appear_after` GETs return None before the
    stored value shows, as when another replica is still computing it. Every call yields
    to the loop once, as a network round trip does, so concurrent callers interleave."""

    def __init__(self, lock: bool | None = True, available: bool = True) -> None:
        self.lock = lock
        self.available = available
        self.values: dict[str, bytes] = {}
        self.appear_after = 0
        self.gets: list[str] = []
        self.sets: list[tuple[str, bytes, int]] = []
        self.acquires: list[tuple[str, str, int]] = []
        self.releases: list[tuple[str, str]] = []

    async def get(self, key: str) -> bytes | None:
        await asyncio.sleep(0)
        self.gets.append(key)
        if len(self.gets) <= self.appear_after:
            return None
        return self.values.get(key)

    async def set(self, key: str, value: bytes, ttl: int) -> bool:
        await asyncio.sleep(0)
        self.sets.append((key, value, ttl))
        self.values[key] = value
        return True

    async def acquire(self, key: str, token: str, ms: int) -> bool | None:
        await asyncio.sleep(0)
        self.acquires.append((key, token, ms))
        return self.lock

    async def release(self, key: str, token: str) -> None:
        await asyncio.sleep(0)
        self.releases.append((key, token))


class CountingCompute:
    """A thread-safe computation (it runs in the threadpool) that counts its calls."""

    def __init__(self, body: dict[str, Any] = BODY, delay: float = 0.0) -> None:
        self.body = body
        self.delay = delay
        self.error: Exception | None = None
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return dict(self.body)


def _service(redis: FakeRedis, lock_ms: int = 1000) -> PredictionService:
    # engine and models stay None: `_lookup` only runs the computation it is given.
    return PredictionService(
        engine=None,  # type: ignore[arg-type]
        redis=redis,  # type: ignore[arg-type]
        near=NearCache(max_entries=100, ttl=60.0),
        models=None,  # type: ignore[arg-type]
        metrics=Metrics(),
        ttl=TTL,
        lock_ms=lock_ms,
    )


def _lookups(service: PredictionService, compute: Callable[[], Any], n: int) -> list[Any]:
    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(service._lookup(KEY, lambda: service.store.call(compute)) for _ in range(n)),
            return_exceptions=True,
        )

    return asyncio.run(burst())


def _metric(service: PredictionService, name: str, **labels: str) -> float:
    return service.metrics.registry.get_sample_value(name, labels) or 0.0


def test_concurrent_misses_compute_once_and_share_the_bytes() -> None:
    redis = FakeRedis(lock=True)
    service = _service(redis)
    compute = CountingCompute(delay=0.05)
    results = _lookups(service, compute, 20)
    assert compute.calls == 1
    assert service.computations == 1
    assert len(set(results)) == 1
    assert isinstance(results[0], bytes)
    assert redis.gets == [KEY]  # the Redis read is single-flight too
    assert _metric(service, "bullpen_predictions_computed_total") == 1.0
    assert _metric(service, "bullpen_cache_lookups_total", tier="redis", result="miss") == 1.0
    assert service._inflight == {}


def test_first_answer_is_uncached_while_the_stored_value_is_cached() -> None:
    redis = FakeRedis(lock=True)
    service = _service(redis)
    [answer] = _lookups(service, CountingCompute(), 1)
    assert json.loads(answer) == {**BODY, "cached": False}
    stored = cache.encode(BODY)
    assert redis.sets == [(KEY, stored, TTL)]
    assert service.near.get(KEY) == stored
    assert json.loads(stored)["cached"] is True


def test_lock_is_taken_on_the_lock_key_and_released_with_its_token() -> None:
    redis = FakeRedis(lock=True)
    _lookups(_service(redis, lock_ms=750), CountingCompute(), 1)
    [(lock, token, ms)] = redis.acquires
    assert (lock, ms) == (cache.lock_key(KEY), 750)
    assert redis.releases == [(lock, token)]


def test_redis_hit_is_returned_byte_for_byte_without_computing() -> None:
    redis = FakeRedis(lock=True)
    raw = b'{"game_id":"NYA202204070","p_home":0.61,"cached":true}'
    redis.values[KEY] = raw
    service = _service(redis)
    compute = CountingCompute()
    assert _lookups(service, compute, 3) == [raw, raw, raw]
    assert compute.calls == 0
    assert redis.acquires == []
    assert service.near.get(KEY) == raw
    assert _metric(service, "bullpen_cache_lookups_total", tier="redis", result="hit") == 1.0


def test_waits_for_another_replica_instead_of_computing() -> None:
    redis = FakeRedis(lock=False)
    raw = cache.encode({**BODY, "p_home": 0.7})
    redis.values[KEY] = raw
    redis.appear_after = 3  # the read, then two polls, miss
    service = _service(redis)
    compute = CountingCompute()
    assert _lookups(service, compute, 5) == [raw] * 5
    assert compute.calls == 0
    assert len(redis.gets) == 4
    assert redis.sets == []
    assert redis.releases == []  # not ours to release
    assert service.near.get(KEY) == raw


def test_computes_when_the_other_replica_never_delivers() -> None:
    redis = FakeRedis(lock=False)
    service = _service(redis, lock_ms=100)
    compute = CountingCompute()
    started = time.perf_counter()
    [answer] = _lookups(service, compute, 1)
    assert time.perf_counter() - started >= 0.1
    assert compute.calls == 1
    assert json.loads(answer)["cached"] is False
    assert redis.releases == []


def test_stops_waiting_when_redis_goes_down() -> None:
    redis = FakeRedis(lock=False)
    service = _service(redis, lock_ms=60_000)
    redis.available = False  # down right after the lock answer: no poll at all
    compute = CountingCompute()
    started = time.perf_counter()
    _lookups(service, compute, 1)
    assert time.perf_counter() - started < 1.0
    assert compute.calls == 1
    assert len(redis.gets) == 1


def test_redis_down_still_computes_once() -> None:
    redis = FakeRedis(lock=None, available=False)
    service = _service(redis)
    compute = CountingCompute(delay=0.05)
    results = _lookups(service, compute, 10)
    assert compute.calls == 1
    assert results == [cache.encode({**BODY, "cached": False})] * 10
    assert redis.releases == []  # no lock was taken
    assert service.near.get(KEY) == cache.encode(BODY)


def test_compute_error_reaches_every_waiter_and_clears_the_flight() -> None:
    redis = FakeRedis(lock=True)
    service = _service(redis)
    compute = CountingCompute(delay=0.05)
    compute.error = RuntimeError("store unreachable")
    results = _lookups(service, compute, 8)
    assert compute.calls == 1
    assert all(isinstance(r, RuntimeError) and str(r) == "store unreachable" for r in results)
    assert service._inflight == {}
    assert len(redis.releases) == 1  # the lock is released on failure too
    assert redis.sets == []
    assert service.near.get(KEY) is None

    compute.error = None
    [answer] = _lookups(service, compute, 1)
    assert compute.calls == 2
    assert json.loads(answer)["cached"] is False


def test_sequential_misses_on_a_cold_near_cache_hit_redis() -> None:
    redis = FakeRedis(lock=True)
    service = _service(redis)
    compute = CountingCompute()
    first = _lookups(service, compute, 1)[0]
    service.near.clear()
    second = _lookups(service, compute, 1)[0]
    assert compute.calls == 1
    assert json.loads(first)["cached"] is False
    assert second == cache.encode(BODY)


@pytest.mark.parametrize(("count", "ttl"), [(0, min(TTL, EMPTY_DAY_TTL_S)), (2, TTL)])
def test_day_bodies_are_uncached_per_game_and_empty_days_expire_sooner(
    count: int, ttl: int
) -> None:
    games = [{"game_id": f"G{i}", "cached": True} for i in range(count)]
    body = {"date": "2022-04-07", "count": count, "games": games, "cached": True}
    redis = FakeRedis(lock=True)
    [answer] = _lookups(_service(redis), CountingCompute(body), 1)
    decoded = json.loads(answer)
    assert decoded["cached"] is False
    assert [g["cached"] for g in decoded["games"]] == [False] * count
    assert redis.sets == [(KEY, cache.encode(body), ttl)]
