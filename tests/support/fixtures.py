"""Fixtures every test package may use (registered by `tests/conftest.py` as a plugin).

Real data (`gamelogs_dir`, the 2022 sample in SQLite and PostgreSQL) and real servers
(the shared Redis on a private DB, a six-node Redis Cluster, a private redis-server).
Each skips, naming what is missing, when its data or server is not on the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis

from bench.loopback import RedisClusterProcs, RedisNode
from bullpen.domain.model import WinModel
from bullpen.settings import GameLogSettings, get_settings
from bullpen.sources.parsed import ParsedLogs
from tests.support.data import StoreData, blend_2022, fill_store, read_2022, sample_features
from tests.support.postgres import fresh_database
from tests.support.promotion import PROMOTION_URL, SEASONS, build_base_store, copy_store
from tests.support.redis_db import ONLINE_URL, clean

GAMELOGS = GameLogSettings().gamelogs_dir


@pytest.fixture(scope="session")
def gamelogs_dir() -> Path:
    if not GAMELOGS.is_dir():
        pytest.skip(f"real game logs not found at {GAMELOGS}")
    return GAMELOGS


@pytest.fixture(scope="session")
def logs2022(gamelogs_dir: Path) -> ParsedLogs:
    return read_2022(gamelogs_dir)


@pytest.fixture(scope="session")
def features2022(logs2022: ParsedLogs) -> pd.DataFrame:
    return sample_features(logs2022)


@pytest.fixture(scope="session")
def blend2022(logs2022: ParsedLogs) -> WinModel:
    """A LightGBM + logistic blend fitted on 2022, with a non-identity calibration."""
    return blend_2022(logs2022)


@pytest.fixture(scope="session")
def sqlite_store(
    tmp_path_factory: pytest.TempPathFactory, logs2022: ParsedLogs, features2022: pd.DataFrame
) -> StoreData:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'bullpen.db'}"
    return fill_store(url, logs2022, features2022)


@pytest.fixture(scope="session")
def pg_store(logs2022: ParsedLogs, features2022: pd.DataFrame) -> Iterator[StoreData]:
    """A fresh PostgreSQL database for the session, dropped afterwards."""
    with fresh_database("bullpen_online") as url:
        yield fill_store(url, logs2022, features2022)


@pytest.fixture(scope="session")
def single_redis_url() -> Iterator[str]:
    """The shared Redis, on a DB of its own; `bp:*` keys removed before and after."""
    client = redis.Redis.from_url(ONLINE_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    clean(client)
    try:
        yield ONLINE_URL
    finally:
        clean(client)
        client.close()


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Six redis-server processes (3 masters, 3 replicas) on loopback; yields a node URL."""
    try:
        procs = RedisClusterProcs(tmp_path_factory.mktemp("cluster")).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield procs.url
    finally:
        procs.stop()


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisNode]:
    """A private redis-server (no persistence) for the session."""
    try:
        node = RedisNode(tmp_path_factory.mktemp("redis"), None, "--appendonly", "no").start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """`get_settings()` read anew from the environment during the test (and after it)."""
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()


# --- the promotion tests' real 2019-2022 store ---------------------------------------------


@pytest.fixture(scope="session")
def real_gamelogs() -> Path:
    """The bundled game logs, if they hold every season of `tests.support.promotion.SEASONS`."""
    if not all((GAMELOGS / f"GL{season}.TXT").is_file() for season in SEASONS):
        pytest.skip(f"Retrosheet game logs for {SEASONS} not found in {GAMELOGS}")
    return GAMELOGS


@pytest.fixture(scope="session")
def base_store(real_gamelogs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2019-2022 games and features in SQLite, built once per session (a few seconds)."""
    path = tmp_path_factory.mktemp("base") / "bullpen.db"
    build_base_store(real_gamelogs, path)
    return path


@pytest.fixture
def store_url(base_store: Path, tmp_path: Path) -> str:
    """A private copy of the 2019-2022 base store for one test."""
    return copy_store(base_store, tmp_path / "store" / "bullpen.db")


@pytest.fixture
def cache() -> Iterator[redis.Redis]:
    """The shared Redis's promotion DB, emptied before and after the test."""
    client = redis.Redis.from_url(PROMOTION_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {PROMOTION_URL}: {exc}")
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def four_seasons(real_gamelogs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with symlinks to GL2019-GL2022 only, so the jobs stay quick."""
    directory = tmp_path_factory.mktemp("gamelogs")
    for season in SEASONS:
        (directory / f"GL{season}.TXT").symlink_to(real_gamelogs / f"GL{season}.TXT")
    return directory
