"""The live sensors' fixtures: a served 2022 store, a private Redis, a feed folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from dagster import DagsterInstance, instance_for_test

from assets.resources import LiveFeeds, RedisResource, StoreResource
from bench.loopback import RedisNode
from bullpen.sources.parsed import ParsedLogs
from tests.support.data import fill_store, serve
from tests.support.live_sensors import DAY, Live


@pytest.fixture
def live(
    tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame, private_redis: RedisNode
) -> Iterator[Live]:
    store = fill_store(f"sqlite:///{tmp_path / 'store.db'}", logs2022, features2022)
    client = redis.Redis.from_url(private_redis.url)
    client.flushdb()
    serve(store.url, client)
    folder, odds = tmp_path / "feeds", tmp_path / "odds"
    folder.mkdir()
    odds.mkdir()
    resources = {
        "store": StoreResource(database_url=store.url),
        "redis": RedisResource(redis_url=private_redis.url, cluster=False),
        "feeds": LiveFeeds(
            feed_dir=str(folder),
            stats_api_url=None,
            today=DAY.isoformat(),
            watch_s=0,
            odds_dir=str(odds),
            odds_api_url=None,
        ),
    }
    yield Live(store.url, client, folder, resources, odds)
    client.flushdb()
    client.close()


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:
        yield instance
