"""Warming a real cluster, the api_keys migration, and the `bullpen apikey` commands."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

import bullpen.store.apikeys as store_keys
from bullpen import cache
from bullpen.apikeys import hash_key
from bullpen.cli_apikeys import apikey_app
from bullpen.store import Base, downgrade, make_engine, upgrade


@pytest.mark.integration
def test_warm_a_cluster_by_slot(cluster_url: str) -> None:
    client = redis.RedisCluster.from_url(cluster_url, socket_timeout=2)
    rows = [
        {"game_id": f"T{i:02d}202204070"[:3] + "202204070", "date": dt.date(2022, 4, 7),
         "home": "NYA", "away": "BOS", "p_home": 0.5 + i / 1000,
         "computed_at": dt.datetime(2022, 4, 6, tzinfo=dt.UTC)}
        for i in range(1)
    ] + [
        {"game_id": f"{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}X2022{(i % 300) + 100:04d}0",
         "date": dt.date(2022, 4, 7), "home": "NYA", "away": "BOS", "p_home": 0.5,
         "computed_at": dt.datetime(2022, 4, 6, tzinfo=dt.UTC)}
        for i in range(600)
    ]  # fmt: skip
    rows = list({r["game_id"]: r for r in rows}.values())
    result = cache.warm(client, rows, "m-cluster", "f1", ttl=300)
    assert result.keys == len(rows) + 1
    nodes = {
        client.get_node_from_key(cache.prediction_key("m-cluster", "f1", r["game_id"])).name
        for r in rows
    }
    assert len(nodes) == 3  # spread over every master, no hash tag
    assert cache.warm(client, rows, "m-cluster", "f1", ttl=300).keys == result.keys
    client.close()


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


def test_apikey_cli(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BULLPEN_API_KEY_SECRET", "cli-secret")
    runner = CliRunner()
    created = runner.invoke(apikey_app, ["create", "--name", "ops", "--scope", "admin",
                                         "--database-url", url])  # fmt: skip
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    engine = make_engine(url)
    try:
        record = store_keys.lookup_key(engine, hash_key("cli-secret", key))
        assert record is not None and record.scope == "admin"
    finally:
        engine.dispose()
    listed = runner.invoke(apikey_app, ["list", "--database-url", url])
    assert "ops" in listed.stdout and key not in listed.stdout
    assert (
        runner.invoke(apikey_app, ["revoke", str(record.id), "--database-url", url]).exit_code == 0
    )
    assert (
        runner.invoke(apikey_app, ["revoke", str(record.id), "--database-url", url]).exit_code == 1
    )
    bad = runner.invoke(
        apikey_app, ["create", "--name", "x", "--scope", "root", "--database-url", url]
    )
    assert bad.exit_code == 2


@pytest.mark.integration
def test_warm_a_cluster_with_a_stale_slot_map(cluster_url: str, monkeypatch) -> None:
    """Packed batches sent to the wrong node come back MOVED and are re-sent through the
    cluster pipeline: every key still lands, with the exact bytes."""
    client = redis.RedisCluster.from_url(cluster_url, socket_timeout=2)
    rows = [
        {"game_id": f"S{i:04d}202204070", "date": dt.date(2022, 4, 7 + i % 3), "home": "NYA",
         "away": "BOS", "p_home": 0.3 + i / 5000,
         "computed_at": dt.datetime(2022, 4, 6, tzinfo=dt.UTC)}
        for i in range(3000)
    ]  # fmt: skip
    entries = cache.warm_entries(rows, "m-stale", "f1")
    wrong = client.get_primaries()[0]
    monkeypatch.setattr(client.nodes_manager, "get_node_from_slot", lambda *a, **k: wrong)
    fallback = cache._write_pipelined
    resent: list[int] = []

    def pipelined(redis_client, items, ttl):  # the cluster client's own routing, un-patched
        monkeypatch.undo()
        resent.append(len(items))
        fallback(redis_client, items, ttl)

    monkeypatch.setattr(cache, "_write_pipelined", pipelined)
    assert cache.write_entries(client, entries, ttl=300).keys == len(entries)
    monkeypatch.undo()
    assert 0 < sum(resent) < len(entries)  # only the misrouted batch was re-sent
    keys = sorted(entries)
    assert [client.get(k) for k in keys] == [entries[k] for k in keys]
    client.close()
