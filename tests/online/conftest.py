"""Fixtures for the online tier: the 2022 sample store (SQLite, and PostgreSQL when
reachable) served on real Redis (a private DB of the shared server, and a six-node cluster
started here), and a private deployment built by `bench.stack` for the fast-path tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from bench import stack as bench_stack
from bench.loopback import RedisNode
from bullpen.domain.market import OddsSnapshot
from bullpen.domain.schedule import GameStatus, ScheduledGame
from bullpen.serving.refresh import refresh
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine
from bullpen.store.live import record_schedule
from bullpen.store.odds import record_odds
from online.config import OnlineSettings
from tests.support.apps import Stack, core_settings, new_key
from tests.support.data import StoreData, fill_store, serve
from tests.support.odds import MARKET_AT, MARKET_DAY, MARKET_GAMES
from tests.support.redis_db import clean, sync_client

STACKS = [
    pytest.param(("sqlite", "single"), id="sqlite-redis"),
    pytest.param(("sqlite", "cluster"), id="sqlite-cluster"),
    pytest.param(("postgresql", "single"), id="postgresql-redis"),
]


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    db, topology = request.param
    store: StoreData = request.getfixturevalue("sqlite_store" if db == "sqlite" else "pg_store")
    cluster = topology == "cluster"
    url = request.getfixturevalue("cluster_url" if cluster else "single_redis_url")
    client = sync_client(url, cluster)
    clean(client)
    serve(store.url, client)
    read_key, _ = new_key(store.url, "tests-read", "read")
    admin_key, _ = new_key(store.url, "tests-admin", "admin")
    settings = core_settings(store.url, url, cluster)
    online = OnlineSettings(rate_limit_per_s=1000, rate_limit_burst=1000, pointer_poll_s=0.5)
    try:
        yield Stack(settings, online, client, store, read_key, admin_key, cluster)
    finally:
        clean(client)
        client.close()


@pytest.fixture(scope="session")
def bench_data(
    tmp_path_factory: pytest.TempPathFactory, gamelogs_dir: Path
) -> bench_stack.BenchData:
    """The first ten days of 2022 in a fresh SQLite store, by the benchmarks' recipe."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bench-store') / 'bullpen.db'}"
    return bench_stack.prepare(url, days=10)


@pytest.fixture(scope="session")
def private_redis_url(private_redis: RedisNode) -> str:
    return private_redis.url


@pytest.fixture
def market(
    stack: Stack, tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame
) -> Iterator[tuple[Stack, Engine]]:
    """A store of its own with three 2023 games scheduled, two of them with FIXTURE lines."""
    stack = stack.on(fill_store(f"sqlite:///{tmp_path / 'live.db'}", logs2022, features2022))
    engine = make_engine(stack.store.url)
    record_schedule(engine, [ScheduledGame(
        game_id=g, date=MARKET_DAY, game_number=0, season=2023, home=home, away=away,
        home_league=None, away_league=None, day_night="n", status=GameStatus.SCHEDULED,
        source="test-feed",
    ) for g, home, away in MARKET_GAMES])  # fmt: skip
    record_odds(engine, [
        OddsSnapshot(MARKET_GAMES[0][0], "draftkings", MARKET_AT, 1.80, 2.10, "fixture"),
        OddsSnapshot(MARKET_GAMES[0][0], "fanduel", MARKET_AT, 1.90, 2.00, "fixture"),
        OddsSnapshot(MARKET_GAMES[1][0], "draftkings", MARKET_AT, 1.55, 2.55, "fixture"),
    ])  # fmt: skip
    refresh(engine, stack.redis, [MARKET_DAY], ttl=600)
    yield stack, engine
    engine.dispose()
