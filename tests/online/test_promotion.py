"""The online tier's side: rollback route, pointer repair, canary by API key, shadow."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bullpen.cache.contract import ACTIVE_KEY, ActiveModel
from bullpen.domain.features import FEATURE_VERSION
from bullpen.serving import active, lifecycle
from bullpen.serving.active import read_pointer
from bullpen.serving.lifecycle import Status
from bullpen.serving.warming import coming_days
from bullpen.settings import Settings
from bullpen.store import get_model, make_engine, read_games
from bullpen.store.apikeys import create_key
from online.app import create_app
from online.canary import BUCKETS, canary_bucket
from online.config import OnlineSettings
from online.fastpath import FastPath
from tests.support.apps import core_settings
from tests.support.promotion import AS_OF, REDIS_URL, SECRET, WARM_DAYS, make_active, register_elo

BLUE, GREEN = "elo-blue", "elo-green"


@dataclass
class Env:
    engine: Engine
    settings: Settings
    online: OnlineSettings
    read_key: str
    admin_key: str
    game_id: str

    def client(self, **overrides: object) -> TestClient:
        """A client on a new app; `overrides` are `OnlineSettings` fields."""
        return TestClient(create_app(self.settings, self.online.model_copy(update=overrides)))


@pytest.fixture
def env(store_url: str, cache: redis.Redis) -> Iterator[Env]:
    """Blue active and warm; green registered (and warm), not yet promoted."""
    engine = make_engine(store_url)
    days = coming_days(AS_OF, WARM_DAYS)
    for version in (BLUE, GREEN):
        register_elo(engine, version)
        active.warm(engine, cache, get_model(engine, version), days, 600)
    make_active(engine, cache, BLUE)
    read_key, _ = create_key(engine, SECRET, "reader", "read")
    admin_key, _ = create_key(engine, SECRET, "admin", "admin")
    settings = core_settings(store_url, REDIS_URL, secret=SECRET)
    online = OnlineSettings(pointer_poll_s=0.1, rate_limit_per_s=10_000, rate_limit_burst=10_000)
    game_id = str(read_games(engine, on=AS_OF)["game_id"].iloc[0])
    yield Env(engine, settings, online, read_key, admin_key, game_id)
    engine.dispose()


def _served(client: TestClient, env: Env, key: str) -> str:
    response = client.get(f"/v1/games/{env.game_id}/prediction", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def _wait(condition: Callable[[], bool], timeout: float = 15.0) -> None:  # CI can be slow
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _to_green(env: Env, cache: redis.Redis) -> None:
    lifecycle.transition(env.engine, GREEN, Status.CHECKED, "test")
    active.begin_warming(env.engine, GREEN, "test")
    active.promote(env.engine, cache, GREEN, "test")


def test_rollback_route_needs_admin_and_restores_blue(env: Env, cache: redis.Redis) -> None:
    _to_green(env, cache)
    with env.client() as client:
        _wait(lambda: _served(client, env, env.read_key) == GREEN)
        denied = client.post("/v1/admin/rollback", headers={"X-API-Key": env.read_key})
        assert denied.status_code == 403
        response = client.post(
            "/v1/admin/rollback",
            headers={"X-API-Key": env.admin_key},
            json={"reason": "green misbehaves", "as_of": AS_OF.isoformat(), "days": WARM_DAYS},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["active"], body["previous"], body["changed"]) == (BLUE, GREEN, True)
        assert body["keys_present"] == body["keys_expected"] > 0
        assert _served(client, env, env.read_key) == BLUE  # this replica at once
        assert read_pointer(cache) == ActiveModel(BLUE, FEATURE_VERSION)
        last = lifecycle.audit_log(env.engine, BLUE)[-1]
        assert (last.actor, last.reason) == ("api:admin", "green misbehaves")
        # A second rollback goes forward again: the model rolled back from is `green`.
        again = client.post("/v1/admin/rollback", headers={"X-API-Key": env.admin_key})
        assert again.status_code == 200 and again.json()["active"] == GREEN


def test_rollback_with_nothing_to_roll_back_to_is_409(env: Env) -> None:
    with env.client() as client:
        response = client.post("/v1/admin/rollback", headers={"X-API-Key": env.admin_key})
    assert response.status_code == 409 and "no retired model" in response.json()["detail"]


def test_replicas_repair_a_pointer_left_behind(env: Env, cache: redis.Redis) -> None:
    _to_green(env, cache)
    _set_pointer(cache, ActiveModel(BLUE, FEATURE_VERSION))  # as if killed before the Redis write
    with env.client() as client:
        _wait(lambda: read_pointer(cache) == ActiveModel(GREEN, FEATURE_VERSION))
        _wait(lambda: _served(client, env, env.read_key) == GREEN)


def test_canary_share_is_stable_per_key() -> None:
    buckets = [canary_bucket(key_id) for key_id in range(20_000)]
    assert buckets == [canary_bucket(key_id) for key_id in range(20_000)]
    share = sum(b < 10 * BUCKETS / 100 for b in buckets) / len(buckets)
    assert 0.09 < share < 0.11  # 10 % of keys


def test_canary_serves_green_to_its_keys_only(env: Env) -> None:
    lifecycle.transition(env.engine, GREEN, Status.CHECKED, "test")
    active.begin_warming(env.engine, GREEN, "test")  # warmed, not flipped: a canary
    probe, reader = create_key(env.engine, SECRET, "probe", "read")
    in_canary = canary_bucket(reader.id) < BUCKETS // 2
    with env.client(canary_percent=50) as client:
        canary = client.app.state.services.canary
        _wait(lambda: canary.green is not None)
        expected = GREEN if in_canary else BLUE
        assert {_served(client, env, probe) for _ in range(5)} == {expected}  # one key, one model
        metrics = client.get("/metrics").text
    assert f'bullpen_served_by_model_total{{model_version="{expected}"' in metrics
    assert not _has_fast_path(client.app)  # it would answer blue without asking


def test_shadow_records_green_and_returns_blue(env: Env) -> None:
    lifecycle.transition(env.engine, GREEN, Status.CHECKED, "test")
    active.begin_warming(env.engine, GREEN, "test")
    with env.client(shadow=True) as client:
        canary = client.app.state.services.canary
        _wait(lambda: canary.green is not None)
        for _ in range(5):
            assert _served(client, env, env.read_key) == BLUE
        day = client.get(f"/v1/games?date={AS_OF}", headers={"X-API-Key": env.read_key})
        assert day.json()["model_version"] == BLUE

        def compared() -> bool:
            text = client.get("/metrics").text
            return (
                f'bullpen_shadow_comparisons_total{{model_version="{GREEN}",outcome="compared"}}'
                in text
            )

        _wait(compared)
        text = client.get("/metrics").text
    assert f'bullpen_shadow_abs_diff_count{{model_version="{GREEN}"}}' in text
    assert f'bullpen_served_by_model_total{{model_version="{BLUE}",role="blue"}}' in text


def _has_fast_path(app: Any) -> bool:
    layer = app.middleware_stack
    while layer is not None:
        if isinstance(layer, FastPath):
            return True
        layer = getattr(layer, "app", None)
    return False


def _set_pointer(client: Any, pointer: ActiveModel) -> None:
    """Write the Redis pointer behind the owner's back (a stale or foreign pointer)."""
    client.set(ACTIVE_KEY, pointer.encode())
