"""The API end to end on real Redis (single and cluster) and real stores (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import event

from bench.loopback import wait_until
from bullpen.cache.writer import warm
from bullpen.domain.features import FEATURE_VERSION
from bullpen.serving import lifecycle
from bullpen.serving.revisions import revisions
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine, read_features, register_model
from bullpen.store.apikeys import create_key, revoke_key
from online.app import create_app
from online.config import OnlineSettings
from tests.support.apps import Stack, core_settings
from tests.support.data import MODEL_VERSION, elo_entry, fill_store, serve, switch_to

pytestmark = pytest.mark.integration


def test_health_ready_docs(stack: Stack) -> None:
    with TestClient(stack.app()) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["model_version"] == MODEL_VERSION
        assert client.get("/docs").status_code == 200
        assert "/v1/edge" in client.get("/openapi.json").json()["paths"]


def test_miss_computes_from_store_then_hits_cache(stack: Stack) -> None:
    game_id = stack.store.game_ids[0]
    with TestClient(stack.app()) as client:
        first = client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers())
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["cached"] is False
        assert body["model_version"] == MODEL_VERSION
        assert body["feature_version"] == FEATURE_VERSION
        assert body["home"] == game_id[:3] and body["away"]
        assert body["p_home"] + body["p_away"] == pytest.approx(1.0)
        assert body["fair_odds"]["home"]["decimal"] == pytest.approx(1 / body["p_home"], 1e-3)
        second = client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers())
        assert second.json() == {**body, "cached": True}
        # The response is the stored bytes, byte for byte.
        assert second.content == stack.redis.get(stack.key_of(game_id))


def test_prediction_equals_the_model_on_stored_features(stack: Stack) -> None:
    from bullpen.domain.model import WinModel

    game_id = stack.store.game_ids[5]
    engine = make_engine(stack.store.url)
    try:
        features = read_features(engine, FEATURE_VERSION, game_ids=[game_id])
    finally:
        engine.dispose()
    expected = float(WinModel(kind="elo").predict(features)[0])
    with TestClient(stack.app()) as client:
        body = client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers()).json()
    assert body["p_home"] == pytest.approx(expected, abs=1e-6)


def test_warmed_day_is_served_as_stored_bytes(stack: Stack) -> None:
    day = stack.store.days[0]
    rows = [
        {"game_id": g, "date": day, "home": g[:3], "away": "XXX", "p_home": 0.6,
         "computed_at": dt.datetime(2022, 4, 6, 12, tzinfo=dt.UTC)}
        for g in stack.store.game_ids if g[3:11] == f"{day:%Y%m%d}"
    ]  # fmt: skip
    engine = make_engine(stack.store.url)
    revs = revisions(engine, FEATURE_VERSION, [day])
    engine.dispose()
    result = warm(stack.redis, rows, MODEL_VERSION, FEATURE_VERSION, revs, ttl=600)
    assert result.keys == len(rows) + 1 and result.bytes > 0
    assert warm(stack.redis, rows, MODEL_VERSION, FEATURE_VERSION, revs, ttl=600).keys == (
        result.keys
    )
    with TestClient(stack.app()) as client:
        response = client.get(f"/v1/games?date={day}", headers=stack.headers())
        assert response.status_code == 200, response.text
        assert response.json()["count"] == len(rows)
        assert all(g["p_home"] == 0.6 and g["cached"] for g in response.json()["games"])
        one = client.get(f"/v1/games/{rows[0]['game_id']}/prediction", headers=stack.headers())
        assert one.json()["away"] == "XXX" and one.json()["cached"] is True


def test_unwarmed_day_is_computed(stack: Stack) -> None:
    day = stack.store.days[1]
    with TestClient(stack.app()) as client:
        first = client.get(f"/v1/games?date={day}", headers=stack.headers()).json()
        again = client.get(f"/v1/games?date={day}", headers=stack.headers()).json()
    ids = sorted(g for g in stack.store.game_ids if g[3:11] == f"{day:%Y%m%d}")
    assert [g["game_id"] for g in first["games"]] == ids
    assert first["cached"] is False and again["cached"] is True


def test_predict_post_and_models(stack: Stack) -> None:
    game_id = stack.store.game_ids[1]
    with TestClient(stack.app()) as client:
        get = client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers()).json()
        post = client.post(
            "/api/v1/predict", json={"game_id": game_id, "model_name": "elo"},
            headers=stack.headers(),
        )  # fmt: skip
        assert post.status_code == 200
        assert post.json()["p_home"] == get["p_home"]
        unknown = client.post(
            "/api/v1/predict", json={"game_id": game_id, "model_name": "nope"},
            headers=stack.headers(),
        )  # fmt: skip
        assert unknown.status_code == 404
        models = client.get("/v1/models", headers=stack.headers()).json()
        assert models["active"] == MODEL_VERSION
        entry = next(m for m in models["models"] if m["version"] == MODEL_VERSION)
        assert entry["active"] is True and entry["metrics"]["brier"] == 0.245


def test_edge(stack: Stack) -> None:
    game_id = stack.store.game_ids[2]
    with TestClient(stack.app()) as client:
        p_home = client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers()).json()[
            "p_home"
        ]
        body = {"game_id": game_id, "home_odds": -120, "away_odds": 110}
        edge = client.post("/v1/edge", json=body, headers=stack.headers())
        assert edge.status_code == 200, edge.text
        data = edge.json()
        assert data["home"]["fair"] + data["away"]["fair"] == pytest.approx(1.0)
        assert data["overround"] > 0
        assert data["home"]["model"] == pytest.approx(p_home)
        assert data["home"]["edge"] == pytest.approx(p_home - data["home"]["fair"])
        assert 0 <= data["home"]["kelly_stake"] <= 0.05
        decimal = {**body, "home_odds": 1.9, "away_odds": 1.9, "odds_format": "decimal"}
        assert client.post("/v1/edge", json=decimal, headers=stack.headers()).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("get", "/v1/games/nya202204070/prediction", None, 422, "pattern"),
        ("get", "/v1/games/NYA20220407/prediction", None, 422, "pattern"),
        ("get", "/v1/games/NYA202204074/prediction", None, 422, "pattern"),
        ("get", "/v1/games/NYA199904070/prediction", None, 404, "no game"),
        ("get", "/v1/games?date=1700-01-01", None, 404, "out of range"),
        ("get", "/v1/games?date=2999-01-01", None, 404, "out of range"),
        ("get", "/v1/games?date=2022-13-01", None, 422, "date"),
        ("get", "/v1/games", None, 422, "date"),
        ("post", "/v1/edge", {"game_id": "{g}", "home_odds": 50, "away_odds": 110}, 422,
         "between -100 and +100"),
        ("post", "/v1/edge", {"game_id": "{g}", "home_odds": 1.0, "away_odds": 2.0,
                              "odds_format": "decimal"}, 422, "greater than 1"),
        ("post", "/v1/edge", {"game_id": "{g}", "home_odds": "x", "away_odds": 2}, 422,
         "home_odds"),
        ("post", "/api/v1/predict", {"game": "x"}, 422, "game_id"),
    ],
)  # fmt: skip
def test_bad_input_is_a_specific_4xx(
    stack: Stack, method: str, path: str, body: dict | None, status: int, reason: str
) -> None:
    if body is not None:
        body = {k: v.replace("{g}", stack.store.game_ids[0]) if isinstance(v, str) else v
                for k, v in body.items()}  # fmt: skip
    with TestClient(stack.app()) as client:
        response = client.request(method, path, json=body, headers=stack.headers())
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]


def test_edge_errors_name_only_the_requested_odds_format(stack: Stack) -> None:
    body = {"game_id": stack.store.game_ids[0], "home_odds": -50, "away_odds": -110}
    with TestClient(stack.app()) as client:
        detail = client.post("/v1/edge", json=body, headers=stack.headers()).json()["detail"]
    assert "between -100 and +100" in detail
    assert "decimal" not in detail.lower()


def test_api_keys(stack: Stack) -> None:
    path = f"/v1/games/{stack.store.game_ids[0]}/prediction"
    engine = make_engine(stack.store.url)
    try:
        doomed, record = create_key(engine, "test-secret", "doomed", "read")
        with TestClient(stack.app(key_cache_ttl_s=0)) as client:
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"X-API-Key": "bp_wrong"}).status_code == 401
            bearer = {"Authorization": f"Bearer {stack.read_key}"}
            assert client.get(path, headers=bearer).status_code == 200
            assert client.get(path, headers=stack.headers(doomed)).status_code == 200
            revoke_key(engine, record.id)
            assert client.get(path, headers=stack.headers(doomed)).status_code == 401
            assert client.get("/v1/admin/keys", headers=stack.headers()).status_code == 403
            keys = client.get("/v1/admin/keys", headers=stack.headers(stack.admin_key))
            assert keys.status_code == 200
            assert all("key_hash" not in k for k in keys.json())
            # An admin key may do what a read key may.
            assert client.get(path, headers=stack.headers(stack.admin_key)).status_code == 200
    finally:
        engine.dispose()


def test_rate_limit_is_shared_by_replicas(stack: Stack) -> None:
    path = f"/v1/games/{stack.store.game_ids[0]}/prediction"
    limits = {"rate_limit_per_s": 0.5, "rate_limit_burst": 3, "rate_limit_lease": 1}
    engine = make_engine(stack.store.url)
    try:
        key, _ = create_key(engine, "test-secret", "limited", "read")
    finally:
        engine.dispose()
    with TestClient(stack.app(**limits)) as one, TestClient(stack.app(**limits)) as two:
        statuses = [c.get(path, headers=stack.headers(key)) for c in (one, two, one, two)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        assert int(statuses[-1].headers["Retry-After"]) >= 1
        assert "rate limit" in statuses[-1].json()["detail"]
        # Other keys are not affected.
        assert one.get(path, headers=stack.headers()).status_code == 200
        metrics = one.get("/metrics").text + two.get("/metrics").text
        assert "bullpen_rate_limit_rejections_total 1.0" in metrics


def test_stampede_computes_once_across_replicas(stack: Stack) -> None:
    game_id = stack.store.game_ids[3]
    apps = [stack.app(), stack.app()]

    async def run() -> list[httpx.Response]:
        async with (
            apps[0].router.lifespan_context(apps[0]),
            apps[1].router.lifespan_context(apps[1]),
        ):
            clients = [
                httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t")
                for a in apps
            ]
            path = f"/v1/games/{game_id}/prediction"
            responses = await asyncio.gather(
                *(c.get(path, headers=stack.headers()) for _ in range(25) for c in clients)
            )
            for c in clients:
                await c.aclose()
            return responses

    responses = asyncio.run(run())
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["p_home"] for r in responses}) == 1
    assert sum(a.state.services.predictions.computations for a in apps) == 1


def test_model_change_switches_every_replica(
    stack: Stack, tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame
) -> None:
    # A store of its own: the flips below change its registry for good.
    stack = stack.on(fill_store(f"sqlite:///{tmp_path / 'own.db'}", logs2022, features2022))
    engine = make_engine(stack.store.url)
    try:
        register_model(engine, elo_entry("elo-2022-next"))
    finally:
        engine.dispose()
    game_id = stack.store.game_ids[4]
    path = f"/v1/games/{game_id}/prediction"
    with TestClient(stack.app(pointer_poll_s=60)) as client:
        assert client.get(path, headers=stack.headers()).json()["model_version"] == MODEL_VERSION
        assert client.get(path, headers=stack.headers()).json()["cached"] is True
        switch_to(stack.store.url, stack.redis, "elo-2022-next")  # promoted: store, Redis, publish
        deadline = time.monotonic() + 5
        served = MODEL_VERSION
        while served == MODEL_VERSION and time.monotonic() < deadline:
            time.sleep(0.05)
            served = client.get(path, headers=stack.headers()).json()["model_version"]
        assert served == "elo-2022-next"  # pub/sub, not the (60 s) poll
        assert 'model_version="elo-2022-next"' in client.get("/metrics").text
    switch_to(stack.store.url, stack.redis, MODEL_VERSION)  # the shared Redis: back to it


def test_metrics(stack: Stack) -> None:
    game_id = stack.store.game_ids[0]
    with TestClient(stack.app()) as client:
        for _ in range(3):
            client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers())
        text = client.get("/metrics").text
    assert 'route="/v1/games/{game_id}/prediction"' in text
    assert "bullpen_http_request_duration_seconds_bucket" in text
    assert 'bullpen_cache_lookups_total{result="hit",tier="near"}' in text
    assert 'bullpen_model_info{feature_version="' in text


def test_redis_down_degrades_without_hanging(sqlite_store, single_redis_url: str) -> None:
    served = redis.Redis.from_url(single_redis_url)
    serve(sqlite_store.url, served)  # the store's serving model: promoted, as in production
    served.close()
    settings = core_settings(sqlite_store.url, "redis://127.0.0.1:1/0")
    engine = make_engine(sqlite_store.url)
    try:
        key, _ = create_key(
            engine, settings.auth.api_key_secret.get_secret_value(), "offline", "read"
        )
    finally:
        engine.dispose()
    game_id = sqlite_store.game_ids[0]
    # No pointer readable: the app serves the store's choice (`bullpen.serving.active`).
    with TestClient(create_app(settings, OnlineSettings())) as client:
        started = time.monotonic()
        ready = client.get("/ready")  # it can serve (store): ready, Redis reported degraded
        assert ready.status_code == 200, ready.text
        assert ready.json()["cache"] is False and ready.json()["degraded"] == ["cache"]
        assert client.get("/health").status_code == 200
        response = client.get(f"/v1/games/{game_id}/prediction", headers={"X-API-Key": key})
        assert response.status_code == 200, response.text
        assert response.json()["model_version"] == MODEL_VERSION
        again = client.get(f"/v1/games/{game_id}/prediction", headers={"X-API-Key": key})
        assert json.loads(again.content)["cached"] is True  # from the near-cache
        assert time.monotonic() - started < 5


def test_a_named_serving_model_costs_one_store_read_per_serving_version(
    stack: Stack, tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame
) -> None:
    """The design's load scenario names the model on every `POST /api/v1/predict`. The
    first request resolves the name in the registry; the next ones read nothing; when
    another model takes over, the same name resolves to it."""
    stack = stack.on(fill_store(f"sqlite:///{tmp_path / 'own.db'}", logs2022, features2022))
    engine = make_engine(stack.store.url)
    try:
        register_model(engine, elo_entry("elo-next"))
    finally:
        engine.dispose()
    game_id = stack.store.game_ids[2]
    body = {"game_id": game_id, "model_name": "elo"}
    registry_reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "FROM models" in statement:
            registry_reads.append(statement)

    with TestClient(stack.app()) as client:
        event.listen(client.app.state.services.engine, "before_cursor_execute", count)
        first = client.post("/api/v1/predict", json=body, headers=stack.headers())
        assert first.status_code == 200 and first.json()["model_version"] == MODEL_VERSION
        assert registry_reads, "the first request must ask the registry"
        after_first = len(registry_reads)
        for _ in range(20):
            again = client.post("/api/v1/predict", json=body, headers=stack.headers())
            assert again.json()["model_version"] == MODEL_VERSION
        assert len(registry_reads) == after_first
        switch_to(stack.store.url, stack.redis, "elo-next")

        def served() -> str:
            return client.post("/api/v1/predict", json=body, headers=stack.headers()).json()[
                "model_version"
            ]

        assert wait_until(lambda: served() == "elo-next", timeout=10)
    switch_to(stack.store.url, stack.redis, MODEL_VERSION)


def test_predict_resolves_a_named_model_through_the_serving_rule(
    stack: Stack, tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame
) -> None:
    """`model_name` means the served model of that name; a `model_version` must be the
    served or a retired one. Rejected or never promoted: 409; unknown: 404."""
    stack = stack.on(fill_store(f"sqlite:///{tmp_path / 'own.db'}", logs2022, features2022))
    engine = make_engine(stack.store.url)
    try:
        for version in ("elo-retired", "elo-rejected", "elo-checked"):
            register_model(engine, elo_entry(version))
        register_model(engine, replace(elo_entry("challenger-1"), name="challenger"))
        lifecycle.reject(engine, "elo-rejected", "test", ["brier too high"])
        lifecycle.transition(engine, "elo-checked", lifecycle.Status.CHECKED, "test")
        switch_to(stack.store.url, stack.redis, "elo-retired")
        switch_to(stack.store.url, stack.redis, MODEL_VERSION)  # elo-retired is retired now
    finally:
        engine.dispose()
    game_id = stack.store.game_ids[2]

    def post(**names: str) -> httpx.Response:
        return client.post(
            "/api/v1/predict", json={"game_id": game_id, **names}, headers=stack.headers()
        )

    with TestClient(stack.app()) as client:
        served = client.get(f"/v1/games/{game_id}/prediction", headers=stack.headers()).json()
        for names in (
            {},
            {"model_name": "elo"},
            {"model_version": MODEL_VERSION},
            {"model_name": MODEL_VERSION},
            {"model_name": "elo", "model_version": MODEL_VERSION},
        ):
            answer = post(**names)
            assert answer.status_code == 200, (names, answer.text)
            assert answer.json()["p_home"] == served["p_home"], names
            assert answer.json()["model_version"] == MODEL_VERSION, names
        retired = post(model_version="elo-retired")
        assert retired.status_code == 200 and retired.json()["model_version"] == "elo-retired"
        for names, status, reason in (
            ({"model_version": "elo-rejected"}, 409, "elo-rejected is rejected"),
            ({"model_version": "elo-checked"}, 409, "elo-checked is checked"),
            ({"model_name": "challenger"}, 409, "no model named 'challenger' is serving"),
            ({"model_version": "nope"}, 404, "no model version 'nope'"),
            ({"model_name": "nope"}, 404, "no model named 'nope'"),
            ({"model_name": "challenger", "model_version": MODEL_VERSION}, 404, "is named 'elo'"),
        ):
            answer = post(**names)
            assert answer.status_code == status, (names, answer.text)
            assert reason in answer.json()["detail"], (names, answer.text)
    switch_to(stack.store.url, stack.redis, MODEL_VERSION)
