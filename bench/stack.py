"""A throwaway deployment on loopback for benchmarks and the load-test smoke test.

`prepare` builds a SQLite store from the real game logs of one season (games, pre-game
features, an Elo model in the registry, a read API key); `warm_season` fills a Redis
with every game and slate of it; `redis_server` and `uvicorn` start private processes
on free loopback ports and always stop them. Nothing here touches the shared Redis.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

MODEL_VERSION = "bench-elo"
SECRET = "bench-secret"
SEASON = 2022
STARTUP_S = 60.0
# No rate limit in the way of a benchmark: the limiter still runs, with a large lease.
UNLIMITED = {
    "BULLPEN_RATE_LIMIT_PER_S": "1000000",
    "BULLPEN_RATE_LIMIT_BURST": "1000000",
    "BULLPEN_RATE_LIMIT_LEASE": "1000",
}


@dataclass
class BenchData:
    db_url: str
    key: str
    games: dict[dt.date, list[str]]  # game ids by date, sorted
    rows: list[dict[str, Any]] = field(repr=False)  # predictions rows, for warming

    def busiest_day(self) -> dt.date:
        return max(self.games, key=lambda d: (len(self.games[d]), d))

    def all_game_ids(self) -> list[str]:
        return [g for day in sorted(self.games) for g in self.games[day]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db_url: str, season: int = SEASON, days: int | None = None) -> BenchData:
    """Store the season's games, features (first `days` dates, or all) and an Elo model."""
    import bullpen.store.apikeys  # noqa: F401 - its table joins the metadata
    from bullpen.features import FEATURE_NAMES, FEATURE_VERSION, build_features
    from bullpen.ingest import read_gamelogs
    from bullpen.model import WinModel
    from bullpen.settings import Settings
    from bullpen.store import (
        ModelEntry,
        load_parse_result,
        make_engine,
        register_model,
        upgrade,
        write_features,
    )
    from bullpen.store.apikeys import create_key

    logs = read_gamelogs(Settings().gamelogs_dir, [season])
    frame = build_features(logs.frame())
    if days is not None:
        keep = sorted(frame["date"].unique())[:days]
        frame = frame[frame["date"].isin(keep)]
    frame = frame[["game_id", "date", *FEATURE_NAMES]].reset_index(drop=True)
    model = WinModel(kind="elo")
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        parsed = logs.files[0]
        load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        write_features(engine, frame, FEATURE_VERSION)
        register_model(engine, ModelEntry(
            version=MODEL_VERSION, name="elo", kind="elo", train_seasons_from=season - 1,
            train_seasons_to=season - 1, feature_version=FEATURE_VERSION,
            feature_names=list(FEATURE_NAMES), metrics={}, params={},
            artifact=model.to_bytes(), status="production",
        ))  # fmt: skip
        key, _ = create_key(engine, SECRET, "bench", "read")
    finally:
        engine.dispose()
    teams = logs.frame().set_index("game_id")[["home", "away"]]
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"game_id": g, "date": d.date(), "home": teams.at[g, "home"],
         "away": teams.at[g, "away"], "p_home": float(p), "computed_at": now}
        for g, d, p in zip(frame["game_id"], frame["date"], model.predict(frame), strict=True)
    ]  # fmt: skip
    games: dict[dt.date, list[str]] = {}
    for row in rows:
        games.setdefault(row["date"], []).append(row["game_id"])
    return BenchData(db_url, key, {d: sorted(ids) for d, ids in games.items()}, rows)


def warm_season(redis_url: str, data: BenchData, set_pointer: bool = True) -> Any:
    """Every game and slate of `data` into `redis_url`, and the pointer to the Elo model."""
    from bullpen.cache import ActiveModel, set_active, warm
    from bullpen.features import FEATURE_VERSION

    client = redis.Redis.from_url(redis_url)
    try:
        result = warm(client, data.rows, MODEL_VERSION, FEATURE_VERSION, ttl=3600)
        if set_pointer:
            set_active(client, ActiveModel(MODEL_VERSION, FEATURE_VERSION))
        return result
    finally:
        client.close()


def set_pointer(redis_url: str) -> None:
    from bullpen.cache import ActiveModel, set_active
    from bullpen.features import FEATURE_VERSION

    client = redis.Redis.from_url(redis_url)
    try:
        set_active(client, ActiveModel(MODEL_VERSION, FEATURE_VERSION))
    finally:
        client.close()


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A private redis-server (no persistence) on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: apt-get install -y redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        client = redis.Redis(port=port, socket_timeout=0.5)
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def app_env(data: BenchData, redis_url: str, **extra: str) -> dict[str, str]:
    """Environment of a bullpen server on `data`: no migrations, no rate limit in the way."""
    return {
        **os.environ,
        "BULLPEN_DATABASE_URL": data.db_url,
        "BULLPEN_REDIS_URL": redis_url,
        "BULLPEN_API_KEY_SECRET": SECRET,
        "BULLPEN_MIGRATE_ON_START": "false",
        **UNLIMITED,
        **extra,
    }


@contextlib.contextmanager
def uvicorn(app: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`uvicorn APP` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        env=env, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode} on start")
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start on port {port}")
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
