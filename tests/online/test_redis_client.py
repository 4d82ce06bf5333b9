"""The circuit breaker in `online.redis_client.SafeRedis`, on a fake async client.

Every request goes through SafeRedis, so a breaker that lets calls through while open makes
each request pay the deadline of a dead Redis, and one that never closes serves without the
cache for good. The fake client counts calls and fails or stalls on demand; the breaker's
clock is a fake swapped into the module, so open/half-open/closed are checked without sleeps.
Real Redis paths (single node, cluster, failover) are covered by the integration tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from online import redis_client
from online.redis_client import SafeRedis

DEADLINE = 0.5
BREAKER = 2.0


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


class FakeScript:
    def __init__(self, client: FakeClient, script: str) -> None:
        self.client = client
        self.script = script
        self.missing = False  # raise NoScriptError, as a freshly promoted replica does

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        self.client.calls["script"] += 1
        self.client.script_calls.append((keys, args))
        if self.missing:
            raise NoScriptError("NOSCRIPT No matching script")
        return 1


class FakeClient:
    """An async Redis stand-in: `fail` raises on every call, `delay` stalls each one,
    `gate` (if set) holds each call until it is set."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.fail = False
        self.delay = 0.0
        self.gate: asyncio.Event | None = None
        self.values: dict[str, Any] = {"k": b"v"}
        self.set_result: Any = True
        self.set_kwargs: list[dict[str, Any]] = []
        self.script_calls: list[tuple[list[str], list[Any]]] = []
        self.eval_calls: list[tuple[Any, ...]] = []
        self.closed = False
        self.script: FakeScript | None = None

    async def _io(self, name: str) -> None:
        self.calls[name] += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RedisConnectionError("connection refused")

    async def get(self, key: str) -> Any:
        await self._io("get")
        return self.values.get(key)

    async def set(self, key: str, value: Any, **kwargs: Any) -> Any:
        await self._io("set")
        self.set_kwargs.append({"key": key, "value": value, **kwargs})
        return self.set_result

    async def ping(self) -> bool:
        await self._io("ping")
        return True

    async def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        await self._io("eval")
        self.eval_calls.append((script, numkeys, *keys_and_args))
        return 1

    async def aclose(self) -> None:
        self.closed = True

    def register_script(self, script: str) -> FakeScript:
        self.script = FakeScript(self, script)
        return self.script


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    # Replace the module's `time`, not `time.monotonic`: the event loop's clock reads that.
    monkeypatch.setattr(redis_client, "time", fake)
    return fake


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def _opened(client: FakeClient) -> SafeRedis:
    """A SafeRedis whose breaker has just opened on a failed GET."""
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    client.fail = True
    assert _run(safe.get("k")) is None
    client.fail = False
    return safe


def test_healthy_calls_pass_through(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    assert _run(safe.get("k")) == b"v"
    assert _run(safe.get("other")) is None
    assert _run(safe.set("k", b"w", 30)) is True
    assert client.set_kwargs == [{"key": "k", "value": b"w", "ex": 30}]
    assert safe.available


def test_failure_returns_none_and_opens_the_breaker(clock: FakeClock) -> None:
    client = FakeClient()
    safe = _opened(client)
    assert not safe.available
    assert client.calls["get"] == 1


def test_open_breaker_skips_the_client(clock: FakeClock) -> None:
    client = FakeClient()
    safe = _opened(client)
    clock.now += BREAKER - 0.01
    assert _run(safe.get("k")) is None
    assert _run(safe.set("k", b"w", 30)) is False
    _run(safe.release("lock", "token"))
    assert client.calls == Counter({"get": 1})


def test_failure_is_logged_once_per_outage(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeClient()
    with caplog.at_level(logging.WARNING, logger=redis_client.__name__):
        safe = _opened(client)
        client.fail = True
        assert _run(safe.ping()) is False
    assert len([r for r in caplog.records if "redis unavailable" in r.message]) == 1


def test_after_the_breaker_one_probe_goes_through_and_a_success_closes_it(
    clock: FakeClock,
) -> None:
    client = FakeClient()
    safe = _opened(client)
    clock.now += BREAKER
    assert _run(safe.get("k")) == b"v"
    assert client.calls["get"] == 2
    assert safe.available
    assert _run(safe.get("k")) == b"v"
    assert client.calls["get"] == 3


def test_half_open_admits_one_probe_at_a_time(clock: FakeClock) -> None:
    client = FakeClient()
    safe = _opened(client)
    clock.now += BREAKER

    async def scenario() -> tuple[Any, list[Any]]:
        client.gate = asyncio.Event()
        probe = asyncio.create_task(safe.get("k"))
        await asyncio.sleep(0)  # the probe is now inside the client, held by the gate
        others = [await safe.get("k") for _ in range(5)]
        assert client.calls["get"] == 2
        assert not safe.available
        client.gate.set()
        return await probe, others

    probed, others = _run(scenario())
    assert probed == b"v"
    assert others == [None] * 5
    assert safe.available


def test_failed_probe_reopens_for_the_full_breaker(clock: FakeClock) -> None:
    client = FakeClient()
    safe = _opened(client)
    clock.now += BREAKER
    client.fail = True
    assert _run(safe.get("k")) is None
    client.fail = False
    clock.now += BREAKER - 0.01
    assert _run(safe.get("k")) is None
    assert client.calls["get"] == 2
    clock.now += 0.01
    assert _run(safe.get("k")) == b"v"


def test_half_open_window_lapses_after_the_deadline(clock: FakeClock) -> None:
    # A probe that never reports back must not keep the breaker half-open for good.
    client = FakeClient()
    safe = _opened(client)
    clock.now += BREAKER
    assert safe._admit()
    assert not safe._admit()
    clock.now += DEADLINE
    assert safe._admit()


def test_slow_call_returns_none_within_the_deadline() -> None:
    client = FakeClient()
    client.delay = 0.2
    safe = SafeRedis(client, deadline=0.05, breaker=BREAKER)

    async def timed() -> tuple[Any, float]:
        started = time.perf_counter()
        result = await safe.get("k")
        return result, time.perf_counter() - started

    result, elapsed = _run(timed())
    assert result is None
    assert elapsed < 0.15
    assert not safe.available  # a timeout opens the breaker like an error


def test_programming_errors_are_not_swallowed(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    with pytest.raises(AttributeError):
        _run(safe.call("no_such_command"))
    assert safe.available


def test_ping_goes_through_an_open_breaker_and_closes_it(clock: FakeClock) -> None:
    client = FakeClient()
    safe = _opened(client)
    assert _run(safe.ping()) is True
    assert client.calls["ping"] == 1
    assert safe.available
    assert _run(safe.get("k")) == b"v"


def test_failed_ping_opens_the_breaker(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    client.fail = True
    assert _run(safe.ping()) is False
    assert not safe.available
    clock.now += BREAKER
    assert safe.available


def test_acquire_takes_the_lock_with_nx_px(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    assert _run(safe.acquire("lock", "token", 250)) is True
    assert client.set_kwargs == [{"key": "lock", "value": "token", "nx": True, "px": 250}]


def test_acquire_is_false_when_someone_holds_the_lock(clock: FakeClock) -> None:
    client = FakeClient()
    client.set_result = None  # SET NX on an existing key
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    assert _run(safe.acquire("lock", "token", 250)) is False


def test_acquire_is_none_when_redis_fails(clock: FakeClock) -> None:
    client = FakeClient()
    client.fail = True
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    assert _run(safe.acquire("lock", "token", 250)) is None


def test_acquire_is_none_without_a_call_while_open(clock: FakeClock) -> None:
    client = FakeClient()
    safe = _opened(client)
    assert _run(safe.acquire("lock", "token", 250)) is None
    assert client.calls["set"] == 0


def test_release_runs_the_compare_and_delete_script(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    _run(safe.release("lock", "token"))
    assert client.script_calls == [(["lock"], ["token"])]
    assert client.script is not None and "DEL" in client.script.script


def test_release_falls_back_to_eval_on_noscript(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    assert client.script is not None
    client.script.missing = True
    _run(safe.release("lock", "token"))
    assert client.eval_calls == [(client.script.script, 1, "lock", "token")]
    assert safe.available


def test_failed_release_opens_the_breaker(clock: FakeClock) -> None:
    client = FakeClient()
    safe = SafeRedis(client, deadline=DEADLINE, breaker=BREAKER)
    assert client.script is not None
    client.script.missing = True
    client.fail = True  # EVAL fails too
    _run(safe.release("lock", "token"))
    assert not safe.available


def test_aclose_closes_the_client() -> None:
    client = FakeClient()
    _run(SafeRedis(client, deadline=DEADLINE, breaker=BREAKER).aclose())
    assert client.closed
