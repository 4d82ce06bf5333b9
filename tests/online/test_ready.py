"""Readiness is "this replica can serve": a known model, and Redis or the store answering.

One dependency down keeps the replica behind the Service (reported in the body and in
`bullpen_dependency_up`); no model, or both gone, takes it out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import redis
from fastapi.testclient import TestClient
from httpx import Response

from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine
from online.app import create_app
from online.config import OnlineSettings
from tests.support.apps import core_settings
from tests.support.data import MODEL_VERSION, StoreData, fill_store, serve

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_STORE = "postgresql://postgres@127.0.0.1:1/nowhere"


def _app(store_url: str, redis_url: str) -> TestClient:
    online = OnlineSettings(migrate_on_start=False, store_deadline_s=2.0)
    return TestClient(create_app(core_settings(store_url, redis_url), online))


def _served(store: StoreData, redis_url: str) -> None:
    """The store's model promoted and named by the pointer in `redis_url`'s Redis."""
    client = redis.Redis.from_url(redis_url)
    serve(store.url, client)
    client.close()


def _probe(store_url: str, redis_url: str) -> tuple[Response, str]:
    """(`/ready`, `/metrics` text) of an app on these targets."""
    with _app(store_url, redis_url) as api:
        return api.get("/ready"), api.get("/metrics").text


def test_both_up_is_ready_and_says_what_serves(
    sqlite_store: StoreData, single_redis_url: str
) -> None:
    _served(sqlite_store, single_redis_url)
    ready, metrics = _probe(sqlite_store.url, single_redis_url)
    assert ready.json() == {"ready": True, "cache": True, "store": True, "model_pointer": True,
                    "model_version": MODEL_VERSION, "degraded": []}  # fmt: skip
    assert 'bullpen_dependency_up{dependency="store"} 1.0' in metrics


def test_redis_down_keeps_the_replica_ready_and_degraded(
    sqlite_store: StoreData, single_redis_url: str
) -> None:
    _served(sqlite_store, single_redis_url)
    ready, metrics = _probe(sqlite_store.url, DEAD_REDIS)
    assert ready.status_code == 200
    assert ready.json()["degraded"] == ["cache"] and ready.json()["model_version"]
    assert 'bullpen_dependency_up{dependency="cache"} 0.0' in metrics


def test_no_model_is_not_ready(
    tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame, single_redis_url: str
) -> None:
    """A store that never promoted anything: nothing to serve, whatever answers."""
    store = fill_store(f"sqlite:///{tmp_path / 'unpromoted.db'}", logs2022, features2022)
    redis.Redis.from_url(single_redis_url).delete("bp:v1:active")
    with _app(store.url, single_redis_url) as api:
        ready = api.get("/ready")
        health = api.get("/health")
    assert ready.status_code == 503
    assert ready.json()["model_pointer"] is False and ready.json()["store"] is True
    assert health.status_code == 200  # alive: nothing for a liveness probe to restart


def test_store_and_cache_both_gone_is_not_ready(
    sqlite_store: StoreData, single_redis_url: str
) -> None:
    _served(sqlite_store, single_redis_url)
    with _app(sqlite_store.url, DEAD_REDIS) as api:
        assert api.get("/ready").status_code == 200  # the model is known, the store answers
        services = api.app.state.services
        services.engine = make_engine(DEAD_STORE)  # the store goes away too
        ready = api.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["degraded"] == ["cache", "store"]
    assert ready.json()["model_pointer"] is True  # it knows the model, it cannot answer
