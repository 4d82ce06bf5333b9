"""Authentication and authorisation: every route but the probes needs a key, admin routes
the admin scope; revocation reaches every replica within the key cache's TTL; limits
hold across replicas; no key or secret in a log line, an error body or a header."""

from __future__ import annotations

import ast
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bench.loopback import LOGS, uvicorn
from bullpen.domain.apikeys import hash_key
from bullpen.settings import PROJECT_ROOT
from bullpen.store import make_engine
from bullpen.store.apikeys import revoke_key
from tests.support.apps import Secured, app_env
from tests.support.data import SECRET

pytestmark = [pytest.mark.integration]
PROBES = {"/health", "/ready"}
# Open but outside the public schema and the Ingress: Prometheus scrapes it in-cluster.
INTERNAL = {"/metrics"}
# FastAPI's own documentation routes: the schema, no data.
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static-offline-docs"}
GAME = "NYA202204070"
BAD_CREDENTIALS: list[dict[str, Any]] = [
    {},
    {"X-API-Key": "bp_not-a-key"},
    {"Authorization": "Basic eDp5"},
    {"Authorization": "Bearer "},
    {"X-API-Key": "é".encode("latin-1") * 10},  # not ASCII
]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: GAME if m.group(0) == "{game_id}" else "1", path)


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def operations(app: FastAPI) -> list[tuple[str, str]]:
    found = sorted(
        {(m, r.path) for r in api_routes(app.routes) if r.include_in_schema for m in r.methods}
    )
    documented = sorted(
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
    )  # fmt: skip
    assert found == documented  # nothing routed that the schema (and this test) misses
    return found


def test_every_route_but_the_probes_needs_a_key(secured: Secured) -> None:
    app = secured.app()
    ops = operations(app)
    public = {path for _, path in ops} & PROBES
    assert public == PROBES
    plain = {getattr(r, "path", None) for r in app.routes if not hasattr(r, "original_router")}
    unlisted = plain - DOCS - INTERNAL - {path for _, path in ops}
    assert unlisted == set(), f"routes outside the API and the docs: {unlisted}"
    with TestClient(app) as client:
        for method, path in ops:
            if path in PROBES:
                continue
            url = concrete(path) + ("?date=2022-04-07" if path == "/v1/games" else "")
            for headers in BAD_CREDENTIALS:
                response = client.request(method, url, headers=headers)
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers.get("www-authenticate") == "Bearer"


def test_admin_routes_need_the_admin_scope(secured: Secured) -> None:
    app = secured.app()
    admin_ops = [(m, p) for m, p in operations(app) if p.startswith("/v1/admin/")]
    assert admin_ops, "no admin routes found"
    with TestClient(app) as client:
        for method, path in admin_ops:
            read = client.request(method, concrete(path), headers={"X-API-Key": secured.read_key})
            assert read.status_code == 403, (method, path, read.text)
        keys = client.get("/v1/admin/keys", headers={"X-API-Key": secured.admin_key})
        assert keys.status_code == 200
        assert secured.read_key not in keys.text and secured.admin_key not in keys.text


def test_keys_are_compared_in_constant_time_or_not_at_all() -> None:
    """Code inspection. A key is only ever HMAC'd (`hash_key`) and looked up by its HMAC
    (a keyed digest an attacker cannot steer, so the store's index comparison leaks
    nothing useful); no module on the auth path compares key material with `==`, `!=`
    or `in`. If a comparison is ever added it must be `hmac.compare_digest`."""
    secretish = re.compile(r"(key|secret|token|digest|hash|password)", re.IGNORECASE)
    modules = ["online/auth.py", "online/deps.py", "online/fastpath.py",
               "bullpen/domain/apikeys.py", "bullpen/store/apikeys.py"]  # fmt: skip
    offenders = []
    for module in modules:
        tree = ast.parse((PROJECT_ROOT / module).read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops):
                continue
            sides = [node.left, *node.comparators]
            if any(ast.unparse(side).startswith("api_keys.c.") for side in sides):
                continue  # a SQL expression (WHERE key_hash = :hmac), not a Python comparison
            for side in sides:
                text = ast.unparse(side)
                if secretish.search(text) and not text.endswith("_id") and not _is_constant(side):
                    offenders.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []
    source = (PROJECT_ROOT / "bullpen/domain/apikeys.py").read_text()
    assert "hmac.new(" in source and "hashlib.sha256" in source
    auth = (PROJECT_ROOT / "online/auth.py").read_text()
    assert "hash_key(self.secret, key)" in auth  # the raw key only ever goes into the HMAC
    assert "compare_digest" in ast.unparse(ast.parse(source)) or "==" not in _key_lines(source)


def _is_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.Attribute) and ast.unparse(node).isupper()
    )


def _key_lines(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if "key" in line and "==" in line)


def test_no_key_or_secret_in_logs_bodies_or_headers(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    revoked, revoked_id = secured.new_key("security-revoked")
    engine = make_engine(secured.store.url)
    try:
        revoke_key(engine, revoked_id)
    finally:
        engine.dispose()
    wrong = "bp_" + "x" * 43
    secrets_ = [secured.read_key, secured.admin_key, revoked, wrong, SECRET]
    secrets_ += [hash_key(SECRET, k) for k in secrets_[:4]]
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with TestClient(secured.app(key_cache_ttl_s=0)) as client:
        for headers in (
            {"X-API-Key": wrong}, {"Authorization": f"Bearer {wrong}"},
            {"X-API-Key": revoked}, {"Authorization": f"Basic {secured.read_key}"},
            {"X-API-Key": secured.read_key + "x"},
        ):  # fmt: skip
            for method, path in (
                ("GET", f"/v1/games/{GAME}/prediction"),
                ("GET", "/v1/admin/keys"),
                ("POST", "/v1/admin/rollback"),
            ):
                r = client.request(method, path, headers=headers)
                assert r.status_code in (401, 403)
                seen.append(r.text + repr(dict(r.headers)))
        r = client.get("/v1/admin/keys", headers={"X-API-Key": secured.read_key})
        assert r.status_code == 403
        seen.append(r.text + repr(dict(r.headers)))
        seen.append(client.get("/metrics").text)
    logged = caplog.text + "".join(str(rec.args) for rec in caplog.records)
    for secret in secrets_:
        assert secret not in logged
        assert all(secret not in text for text in seen)
    assert secured.read_key[:20] not in "".join(seen)


@pytest.fixture(scope="module")
def two_replicas(secured: Secured) -> Iterator[tuple[list[str], str]]:
    """Two uvicorn processes on one store and one Redis (key cache TTL 1 s), a game id."""
    env = app_env(secured.store.url, secured.redis_url, SECRET, key_cache_ttl_s=1)
    with uvicorn("online.app:app", env) as one, uvicorn("online.app:app", env) as two:
        yield [one, two], secured.store.game_ids[0]


def test_revoked_key_stops_on_every_replica_within_the_ttl(
    secured: Secured, two_replicas: tuple[list[str], str]
) -> None:
    urls, game = two_replicas
    key, key_id = secured.new_key("security-doomed")
    path = f"/v1/games/{game}/prediction"
    for url in urls:  # verified, cached, and the body in the near-cache: the fast path
        for _ in range(3):
            assert httpx.get(url + path, headers={"X-API-Key": key}).status_code == 200
    engine = make_engine(secured.store.url)
    try:
        assert revoke_key(engine, key_id)
    finally:
        engine.dispose()
    revoked_at = time.monotonic()
    stopped: dict[str, float] = {}
    while len(stopped) < len(urls) and time.monotonic() - revoked_at < 5:
        for url in urls:
            if url not in stopped:
                status = httpx.get(url + path, headers={"X-API-Key": key}).status_code
                if status == 401:
                    stopped[url] = time.monotonic() - revoked_at
                else:
                    assert status in (200, 429)
        time.sleep(0.05)
    assert set(stopped) == set(urls)
    assert max(stopped.values()) <= 1.0 + 0.5  # key_cache_ttl_s + polling
    for url in urls:  # and the server logs never held the key
        assert key not in Path(LOGS[url]).read_text()
        assert SECRET not in Path(LOGS[url]).read_text()


def test_rate_limit_holds_across_two_processes(secured: Secured) -> None:
    """5/s with a burst of 10, shared in Redis (leases of 2): spreading requests over two
    replicas must not buy more than one replica would give."""
    env = app_env(secured.store.url, secured.redis_url, SECRET, rate_limit_per_s=5,
                  rate_limit_burst=10, rate_limit_lease=2)  # fmt: skip
    key, _ = secured.new_key("security-limited")
    path = f"/v1/games/{secured.store.game_ids[1]}/prediction"
    allowed = limited = 0
    with (
        uvicorn("online.app:app", env) as one,
        uvicorn("online.app:app", env) as two,
        httpx.Client() as client,
    ):
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < 3.0:
            for url in (one, two):
                response = client.get(url + path, headers={"X-API-Key": key})
                if response.status_code == 200:
                    allowed += 1
                elif response.status_code == 429:
                    limited += 1
                    assert int(response.headers["Retry-After"]) >= 1
                else:
                    pytest.fail(f"unexpected {response.status_code}")
    budget = 10 + 5 * elapsed  # burst + rate x time, for all replicas together
    assert limited > 0
    assert allowed <= budget + 1, (allowed, budget)
    assert allowed >= 0.6 * budget, (allowed, budget)  # and not starved either
