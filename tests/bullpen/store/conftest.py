"""Store fixtures: every store test runs against SQLite and, marked `integration`, PostgreSQL.

PostgreSQL isolation: one throwaway database per test session (created on the
maintenance database, dropped with FORCE at teardown) and one fresh schema per
test inside it, selected through `search_path`, so tests never see each
other's rows or anyone else's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from bullpen.domain.gamelogs import ParseResult, parse_lines
from bullpen.settings import GameLogSettings
from bullpen.store import make_engine, normalize_url, upgrade
from tests.support.postgres import fresh_database

GAMELOGS = GameLogSettings().gamelogs_dir


def url_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this test session; skipped if the server is down."""
    with fresh_database("bullpen_test") as url:
        yield normalize_url(url)


@pytest.fixture
def pg_schema_url(pg_database: URL) -> Iterator[str]:
    """A URL whose connections work in a schema of their own."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url_string(pg_database.update_query_dict({"options": f"-csearch_path={schema}"}))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables yet) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'store.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty store."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def gl2022_lines() -> list[str]:
    """The first 300 lines of the real 2022 game log."""
    path = GAMELOGS / "GL2022.TXT"
    if not path.exists():
        pytest.skip(f"{path} not available")
    with path.open(encoding="latin-1") as handle:
        return [next(handle) for _ in range(300)]


@pytest.fixture(scope="session")
def gl2022(gl2022_lines: list[str]) -> ParseResult:
    result = parse_lines(gl2022_lines, "GL2022.TXT")
    assert len(result.games) == 300 and not result.quarantined
    return result
