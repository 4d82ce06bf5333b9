"""The cache contract: key formats, value bytes, slot spread, and warming a real Redis."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
import redis

from bullpen.cache import contract, writer

ROWS = [
    {"game_id": f"{team}202204070", "date": dt.date(2022, 4, 7), "home": team, "away": "BOS",
     "p_home": 0.55, "computed_at": dt.datetime(2022, 4, 6, 12, tzinfo=dt.UTC)}
    for team in ("NYA", "CHN", "LAN", "SFN", "HOU", "ATL")
]  # fmt: skip
REVS = {dt.date(2022, 4, 7): "r1"}


def test_key_formats_are_the_documented_contract() -> None:
    assert contract.prediction_key("m1", "f1", "NYA202204070", "r1") == (
        "bp:v1:pred:m1:f1:NYA202204070:r1"
    )
    assert contract.day_key("m1", "f1", dt.date(2022, 4, 7), "r1") == "bp:v1:day:m1:f1:20220407:r1"
    assert contract.revision_key("f1", dt.date(2022, 4, 7)) == "bp:v1:rev:f1:20220407"
    assert contract.game_revision_key("f1", "NYA202204070") == "bp:v1:rev:f1:20220407"
    assert contract.INPUTS_CHANGED_CHANNEL == "bp:v1:inputs-changed"
    message = contract.changed_message("f1", dt.date(2022, 4, 7))
    assert contract.parse_changed(message.encode()) == ("f1", dt.date(2022, 4, 7))
    assert contract.ACTIVE_KEY == "bp:v1:active"
    assert contract.MODEL_CHANGED_CHANNEL == "bp:v1:model-changed"
    assert contract.rate_limit_key(7) == "bp:v1:rl:7"
    assert contract.explanation_key("m1", "f1", "NYA202204070", "r1") == (
        "bp:v1:explain:m1:f1:NYA202204070:r1"
    )


def test_an_explanation_value_answers_every_top() -> None:
    ranked = [
        {"feature": f"f{i}", "name": f"feature {i}", "value": math.nan if i == 1 else i,
         "logit": (-1) ** i / (i + 1), "p_without": 0.5}
        for i in range(4)
    ]  # fmt: skip
    game = {"game_id": "NYA202204070", "date": dt.date(2022, 4, 7), "inputs_hash": "h1",
            "computed_at": dt.datetime(2022, 4, 6, 12, tzinfo=dt.UTC)}  # fmt: skip
    body = contract.explanation_body(game, 0.6, 0.1, "m", ranked, "m1", "f1", cached=True)
    raw = contract.encode(body)
    assert [c["value"] for c in json.loads(raw)["contributions"]] == [0, None, 2, 3]
    two = json.loads(contract.top_contributions(raw, 2))
    assert [c["feature"] for c in two["contributions"]] == ["f0", "f1"]
    assert two["other_logit"] == round(1 / 3 - 1 / 4, 6)
    assert {k: v for k, v in two.items() if k not in ("contributions", "other_logit")} == {
        k: v for k, v in body.items() if k not in ("contributions", "other_logit")
    }
    assert json.loads(contract.top_contributions(raw, 10)) == json.loads(raw)


def test_value_bytes() -> None:
    body = contract.prediction_body(ROWS[0], "m1", "f1", cached=True)
    raw = contract.encode(body)
    assert b" " not in raw  # compact
    data = json.loads(raw)
    assert data["date"] == "2022-04-07" and data["computed_at"] == "2022-04-06T12:00:00Z"
    assert data["p_home"] == 0.55 and data["p_away"] == 0.45
    assert data["fair_odds"]["home"] == {"decimal": 1.8182, "american": -122.2}
    assert data["fair_odds"]["away"] == {"decimal": 2.2222, "american": 122.2}
    assert contract.ActiveModel.decode(
        contract.ActiveModel("m", "f").encode()
    ) == contract.ActiveModel("m", "f")


def test_warm_entries_one_per_game_and_day() -> None:
    entries = contract.warm_entries(ROWS, "m1", "f1", REVS)
    assert len(entries) == len(ROWS) + 1
    day = json.loads(entries["bp:v1:day:m1:f1:20220407:r1"])
    assert day["count"] == len(ROWS)
    assert [g["game_id"] for g in day["games"]] == sorted(r["game_id"] for r in ROWS)


def test_keys_spread_over_slots_without_hash_tags() -> None:
    keys = [contract.prediction_key("m1", "f1", f"NYA2022{d:04d}0", "r1") for d in range(100, 400)]
    assert all("{" not in k for k in keys)
    assert len({writer.key_slot(k) for k in keys}) > 250


@pytest.fixture
def local_redis() -> redis.Redis:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/13", socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    yield client
    keys = list(client.scan_iter("bp:v1:*:m-cache-test:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.integration
def test_warm_is_idempotent_with_ttls(local_redis: redis.Redis) -> None:
    first = writer.warm(local_redis, ROWS, "m-cache-test", "f1", REVS, ttl=120)
    second = writer.warm(local_redis, ROWS, "m-cache-test", "f1", REVS, ttl=120)
    assert first.keys == second.keys == len(ROWS) + 1
    assert first.bytes == second.bytes > 0 and first.keys_per_second > 0
    key = contract.prediction_key("m-cache-test", "f1", ROWS[0]["game_id"], "r1")
    assert 0 < local_redis.ttl(key) <= 120
    assert json.loads(local_redis.get(key))["cached"] is True
