"""PostgreSQL down: a private cluster (initdb + pg_ctl) stopped under load, then restarted.

Warmed predictions keep being served from Redis (100%), even past the API-key cache's
TTL; cache misses and store-backed routes answer a fast, clear 503; a Dagster run that
touches the store fails visibly while it is down and succeeds when re-run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dagster import materialize
from sqlalchemy import create_engine, text

from assets.ingestion.gamelogs import gamelog_files, games
from assets.resources import GameLogSource, StoreResource
from bullpen.sources.parsed import read_gamelogs
from bullpen.store import count_games, make_engine
from tests.support.apps import new_key
from tests.support.data import StoreData, WarmNode, fill_store
from tests.support.faults import FaultRow, app_for, lost_keys, prediction_request, summary
from tests.support.load import LoadReport, drive, serving
from tests.support.postgres import PostgresCluster

pytestmark = [pytest.mark.faults, pytest.mark.integration]
MISS = "NYA202209010"  # a real 2022 game with no stored features: never warmed, never computable


@pytest.fixture(scope="module")
def pg_store(pg_cluster: PostgresCluster, logs2022: Any, features2022: pd.DataFrame) -> StoreData:
    admin = create_engine(pg_cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "bullpen"'))
    admin.dispose()
    return fill_store(pg_cluster.url("bullpen"), logs2022, features2022)


@pytest.fixture
def one_season(gamelogs_dir: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "gamelogs"
    directory.mkdir()
    (directory / "GL2021.TXT").symlink_to(gamelogs_dir / "GL2021.TXT")
    return directory


def ingest(store_url: str, directory: Path) -> Any:
    return materialize(
        [gamelog_files, games],
        resources={
            "store": StoreResource(database_url=store_url),
            "gamelogs": GameLogSource(gamelogs_dir=str(directory), seasons="2021"),
        },
        raise_on_error=False,
    )


def messages(error: Any) -> str:
    """A Dagster error's message with those of its causes (the store's error is one)."""
    parts = []
    while error is not None:
        parts.append(str(error.message))
        error = error.cause or error.context
    return " ".join(parts)


@pytest.fixture
def restarted(pg_cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    """The cluster, started again after the test whatever happened."""
    try:
        yield pg_cluster
    finally:
        if not pg_cluster.running():
            pg_cluster.start()


def test_postgres_down(
    restarted: PostgresCluster,
    pg_store: StoreData,
    warm: WarmNode,
    logs2022: Any,
    one_season: Path,
    fault_rows: list[FaultRow],
) -> None:
    pg = restarted
    key = new_key(pg_store.url, "faults-pg")[0]
    # A key-cache TTL far shorter than the outage: auth must outlive it too.
    app = app_for(pg_store, warm.node.url, key_cache_ttl_s=0.5, near_cache_size=0, fast_path=False)
    misses: list[tuple[int, float, str]] = []
    store_routes: dict[str, tuple[int, float, str]] = {}
    down_for = 5.0

    async def run() -> LoadReport:
        async with serving(app) as client:
            request = prediction_request(client, key, pg_store.game_ids)
            assert (await request(0)) == (200, True)  # the key is known before the outage
            headers = {"X-API-Key": key}

            async def miss_probe() -> None:
                await asyncio.sleep(1.5)
                loop = asyncio.get_running_loop()
                while loop.time() - report_origin < 1.0 + down_for - 0.3:
                    t0 = time.monotonic()
                    r = await client.get(f"/v1/games/{MISS}/prediction", headers=headers)
                    misses.append((r.status_code, time.monotonic() - t0, r.text))
                    await asyncio.sleep(0.1)
                for path, hdrs in (
                    ("/v1/models", headers),
                    (f"/v1/games/{MISS}/prediction", {"X-API-Key": "bp_unknown-key"}),
                ):
                    t0 = time.monotonic()
                    r = await client.get(path, headers=hdrs)
                    store_routes[path + ("" if hdrs is headers else " (unknown key)")] = (
                        r.status_code, time.monotonic() - t0, r.text)  # fmt: skip
                # Back: a miss is computed from the store again (404: it has no features).
                while loop.time() - report_origin < 1.0 + down_for + 10:
                    r = await client.get(f"/v1/games/{MISS}/prediction", headers=headers)
                    if loop.time() - report_origin > 1.0 + down_for and r.status_code != 503:
                        back.append((loop.time() - report_origin, r.status_code))
                        return
                    await asyncio.sleep(0.02)

            report_origin = asyncio.get_running_loop().time()
            probing = asyncio.create_task(miss_probe())
            report = await drive(
                request, duration=1.0 + down_for + 2.0, workers=8, rate=300,
                max_requests=5000, timeout=5,
                events={"stop": (1.0, pg.stop), "start": (1.0 + down_for, pg.start)},
            )  # fmt: skip
            await asyncio.wait_for(probing, 30)
            return report

    back: list[tuple[float, int]] = []
    dagster_down: list[Any] = []
    report = asyncio.run(run())
    # A Dagster run against the dead store (started again after `run`, so stop it again).
    pg.stop()
    dagster_down.append(ingest(pg_store.url, one_season))
    pg.start()
    rerun = ingest(pg_store.url, one_season)
    engine = make_engine(pg_store.url)
    try:
        stored_games = count_games(engine)
    finally:
        engine.dispose()

    served = report.window(report.marks["stop"], report.marks["start"])
    lost = lost_keys(warm.client, warm.entries)
    worst_miss = max(took for _, took, _ in misses)
    failure = dagster_down[0]
    failure_message = " ".join(
        messages(e.event_specific_data.error)  # type: ignore[union-attr]
        for e in failure.all_events if e.is_step_failure
    )  # fmt: skip
    fault_rows.append(FaultRow(
        "postgresql down (pg_ctl stop -m immediate) for 5 s", report.sent, report.failed,
        report.longest_gap(), max(0.0, back[0][0] - report.marks["start"]), len(lost),
        f"{summary(report)}; warmed served {sum(s.ok for s in served)}/{len(served)}; "
        f"misses 503 in <= {worst_miss * 1000:.0f} ms; dagster run failed while down, "
        f"re-run ok ({stored_games} games)",
    ))  # fmt: skip
    assert served and all(s.ok and s.full for s in served)  # 100% of warmed predictions
    assert report.failed == 0
    assert misses and {status for status, _, _ in misses} == {503}, misses[:3]
    assert worst_miss < 1.0
    assert all("store" in body and "Traceback" not in body for _, _, body in misses)
    for path, (status, took, body) in store_routes.items():
        assert status == 503 and took < 1.0, (path, status, body)
    assert back and back[0][1] == 404
    assert not failure.success
    assert "connection refused" in failure_message.lower(), failure_message
    assert rerun.success
    season2021 = len(read_gamelogs(one_season, [2021]).frame())
    assert stored_games == len(logs2022.frame()) + season2021  # the fixture's 2022 + 2021
    assert lost == []


def test_postgres_frozen(
    restarted: PostgresCluster, pg_store: StoreData, warm: WarmNode, fault_rows: list[FaultRow]
) -> None:
    """SIGSTOP for 10 s: connections stay open and silent, the case no connect error
    catches. Warmed keys are served throughout, a miss is a 503 with Retry-After within
    1 s, nothing waits past the store deadline, and misses compute again within 2 s of
    SIGCONT."""
    pg = restarted
    key = new_key(pg_store.url, "faults-pg-frozen")[0]
    app = app_for(pg_store, warm.node.url, key_cache_ttl_s=0.5, near_cache_size=0, fast_path=False)
    deadline = app.state.services.online.store_deadline_s
    frozen_for = 10.0
    misses: list[tuple[float, int, float, str | None]] = []  # (t, status, seconds, Retry-After)
    frozen: list[int] = []

    async def run() -> LoadReport:
        async with serving(app) as client:
            request = prediction_request(client, key, pg_store.game_ids)
            assert (await request(0)) == (200, True)
            loop = asyncio.get_running_loop()
            origin = loop.time()

            async def miss_probe() -> None:
                while (now := loop.time() - origin) < 1.0 + frozen_for + 4.0:
                    t0 = loop.time()
                    r = await client.get(f"/v1/games/{MISS}/prediction", headers={"X-API-Key": key})
                    misses.append(
                        (now, r.status_code, loop.time() - t0, r.headers.get("retry-after"))
                    )
                    await asyncio.sleep(0.05)

            probing = asyncio.create_task(miss_probe())
            report = await drive(
                request, duration=1.0 + frozen_for + 4.0, workers=8, rate=300,
                max_requests=8000, timeout=5,
                events={"freeze": (1.0, lambda: frozen.extend(pg.freeze())),
                        "thaw": (1.0 + frozen_for, lambda: pg.thaw(frozen))},
            )  # fmt: skip
            await asyncio.wait_for(probing, 60)
            return report

    try:
        report = asyncio.run(run())
    finally:
        pg.thaw(frozen)  # never leave the server stopped
    freeze, thaw = report.marks["freeze"], report.marks["thaw"]
    served = report.window(freeze, thaw)
    # Misses asked and answered while frozen (one asked just before SIGCONT may be
    # answered by the thawed store, within the deadline: that is recovery, not a fault).
    during = [m for m in misses if freeze + 0.2 < m[0] and m[0] + m[2] < thaw]
    back = [m for m in misses if m[0] > thaw and m[1] == 404]  # computed again: no features
    recover = back[0][0] - thaw if back else None
    worst = max(m[2] for m in during)
    fault_rows.append(FaultRow(
        "postgresql frozen (SIGSTOP) for 10 s", report.sent, report.failed,
        report.longest_gap(), recover, len(lost_keys(warm.client, warm.entries)),
        f"{summary(report)}; warmed served {sum(s.ok for s in served)}/{len(served)}; "
        f"{len(during)} misses 503 + Retry-After in <= {worst * 1000:.0f} ms "
        f"(deadline {deadline:g} s)",
    ))  # fmt: skip
    assert served and all(s.ok and s.full for s in served)  # every warmed answer, in time
    assert report.failed == 0
    assert during and {(status, after) for _, status, _, after in during} == {(503, "1")}
    assert worst < 1.0  # nothing waits on the frozen store past the deadline
    assert recover is not None and recover <= 2.0, misses[-10:]
