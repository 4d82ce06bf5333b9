"""Redis with a password (requirepass/masterauth) and over TLS, end to end (issue 5).

Private `redis-server` processes on free loopback ports: one with `--requirepass`, one
TLS-only (`--port 0 --tls-port`, a self-signed certificate made here with `openssl`)
with a password too, and a 3-master + 3-replica cluster with `requirepass` and
`masterauth`. Checked: the online app (`create_app`) serves and reports ready, the
batch side (`make_sync_redis` + `cache.warm`) writes, and a wrong password or an
unverifiable certificate makes `/ready` false quickly instead of hanging.

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
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from fastapi.testclient import TestClient

from bullpen import cache
from bullpen.cache import ActiveModel, set_active
from bullpen.redis_client import make_sync_redis
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from online.app import create_app
from online.config import OnlineSettings
from tests.online.conftest import (
    FEATURE_VERSION,
    MODEL_VERSION,
    SECRET,
    StoreData,
    _free_ports,
)

pytestmark = pytest.mark.integration

PASSWORD = "s3cret/with:odd@chars"
URL_PASSWORD = quote(PASSWORD, safe="")
READY_WITHIN_S = 5.0


def _binaries() -> tuple[str, str]:
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not binary or not cli:
        pytest.skip("redis-server / redis-cli not installed")
    return binary, cli


@contextmanager
def _servers(commands: list[list[str]]) -> Iterator[None]:
    procs = []
    try:
        for command in commands:
            procs.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ping(timeout: float = 10, **kwargs: Any) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if redis.Redis(host="127.0.0.1", socket_timeout=0.5, **kwargs).ping():
                return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _base(binary: str, workdir: Path) -> list[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--requirepass", PASSWORD]  # fmt: skip


@pytest.fixture(scope="module")
def auth_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A password-protected redis-server; yields its URL with the password."""
    binary, _ = _binaries()
    (port,) = _free_ports(1)
    workdir = tmp_path_factory.mktemp("redis-auth")
    with _servers([[*_base(binary, workdir), "--port", str(port)]]):
        _wait_ping(port=port, password=PASSWORD)
        yield f"redis://:{URL_PASSWORD}@127.0.0.1:{port}/0"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A TLS-only, password-protected redis-server; yields (rediss URL, CA file)."""
    binary, _ = _binaries()
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
    (port,) = _free_ports(1)
    command = [*_base(binary, workdir), "--port", "0", "--tls-port", str(port),
               "--tls-cert-file", str(cert), "--tls-key-file", str(key),
               "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]  # fmt: skip
    with _servers([command]):
        try:
            _wait_ping(port=port, password=PASSWORD, ssl=True, ssl_ca_certs=str(cert))
        except redis.RedisError as exc:
            pytest.skip(f"this redis-server does not serve TLS: {exc!r}")
        yield f"rediss://:{URL_PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={cert}", cert


@pytest.fixture(scope="module")
def auth_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """3 masters + 3 replicas, all with requirepass and masterauth; yields a node URL."""
    binary, cli = _binaries()
    ports = _free_ports(6)
    commands = [
        [*_base(binary, tmp_path_factory.mktemp(f"redis-auth-{port}")), "--port", str(port),
         "--masterauth", PASSWORD, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
         "--cluster-config-file", "nodes.conf"]
        for port in ports
    ]  # fmt: skip
    with _servers(commands):
        for port in ports:
            _wait_ping(port=port, password=PASSWORD)
        subprocess.run(
            [cli, "--no-auth-warning", "-a", PASSWORD, "--cluster", "create",
             *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas", "1", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        _wait_ok_auth(ports)
        yield f"redis://:{URL_PASSWORD}@127.0.0.1:{ports[0]}/0"


def _wait_ok_auth(ports: list[int], timeout: float = 30) -> None:
    """cluster_state:ok everywhere and every replica's link to its master up (masterauth)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            clients = [redis.Redis(port=p, password=PASSWORD, socket_timeout=1) for p in ports]
            states = [c.cluster("info").get("cluster_state") == "ok" for c in clients]
            infos = [c.info("replication") for c in clients]
            links = [i.get("master_link_status") == "up" for i in infos if i["role"] == "slave"]
            if all(states) and len(links) == 3 and all(links):
                return
        except redis.RedisError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"password-protected cluster on {ports} did not come up")


# --- helpers -----------------------------------------------------------------------------


ROWS = [
    {"game_id": f"{team}202204070", "date": dt.date(2022, 4, 7), "home": team, "away": "BOS",
     "p_home": 0.41 + i / 100, "computed_at": dt.datetime(2022, 4, 6, 12, tzinfo=dt.UTC)}
    for i, team in enumerate(("NYA", "CHN", "LAN", "SFN", "HOU", "ATL", "SEA", "TEX"))
]  # fmt: skip


def _warm_and_check(url: str, cluster: bool = False) -> None:
    """Batch side: warm with `make_sync_redis`, read back the exact bytes."""
    client = make_sync_redis(url, cluster, timeout_s=2)
    try:
        entries = cache.warm_entries(ROWS, "m-auth", "f1")
        result = cache.write_entries(client, entries, ttl=120)
        assert result.keys == len(entries)
        assert [client.get(k) for k in entries] == list(entries.values())
        for key in entries:
            client.delete(key)
    finally:
        client.close()


def _settings(store: StoreData, url: str, **overrides: Any) -> OnlineSettings:
    return OnlineSettings(
        database_url=store.url, redis_url=url, api_key_secret=SECRET,
        rate_limit_per_s=1000, rate_limit_burst=1000, pointer_poll_s=0.5, **overrides,
    )  # fmt: skip


def _read_key(store: StoreData) -> str:
    engine = make_engine(store.url)
    try:
        key, _ = create_key(engine, SECRET, "tests-auth", "read")
    finally:
        engine.dispose()
    return key


def _serve_and_check(store: StoreData, url: str, cluster: bool = False) -> None:
    """Online side: /ready is true, a miss is computed, stored in Redis and then served."""
    client = make_sync_redis(url, cluster, timeout_s=2)
    game_id = store.game_ids[3]
    key = cache.prediction_key(MODEL_VERSION, FEATURE_VERSION, game_id)
    try:
        client.delete(key)
        set_active(client, ActiveModel(MODEL_VERSION, FEATURE_VERSION))
        headers = {"X-API-Key": _read_key(store)}
        app = create_app(_settings(store, url, redis_cluster=cluster))
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
    app = create_app(_settings(store, url, redis_cluster=cluster))
    started = time.monotonic()
    with TestClient(app) as api:
        ready = api.get("/ready")
        assert ready.status_code == 503 and ready.json()["ready"] is False, ready.text
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
        make_sync_redis(wrong, timeout_s=1).ping()
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
        make_sync_redis(unverifiable, timeout_s=1).ping()
    _not_ready_quickly(sqlite_store, unverifiable)
    plaintext = url.replace("rediss://", "redis://", 1).split("?", 1)[0]
    _not_ready_quickly(sqlite_store, plaintext)


# --- cluster with requirepass + masterauth ---------------------------------------------------


def test_batch_warming_into_a_password_cluster(auth_cluster_url: str) -> None:
    _warm_and_check(auth_cluster_url, cluster=True)


def test_online_app_on_a_password_cluster(auth_cluster_url: str, sqlite_store: StoreData) -> None:
    _serve_and_check(sqlite_store, auth_cluster_url, cluster=True)


def test_replicas_authenticate_to_their_masters(auth_cluster_url: str) -> None:
    client = make_sync_redis(auth_cluster_url, cluster=True, timeout_s=2)
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
