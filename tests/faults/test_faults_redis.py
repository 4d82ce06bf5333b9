"""Redis faults under load: a cluster master killed, the only Redis killed or frozen.

The API runs in process (its lifespan, an ASGI client); a paced load loop reads warmed
predictions while the fault is injected by PID, and the figures go to the fault table.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

from bench.loopback import RedisClusterProcs, probe_client, wait_until
from bullpen.cache import contract, writer
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from tests.support.apps import new_key
from tests.support.data import SECRET, StoreData, WarmNode, prediction_rows, warm_all
from tests.support.faults import FaultRow, app_for, lost_keys, prediction_request, summary
from tests.support.load import LoadReport, drive, serving

pytestmark = [pytest.mark.faults, pytest.mark.integration]


# --- 1. a master of a six-node cluster killed ------------------------------------------------


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    try:
        procs = RedisClusterProcs(tmp_path / "cluster", node_timeout_ms=1000).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield procs
    finally:
        procs.stop()


def test_cluster_master_killed_under_load(
    cluster: RedisClusterProcs,
    sqlite_store: StoreData,
    logs2022: Any,
    features2022: pd.DataFrame,
    fault_rows: list[FaultRow],
) -> None:
    sync = redis.RedisCluster.from_url(cluster.url, socket_timeout=2)
    entries = warm_all(sync, prediction_rows(logs2022, features2022), sqlite_store.url)
    # Warming WAITs for a replica per batch; the pointer and the publish after it do not,
    # so let those reach the replicas too: a lost key is then the failover's fault.
    assert cluster.wait_replicated()
    engine = make_engine(sqlite_store.url)
    try:
        key, record = create_key(engine, SECRET, "faults-cluster", "read")
    finally:
        engine.dispose()
    # The shard of this key's rate-limit state (a Lua script runs there: a promoted replica
    # has an empty script cache) and, when it can be, of the active-model pointer too.
    victim_port = sync.get_node_from_key(contract.rate_limit_key(record.id)).port
    victim = cluster.node(victim_port)
    # No near-cache: every request goes to Redis, so the table shows Redis's failover.
    app = app_for(sqlite_store, cluster.url, cluster=True, near_cache_size=0, fast_path=False)
    timeout = cluster.node_timeout_s

    def failed_over() -> None:  # returns once a replica took over and the cluster is ok
        wait_until(lambda: victim_port not in cluster.masters() and cluster.cluster_ok()
                   and len(cluster.masters()) == 3, 20)  # fmt: skip

    async def run() -> LoadReport:
        async with serving(app) as client:
            request = prediction_request(client, key, sqlite_store.game_ids)
            assert (await request(0)) == (200, True)
            return await drive(
                request, duration=1.5 + timeout + 2 + 2.5, workers=8, rate=300,
                max_requests=5000, timeout=5,
                events={"kill": (1.5, victim.kill), "failover": (1.6, failed_over)},
            )  # fmt: skip

    report = asyncio.run(run())
    assert victim.proc is not None and victim.proc.returncode is not None
    assert cluster.cluster_ok() and victim_port not in cluster.masters()
    after = redis.RedisCluster.from_url(cluster.live_url(), socket_timeout=2)
    lost = lost_keys(after, entries)
    recover = report.recovered_after("kill")
    failover = report.marks["failover"] - report.marks["kill"]
    fault_rows.append(FaultRow(
        f"redis cluster: master kill -9 (node-timeout {timeout:g} s)", report.sent, report.failed,
        report.longest_gap(), recover, len(lost),
        f"{summary(report)}; all masters agreed on the failover after {failover:.1f} s; "
        f"target: full service <= node-timeout + 2 s = {timeout + 2:g} s",
    ))  # fmt: skip
    sync.close()
    after.close()
    assert report.failed_ratio() < 0.01, report.failed
    # The target is full service within node-timeout + 2 s of the kill (1.9-2.8 s measured
    # at node-timeout 1 s). Most of it is the cluster's own failover: PFAIL up to 1.5x
    # node-timeout after the kill, FAIL by gossip, a 0.5-1 s election delay. The API's own
    # share is asserted strictly: back on Redis within half a second of the promotion
    # being agreed. The absolute bound has 1 s of slack for a loaded CI machine; the
    # table reports the figure against the target.
    assert recover is not None and recover <= failover + 0.5, (recover, failover)
    assert recover <= timeout + 2 + 1.0, recover
    assert lost == []


def test_warming_waits_for_a_replica(
    cluster: RedisClusterProcs, logs2022: Any, features2022: pd.DataFrame
) -> None:
    """A master whose replica cannot acknowledge fails the warm (so Dagster retries it)
    instead of reporting keys that one `kill -9` would lose; the replica back, it passes."""
    sync = redis.RedisCluster.from_url(cluster.url, socket_timeout=5)
    entries = dict(list(warm_all(sync, prediction_rows(logs2022, features2022)).items())[:200])
    master = sync.get_node_from_key(next(iter(entries)))
    replica_port = int(probe_client(master.port).info("replication")["slave0"]["port"])
    replica = cluster.node(replica_port)
    replica.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(writer.NotReplicated, match=f"127.0.0.1:{master.port}"):
            writer.write_entries(sync, entries, ttl=3600)
        took = time.monotonic() - started
    finally:
        replica.thaw()
    assert writer.REPLICA_ACK_MS / 1000 <= took < writer.REPLICA_ACK_MS / 1000 + 2
    writer.write_entries(sync, entries, ttl=3600)  # acknowledged again: no error
    assert lost_keys(sync, entries) == []
    sync.close()


# --- 2. the only Redis killed, then frozen ---------------------------------------------------


def test_redis_down_serves_and_recovers(
    warm: WarmNode,
    sqlite_store: StoreData,
    fault_rows: list[FaultRow],
) -> None:
    key = new_key(sqlite_store.url, "faults-down")[0]
    # A near-cache shorter than the outage: answers come from it first, then from the store.
    app = app_for(sqlite_store, warm.node.url, near_cache_ttl_s=1.5)
    settings = app.state.services.settings.redis  # the deadlines it runs with
    bound = settings.redis_deadline_s + 0.5  # the cache's deadline, plus a computed answer
    down_for, after = 4.0, 2.5
    # (t, /health status, /ready status, /ready's cache flag, /ready seconds)
    probes: list[tuple[float, int, int, bool, float]] = []

    async def run() -> LoadReport:
        async with serving(app) as client:
            request = prediction_request(client, key, sqlite_store.game_ids)
            assert (await request(0)) == (200, True)
            loop = asyncio.get_running_loop()
            began = loop.time()

            async def probe() -> None:
                while loop.time() - began < 1.0 + down_for + after:
                    t0 = loop.time()
                    ready = await client.get("/ready")
                    took = loop.time() - t0
                    health = await client.get("/health")
                    cache = ready.json()["cache"]
                    probes.append((t0, health.status_code, ready.status_code, cache, took))
                    await asyncio.sleep(0.05)

            probing = asyncio.create_task(probe())
            report = await drive(
                request, duration=1.0 + down_for + after, workers=8, rate=300,
                max_requests=5000, timeout=5,
                events={"kill": (1.0, warm.node.kill),
                        "restart": (1.0 + down_for, warm.node.start)},
            )  # fmt: skip
            await asyncio.wait_for(probing, 30)
            return report

    report = asyncio.run(run())
    kill, restart = report.marks["kill"], report.marks["restart"]
    timeline = [(t - report.origin, h, r, c, took) for t, h, r, c, took in probes]
    while_down = [p for p in timeline if kill + 0.1 < p[0] < restart - 0.5]
    ready_again = min(t for t, _, _, c, _ in timeline if t > restart and c)
    down = report.window(kill + 0.1, restart)
    lost = lost_keys(warm.client, warm.entries)
    worst = max(s.latency for s in down)
    fallback = sum(not s.full for s in down)
    fault_rows.append(FaultRow(
        "redis down: the only server kill -9 for 4 s, restarted (AOF)", report.sent,
        report.failed, report.longest_gap(), ready_again - restart, len(lost),
        f"{summary(report)}; while down: worst {worst * 1000:.0f} ms (bound {bound:.1f} s), "
        f"{fallback} of {len(down)} computed from the store, the rest near-cache; "
        f"/health and /ready 200 throughout (Redis reported degraded: the replica serves); "
        f"recover = until /ready sees Redis again",
    ))  # fmt: skip
    assert report.failed == 0
    assert worst <= bound
    assert fallback > 0  # the store answered once near-cache warm.entries expired
    # The replica can serve (near-cache and store): it stays behind the Service.
    assert while_down and all(p[1:4] == (200, 200, False) for p in while_down), [
        (p, kill, restart) for p in while_down if p[1:4] != (200, 200, False)
    ]
    assert max(took for *_, took in timeline) <= settings.redis_deadline_s + 0.2
    assert timeline[-1][1:4] == (200, 200, True)  # Redis seen again, nothing restarted
    assert ready_again - restart <= settings.redis_breaker_s + 1.0
    assert report.recovered_after("restart") is not None  # every answer from the cache again
    assert lost == []


def test_redis_frozen_is_cut_at_the_deadline(
    warm: WarmNode,
    sqlite_store: StoreData,
    fault_rows: list[FaultRow],
) -> None:
    """SIGSTOP: connections stay open and silent, the case that hangs naive clients."""
    key = new_key(sqlite_store.url, "faults-frozen")[0]
    app = app_for(sqlite_store, warm.node.url, near_cache_size=0, fast_path=False)
    settings = app.state.services.settings.redis  # the deadlines it runs with

    async def run() -> LoadReport:
        async with serving(app) as client:
            request = prediction_request(client, key, sqlite_store.game_ids)
            assert (await request(0)) == (200, True)
            return await drive(
                request, duration=7.0, workers=8, rate=300, max_requests=5000, timeout=5,
                events={"freeze": (1.0, warm.node.freeze), "thaw": (4.0, warm.node.thaw)},
            )  # fmt: skip

    report = asyncio.run(run())
    frozen = report.window(report.marks["freeze"], report.marks["thaw"])
    worst = max(s.latency for s in frozen)
    lost = lost_keys(warm.client, warm.entries)
    recover = report.recovered_after("thaw")
    fault_rows.append(FaultRow(
        "redis frozen (SIGSTOP) for 3 s", report.sent, report.failed, report.longest_gap(),
        recover, len(lost),
        f"{summary(report)}; worst while frozen {worst * 1000:.0f} ms "
        f"(deadline {settings.redis_deadline_s} s)",
    ))  # fmt: skip
    assert report.failed == 0
    assert worst <= settings.redis_deadline_s + 0.5
    assert recover is not None and recover <= settings.redis_breaker_s + 1.5
    assert lost == []
