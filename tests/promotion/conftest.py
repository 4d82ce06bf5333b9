"""Fixtures for the promotion tests: a real store of 2019-2022 built once, copied per test,
and a private Redis database emptied around each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from promo_support import REDIS_URL, SEASONS, build_base_store, copy_store, redis_client

from bullpen.settings import Settings


@pytest.fixture(scope="session")
def real_gamelogs() -> Path:
    path = Settings().gamelogs_dir
    if not all((path / f"GL{season}.TXT").is_file() for season in SEASONS):
        pytest.skip(f"Retrosheet game logs for {SEASONS} not found in {path}")
    return path


@pytest.fixture(scope="session")
def base_store(real_gamelogs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2019-2022 games and features in SQLite, built once per session (a few seconds)."""
    path = tmp_path_factory.mktemp("base") / "bullpen.db"
    build_base_store(real_gamelogs, path)
    return path


@pytest.fixture
def store_url(base_store: Path, tmp_path: Path) -> str:
    """A private copy of the base store for one test."""
    return copy_store(base_store, tmp_path / "store" / "bullpen.db")


@pytest.fixture
def cache() -> Iterator[redis.Redis]:
    client = redis_client()
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
