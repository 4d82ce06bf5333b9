"""A private deployment for the equivalence tests: its own redis-server on a free loopback
port (nothing shared is flushed or raced), and a SQLite store with the real 2022 games,
their pre-game features and an Elo model, built by `bench.stack`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bullpen.settings import PROJECT_ROOT

if str(PROJECT_ROOT) not in sys.path:  # bench/ and loadtest/ live beside the packages
    sys.path.insert(0, str(PROJECT_ROOT))

from bench import stack


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with stack.redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def bench_data(tmp_path_factory: pytest.TempPathFactory, gamelogs_dir: Path) -> stack.BenchData:
    """The first ten days of 2022 in a fresh SQLite store."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'bullpen.db'}"
    return stack.prepare(url, days=10)
