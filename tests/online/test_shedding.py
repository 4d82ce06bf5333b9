"""The load shedder on its own: what it admits and refuses, by queue length and count.

The app behind it is a plain ASGI callable that holds every request until released,
so the test decides exactly how many are in flight.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from online import shedding
from online.shedding import FLOOR, CompletionRate, Shedder


class Held:
    """An ASGI app that answers 200 once `release` is set; counts what reached it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.reached = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.reached += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def shedder(held: Held, rate_per_s: float, **limits: Any) -> Shedder:
    settings = {"max_in_flight": 0, "max_queue_s": 0.5, "max_body_bytes": 0, **limits}
    shed = Shedder(held, registry=CollectorRegistry(), **settings)
    shed.rate.per_s = rate_per_s
    shed.rate._since = float("inf")  # no new window during the test: the rate stays put
    return shed


async def flood(shed: Shedder, held: Held, count: int, path: str = "/v1/x") -> list[int]:
    """Send `count` requests at once, release them once all arrived; their statuses."""
    transport = httpx.ASGITransport(app=shed)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        tasks = [asyncio.create_task(client.get(path)) for _ in range(count)]
        while held.reached + shed._shed._value.get() < count:  # every request decided
            await asyncio.sleep(0.001)
        held.release.set()
        return [r.status_code for r in await asyncio.gather(*tasks)]


def test_nothing_is_shed_below_the_floor_whatever_the_rate() -> None:
    held = Held()
    statuses = asyncio.run(flood(shedder(held, rate_per_s=1.0), held, FLOOR))
    assert statuses == [200] * FLOOR


def test_a_queue_longer_than_max_queue_s_is_refused_at_once() -> None:
    held = Held()
    shed = shedder(held, rate_per_s=400.0)  # 400/s x 0.5 s: 200 may be in flight
    statuses = asyncio.run(flood(shed, held, 300))
    assert statuses.count(200) == 200 and statuses.count(503) == 100


def test_a_fast_app_is_not_shed_at_a_thousand_in_flight() -> None:
    held = Held()
    statuses = asyncio.run(flood(shedder(held, rate_per_s=8000.0), held, 1000))
    assert statuses == [200] * 1000


def test_max_in_flight_is_a_hard_cap() -> None:
    held = Held()
    shed = shedder(held, rate_per_s=8000.0, max_in_flight=100)
    statuses = asyncio.run(flood(shed, held, 150))
    assert statuses.count(200) == 100 and statuses.count(503) == 50


def test_refusals_say_when_to_retry_and_probes_are_never_refused() -> None:
    async def run() -> tuple[httpx.Response, list[int]]:
        held = Held()
        shed = shedder(held, rate_per_s=1.0, max_in_flight=FLOOR)
        transport = httpx.ASGITransport(app=shed)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            busy = [asyncio.create_task(client.get("/v1/x")) for _ in range(FLOOR)]
            while held.reached < FLOOR:
                await asyncio.sleep(0.001)
            refused = await client.get("/v1/x")
            probes = [asyncio.create_task(client.get(p)) for p in shedding.NEVER_SHED]
            while held.reached < FLOOR + len(probes):
                await asyncio.sleep(0.001)
            held.release.set()
            await asyncio.gather(*busy)
            return refused, [r.status_code for r in await asyncio.gather(*probes)]

    refused, probes = asyncio.run(run())
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "overloaded" in refused.json()["detail"]
    assert probes == [200] * len(shedding.NEVER_SHED)


def test_the_rate_rises_at_once_and_decays_slowly(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(shedding.time, "monotonic", lambda: now[0])
    rate = CompletionRate()
    for _ in range(2000):
        rate.completed()
    now[0] += 0.25
    assert rate.current() == pytest.approx(8000.0)
    now[0] += 0.25  # a quiet window: no completions
    assert rate.current() == pytest.approx(8000.0 * shedding.DECAY)
    for _ in range(10):
        rate.completed()
    now[0] += 0.25
    assert rate.current() == pytest.approx(8000.0 * shedding.DECAY**2)


def test_a_loop_running_late_sheds_even_a_short_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue nobody counts in flight: requests parsed but waiting for a busy loop."""
    monkeypatch.setattr(shedding, "LAG_TICK_S", 0.1)  # ticks slow enough to flood between

    async def run() -> tuple[float, list[int], float]:
        held = Held()
        shed = shedder(held, rate_per_s=8000.0)  # by in-flight alone, nothing would be shed
        shed.lag.watch()
        await asyncio.sleep(0.05)
        time.sleep(1.2)  # the loop is blocked: everything queued in it waits 1.2 s
        for _ in range(100):  # until the sampler's late tick has run
            if shed.lag.seconds > 1.0:
                break
            await asyncio.sleep(0)
        late = shed.lag.seconds
        statuses = await flood(shed, held, 10)
        await asyncio.sleep(1.5)  # on time again: the figure halves per tick
        return late, statuses, shed.lag.seconds

    late, statuses, after = asyncio.run(run())
    assert late > 1.0
    assert statuses == [503] * 10
    assert after < 0.01


def test_an_idle_loop_is_not_late() -> None:
    async def run() -> float:
        lag = shedding.LoopLag()
        lag.watch()
        await asyncio.sleep(0.2)
        return lag.seconds

    assert asyncio.run(run()) < 0.05
