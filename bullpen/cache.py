"""The prediction cache: key schema, value encoding, active-model pointer, warming.

This module is the cache's public contract (schema `v1`); the online tier and
the batch side both import it, and other programs may read the keys directly.

Keys (UTF-8 strings)
--------------------
``bp:v1:pred:{model_version}:{feature_version}:{game_id}``
    One game's prediction: the exact JSON body that
    ``GET /v1/games/{game_id}/prediction`` returns (see `prediction_body`).
``bp:v1:day:{model_version}:{feature_version}:{yyyymmdd}``
    One date's slate: the exact JSON body of ``GET /v1/games?date=YYYY-MM-DD``
    (see `day_body`), so the list route is one GET of pre-encoded bytes — one
    round trip to one node whatever the topology.
``bp:v1:feat:{feature_version}:{game_id}``
    The pre-game features a game's predictions came from: JSON object of
    feature name → number (null for missing), so a prediction can be audited
    or recomputed without the store.
``bp:v1:active``
    The active-model pointer: JSON ``{"model_version": str, "feature_version": str}``.
``bp:v1:model-changed`` (pub/sub channel)
    `set_active` publishes the new pointer JSON here; servers drop their
    in-process caches and re-read the pointer.
``bp:v1:lock:{key}``
    A short single-flight lock (SET NX PX) held while one server computes a miss.
``bp:v1:rl:{api_key_id}``
    A rate-limit GCRA state (one key per API key, so it is cluster-safe).

No key carries a ``{hash tag}``: keys spread over every slot and every shard,
and no operation touches two keys at once.

Values
------
Compact JSON (``separators=(",", ":")``), UTF-8, with these fields for a game:
``game_id, date (YYYY-MM-DD), home, away (Retrosheet codes; away may be null),
p_home, p_away, fair_odds {home, away: {decimal, american}}, model_version,
feature_version, computed_at (ISO 8601 UTC), cached (always true in the cache)``.
A day value is ``{date, model_version, feature_version, count, games: [game…],
cached}``. Every value carries when and from what it was computed, and every
key has a TTL, so nothing stale is indistinguishable from fresh.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _json_str
from operator import itemgetter
from typing import Any

from bullpen.odds import probability_to_american, probability_to_decimal

SCHEMA = "v1"
PREFIX = f"bp:{SCHEMA}"
ACTIVE_KEY = f"{PREFIX}:active"
MODEL_CHANGED_CHANNEL = f"{PREFIX}:model-changed"
# Keys per pipeline round trip while warming: big enough to amortise the
# round trip, small enough to keep each reply and Redis's latency small.
WARM_BATCH = 500
# In a cluster, each node's batch ends with `WAIT 1 REPLICA_ACK_MS`: a warmed key is on
# a replica before warming goes on, so killing its master right after loses nothing.
REPLICA_ACK_MS = 2000


class NotReplicated(Exception):
    """A cluster master took a warm batch but no replica acknowledged it in time."""


def prediction_key(model_version: str, feature_version: str, game_id: str) -> str:
    return f"{PREFIX}:pred:{model_version}:{feature_version}:{game_id}"


def features_key(feature_version: str, game_id: str) -> str:
    return f"{PREFIX}:feat:{feature_version}:{game_id}"


def day_key(model_version: str, feature_version: str, date: dt.date) -> str:
    return f"{PREFIX}:day:{model_version}:{feature_version}:{date:%Y%m%d}"


def lock_key(key: str) -> str:
    return f"{PREFIX}:lock:{key}"


def rate_limit_key(api_key_id: str | int) -> str:
    return f"{PREFIX}:rl:{api_key_id}"


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """What the servers serve: a model version and the feature version it reads."""

    model_version: str
    feature_version: str

    def encode(self) -> bytes:
        return _dumps(
            {"model_version": self.model_version, "feature_version": self.feature_version}
        )

    @classmethod
    def decode(cls, raw: bytes | str) -> ActiveModel:
        data = json.loads(raw)
        return cls(str(data["model_version"]), str(data["feature_version"]))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _round(x: float, places: int = 6) -> float:
    return round(float(x), places)


def _iso_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _iso_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _team(value: Any) -> str | None:
    # pandas hands missing strings over as None or NaN.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def prediction_body(
    row: Mapping[str, Any], model_version: str, feature_version: str, *, cached: bool
) -> dict[str, Any]:
    """The response body of one game from a predictions row (game_id, date, home, away,
    p_home, computed_at). Fair odds are derived here so every reader agrees on them."""
    p_home = float(row["p_home"])
    p_away = 1.0 - p_home
    return {
        "game_id": str(row["game_id"]),
        "date": _iso_date(row["date"]),
        "home": _team(row.get("home")),
        "away": _team(row.get("away")),
        "p_home": _round(p_home),
        "p_away": _round(p_away),
        "fair_odds": {
            "home": _fair(p_home),
            "away": _fair(p_away),
        },
        "model_version": model_version,
        "feature_version": feature_version,
        "computed_at": _iso_time(row["computed_at"]),
        "cached": cached,
    }


def _fair(p: float) -> dict[str, float]:
    return {
        "decimal": _round(probability_to_decimal(p), 4),
        "american": _round(probability_to_american(p), 1),
    }


def day_body(
    date: dt.date, games: list[dict[str, Any]], model_version: str, feature_version: str,
    *, cached: bool,
) -> dict[str, Any]:  # fmt: skip
    return {
        "date": date.isoformat(),
        "model_version": model_version,
        "feature_version": feature_version,
        "count": len(games),
        "games": [{**game, "cached": cached} for game in games],
        "cached": cached,
    }


def encode(body: Mapping[str, Any]) -> bytes:
    return _dumps(body)


@dataclass(frozen=True, slots=True)
class WarmResult:
    keys: int
    bytes: int
    seconds: float

    @property
    def keys_per_second(self) -> float:
        return self.keys / self.seconds if self.seconds > 0 else float("inf")


def warm_entries(
    rows: Iterable[Mapping[str, Any]], model_version: str, feature_version: str
) -> dict[str, bytes]:
    """Every key and value that warming writes for `rows`: one per game, one per date.

    The bytes are exactly ``encode(prediction_body(...))`` and ``encode(day_body(...))``
    (tests/cache/test_cache_encoding.py holds a reference), built from string fragments:
    a game's day entry reuses its encoded game, and the model and feature versions are
    encoded once, which is 5x faster than building and dumping dicts.
    """
    tail = (
        f',"model_version":{_json_str(model_version)}'
        f',"feature_version":{_json_str(feature_version)},"computed_at":'
    )
    entries: dict[str, bytes] = {}
    days: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        game_id, date, text = _game_json(row, tail)
        entries[prediction_key(model_version, feature_version, game_id)] = text.encode()
        days.setdefault(date, []).append((game_id, text))
    versions = f'"model_version":{_json_str(model_version)},' + (
        f'"feature_version":{_json_str(feature_version)}'
    )
    for iso, games in days.items():
        date = dt.date.fromisoformat(iso)
        games.sort(key=itemgetter(0))
        entries[day_key(model_version, feature_version, date)] = (
            f'{{"date":{_json_str(date.isoformat())},{versions},"count":{len(games)}'
            f',"games":[{",".join(text for _, text in games)}],"cached":true}}'
        ).encode()
    return entries


def _json_float(value: float) -> str:
    """A float as `json.dumps(..., allow_nan=False)` writes it (its `repr`)."""
    if value != value or value in (math.inf, -math.inf):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def _json_team(value: Any) -> str:
    team = _team(value)
    return "null" if team is None else _json_str(team)


def _game_json(row: Mapping[str, Any], tail: str) -> tuple[str, str, str]:
    """(game_id, date, the game's JSON with ``cached: true``), as `prediction_body` + `encode`."""
    p_home = float(row["p_home"])
    p_away = 1.0 - p_home
    game_id = str(row["game_id"])
    date = _iso_date(row["date"])
    text = (
        f'{{"game_id":{_json_str(game_id)},"date":{_json_str(date)}'
        f',"home":{_json_team(row.get("home"))},"away":{_json_team(row.get("away"))}'
        f',"p_home":{_json_float(_round(p_home))},"p_away":{_json_float(_round(p_away))}'
        f',"fair_odds":{{"home":{{"decimal":'
        f"{_json_float(_round(probability_to_decimal(p_home), 4))}"
        f',"american":{_json_float(_round(probability_to_american(p_home), 1))}}}'
        f',"away":{{"decimal":{_json_float(_round(probability_to_decimal(p_away), 4))}'
        f',"american":{_json_float(_round(probability_to_american(p_away), 1))}}}}}'
        f'{tail}{_json_str(_iso_time(row["computed_at"]))},"cached":true}}'
    )
    return game_id, date, text


def warm(
    redis: Any,
    predictions_rows: Iterable[Mapping[str, Any]],
    model_version: str,
    feature_version: str,
    ttl: int,
) -> WarmResult:
    """Write the cache entries of `predictions_rows` with a TTL of `ttl` seconds.

    `redis` is a sync `redis.Redis` or `redis.RedisCluster`. Only single-key
    SETs are sent, in batches per node (see `write_entries`), so nothing is
    cross-slot. Idempotent: re-running writes the same bytes again.
    """
    return write_entries(redis, warm_entries(predictions_rows, model_version, feature_version), ttl)


def features_entries(
    rows: Iterable[tuple[str, Mapping[str, float | None]]], feature_version: str
) -> dict[str, bytes]:
    """Keys and values for (game_id, {feature: value}) rows; NaN becomes null."""
    return {
        features_key(feature_version, game_id): _dumps(
            {name: _finite(value) for name, value in values.items()}
        )
        for game_id, values in rows
    }


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def write_entries(redis: Any, entries: Mapping[str, bytes], ttl: int) -> WarmResult:
    """SET every entry with a TTL, in batches of `WARM_BATCH`, never cross-slot.

    A `redis.Redis` gets hand-packed RESP on one pooled connection (redis-py's
    pipeline costs ~4x more per key in Python than the SETs cost Redis). A
    `redis.RedisCluster` gets the same per node, keys grouped by slot owner; a batch
    that meets a redirect or a dead node is re-sent through a cluster pipeline, which
    follows MOVED/ASK and refreshes the slot map. In a cluster every node's batch ends
    with WAIT for one replica (`NotReplicated` if none acknowledges in
    `REPLICA_ACK_MS`), so a master killed after warming loses no key. Anything else goes through
    non-transactional pipelines in key-slot order.
    """
    from redis import Redis, RedisCluster

    started = time.perf_counter()
    items = list(entries.items())
    if isinstance(redis, RedisCluster):
        _write_cluster(redis, items, ttl)
    elif isinstance(redis, Redis) and getattr(redis, "connection", None) is None:
        for start in range(0, len(items), WARM_BATCH):
            _write_packed(redis, items[start : start + WARM_BATCH], ttl)
    else:
        _write_pipelined(redis, sorted(items, key=_slot_order), ttl)
    seconds = time.perf_counter() - started
    return WarmResult(len(items), sum(len(v) for v in entries.values()), seconds)


def _slot_order(item: tuple[str, bytes]) -> tuple[int, str]:
    return key_slot(item[0]), item[0]


def _write_pipelined(redis: Any, items: Sequence[tuple[str, bytes]], ttl: int) -> None:
    for start in range(0, len(items), WARM_BATCH):
        pipe = redis.pipeline(transaction=False)
        for key, value in items[start : start + WARM_BATCH]:
            pipe.set(key, value, ex=ttl)
        pipe.execute()


def _pack_sets(items: Sequence[tuple[str, bytes]], ttl: int) -> bytes:
    """``SET key value EX ttl`` for every item, as one RESP byte string."""
    ex = str(ttl).encode()
    tail = b"$2\r\nEX\r\n$%d\r\n%b\r\n" % (len(ex), ex)
    parts = []
    for key, value in items:
        raw = key.encode()
        parts.append(b"*5\r\n$3\r\nSET\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n%b"
                     % (len(raw), raw, len(value), value, tail))  # fmt: skip
    return b"".join(parts)


def _write_packed(client: Any, items: Sequence[tuple[str, bytes]], ttl: int) -> None:
    """One batch of SETs on one pooled connection of `client` (a `redis.Redis`).

    Connection errors and timeouts are retried by the client's `Retry` (SET EX is
    idempotent); the first error reply is raised after every reply has been read.
    """
    from redis.exceptions import ResponseError

    payload = _pack_sets(items, ttl)

    def send() -> None:
        conn.send_packed_command([payload])
        error: ResponseError | None = None
        for _ in items:
            try:
                conn.read_response()
            except ResponseError as exc:
                error = error or exc
        if error is not None:
            raise error

    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.retry.call_with_retry(send, lambda _error: conn.disconnect())
    except BaseException:
        conn.disconnect()  # replies may be left unread
        raise
    finally:
        pool.release(conn)


def _write_cluster(redis: Any, items: Sequence[tuple[str, bytes]], ttl: int) -> None:
    """Per batch: group keys by the node owning their slot, send every node its SETs,
    then read every node's replies (the nodes work in parallel). A node that fails
    (redirect, connection error) gets its batch again through the cluster pipeline."""
    from redis.exceptions import RedisClusterException, RedisError

    replicas = _replica_counts(redis)
    unacked: list[str] = []
    for start in range(0, len(items), WARM_BATCH * 4):
        chunk = items[start : start + WARM_BATCH * 4]
        by_node: dict[str, tuple[Any, list[tuple[str, bytes]]]] = {}
        try:
            for item in chunk:
                node = redis.nodes_manager.get_node_from_slot(key_slot(item[0]))
                by_node.setdefault(node.name, (node, []))[1].append(item)
        except RedisClusterException:  # slot map incomplete: the cluster client waits/refreshes
            _write_pipelined(redis, sorted(chunk, key=_slot_order), ttl)
            continue
        sent: list[tuple[str, Any, Any, list[tuple[str, bytes]], bool]] = []
        failed: list[tuple[str, bytes]] = []
        for node, batch in by_node.values():
            client = node.redis_connection
            if client is None:
                failed.extend(batch)
                continue
            conn = client.connection_pool.get_connection()
            wait = replicas.get(node.name, 0) > 0
            try:
                conn.send_packed_command([_pack_sets(batch, ttl) + (_WAIT if wait else b"")])
            except RedisError:
                conn.disconnect()
                client.connection_pool.release(conn)
                failed.extend(batch)
                continue
            sent.append((node.name, client, conn, batch, wait))
        for name, client, conn, batch, wait in sent:
            try:
                if not _read_replies(conn, len(batch), wait):
                    unacked.append(name)
            except RedisError:
                conn.disconnect()
                failed.extend(batch)
            except BaseException:
                conn.disconnect()
                raise
            finally:
                client.connection_pool.release(conn)
        if failed:  # the cluster client follows redirects and refreshes its slot map
            _write_pipelined(redis, sorted(failed, key=_slot_order), ttl)
    if unacked:
        raise NotReplicated(
            f"no replica acknowledged warm writes within {REPLICA_ACK_MS} ms on "
            f"{', '.join(sorted(set(unacked)))}; the keys are on the master only: re-run the warm"
        )


def _read_replies(conn: Any, count: int, wait: bool) -> bool:
    """Read `count` SET replies (raising the first error after all), then WAIT's if sent:
    whether a replica acknowledged the batch."""
    from redis.exceptions import ResponseError

    error: ResponseError | None = None
    for _ in range(count):
        try:
            conn.read_response()
        except ResponseError as exc:  # MOVED/ASK after a reshard or failover
            error = error or exc
    if error is not None:
        raise error
    return not wait or int(conn.read_response()) >= 1  # WAIT answers how many acked


_ACK_MS = str(REPLICA_ACK_MS).encode()
_WAIT = b"*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$%d\r\n%b\r\n" % (len(_ACK_MS), _ACK_MS)


def _replica_counts(redis: Any) -> dict[str, int]:
    """Online replicas per primary, by node name, as each primary reports them.

    A primary without one is not waited on (WAIT would block to its timeout): a replica
    still in its initial sync gets every write anyway, in the snapshot or the buffer
    that follows it. Nor is a batch re-sent after a failover (`_write_pipelined`): its
    new primary's only replica was the node that died.
    """
    from redis.exceptions import RedisError

    counts: dict[str, int] = {}
    for node in redis.get_primaries():
        try:
            info = node.redis_connection.info("replication")
        except (AttributeError, RedisError):  # down: its batch fails over to the pipeline
            continue
        counts[node.name] = sum(
            isinstance(replica, dict) and replica.get("state") == "online"
            for name, replica in info.items()
            if name.startswith("slave")
        )
    return counts


def key_slot(key: str) -> int:
    """The Redis Cluster slot of `key` (CRC16 mod 16384, honouring hash tags)."""
    from redis.crc import key_slot as _slot

    return _slot(key.encode())


def set_active(redis: Any, active: ActiveModel) -> None:
    """Point the servers at `active` and tell them (after the keys are warmed)."""
    payload = active.encode()
    redis.set(ACTIVE_KEY, payload)
    redis.publish(MODEL_CHANGED_CHANNEL, payload)


def get_active(redis: Any) -> ActiveModel | None:
    raw = redis.get(ACTIVE_KEY)
    return ActiveModel.decode(raw) if raw else None
