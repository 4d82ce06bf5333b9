"""Fixtures for the online tier: real Redis (a private DB, and a six-node cluster started
here), a real store (SQLite, and PostgreSQL when reachable) with real 2022 games, their
pre-game features and an Elo model, and apps built on them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import redis
from fastapi import FastAPI

from bullpen.cache import ActiveModel, prediction_key, set_active
from bullpen.features import FEATURE_NAMES, FEATURE_VERSION, build_features
from bullpen.ingest import ParsedLogs, read_gamelogs
from bullpen.model import WinModel
from bullpen.store import (
    ModelEntry,
    load_parse_result,
    make_engine,
    register_model,
    upgrade,
    write_features,
)
from bullpen.store.apikeys import create_key
from online.app import create_app
from online.config import OnlineSettings
from tests.support.postgres import fresh_database

# A DB number nobody else uses on the shared server; only `bp:*` keys are cleaned.
SINGLE_URL = "redis://127.0.0.1:6379/13"


def clean(client: redis.Redis | redis.RedisCluster) -> None:
    if isinstance(client, redis.RedisCluster):
        client.flushall(target_nodes=redis.RedisCluster.PRIMARIES)
        return
    keys = list(client.scan_iter("bp:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


@pytest.fixture(scope="session")
def single_redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(SINGLE_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    clean(client)
    try:
        yield SINGLE_URL
    finally:
        clean(client)
        client.close()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """`count` ports whose cluster-bus ports (+10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000 and port not in ports and _port_free(port + 10000):
            ports.append(port)
    return ports


def _wait_ok(ports: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for port in ports:
            try:
                info = redis.Redis(port=port, socket_timeout=1).cluster("info")
                states.append(info.get("cluster_state") == "ok")
            except redis.RedisError:
                states.append(False)
        if all(states):
            return
        time.sleep(0.2)
    raise RuntimeError(f"cluster on {ports} did not reach cluster_state:ok")


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Six redis-server processes (3 masters, 3 replicas) on loopback; yields a node URL."""
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not binary or not cli:
        pytest.skip("redis-server / redis-cli not installed")
    ports = _free_ports(6)
    procs = []
    try:
        for port in ports:
            node_dir = tmp_path_factory.mktemp(f"redis-{port}")
            procs.append(subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no",
                 "--dir", str(node_dir), "--cluster-config-file", "nodes.conf"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        for port in ports:
            _wait_ping(port)
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "1", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        _wait_ok(ports)
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ping(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=0.5).ping():
                return
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not start")


def sync_client(url: str, cluster: bool) -> redis.Redis | redis.RedisCluster:
    if cluster:
        return redis.RedisCluster.from_url(url, socket_timeout=2)
    return redis.Redis.from_url(url, socket_timeout=2)


# --- store -----------------------------------------------------------------------------

MODEL_VERSION = "elo-2022-test"
FIRST_DAY = dt.date(2022, 4, 7)
SECRET = "test-secret"


@dataclass
class StoreData:
    url: str
    game_ids: list[str]
    days: list[dt.date]


@pytest.fixture(scope="session")
def logs2022(gamelogs_dir: Path) -> ParsedLogs:
    logs = read_gamelogs(gamelogs_dir, [2022])
    assert logs.files and not logs.errors
    return logs


@pytest.fixture(scope="session")
def features2022(logs2022: ParsedLogs) -> pd.DataFrame:
    """Real pre-game features of the first ten days of 2022 (computed on the whole season)."""
    frame = build_features(logs2022.frame())
    frame = frame[frame["date"] < pd.Timestamp(FIRST_DAY + dt.timedelta(days=10))]
    return frame[["game_id", "date", *FEATURE_NAMES]].reset_index(drop=True)


def elo_entry(version: str = MODEL_VERSION, status: str = "production") -> ModelEntry:
    return ModelEntry(
        version=version, name="elo", kind="elo", train_seasons_from=2021, train_seasons_to=2021,
        feature_version=FEATURE_VERSION, feature_names=list(FEATURE_NAMES),
        metrics={"brier": 0.245, "log_loss": 0.684}, params={},
        artifact=WinModel(kind="elo").to_bytes(), status=status,
    )  # fmt: skip


def fill_store(url: str, logs: ParsedLogs, features: pd.DataFrame) -> StoreData:
    import bullpen.store.apikeys  # noqa: F401 - its table joins the metadata

    upgrade(url)
    engine = make_engine(url)
    try:
        parsed = logs.files[0]
        load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        write_features(engine, features, FEATURE_VERSION)
        register_model(engine, elo_entry())
    finally:
        engine.dispose()
    days = sorted({d.date() for d in features["date"]})
    return StoreData(url, list(features["game_id"]), days)


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


# --- apps ------------------------------------------------------------------------------


@dataclass
class Stack:
    """What a test needs: settings for apps, sync Redis, keys, and the store's games."""

    settings: OnlineSettings
    redis: redis.Redis | redis.RedisCluster
    store: StoreData
    read_key: str
    admin_key: str
    cluster: bool

    def app(self, **overrides: object) -> FastAPI:
        return create_app(self.settings.model_copy(update=overrides))

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"X-API-Key": key or self.read_key}

    def key_of(self, game_id: str) -> str:
        return prediction_key(MODEL_VERSION, FEATURE_VERSION, game_id)


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
    set_active(client, ActiveModel(MODEL_VERSION, FEATURE_VERSION))
    engine = make_engine(store.url)
    try:
        read_key, _ = create_key(engine, SECRET, "tests-read", "read")
        admin_key, _ = create_key(engine, SECRET, "tests-admin", "admin")
    finally:
        engine.dispose()
    settings = OnlineSettings(
        database_url=store.url, redis_url=url, redis_cluster=cluster,
        api_key_secret=SECRET, rate_limit_per_s=1000, rate_limit_burst=1000,
        pointer_poll_s=0.5,
    )  # fmt: skip
    try:
        yield Stack(settings, client, store, read_key, admin_key, cluster)
    finally:
        clean(client)
        client.close()
