"""Engines and sessions for the store, tuned per backend.

SQLite is the one-machine default and is shared by the batch pipeline and the
online tier, so it runs in WAL mode (readers never block the writer) with a
30 s busy timeout, and transactions are made real: pysqlite's own implicit
transaction handling is switched off and SQLAlchemy emits BEGIN itself, as the
SQLAlchemy docs recommend, so `engine.begin()` covers reads and writes alike
and a failed load rolls back completely. PostgreSQL gets a small pre-pinged
pool, enough for a worker process without exhausting the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 5


def normalize_url(url: str | URL) -> URL:
    """Parse `url`; a bare `postgresql://` or `postgres://` URL gets the psycopg 3 driver.

    SQLAlchemy's default PostgreSQL driver is psycopg2, which is not installed.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Create an engine for `url` (default: `BULLPEN_DATABASE_URL` / settings)."""
    if url is None:
        from bullpen.settings import StoreSettings

        url = StoreSettings().database_url
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if backend == "postgresql":
        options: dict[str, Any] = {
            "pool_pre_ping": True,
            "pool_size": PG_POOL_SIZE,
            "max_overflow": PG_MAX_OVERFLOW,
        }
        return create_engine(parsed, **(options | kwargs))
    return create_engine(parsed, **kwargs)


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S} | kwargs.pop("connect_args", {})
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; SQLAlchemy's "begin" hook below starts
        # transactions explicitly. PRAGMAs must run outside a transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Safe with WAL (no corruption on crash) and several times faster to write.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay usable after commit (no lazy reloads)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
