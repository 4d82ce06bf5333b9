"""Slow and broken dependencies: a TCP fault proxy between the API and Redis.

Phases under one load loop: clean, +50 ms, +600 ms (past the socket timeout), a
blackhole (connections silent), resets (every connection aborted), clean again. Every
phase must keep p99 within the configured Redis deadline plus a computed answer, with no
failed request; each phase is a row of the fault table.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from bench.loopback import RedisNode
from tests.support.apps import new_key
from tests.support.data import StoreData, WarmNode
from tests.support.faults import FaultRow, app_for, lost_keys, prediction_request
from tests.support.load import LoadReport, drive
from tests.support.load import serving as serving_app
from tests.support.proxy import FaultProxy

pytestmark = [pytest.mark.faults, pytest.mark.integration]
# (name, start s, proxy mode, added delay s)
PHASES = [
    ("clean", 0.0, "pass", 0.0),
    ("+50 ms each way", 1.5, "latency", 0.05),
    ("+600 ms each way", 3.5, "latency", 0.6),
    ("blackhole", 5.5, "blackhole", 0.0),
    ("connection resets", 7.5, "reset", 0.0),
    ("clean again", 9.0, "pass", 0.0),
]
DURATION = 11.0


@pytest.fixture
def proxy(redis_node: RedisNode) -> Iterator[FaultProxy]:
    fault = FaultProxy(redis_node.port).start()
    try:
        yield fault
    finally:
        fault.close()


def test_slow_redis_keeps_p99_bounded(
    warm: WarmNode,
    proxy: FaultProxy,
    sqlite_store: StoreData,
    fault_rows: list[FaultRow],
) -> None:
    key = new_key(sqlite_store.url, "faults-slow")[0]
    app = app_for(sqlite_store, proxy.url, near_cache_size=0, fast_path=False)
    settings = app.state.services.settings.redis  # the deadlines it runs with
    bound = settings.redis_deadline_s + 0.5

    def switch(mode: str, delay: float) -> Any:
        return lambda: proxy.set(mode, delay)

    async def run() -> LoadReport:
        async with serving_app(app) as client:
            request = prediction_request(client, key, sqlite_store.game_ids)
            assert (await request(0)) == (200, True)
            return await drive(
                request, duration=DURATION, workers=8, rate=300, max_requests=6000, timeout=5,
                events={name: (at, switch(mode, delay))
                        for name, at, mode, delay in PHASES if at > 0},
            )  # fmt: skip

    report = asyncio.run(run())
    lost = lost_keys(warm.client, warm.entries)
    marks = {"clean": 0.0, **report.marks}
    ends = [marks[name] for name, *_ in PHASES[1:]] + [report.duration]
    results = []
    for (name, *_), end in zip(PHASES, ends, strict=True):
        window = report.window(marks[name], end)
        ok = [s for s in window if s.ok]
        p99 = report.latency_percentile(0.99, marks[name], end)
        gaps = [b.ended - a.ended for a, b in itertools.pairwise(ok)]
        results.append((name, len(window), len(window) - len(ok), p99))
        fault_rows.append(FaultRow(
            f"redis via proxy: {name}", len(window), len(window) - len(ok),
            max(gaps, default=0.0), report.recovered_after(name) if name == "clean again" else None,
            len(lost) if name == "clean again" else 0,
            f"p50 {report.latency_percentile(0.5, marks[name], end) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.0f} ms (bound {bound:.1f} s), "
            f"{sum(not s.full for s in ok)} of {len(ok)} from the store",
        ))  # fmt: skip
    for name, sent, failed, p99 in results:
        assert sent > 0 and failed == 0, (name, sent, failed)
        assert p99 <= bound, (name, p99)
    assert report.recovered_after("clean again") is not None
    assert lost == []
