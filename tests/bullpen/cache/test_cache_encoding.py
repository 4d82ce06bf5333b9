"""Warming's fast encoder and packed writer produce exactly the bytes of the contract.

`warm_entries` builds JSON from string fragments and `write_entries` hand-packs RESP;
both must stay byte-identical to `encode(prediction_body(...))` / `encode(day_body(...))`
written by redis-py. `_reference_entries` below is the implementation before the fast
path (dicts + `json.dumps`), kept here as the slow reference, and `GOLDEN_SHA256` is the
digest of its output on `golden_rows()`, computed before the change (and again when the
contract gained `in_sample`, and `starters`, `inputs` and revisioned keys).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest
import redis

from bullpen.cache import contract, writer
from bullpen.domain.odds import OddsError

GOLDEN_ENTRIES = 3200
GOLDEN_SHA256 = "4fd774582fa7eef2efcbce099158e8a309dfcdd10f1fd0058e8c1ecefba1fd6a"


def golden_rows() -> list[dict[str, Any]]:
    """Deterministic rows covering the awkward cases: tiny/near-1 probabilities (float
    repr with exponents), dates as date/datetime/str, naive/UTC/offset timestamps,
    missing (None/NaN) and non-ASCII teams, duplicated dates."""
    rnd = random.Random(20240607)
    teams: list[Any] = ["NYA", "BOS", "CHN", "LAN", None, float("nan"), "SFN", "Zürich"]
    rows = []
    for i in range(3000):
        p = rnd.choice([rnd.random(), round(rnd.random(), 3), 1e-7 * (1 + i % 9), 1 - 1e-7, 0.5])
        if not 0 < p < 1:
            p = 0.5
        d = dt.date(2019, 3, 28) + dt.timedelta(days=i % 200)
        date = [d, dt.datetime(d.year, d.month, d.day, 13, 5), d.isoformat()][i % 3]
        when = [
            dt.datetime(2022, 4, 6, 12, 0, 1, i, tzinfo=dt.UTC),
            dt.datetime(2022, 4, 6, 12, 0, 1),
            dt.datetime(2022, 4, 6, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ][i % 3]
        rows.append({"game_id": f"{'NYA' if i % 2 else 'BOS'}{d:%Y%m%d}{i % 3}-{i}", "date": date,
                     "home": teams[i % 4], "away": teams[(i * 7) % len(teams)], "p_home": p,
                     "computed_at": when, **_inputs(i)})  # fmt: skip
    return rows


def _inputs(i: int) -> dict[str, Any]:
    """No inputs recorded (older rows), known and unknown starters, awkward names."""
    if i % 4 == 0:
        return {}
    names = ["Gerrit Cole", "José Berríos", 'A "quoted" \\ name', None, float("nan")]
    return {"inputs_hash": f"h{i:011d}", "home_sp_id": f"p{i:06d}" if i % 3 else None,
            "home_sp_name": names[i % 5], "away_sp_id": "" if i % 5 == 0 else f"q{i:06d}",
            "away_sp_name": names[(i + 2) % 5]}  # fmt: skip


def golden_revisions(rows: Iterable[Mapping[str, Any]]) -> dict[dt.date, str]:
    dates = sorted({dt.date.fromisoformat(str(r["date"])[:10]) for r in rows})
    return {d: f"r{i:03d}" for i, d in enumerate(dates)}


def _reference_entries(
    rows: Iterable[Mapping[str, Any]], model_version: str, feature_version: str,
    revisions: Mapping[dt.date, str], trained_until: dt.date | None = None,
) -> dict[str, bytes]:  # fmt: skip
    """`contract.warm_entries` as it was: a dict per body, then `json.dumps`."""

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()

    entries: dict[str, bytes] = {}
    days: dict[dt.date, list[dict[str, Any]]] = {}
    for row in rows:
        body = contract.prediction_body(
            row, model_version, feature_version, cached=True, trained_until=trained_until
        )
        revision = revisions[dt.date.fromisoformat(body["date"])]
        key = contract.prediction_key(model_version, feature_version, body["game_id"], revision)
        entries[key] = dumps(body)
        days.setdefault(dt.date.fromisoformat(body["date"]), []).append(body)
    for date, games in days.items():
        games.sort(key=lambda g: g["game_id"])
        body = contract.day_body(date, games, model_version, feature_version, cached=True)
        entries[contract.day_key(model_version, feature_version, date, revisions[date])] = dumps(
            body
        )
    return entries


def _digest(entries: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for key in sorted(entries):
        h.update(key.encode() + b"\0" + entries[key] + b"\0")
    return h.hexdigest()


def test_fast_entries_match_the_golden_bytes() -> None:
    rows = golden_rows()
    entries = contract.warm_entries(rows, "m-1.2", 'f"3', golden_revisions(rows))
    assert len(entries) == GOLDEN_ENTRIES
    assert _digest(entries) == GOLDEN_SHA256


@pytest.mark.parametrize("versions", [("m-1.2", 'f"3'), ("elo-2022", "f-v1"), ("m\u00e9", "f\n")])
@pytest.mark.parametrize("trained_until", [None, dt.date(2019, 6, 1)])
def test_fast_entries_match_the_reference(
    versions: tuple[str, str], trained_until: dt.date | None
) -> None:
    rows = golden_rows()
    revisions = golden_revisions(rows)
    fast = contract.warm_entries(rows, *versions, revisions, trained_until)
    slow = _reference_entries(rows, *versions, revisions, trained_until)
    flags = [json.loads(v)["in_sample"] for k, v in fast.items() if ":pred:" in k]
    assert (True in flags) == (trained_until is not None) and False in flags
    assert list(fast) == list(slow)  # same keys, same order
    assert fast == slow


def test_reference_matches_the_golden_bytes() -> None:
    # Guards the reference itself: if prediction_body or day_body changed, both move.
    rows = golden_rows()
    assert _digest(_reference_entries(rows, "m-1.2", 'f"3', golden_revisions(rows))) == (
        GOLDEN_SHA256
    )


def test_each_game_value_is_encode_of_prediction_body() -> None:
    rows = golden_rows()[:200]
    revisions = golden_revisions(rows)
    entries = contract.warm_entries(rows, "m", "f", revisions)
    for row in rows:
        body = contract.prediction_body(row, "m", "f", cached=True)
        revision = revisions[dt.date.fromisoformat(body["date"])]
        key = contract.prediction_key("m", "f", body["game_id"], revision)
        assert entries[key] == contract.encode(body)
    starters = [json.loads(v)["starters"] for k, v in entries.items() if ":pred:" in k]
    assert None in starters  # rows from before inputs were recorded
    assert any(s["away"]["id"] is None and s["away"]["name"] for s in starters if s)  # unknown


@pytest.mark.parametrize("p_home", [0.0, 1.0, math.nan, math.inf, 1.5])
def test_impossible_probabilities_still_raise(p_home: float) -> None:
    row = {**golden_rows()[0], "p_home": p_home}
    revisions = golden_revisions([row])
    with pytest.raises((OddsError, ValueError)):
        _reference_entries([row], "m", "f", revisions)
    with pytest.raises((OddsError, ValueError)):
        contract.warm_entries([row], "m", "f", revisions)


def test_packed_sets_are_valid_resp() -> None:
    payload = writer._pack_sets([("bp:k\u00e9", b"v\r\n1"), ("k2", b"")], 60)
    assert payload == (
        b"*5\r\n$3\r\nSET\r\n$6\r\nbp:k\xc3\xa9\r\n$4\r\nv\r\n1\r\n$2\r\nEX\r\n$2\r\n60\r\n"
        b"*5\r\n$3\r\nSET\r\n$2\r\nk2\r\n$0\r\n\r\n$2\r\nEX\r\n$2\r\n60\r\n"
    )


@pytest.fixture
def local_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/13", socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    yield client
    keys = list(client.scan_iter("bp:v1:*:m-enc-test:*"))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    client.close()


@pytest.mark.integration
def test_packed_writes_store_the_exact_bytes(local_redis: redis.Redis) -> None:
    rows = golden_rows()
    entries = contract.warm_entries(rows, "m-enc-test", "f1", golden_revisions(rows))
    result = writer.write_entries(local_redis, entries, ttl=120)
    assert result.keys == len(entries) > writer.WARM_BATCH * 6
    keys = list(entries)
    assert local_redis.mget(keys) == [entries[k] for k in keys]
    assert all(0 < t <= 120 for t in (local_redis.ttl(keys[0]), local_redis.ttl(keys[-1])))
    # The connection is clean afterwards: the pool serves ordinary commands.
    assert local_redis.ping() and local_redis.get(keys[1]) == entries[keys[1]]


@pytest.mark.integration
def test_packed_write_error_reply_is_raised_and_connection_dropped(
    local_redis: redis.Redis,
) -> None:
    with pytest.raises(redis.ResponseError):
        writer.write_entries(local_redis, {"bp:v1:pred:m-enc-test:f1:x": b"1"}, ttl=0)
    assert local_redis.ping()
    assert local_redis.get("bp:v1:pred:m-enc-test:f1:x") is None
