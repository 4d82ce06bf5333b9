"""Overload: twice the measured capacity, open loop, against a real uvicorn process.

The route is `POST /api/v1/predict` pinning a model version (`"model_version"`): every such
request reads the registry from the store in the thread pool (a version's status can
change while it is pinned, so that answer is never remembered; a `model_name` is, and
rides the fast path), so its capacity is a fraction of a cache hit's and a Python client
can offer twice of it. Arrivals do not
wait for answers, as real clients do not. With the load shedder (`max_queue_s`) the
excess is refused at once (503 + Retry-After) and the admitted requests keep their
latency; without it, the queue grows until requests time out. Both are reported.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.loopback import uvicorn
from online.config import OnlineSettings
from tests.support.apps import app_env, new_key
from tests.support.data import MODEL_VERSION, SECRET, StoreData, WarmNode
from tests.support.faults import FaultRow
from tests.support.load import OpenLoopResult, RawClient, closed_loop, open_loop

pytestmark = [pytest.mark.faults, pytest.mark.integration]
DURATION = 4.0
TIMEOUT = 2.0


def overload(url: str, raw: bytes, rate: float | None) -> tuple[float, OpenLoopResult]:
    """(capacity measured closed-loop, the open-loop result at 2x it or at `rate`)."""

    async def run() -> tuple[float, OpenLoopResult]:
        client = RawClient(url, max_connections=4000)
        try:
            await closed_loop(client, raw, workers=16, duration=1.0)  # warm-up, not counted
            capacity = await closed_loop(client, raw, workers=16, duration=2.0)
            offered = rate or 2 * capacity
            return capacity, await open_loop(client, raw, offered, DURATION, TIMEOUT)
        finally:
            client.close()

    return asyncio.run(run())


def row(label: str, capacity: float, result: OpenLoopResult) -> FaultRow:
    sent = sum(result.statuses.values())
    failed = sent - result.count(200, 503, 429)  # timeouts, resets, other statuses
    goodput = result.count(200) / result.duration
    return FaultRow(
        label, sent, failed, None, None, 0,
        f"capacity {capacity:.0f}/s, offered {result.offered_rps:.0f}/s: goodput "
        f"{goodput:.0f}/s ({goodput / capacity:.0%}), {result.count(503, 429)} shed "
        f"(p99 {result.p(503, 0.99) * 1000:.0f} ms), 200 p99 {result.p(200, 0.99) * 1000:.0f} "
        f"ms, {result.count(0)} timed out (> {TIMEOUT:.0f} s) or cut",
    )  # fmt: skip


def test_overload_is_shed_fast(
    warm: WarmNode,
    sqlite_store: StoreData,
    fault_rows: list[FaultRow],
) -> None:
    key = new_key(sqlite_store.url, "faults-overload")[0]
    game_id = sqlite_store.game_ids[0]
    body = json.dumps({"game_id": game_id, "model_version": MODEL_VERSION}).encode()
    raw = RawClient.build(
        "POST", "/api/v1/predict", {"X-API-Key": key, "Content-Type": "application/json"}, body
    )
    env = app_env(sqlite_store.url, warm.node.url, SECRET)
    with uvicorn("online.app:app", env) as url:
        capacity, shed = overload(url, raw, None)
    label = f"overload 2x, shedding past a {OnlineSettings().max_queue_s:g} s queue"
    fault_rows.append(row(label, capacity, shed))
    unshed = {**env, "BULLPEN_MAX_IN_FLIGHT": "0", "BULLPEN_MAX_QUEUE_S": "0"}
    with uvicorn("online.app:app", unshed) as url:
        _, queued = overload(url, raw, shed.offered_rps)
    fault_rows.append(row("overload 2x, no shedding", capacity, queued))

    sent = sum(shed.statuses.values())
    assert shed.count(503) > 0  # it did shed
    assert set(shed.statuses) <= {0, 200, 503}
    assert shed.count(0) <= 0.01 * sent  # nothing left to time out
    assert shed.count(200) / shed.duration >= 0.5 * capacity  # goodput held up
    # Queueing instead is reported beside it, not asserted against: the capacity measured
    # on a shared 2-core machine is noisy, and when it comes out low the offered "2x" is
    # one the unshed server just absorbs (seen once: 3099/3099 served, p99 1.0 s). What
    # shedding must never do is add timeouts.
    assert shed.count(0) <= queued.count(0) + 0.01 * sent
    # Refusals and admitted requests stay well inside the clients' timeout. (Rejecting is
    # not free: at 2x a one-core worker's capacity the event loop itself saturates on
    # some runs and a 503 then waits its turn too, up to ~0.8 s seen on this machine.)
    assert shed.p(503, 0.99) < TIMEOUT / 2
    assert shed.p(200, 0.99) < TIMEOUT / 2
