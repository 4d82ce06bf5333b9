"""Redis with a password (requirepass/masterauth) and over TLS, end to end (issue 5).

Private `redis-server` processes on free loopback ports: one with `--requirepass`, one
TLS-only (`--port 0 --tls-port`, a self-signed certificate made here with `openssl`)
with a password too, and a 3-master + 3-replica cluster with `requirepass` and
`masterauth`. Checked: the online app (`create_app`) serves and reports ready, the
batch side (`bullpen.cache.clients.sync_client` + the cache writer) writes, and a wrong
password or an unverifiable certificate makes `/ready` false quickly instead of hanging.

TLS options travel in the URL: redis-py passes query parameters it does not parse
itself to the connection, so ``rediss://:PASSWORD@host:port/0?ssl_ca_certs=/path/ca.pem``
verifies the server against a private CA (and `ssl_certfile`/`ssl_keyfile` would do
client certificates) for every client the project builds from `redis_url`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from fastapi.testclient import TestClient

from bench.loopback import RedisClusterProcs, RedisNode
from bullpen.cache import contract, writer
from bullpen.cache.clients import sync_client
from bullpen.settings import RedisSettings
from bullpen.store import make_engine
from online.app import create_app
from online.config import OnlineSettings
from tests.support.apps import core_settings, new_key
from tests.support.data import MODEL_VERSION, StoreData, serve, served_key

pytestmark = pytest.mark.integration

PASSWORD = "s3cret/with:odd@chars"
URL_PASSWORD = quote(PASSWORD, safe="")
READY_WITHIN_S = 5.0


@pytest.fixture(scope="module")
def auth_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A password-protected redis-server; yields its URL with the password."""
    try:
        node = RedisNode(tmp_path_factory.mktemp("redis-auth"), password=PASSWORD).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield node.url
    finally:
        node.stop()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A TLS-only, password-protected redis-server; yields (rediss URL, CA file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed: cannot make a test certificate")
    workdir = tmp_path_factory.mktemp("redis-tls")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    try:
        node = RedisNode(workdir, password=PASSWORD, tls=(cert, key)).start()
    except RuntimeError as exc:
        pytest.skip(f"this redis-server does not serve TLS: {exc}")
    try:
        yield node.url, cert
    finally:
        node.stop()


@pytest.fixture(scope="module")
def auth_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """3 masters + 3 replicas, all with requirepass and masterauth; yields a node URL."""
    workdir = tmp_path_factory.mktemp("redis-auth-cluster")
    try:
        procs = RedisClusterProcs(workdir, password=PASSWORD).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield procs.url
    finally:
        procs.stop()


def _client(url: str, cluster: bool = False, timeout_s: float = 2) -> Any:
    """The batch side's client (`bullpen.cache.clients`), with short timeouts for a test."""
    settings = RedisSettings(
        redis_url=url, redis_cluster=cluster, redis_batch_timeout_s=timeout_s,
        redis_batch_retries=1,
    )  # fmt: skip
    return sync_client(settings)


# --- helpers -----------------------------------------------------------------------------


ROWS = [
    {"game_id": f"{team}202204070", "date": dt.date(2022, 4, 7), "home": team, "away": "BOS",
     "p_home": 0.41 + i / 100, "computed_at": dt.datetime(2022, 4, 6, 12, tzinfo=dt.UTC)}
    for i, team in enumerate(("NYA", "CHN", "LAN", "SFN", "HOU", "ATL", "SEA", "TEX"))
]  # fmt: skip


def _warm_and_check(url: str, cluster: bool = False) -> None:
    """Batch side: warm with the sync client, read back the exact bytes."""
    client = _client(url, cluster)
    try:
        entries = contract.warm_entries(ROWS, "m-auth", "f1", {dt.date(2022, 4, 7): "r1"})
        result = writer.write_entries(client, entries, ttl=120)
        assert result.keys == len(entries)
        assert [client.get(k) for k in entries] == list(entries.values())
        for key in entries:
            client.delete(key)
    finally:
        client.close()


def _app(store: StoreData, url: str, cluster: bool = False) -> Any:
    online = OnlineSettings(rate_limit_per_s=1000, rate_limit_burst=1000, pointer_poll_s=0.5)
    return create_app(core_settings(store.url, url, cluster), online)


def _serve_and_check(store: StoreData, url: str, cluster: bool = False) -> None:
    """Online side: /ready is true, a miss is computed, stored in Redis and then served."""
    client = _client(url, cluster)
    game_id = store.game_ids[3]
    engine = make_engine(store.url)
    key = served_key(engine, MODEL_VERSION, game_id)
    engine.dispose()
    try:
        client.delete(key)
        serve(store.url, client)
        headers = {"X-API-Key": new_key(store.url, "tests-auth")[0]}
        app = _app(store, url, cluster)
        with TestClient(app) as api:
            ready = api.get("/ready")
            assert ready.status_code == 200 and ready.json()["ready"] is True, ready.text
            first = api.get(f"/v1/games/{game_id}/prediction", headers=headers)
            assert first.status_code == 200 and first.json()["cached"] is False, first.text
            assert client.get(key) is not None  # written through the authenticated client
            second = api.get(f"/v1/games/{game_id}/prediction", headers=headers)
            assert second.json() == {**first.json(), "cached": True}
    finally:
        client.delete(key)
        client.close()


def _not_ready_quickly(store: StoreData, url: str, cluster: bool = False) -> None:
    """Redis unusable: reported at once as degraded (the store still serves), no hang."""
    app = _app(store, url, cluster)
    started = time.monotonic()
    with TestClient(app) as api:
        ready = api.get("/ready")
        assert ready.status_code == 200 and ready.json()["cache"] is False, ready.text
        assert ready.json()["degraded"] == ["cache"]
        assert api.get("/health").status_code == 200
    assert time.monotonic() - started < READY_WITHIN_S


# --- password ------------------------------------------------------------------------------


def test_password_required(auth_url: str) -> None:
    port = int(auth_url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, socket_timeout=1).set("bp:v1:x", b"1")


def test_batch_warming_with_password(auth_url: str) -> None:
    _warm_and_check(auth_url)


def test_online_app_with_password(auth_url: str, sqlite_store: StoreData) -> None:
    _serve_and_check(sqlite_store, auth_url)


def test_wrong_password_makes_ready_false_without_hanging(
    auth_url: str, sqlite_store: StoreData
) -> None:
    wrong = auth_url.replace(URL_PASSWORD, "wrong-password")
    with pytest.raises(redis.AuthenticationError):
        _client(wrong, timeout_s=1).ping()
    _not_ready_quickly(sqlite_store, wrong)
    _not_ready_quickly(sqlite_store, auth_url.replace(f":{URL_PASSWORD}@", ""))  # none at all


# --- TLS -----------------------------------------------------------------------------------


def test_batch_warming_over_tls(tls: tuple[str, Path]) -> None:
    url, _ = tls
    _warm_and_check(url)


def test_online_app_over_tls(tls: tuple[str, Path], sqlite_store: StoreData) -> None:
    url, _ = tls
    _serve_and_check(sqlite_store, url)


def test_tls_verifies_the_server(tls: tuple[str, Path], sqlite_store: StoreData) -> None:
    url, _ = tls
    unverifiable = url.split("?", 1)[0]  # the system CAs do not know the test certificate
    with pytest.raises(redis.ConnectionError):
        _client(unverifiable, timeout_s=1).ping()
    _not_ready_quickly(sqlite_store, unverifiable)
    plaintext = url.replace("rediss://", "redis://", 1).split("?", 1)[0]
    _not_ready_quickly(sqlite_store, plaintext)


# --- cluster with requirepass + masterauth ---------------------------------------------------


def test_batch_warming_into_a_password_cluster(auth_cluster_url: str) -> None:
    _warm_and_check(auth_cluster_url, cluster=True)


def test_online_app_on_a_password_cluster(auth_cluster_url: str, sqlite_store: StoreData) -> None:
    _serve_and_check(sqlite_store, auth_cluster_url, cluster=True)


def test_replicas_authenticate_to_their_masters(auth_cluster_url: str) -> None:
    client = _client(auth_cluster_url, cluster=True)
    key = "bp:v1:auth-replication"
    try:
        client.set(key, b"1", ex=60)
        master = client.get_node_from_key(key)
        info = master.redis_connection.info("replication")
        ports = [info[f"slave{i}"]["port"] for i in range(info["connected_slaves"])]
        assert ports
        replica = redis.Redis(port=ports[0], password=PASSWORD, socket_timeout=1,
                              single_connection_client=True)  # fmt: skip
        try:
            replica.execute_command("READONLY")
            deadline = time.monotonic() + 5
            while replica.get(key) != b"1":
                assert time.monotonic() < deadline, "the replica did not receive the write"
                time.sleep(0.05)
        finally:
            replica.close()
    finally:
        client.delete(key)
        client.close()
