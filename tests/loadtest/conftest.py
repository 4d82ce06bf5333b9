"""A deployment for the load-test smoke test: a private redis-server, a SQLite store with
the real 2022 games and features and an Elo model (`bench.stack`), a uvicorn subprocess
on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import stack
from bench.loopback import redis_server, uvicorn


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, gamelogs_dir: Path) -> Iterator[tuple]:
    """(base URL, read key, warmed dates) of a running one-worker deployment."""
    workdir = tmp_path_factory.mktemp("deployment")
    data = stack.prepare(f"sqlite:///{workdir / 'bullpen.db'}", days=3)
    try:
        redis_cm = redis_server(workdir)
        redis_url = redis_cm.__enter__()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        stack.warm_season(redis_url, data)
        with uvicorn("online.app:app", stack.app_env(data, redis_url)) as url:
            yield url, data.key, sorted(data.games)
    finally:
        redis_cm.__exit__(None, None, None)
