"""Engine set-up per backend."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bullpen.settings import StoreSettings
from bullpen.store import make_engine, normalize_url, session_factory


def test_sqlite_engine_creates_directory_and_sets_pragmas(tmp_path) -> None:
    path = tmp_path / "nested" / "dir" / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_sqlite_transactions_roll_back_completely(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'tx.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("boom")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        engine.dispose()


def test_bare_postgresql_url_uses_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_postgresql_engine_pool_and_every_wait_are_bounded() -> None:
    settings = StoreSettings(
        db_pool_size=3, db_max_overflow=2, db_pool_timeout_s=1.5, db_connect_timeout_s=2,
        db_statement_timeout_ms=750,
    )  # fmt: skip
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test", settings)  # no connection
    try:
        assert engine.pool.size() == 3 and engine.pool._max_overflow == 2
        assert engine.pool._timeout == 1.5 and engine.pool._pre_ping
    finally:
        engine.dispose()


@pytest.mark.integration
def test_postgresql_statement_timeout_reaches_the_server() -> None:
    settings = StoreSettings(db_statement_timeout_ms=300)
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test", settings)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "300ms"
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.exec_driver_sql("SELECT pg_sleep(2)")
    except OperationalError as exc:
        if "statement timeout" not in str(exc):
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        raise
    finally:
        engine.dispose()


def test_session_factory_keeps_objects_loaded_after_commit(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    try:
        factory = session_factory(engine)
        assert factory.kw["expire_on_commit"] is False
        with factory() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
