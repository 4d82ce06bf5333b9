"""API keys in the store: only an HMAC is kept; the migration matches the table."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import bullpen.store.apikeys as store_keys
from bullpen.domain.apikeys import hash_key
from bullpen.store import Base, downgrade, make_engine, upgrade


def test_api_keys_migration_matches_the_table(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    downgrade(url, "0001")
    upgrade(url)


def test_keys_are_stored_as_hmac_only(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        key, record = store_keys.create_key(engine, "s3cret", "analyst", "read")
        assert key.startswith("bp_") and len(key) > 40
        with engine.connect() as conn:
            stored = conn.execute(store_keys.api_keys.select()).one()
        assert stored.key_hash == hash_key("s3cret", key) and key not in tuple(stored)
        assert store_keys.lookup_key(engine, hash_key("other", key)) is None
        assert store_keys.revoke_key(engine, record.id)
        assert not store_keys.revoke_key(engine, record.id)
        assert not store_keys.lookup_key(engine, hash_key("s3cret", key)).active
        with pytest.raises(ValueError, match="scope"):
            store_keys.create_key(engine, "s3cret", "x", "root")
    finally:
        engine.dispose()
