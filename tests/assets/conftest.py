"""Fixtures for the Dagster layer: a few real seasons, a store per backend, job runners.

Jobs run in process (`execute_in_process`) on an ephemeral instance, with the
definitions' resources swapped for ones pointing at a temporary store and a
temporary game-log directory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from dagster import DagsterInstance, ExecuteInProcessResult
from sqlalchemy import Engine

from assets.resources import GameLogSource, RedisResource, StoreResource
from bullpen.store import make_engine
from orchestration.definitions import defs
from tests.support.postgres import fresh_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'bullpen.db'}"


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A freshly created PostgreSQL database, dropped afterwards; skipped if the server is down."""
    with fresh_database("bullpen_dagster") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def empty_store_url(request: pytest.FixtureRequest) -> str:
    """An empty store (no tables: the resource migrates it) on each backend."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine_for() -> Iterator[Any]:
    """Engines opened by a test, disposed at its end (PostgreSQL drops need no open sessions)."""
    engines: list[Engine] = []

    def open_engine(url: str) -> Engine:
        engines.append(make_engine(url))
        return engines[-1]

    yield open_engine
    for engine in engines:
        engine.dispose()


@dataclass
class Pipeline:
    """Runs the project's jobs against one store, one game-log directory and one instance."""

    empty_store_url: str
    gamelogs_dir: Path
    seasons: str
    backtest_dir: Path
    instance: DagsterInstance
    redis_url: str = "redis://127.0.0.1:6379/12"

    def resources(self) -> dict[str, Any]:
        return {
            "store": StoreResource(database_url=self.empty_store_url),
            "gamelogs": GameLogSource(gamelogs_dir=str(self.gamelogs_dir), seasons=self.seasons),
            "redis": RedisResource(redis_url=self.redis_url),
        }

    def batch(self, backtest: Mapping[str, Any] | None = None) -> ExecuteInProcessResult:
        config = {"out_dir": str(self.backtest_dir), **(backtest or {})}
        return defs.resolve_job_def("batch_job").execute_in_process(
            run_config={"ops": {"backtest_report": {"config": config}}},
            instance=self.instance,
            resources=self.resources(),
            raise_on_error=False,
        )

    @staticmethod
    def metadata(result: ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
        """Metadata values per materialized asset key."""
        out: dict[str, dict[str, Any]] = {}
        for event in result.get_asset_materialization_events():
            materialization = event.materialization
            out[materialization.asset_key.to_user_string()] = {
                key: value.value for key, value in materialization.metadata.items()
            }
        return out

    def promote(self, version: str, as_of: str, days: int = 1) -> ExecuteInProcessResult:
        """`promotion_job` for `version`, warming `days` from `as_of` (what the sensor runs)."""
        config = {"version": version, "as_of": as_of, "days": days}
        return defs.resolve_job_def("promotion_job").execute_in_process(
            run_config={"ops": {"warm_green": {"config": config}}},
            instance=self.instance,
            resources=self.resources(),
            raise_on_error=False,
        )

    def daily(self, day: str) -> ExecuteInProcessResult:
        return defs.resolve_job_def("daily_predictions_job").execute_in_process(
            partition_key=day,
            instance=self.instance,
            resources=self.resources(),
            raise_on_error=False,
        )


@pytest.fixture
def pipeline_for(tmp_path: Path) -> Iterator[Any]:
    """`pipeline_for(empty_store_url, gamelogs_dir, seasons)` → a `Pipeline` on a fresh instance.

    Its cache is database 12 of the Redis on 127.0.0.1:6379, emptied before and after.
    """
    instances: list[DagsterInstance] = []
    cache = redis.Redis.from_url(Pipeline.redis_url)
    cache.flushdb()

    def build(empty_store_url: str, gamelogs_dir: Path, seasons: str = "2019-2022") -> Pipeline:
        instances.append(DagsterInstance.ephemeral())
        return Pipeline(
            empty_store_url, gamelogs_dir, seasons, tmp_path / "backtests", instances[-1]
        )

    yield build
    for instance in instances:
        instance.dispose()
    cache.flushdb()
