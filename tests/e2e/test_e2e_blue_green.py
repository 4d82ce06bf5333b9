"""End to end: two API processes serve blue under a bounded load loop while green is promoted
by the Dagster promotion job and then rolled back through the admin API.

Zero failed requests, every response from exactly one model version, and each replica's
versions go blue → green → blue with no flapping. Loopback only; Redis DB 11.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from dagster import DagsterInstance

from assets.resources import RedisResource, StoreResource
from bench.loopback import uvicorn
from bullpen.serving import active, lifecycle
from bullpen.serving.lifecycle import Status
from bullpen.serving.warming import coming_days, schedule
from bullpen.store import get_model, make_engine
from bullpen.store.apikeys import create_key
from orchestration.definitions import defs
from tests.support.apps import app_env
from tests.support.promotion import (
    AS_OF,
    REDIS_URL,
    SECRET,
    WARM_DAYS,
    make_active,
    register_blend,
    register_elo,
)

BLUE, GREEN = "elo-blue", "blend-green"
MAX_REQUESTS = 40_000  # per replica: the loop is bounded by count as well as by time
MAX_SECONDS = 90.0
SWITCH_TIMEOUT_S = 10.0


@dataclass
class Replica:
    name: str
    url: str
    seen: list[tuple[float, int, str | None]] = field(default_factory=list)  # (t, status, ver)
    errors: list[str] = field(default_factory=list)

    def versions(self) -> list[str]:
        """Distinct consecutive versions served, e.g. [blue, green, blue]."""
        out: list[str] = []
        for _, _, version in self.seen:
            if version is not None and (not out or out[-1] != version):
                out.append(version)
        return out

    def serves(self, version: str, since: float) -> bool:
        return any(t >= since and v == version for t, _, v in self.seen[-50:])


def _wait_ready(replica: Replica, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{replica.url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{replica.name} not ready after {timeout} s")


def _version_of(path: str, body: dict[str, Any]) -> str:
    """The one model version of a response; a slate mixing versions fails here."""
    version = body["model_version"]
    if "games" in body:
        assert {g["model_version"] for g in body["games"]} <= {version}, f"mixed slate {path}"
    return version


def _load(replica: Replica, paths: list[str], key: str, stop: threading.Event) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=replica.url, headers={"X-API-Key": key}, timeout=5) as client:
        for i in range(MAX_REQUESTS):
            if stop.is_set() or time.monotonic() - started > MAX_SECONDS:
                return
            path = paths[i % len(paths)]
            try:
                response = client.get(path)
                version = (
                    _version_of(path, response.json()) if response.status_code == 200 else None
                )
                replica.seen.append((time.monotonic(), response.status_code, version))
                if response.status_code != 200:
                    replica.errors.append(f"{path}: {response.status_code} {response.text[:200]}")
            except Exception as exc:  # a refused connection or a mixed body is a failure
                replica.seen.append((time.monotonic(), 0, None))
                replica.errors.append(f"{path}: {exc!r}")


@pytest.fixture
def replicas(store_url: str, cache: redis.Redis) -> Iterator[list[Replica]]:
    # Pub/sub must do the switching; the 1 s poll is only the safety net.
    env = app_env(store_url, REDIS_URL, SECRET, migrate_on_start=True, pointer_poll_s=1.0)
    with contextlib.ExitStack() as servers:
        started = [
            Replica(name, servers.enter_context(uvicorn("online.app:app", env)))
            for name in ("a", "b")
        ]
        for replica in started:
            _wait_ready(replica)
        yield started


@pytest.fixture
def blue_serving(store_url: str, cache: redis.Redis) -> Iterator[dict[str, Any]]:
    """Blue (Elo) active and warm for the coming days; green (a real blend) checked; keys."""
    engine = make_engine(store_url)
    days = coming_days(AS_OF, WARM_DAYS)
    register_elo(engine, BLUE)
    make_active(engine, cache, BLUE)
    active.warm(engine, cache, get_model(engine, BLUE), days, 600)
    register_blend(engine, GREEN)
    lifecycle.transition(engine, GREEN, Status.CHECKED, "test", "checks passed")
    read_key, _ = create_key(engine, SECRET, "load", "read")
    admin_key, _ = create_key(engine, SECRET, "ops", "admin")
    games = schedule(engine, days)
    paths = [f"/v1/games/{g}/prediction" for g in games["game_id"]]
    paths += [f"/v1/games?date={d.isoformat()}" for d in days]
    yield {"engine": engine, "read": read_key, "admin": admin_key, "paths": paths}
    engine.dispose()


def _wait_all(replicas: list[Replica], version: str, since: float) -> float:
    deadline = time.monotonic() + SWITCH_TIMEOUT_S
    while not all(r.serves(version, since) for r in replicas):
        assert time.monotonic() < deadline, f"not every replica switched to {version}"
        time.sleep(0.02)
    return time.monotonic() - since


def test_promote_and_roll_back_under_load(
    store_url: str, blue_serving: dict[str, Any], replicas: list[Replica]
) -> None:
    engine, paths = blue_serving["engine"], blue_serving["paths"]
    stop = threading.Event()
    loops = [
        threading.Thread(target=_load, args=(r, paths, blue_serving["read"], stop), daemon=True)
        for r in replicas
    ]
    for loop in loops:
        loop.start()
    try:
        _wait_all(replicas, BLUE, time.monotonic())

        # Promote green with the promotion job, as the sensor would launch it.
        config = {"version": GREEN, "as_of": AS_OF.isoformat(), "days": WARM_DAYS}
        with DagsterInstance.ephemeral() as instance:
            run = defs.resolve_job_def("promotion_job").execute_in_process(
                run_config={"ops": {"warm_green": {"config": config}}},
                instance=instance,
                resources={
                    "store": StoreResource(database_url=store_url),
                    "redis": RedisResource(redis_url=REDIS_URL),
                },
            )
        flipped = time.monotonic()
        assert run.success
        switch_s = _wait_all(replicas, GREEN, flipped)

        # Roll back through one replica's admin route; both must follow.
        response = httpx.post(
            f"{replicas[0].url}/v1/admin/rollback",
            headers={"X-API-Key": blue_serving["admin"]},
            json={"reason": "e2e", "as_of": AS_OF.isoformat(), "days": WARM_DAYS},
            timeout=30,
        )
        rolled = time.monotonic()
        assert response.status_code == 200, response.text
        assert response.json()["active"] == BLUE
        rollback_s = _wait_all(replicas, BLUE, rolled)
        time.sleep(0.3)
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=10)

    counts = {r.name: len(r.seen) for r in replicas}
    print(f"requests {counts}; switch {switch_s:.3f} s, rollback {rollback_s:.3f} s")
    for replica in replicas:
        assert not replica.errors, replica.errors[:5]
        assert {status for _, status, _ in replica.seen} == {200}
        assert replica.versions() == [BLUE, GREEN, BLUE], replica.versions()
        assert len(replica.seen) > 100
    # Published, not polled: every replica switched well within one poll interval or so.
    assert switch_s < 2.0 and rollback_s < 2.0, (switch_s, rollback_s)
    assert active.aliases(engine) == {"blue": BLUE, "green": GREEN}
