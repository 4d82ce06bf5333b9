"""Warming a real Redis Cluster: keys spread over every master, misrouted batches re-sent."""

from __future__ import annotations

import datetime as dt

import pytest
import redis

from bullpen.cache import contract, writer

pytestmark = pytest.mark.integration


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
    revs = {dt.date(2022, 4, 7): "r1"}
    result = writer.warm(client, rows, "m-cluster", "f1", revs, ttl=300)
    assert result.keys == len(rows) + 1
    nodes = {
        client.get_node_from_key(
            contract.prediction_key("m-cluster", "f1", r["game_id"], "r1")
        ).name
        for r in rows
    }
    assert len(nodes) == 3  # spread over every master, no hash tag
    assert writer.warm(client, rows, "m-cluster", "f1", revs, ttl=300).keys == result.keys
    client.close()


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
    revs = {dt.date(2022, 4, 7 + i): f"r{i}" for i in range(3)}
    entries = contract.warm_entries(rows, "m-stale", "f1", revs)
    wrong = client.get_primaries()[0]
    monkeypatch.setattr(client.nodes_manager, "get_node_from_slot", lambda *a, **k: wrong)
    fallback = writer._write_pipelined
    resent: list[int] = []

    def pipelined(redis_client, items, ttl):  # the cluster client's own routing, un-patched
        monkeypatch.undo()
        resent.append(len(items))
        fallback(redis_client, items, ttl)

    monkeypatch.setattr(writer, "_write_pipelined", pipelined)
    assert writer.write_entries(client, entries, ttl=300).keys == len(entries)
    monkeypatch.undo()
    assert 0 < sum(resent) < len(entries)  # only the misrouted batch was re-sent
    keys = sorted(entries)
    assert [client.get(k) for k in keys] == [entries[k] for k in keys]
    client.close()
