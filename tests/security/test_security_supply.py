"""Secrets and supply chain: nothing secret in the repository, secrets only from the
environment (never in a repr), Redis `requirepass` end to end, a non-root container,
and the dependency audit (`bash scripts/audit`)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from bench.loopback import RedisNode
from bullpen.settings import PROJECT_ROOT, Settings
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from tests.support.apps import Secured
from tests.support.data import SECRET, fill_store, serve
from tests.support.postgres import PostgresCluster

CREDENTIALS = {
    "API key": re.compile(r"\bbp_[A-Za-z0-9_-]{43}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "password in a URL": re.compile(r"[a-z+]+://[^/\s:@\"']*:([^/\s@\"']+)@"),
}
# Placeholders and references, not values: `...`, `$(VAR)`, `${VAR}`, `{name}` (a
# format field), `<password>`, `PASSWORD`.
PLACEHOLDER = re.compile(
    r"^(\.\.\.|\$\(?\{?[A-Z_]+\)?\}?|\{[A-Za-z_]+\}|<[^>]+>|[A-Z_]+|\*+|x+|password|secret)$"
)


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [PROJECT_ROOT / name for name in listed if (PROJECT_ROOT / name).is_file()]


def test_no_credentials_in_the_repository() -> None:
    found = []
    for path in repository_files():
        if path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(errors="replace")
        for what, pattern in CREDENTIALS.items():
            for match in pattern.finditer(text):
                value = match.group(1) if match.groups() else match.group(0)
                if what == "password in a URL" and PLACEHOLDER.match(value):
                    continue
                found.append(f"{path.relative_to(PROJECT_ROOT)}: {what}")
    assert found == []


def test_secrets_come_from_the_environment_and_stay_out_of_reprs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BULLPEN_API_KEY_SECRET", "from-the-environment-1234")
    settings = Settings()
    assert settings.auth.api_key_secret.get_secret_value() == "from-the-environment-1234"
    assert "from-the-environment-1234" not in repr(settings) + str(settings)


@pytest.mark.integration
def test_redis_requirepass_end_to_end(secured: Secured, tmp_path: Path) -> None:
    password = "s3cret-redis-pass"
    try:
        node = RedisNode(tmp_path / "redis", password=password).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        authed = f"redis://:{password}@127.0.0.1:{node.port}/0"
        client = redis.Redis.from_url(authed)
        serve(secured.store.url, client)
        client.close()
        path = f"/v1/games/{secured.store.game_ids[0]}/prediction"
        with TestClient(secured.app(redis_url=authed)) as app:
            assert app.get("/ready").status_code == 200
            assert app.get(path, headers={"X-API-Key": secured.read_key}).status_code == 200
        anonymous = f"redis://127.0.0.1:{node.port}/0"
        with TestClient(secured.app(redis_url=anonymous)) as app:
            ready = app.get("/ready")  # the store still answers: ready, Redis degraded
            assert ready.status_code == 200 and ready.json()["cache"] is False
            assert password not in ready.text
    finally:
        node.stop()


def test_postgres_password_end_to_end(
    secured: Secured, logs2022: ParsedLogs, features2022: pd.DataFrame, caplog: Any
) -> None:
    """A private PostgreSQL that takes SCRAM logins only on TCP, a password with `/@:%`:
    migrations from the CLI (URL from the environment), the store filled, a cache miss
    computed from it by the API; a wrong password is a 503 that shows it nowhere."""
    password = "pg/p@ss:w0rd%"
    try:
        cluster = PostgresCluster(password=password).init()
        cluster.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    try:
        with pytest.raises(OperationalError, match="password authentication failed"):
            check_login(cluster.url(password="wrong"))  # the server does enforce it
        url = cluster.url()
        migrated = subprocess.run(
            [sys.executable, "-c", "from bullpen.cli.main import main; main()", "migrate"],
            env={**os.environ, "BULLPEN_DATABASE_URL": url},
            capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
        )  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr
        assert password not in migrated.stdout + migrated.stderr
        assert quote(password, safe="") not in migrated.stdout + migrated.stderr
        store = fill_store(url, logs2022, features2022)
        engine = make_engine(url)
        try:
            key, _ = create_key(engine, SECRET, "pg-password", "read")
        finally:
            engine.dispose()
        path = f"/v1/games/{store.game_ids[0]}/prediction"
        cold = secured.redis_url.rsplit("/", 1)[0] + "/7"  # nothing warmed: a miss for sure
        client = redis.Redis.from_url(cold)
        client.flushdb()
        serve(url, client)
        client.close()
        with TestClient(secured.app(database_url=url, redis_url=cold)) as app:
            answer = app.get(path, headers={"X-API-Key": key})
            assert answer.status_code == 200 and answer.json()["cached"] is False  # the store's
        wrong = cluster.url(password="not-" + password)
        wrong_app = secured.app(database_url=wrong, redis_url=cold)
        with caplog.at_level(logging.DEBUG), TestClient(wrong_app) as app:
            refused = app.get(path, headers={"X-API-Key": key})
        assert refused.status_code == 503, refused.text
        for text in (refused.text, str(refused.headers), caplog.text):
            assert password not in text and quote(password, safe="") not in text
    finally:
        cluster.destroy()


def check_login(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def test_container_runs_as_non_root() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "the image never drops root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_installed_versions_are_the_locked_ones() -> None:
    """The environment the tests ran in is requirements.lock, no more and no less: what the
    audit checks is what runs (a dependency added without `scripts/lock` fails here)."""
    from importlib.metadata import distributions

    lines = (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
    locked = dict(line.lower().split("==") for line in lines if "==" in line)
    installed = {
        canonical(dist.metadata["Name"]): dist.version
        for dist in distributions()
        if canonical(dist.metadata["Name"]) not in ("bullpen", "pip", "setuptools", "wheel")
    }
    assert {canonical(name): version for name, version in locked.items()} == installed


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_dependency_audit() -> None:
    """`bash scripts/audit`: pip-audit against PyPI's vulnerability data. Skipped (not
    passed) when the audit cannot look packages up, e.g. offline or behind a mirror."""
    try:
        done = subprocess.run(["bash", "scripts/audit"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("pip-audit timed out (no route to PyPI?)")
    output = (done.stdout + done.stderr).strip()
    if done.returncode == 3:
        pytest.skip(f"dependency audit unavailable here: {output.splitlines()[-1]}")
    assert done.returncode == 0, output
