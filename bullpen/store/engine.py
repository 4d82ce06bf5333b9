"""Engines and sessions for the store, tuned per backend.

SQLite is the one-machine default and is shared by the batch pipeline and the
online tier, so it runs in WAL mode (readers never block the writer) with a
30 s busy timeout, and transactions are made real: pysqlite's own implicit
transaction handling is switched off and SQLAlchemy emits BEGIN itself, as the
SQLAlchemy docs recommend, so `engine.begin()` covers reads and writes alike
and a failed load rolls back completely. PostgreSQL gets a small pre-pinged
pool, enough for a worker process without exhausting the server, and every
wait is bounded (`StoreSettings`): connecting, a statement on the server, and
checking a connection out of the pool. A server that stops answering mid-query
is the caller's deadline to enforce (the API abandons the call, `online/store.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from bullpen.settings import StoreSettings

SQLITE_BUSY_TIMEOUT_S = 30


def normalize_url(url: str | URL) -> URL:
    """Parse `url`; a bare `postgresql://` or `postgres://` URL gets the psycopg 3 driver.

    SQLAlchemy's default PostgreSQL driver is psycopg2, which is not installed.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(
    url: str | URL | None = None, settings: StoreSettings | None = None, **kwargs: Any
) -> Engine:
    """Create an engine for `url` (default: `settings.database_url`), bounded by `settings`
    (default: `StoreSettings()` from the environment)."""
    settings = settings or StoreSettings()
    parsed = normalize_url(url if url is not None else settings.database_url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database not in (None, "", ":memory:"):  # a file: a QueuePool, bounded too
            kwargs.setdefault("pool_timeout", settings.db_pool_timeout_s)
        return _sqlite_engine(parsed, **kwargs)
    if backend == "postgresql":
        connect_args: dict[str, Any] = {"connect_timeout": settings.db_connect_timeout_s}
        if settings.db_statement_timeout_ms:
            # Beside any options the URL carries (a search_path, say), not instead of them.
            given = parsed.query.get("options", "")
            given = given if isinstance(given, str) else " ".join(given)
            timeout = f"-c statement_timeout={settings.db_statement_timeout_ms}"
            connect_args["options"] = f"{given} {timeout}".strip()
        options: dict[str, Any] = {
            "pool_pre_ping": True,
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout_s,
            "connect_args": connect_args | kwargs.pop("connect_args", {}),
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
