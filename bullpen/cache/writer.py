"""Writing cache entries to Redis fast and safely: single node or cluster, never cross-slot.

The bytes are the contract's (`bullpen.cache.contract`); this module only moves them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bullpen.cache.contract import warm_entries

# Keys per pipeline round trip while warming: big enough to amortise the
# round trip, small enough to keep each reply and Redis's latency small.
WARM_BATCH = 500
# In a cluster, each node's batch ends with `WAIT 1 REPLICA_ACK_MS`: a warmed key is on
# a replica before warming goes on, so killing its master right after loses nothing.
REPLICA_ACK_MS = 2000


class NotReplicated(Exception):
    """A cluster master took a warm batch but no replica acknowledged it in time."""


@dataclass(frozen=True, slots=True)
class WarmResult:
    keys: int
    bytes: int
    seconds: float

    @property
    def keys_per_second(self) -> float:
        return self.keys / self.seconds if self.seconds > 0 else float("inf")


def warm(
    redis: Any,
    predictions_rows: Iterable[Mapping[str, Any]],
    model_version: str,
    feature_version: str,
    revisions: Mapping[dt.date, str],
    ttl: int,
    trained_until: dt.date | None = None,
) -> WarmResult:
    """Write the cache entries of `predictions_rows`, under each date's revision, with a TTL
    of `ttl` seconds. The revision pointers themselves are `bullpen.serving.revisions`'.

    `redis` is a sync `redis.Redis` or `redis.RedisCluster`. Only single-key
    SETs are sent, in batches per node (see `write_entries`), so nothing is
    cross-slot. Idempotent: re-running writes the same bytes again.
    """
    entries = warm_entries(
        predictions_rows, model_version, feature_version, revisions, trained_until
    )
    return write_entries(redis, entries, ttl)


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
