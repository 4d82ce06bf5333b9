"""The raw ASGI fast path answers exactly as the FastAPI routes do: same status, same
bytes, same headers that matter, same metrics; and it really serves the plain hits."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from bench import stack
from bullpen.cache.contract import prediction_key
from bullpen.domain.features import FEATURE_VERSION
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key, revoke_key
from online.app import create_app
from online.auth import extract_key
from online.config import OnlineSettings
from online.fastpath import FastPath, request_key
from online.ratelimit import RateLimiter
from tests.support.apps import core_settings

pytestmark = pytest.mark.integration
HEADERS = ("content-type", "content-length", "retry-after", "www-authenticate")


@pytest.fixture
def deployment(private_redis_url: str, bench_data: stack.BenchData) -> Iterator[stack.BenchData]:
    client = redis.Redis.from_url(private_redis_url)
    client.flushdb()
    stack.warm_season(private_redis_url, bench_data)
    client.close()
    yield bench_data


def app_on(data: stack.BenchData, redis_url: str, **overrides: object) -> FastAPI:
    """An app on the benchmark deployment; `overrides` are `OnlineSettings` fields."""
    values = {"rate_limit_per_s": 1000, "rate_limit_burst": 1000, **overrides}
    online = OnlineSettings(migrate_on_start=False, **values)  # type: ignore[arg-type]
    return create_app(core_settings(data.db_url, redis_url, secret=stack.SECRET), online)


def fast_path_of(app: FastAPI) -> FastPath:
    layer = app.middleware_stack
    while not isinstance(layer, FastPath):
        layer = layer.app  # type: ignore[union-attr]
    return layer


def same(fast: object, slow: object) -> None:
    assert fast.status_code == slow.status_code, (fast.text, slow.text)  # type: ignore[attr-defined]
    assert fast.content == slow.content  # type: ignore[attr-defined]
    for name in HEADERS:
        assert fast.headers.get(name) == slow.headers.get(name), name  # type: ignore[attr-defined]


def pair(data: stack.BenchData, url: str, **overrides: object) -> tuple[FastAPI, FastAPI]:
    fast = app_on(data, url, fast_path=True, **overrides)
    slow = app_on(data, url, fast_path=False, **overrides)
    return fast, slow


def test_hits_are_byte_identical_and_served_fast(
    deployment: stack.BenchData, private_redis_url: str
) -> None:
    day = deployment.busiest_day()
    paths = [f"/v1/games/{g}/prediction" for g in deployment.games[day]] + [
        f"/v1/games?date={day}",
        f"/v1/games?date={sorted(deployment.games)[0]}",
    ]
    key = {"X-API-Key": deployment.key}
    fast_app, slow_app = pair(deployment, private_redis_url)
    with TestClient(fast_app) as fast, TestClient(slow_app) as slow:
        for _ in range(3):  # the first round fills near-caches and key caches
            for path in paths:
                same(fast.get(path, headers=key), slow.get(path, headers=key))
        bearer = {"Authorization": f"Bearer {deployment.key}"}
        same(fast.get(paths[0], headers=bearer), slow.get(paths[0], headers=bearer))
        first = deployment.games[day][0]
        key_of_first = prediction_key(
            stack.MODEL_VERSION, FEATURE_VERSION, first, deployment.revisions[day]
        )
        stored = redis.Redis.from_url(private_redis_url).get(key_of_first)
        assert fast.get(paths[0], headers=key).content == stored
        slow.get(paths[0], headers=key)  # the same requests on both, for the metrics
        assert fast_path_of(fast_app).served >= 2 * len(paths)
        # The same metrics, whichever path answered.
        assert _series(fast.get("/metrics").text) == _series(slow.get("/metrics").text)


def _series(text: str) -> dict[str, str]:
    """Request counters and cache lookups by labels (latency sums differ, of course)."""
    pattern = re.compile(
        r"^((?:bullpen_http_requests_total|bullpen_cache_lookups_total)\{.*\}) (\S+)$", re.M
    )
    return dict(pattern.findall(text))


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/games/{g}/prediction", {}),
        ("/v1/games/{g}/prediction", {"X-API-Key": "bp_wrong"}),
        ("/v1/games/{g}/prediction", {"X-API-Key": "   "}),
        ("/v1/games/{g}/prediction", {"Authorization": "Basic abc"}),
        ("/v1/games/{g}/prediction", {"Authorization": "Bearer bp_wrong"}),
        ("/v1/games?date={d}", {}),
        ("/v1/admin/keys", "read"),  # 403: a read key on an admin route
        ("/v1/games/NYA199904070/prediction", "read"),  # 404: no such game
        ("/v1/games?date=1700-01-01", "read"),  # 404: out of range
        ("/v1/games?date=2999-01-01", "read"),
        ("/v1/games?date=2022-13-01", "read"),  # 422
        ("/v1/games?date=2022-4-7", "read"),  # not canonical: FastAPI decides
        ("/v1/games?date={d}&date={d}", "read"),
        ("/v1/games/nya202204070/prediction", "read"),
        ("/v1/games/{g}/prediction/", "read"),
        ("/v1/games/{g}/prediction?x=1", "read"),
    ],
)
def test_errors_and_edge_cases_are_identical(
    deployment: stack.BenchData, private_redis_url: str, path: str, headers: object
) -> None:
    day = deployment.busiest_day()
    path = path.replace("{g}", deployment.games[day][0]).replace("{d}", str(day))
    warm_key = {"X-API-Key": deployment.key}
    sent = warm_key if headers == "read" else headers
    fast_app, slow_app = pair(deployment, private_redis_url)
    with TestClient(fast_app) as fast, TestClient(slow_app) as slow:
        for client in (fast, slow):  # near-cache and key cache warm: the fast path is armed
            client.get(f"/v1/games/{deployment.games[day][0]}/prediction", headers=warm_key)
            client.get(f"/v1/games?date={day}", headers=warm_key)
        same(fast.get(path, headers=sent), slow.get(path, headers=sent))


def test_predict_posts_naming_the_served_model_are_identical_and_served_fast(
    deployment: stack.BenchData, private_redis_url: str
) -> None:
    """The design's load scenario: `POST /api/v1/predict {"game_id","model_name"}`."""
    games = deployment.games[deployment.busiest_day()][:4]
    bodies = [{"game_id": g} for g in games] + [{"game_id": g, "model_name": "elo"} for g in games]
    bodies.append({"game_id": games[0], "model_name": "elo", "model_version": None})
    key = {"X-API-Key": deployment.key}
    fast_app, slow_app = pair(deployment, private_redis_url)
    with TestClient(fast_app) as fast, TestClient(slow_app) as slow:
        for _ in range(3):  # the first round resolves the name and fills the near-cache
            for body in bodies:
                answer = fast.post("/api/v1/predict", json=body, headers=key)
                same(answer, slow.post("/api/v1/predict", json=body, headers=key))
                assert answer.status_code == 200
        assert fast_path_of(fast_app).served >= 2 * len(bodies)
        assert _series(fast.get("/metrics").text) == _series(slow.get("/metrics").text)


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        ('{"game_id": "{g}", "model_name": "nope"}', "json"),  # 404: no such model
        ('{"game_id": "{g}", "model_version": "nope"}', "json"),  # 404: a version
        ('{"game_id": "{g}", "model_name": "elo", "x": 1}', "json"),  # 422: extra field
        ('{"game_id": "{g}", "model_name": 5}', "json"),  # 422
        ('{"game_id": "nya202204070"}', "json"),  # 422: pattern
        ('{"game_id": "NYA199904070", "model_name": "elo"}', "json"),  # 404: no such game
        ('{"game_id": "{g}"', "json"),  # 422: not JSON
        ('["{g}"]', "json"),
        ('{"game_id": "{g}", "model_name": "' + "e" * 2000 + '"}', "json"),  # > 1 KB
        ('{"game_id": "{g}"}', "text"),
        ('{"game_id": "{g}"}', "none"),  # 401
        ('{"game_id": "{g}"}', "wrong"),
    ],
)
def test_predict_edge_cases_are_identical(
    deployment: stack.BenchData, private_redis_url: str, content: str, headers: str
) -> None:
    game = deployment.games[deployment.busiest_day()][0]
    key = {"X-API-Key": deployment.key}
    sent = {
        "json": {**key, "Content-Type": "application/json"},
        "text": {**key, "Content-Type": "text/plain"},
        "none": {"Content-Type": "application/json"},
        "wrong": {"X-API-Key": "bp_wrong", "Content-Type": "application/json"},
    }[headers]
    fast_app, slow_app = pair(deployment, private_redis_url)
    with TestClient(fast_app) as fast, TestClient(slow_app) as slow:
        for client in (fast, slow):  # name resolved, near-cache and key cache warm
            client.post("/api/v1/predict", json={"game_id": game, "model_name": "elo"}, headers=key)
        data = content.replace("{g}", game)
        same(fast.post("/api/v1/predict", content=data, headers=sent),
             slow.post("/api/v1/predict", content=data, headers=sent))  # fmt: skip


def test_rate_limit_429_is_identical(deployment: stack.BenchData, private_redis_url: str) -> None:
    game = deployment.games[deployment.busiest_day()][0]
    path = f"/v1/games/{game}/prediction"
    limits = {"rate_limit_per_s": 0.5, "rate_limit_burst": 4, "rate_limit_lease": 2}
    engine = make_engine(deployment.db_url)
    try:  # one key per app (same name, so the 429 detail is the same text)
        keys = [create_key(engine, stack.SECRET, "limited", "read")[0] for _ in range(2)]
    finally:
        engine.dispose()
    fast_app, slow_app = pair(deployment, private_redis_url, **limits)
    with TestClient(fast_app) as fast, TestClient(slow_app) as slow:
        answers = [
            [c.get(path, headers={"X-API-Key": k}) for _ in range(6)]
            for c, k in ((fast, keys[0]), (slow, keys[1]))
        ]
        assert [r.status_code for r in answers[0]] == [200, 200, 200, 200, 429, 429]
        for f, s in zip(*answers, strict=True):
            same(f, s)
        assert fast_path_of(fast_app).served >= 1  # the lease's second token, at least


def test_revocation_and_key_ttl_hold_on_the_fast_path(
    deployment: stack.BenchData, private_redis_url: str
) -> None:
    path = f"/v1/games/{deployment.games[deployment.busiest_day()][0]}/prediction"
    engine = make_engine(deployment.db_url)
    try:
        key, record = create_key(engine, stack.SECRET, "doomed", "read")
        app = app_on(deployment, private_redis_url, key_cache_ttl_s=0)
        with TestClient(app) as client:
            assert client.get(path, headers={"X-API-Key": key}).status_code == 200
            assert client.get(path, headers={"X-API-Key": key}).status_code == 200
            revoke_key(engine, record.id)
            assert client.get(path, headers={"X-API-Key": key}).status_code == 401
            assert fast_path_of(app).served == 0  # TTL 0: every request is verified again
        key, record = create_key(engine, stack.SECRET, "doomed-later", "read")
        app = app_on(deployment, private_redis_url, key_cache_ttl_s=0.5)
        with TestClient(app) as client:
            statuses = [client.get(path, headers={"X-API-Key": key}).status_code for _ in "abc"]
            assert statuses == [200, 200, 200] and fast_path_of(app).served == 2
            revoke_key(engine, record.id)
            time.sleep(0.6)  # the key cache's TTL: as long as a revocation may lag
            assert client.get(path, headers={"X-API-Key": key}).status_code == 401
    finally:
        engine.dispose()


_header_value = st.text(alphabet=" \tbBeEaArR_x-9", max_size=12)


@given(
    st.lists(
        st.tuples(st.sampled_from([b"x-api-key", b"authorization", b"other"]), _header_value),
        max_size=4,
    )
)
def test_the_key_is_read_as_the_dependency_reads_it(raw: list[tuple[bytes, str]]) -> None:
    encoded = [(name, value.encode("latin-1")) for name, value in raw]
    headers = Headers(raw=encoded)
    expected = extract_key(headers.get("authorization"), headers.get("x-api-key"))
    assert request_key(encoded) == expected


def test_lease_renewals_are_single_flight() -> None:
    calls: list[int] = []

    class FakeRedis:
        client = SimpleNamespace(register_script=lambda script: script)

        async def run(self, script: object, keys: list[str], args: list[int]) -> list[int]:
            calls.append(args[2])
            await asyncio.sleep(0.01)
            return [args[2], 0]

    limiter = RateLimiter(FakeRedis(), per_second=1000, burst=1000, lease=10)  # type: ignore[arg-type]

    async def burst() -> list[bool]:
        return [d.allowed for d in await asyncio.gather(*(limiter.check(7) for _ in range(50)))]

    assert all(asyncio.run(burst()))
    assert len(calls) == 5  # 50 requests, 10 tokens per lease: five round trips, not 50
