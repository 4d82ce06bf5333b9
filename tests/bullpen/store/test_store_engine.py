"""Engine set-up per backend."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bullpen.store import make_engine, normalize_url, session_factory
from bullpen.store.engine import PG_MAX_OVERFLOW, PG_POOL_SIZE


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


def test_postgresql_engine_pool_settings() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")  # no connection made
    try:
        assert engine.pool.size() == PG_POOL_SIZE
        assert engine.pool._max_overflow == PG_MAX_OVERFLOW
        assert engine.pool._pre_ping
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
