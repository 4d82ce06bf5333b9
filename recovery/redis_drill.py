"""Redis Cluster persistence, drilled: every node killed at once, restarted from its disk.

1. A private six-node Redis Cluster (3 primaries, 3 replicas, `bench.loopback`), each
   node in its own directory with `appendonly yes`, `appendfsync everysec` and RDB `save`.
2. A SQLite store filled through the project's own code (`bench.stack.prepare`), its Elo
   model warmed for the sample's dates (`bullpen.serving.active.warm`, the recipe of
   promotion and rollback) and promoted (`active.promote`: the pointer).
3. Fingerprints: the pointer and every `bp:*` key (key -> digest of its type, value and
   whether it expires), read from each primary.
4. `kill -9` all six; restart each from its directory; wait for `cluster_state:ok`.
5. Compare; check the promotion's coverage (every expected key present); then FLUSHALL and
   re-warm from the store, timed, and compare again.

Exit status 0 only if no key was lost or changed, the pointer came back, coverage is
complete and the re-warm wrote the same keys and values.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench import stack
from bench.loopback import RedisClusterProcs, wait_until
from bullpen.cache.clients import sync_client
from bullpen.serving import active, warming
from bullpen.settings import RedisSettings
from bullpen.store import ModelEntry, get_model, make_engine
from recovery import Stopwatch, table

DAYS = 10  # the sample's first dates with games (0: the whole 2022 season)
ACTOR = "recovery-drill"
PERSISTENCE = (
    "--appendonly", "yes", "--appendfsync", "everysec",
    # RDB snapshots as well (after 60 s with a write, 300 s with 100): the AOF's base.
    "--save", "60", "1", "--save", "300", "100",
)  # fmt: skip
WAIT_S = 120.0  # generous on purpose: a loaded 2-core CI machine
SCAN_BATCH = 1000


# --- fingerprints -------------------------------------------------------------------


def node_client(port: int) -> redis.Redis:
    """A direct client of one node; a long timeout, since one pipeline reads many keys."""
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=30, socket_connect_timeout=5)


def fingerprint(procs: RedisClusterProcs) -> dict[str, str]:
    """`bp:*` key -> digest, from every primary (each key lives on exactly one)."""
    prints: dict[str, str] = {}
    for port in procs.masters():
        client = node_client(port)
        try:
            keys = list(client.scan_iter(match="bp:*", count=SCAN_BATCH))
            for start in range(0, len(keys), SCAN_BATCH):
                prints.update(_digests(client, keys[start : start + SCAN_BATCH]))
        finally:
            client.close()
    return prints


def _digests(client: redis.Redis, keys: list[bytes]) -> dict[str, str]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.pttl(key)
        pipe.dump(key)  # what a non-string value is compared by
    replies = pipe.execute()
    strings = [k for k, kind in zip(keys, replies[0::3], strict=True) if kind == b"string"]
    reads = client.pipeline(transaction=False)  # GET each: MGET would cross slots
    for key in strings:
        reads.get(key)
    values = dict(zip(strings, reads.execute(), strict=True)) if strings else {}
    digests: dict[str, str] = {}
    for i, key in enumerate(keys):
        kind, ttl, dumped = replies[3 * i : 3 * i + 3]
        # A string by its bytes: DUMP's encoding may differ after a reload (int vs raw).
        value = values[key] if kind == b"string" else dumped
        expires = b"expires" if ttl >= 0 else b"persistent"
        digests[key.decode()] = hashlib.sha256(b"|".join((kind, expires, value or b""))).hexdigest()
    return digests


def compare(before: dict[str, str], after: dict[str, str]) -> tuple[int, int, int]:
    """(keys lost, keys whose value changed, keys that appeared)."""
    lost = before.keys() - after.keys()
    changed = sum(1 for k in before.keys() & after.keys() if before[k] != after[k])
    return len(lost), changed, len(after.keys() - before.keys())


# --- the cluster's side ---------------------------------------------------------------


def persistent_cluster(workdir: Path) -> RedisClusterProcs:
    """`bench.loopback`'s cluster, each node with AOF and RDB on in its own directory."""
    procs = RedisClusterProcs(workdir)
    for node in procs.nodes:
        node.extra = (*node.extra, *PERSISTENCE)  # later options win over its defaults
    return procs.start()


def kill_all(procs: RedisClusterProcs) -> None:
    for node in procs.nodes:
        node.kill()  # SIGKILL: no shutdown save, no final AOF flush


def restart_all(procs: RedisClusterProcs) -> None:
    """Every node back on its port from its own directory (nodes.conf, AOF), then wait
    until every node says `cluster_state:ok` and three primaries hold the slots."""
    for node in procs.nodes:
        node.start(timeout=WAIT_S)  # ping answers once the AOF is loaded

    def healthy() -> bool:
        return (
            all(n.alive() for n in procs.nodes)
            and procs.cluster_ok()
            and (len(procs.masters()) == procs.masters_wanted)
        )

    if not wait_until(healthy, WAIT_S, every=0.1):
        raise RuntimeError(f"cluster on {procs.ports} did not come back to cluster_state:ok")


def aof_bytes(procs: RedisClusterProcs) -> int:
    return sum(p.stat().st_size for n in procs.nodes for p in n.workdir.rglob("appendonly*"))


def flush(procs: RedisClusterProcs) -> None:
    """FLUSHALL on every primary (the replicas follow), and wait until they are empty."""
    for port in procs.masters():
        with node_client(port) as client:
            client.flushall()

    def empty() -> bool:
        return all(_dbsize(port) == 0 for port in procs.masters())

    if not wait_until(empty, WAIT_S):
        raise RuntimeError("FLUSHALL did not empty the primaries")


def _dbsize(port: int) -> int:
    with node_client(port) as client:
        return int(client.dbsize())


# --- the drill ----------------------------------------------------------------------


@dataclass
class RedisDrillResult:
    nodes: int
    days: int
    keys: int  # bp:* keys warmed, the pointer included
    pointer_before: str | None
    pointer_after: str | None
    keys_lost: int
    keys_changed: int
    keys_appeared: int
    coverage: str  # promotion's expected keys present after the restart: "present/expected"
    coverage_complete: bool
    aof_bytes: int
    rewarm_keys: int
    rewarm_lost: int
    rewarm_changed: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        restarted = self.keys_lost == self.keys_changed == self.keys_appeared == 0
        pointer = self.pointer_before is not None and self.pointer_after == self.pointer_before
        rewarmed = self.rewarm_keys == self.keys and self.rewarm_lost == self.rewarm_changed == 0
        return self.keys > 0 and restarted and pointer and self.coverage_complete and rewarmed

    def rows(self) -> list[tuple[str, object]]:
        s = self.seconds
        restart = f"{self.keys_lost} / {self.keys_changed} / {self.keys_appeared}"
        rewarm = f"{self.rewarm_keys} / {self.rewarm_lost} / {self.rewarm_changed}"
        return [
            ("nodes (primaries + replicas)", f"{self.nodes} (AOF everysec + RDB save)"),
            ("dates warmed", self.days),
            ("bp:* keys (pointer included)", self.keys),
            ("warm (active.warm + promote)", f"{s['warm']:.2f} s"),
            ("AOF on disk, all nodes", f"{self.aof_bytes / 1e6:.2f} MB"),
            ("kill -9 all six nodes", f"{s['kill']:.2f} s"),
            ("restart -> cluster_state:ok", f"{s['restart']:.2f} s"),
            ("pointer before / after", f"{self.pointer_before} / {self.pointer_after}"),
            ("keys lost / changed / appeared", restart),
            ("promotion coverage after restart", self.coverage),
            ("re-warm from the store (FLUSHALL first)", f"{s['rewarm']:.2f} s"),
            ("re-warm keys / lost / changed", rewarm),
            ("verdict", "PASS" if self.ok else "FAIL"),
        ]


@dataclass
class _Warmed:
    entry: ModelEntry
    dates: list[dt.date]
    pointer: str | None


def run_drill(days: int = DAYS) -> RedisDrillResult:
    """The whole drill on a private cluster; every process and directory gone afterwards."""
    root = Path(tempfile.mkdtemp(prefix="bullpen-drill-redis-"))
    procs: RedisClusterProcs | None = None
    try:
        data = stack.prepare(f"sqlite:///{root / 'bullpen.db'}", days=days or None)
        procs = persistent_cluster(root / "cluster")
        return _drill(procs, data)
    finally:
        if procs is not None:
            procs.stop()
        shutil.rmtree(root, ignore_errors=True)


def _drill(procs: RedisClusterProcs, data: stack.BenchData) -> RedisDrillResult:
    watch = Stopwatch()
    settings = RedisSettings(redis_url=procs.url, redis_cluster=True)
    engine = make_engine(data.db_url)
    try:
        with watch.time("warm"):
            warmed = _warm(engine, settings, data)
        procs.wait_replicated(WAIT_S)  # replicas as complete as their primaries
        before = fingerprint(procs)
        with watch.time("kill"):
            kill_all(procs)
        with watch.time("restart"):
            restart_all(procs)
        after = fingerprint(procs)
        pointer_after, coverage = _served(engine, settings, warmed)
        size = aof_bytes(procs)
        flush(procs)
        with watch.time("rewarm"):
            _rewarm(engine, settings, warmed)
        rewarmed = fingerprint(procs)
    finally:
        engine.dispose()
    lost, changed, appeared = compare(before, after)
    re_lost, re_changed, _ = compare(before, rewarmed)
    return RedisDrillResult(
        nodes=len(procs.nodes),
        days=len(warmed.dates),
        keys=len(before),
        pointer_before=warmed.pointer,
        pointer_after=pointer_after,
        keys_lost=lost,
        keys_changed=changed,
        keys_appeared=appeared,
        coverage=f"{coverage.present}/{coverage.expected}",
        coverage_complete=coverage.complete,
        aof_bytes=size,
        rewarm_keys=len(rewarmed),
        rewarm_lost=re_lost,
        rewarm_changed=re_changed,
        seconds=watch.seconds,
    )


def _warm(engine: Any, settings: RedisSettings, data: stack.BenchData) -> _Warmed:
    """The promotion's recipe: warm the model's keys for the dates, then flip the pointer."""
    entry = get_model(engine, stack.MODEL_VERSION)
    assert entry is not None, "bench.stack.prepare registers the sample's model"
    dates = sorted(data.games)
    client = sync_client(settings)
    try:
        active.warm(engine, client, entry, dates, settings.cache_ttl_s)
        active.promote(engine, client, entry.version, ACTOR, "drill")
        pointer = active.read_pointer(client)
    finally:
        client.close()
    return _Warmed(entry, dates, pointer.model_version if pointer else None)


def _served(
    engine: Any, settings: RedisSettings, warmed: _Warmed
) -> tuple[str | None, warming.Coverage]:
    """The pointer after the restart, and how many of the promotion's keys are there."""
    client = sync_client(settings)  # a new client: the old one knew the dead sockets
    try:
        pointer = active.read_pointer(client)
        keys = warming.keys_for_days(engine, active.pointer_of(warmed.entry), warmed.dates)
        return (pointer.model_version if pointer else None), warming.coverage(client, keys)
    finally:
        client.close()


def _rewarm(engine: Any, settings: RedisSettings, warmed: _Warmed) -> None:
    """What an operator runs into an empty cluster: the same warm, then the pointer from
    the store (`reconcile`: the registry already calls the model active)."""
    client = sync_client(settings)
    try:
        active.warm(engine, client, warmed.entry, warmed.dates, settings.cache_ttl_s)
        active.reconcile(engine, client)
    finally:
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=DAYS, help="dates of 2022 warmed (0: all)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    result = run_drill(args.days)
    print(table("Redis Cluster recovery drill (AOF everysec + RDB, kill -9 all)", result.rows()))
    if args.json:
        print(json.dumps(dataclasses.asdict(result) | {"ok": result.ok}, indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
