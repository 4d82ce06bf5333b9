"""Cache warming: keys/second into one Redis and a 3-master Redis Cluster, beside
`redis-benchmark -P 16` SET on the same servers, and warming time vs number of games.

    python -m bench.warming [--repeat 3] [--json var/perf/results.json] [--png PATH]

Private redis-servers on free loopback ports (flushed between runs; the shared 6379
is never touched). Rows are the real games of the bundled seasons. Three writers:

* `cache.warm`: bullpen's warming (fragment-built JSON, hand-packed SET EX batches of 500;
  per slot owner on a cluster);
* `packed`: the same keys and values as hand-packed RESP through the same client's
  connection (the ceiling for one Python connection);
* `redis-benchmark -P 16 -c 50`: SET of values of the same mean size (C, 50 connections);
  also with its default 3-byte values, the figure usually quoted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from bench import stack
from bench.loopback import RedisClusterProcs, redis_server
from bench.report import machine, save, table
from bullpen.cache import contract, writer

TTL = 3600
GAME_COUNTS = (15, 100, 500, 2430, 10_000, 50_000)
BENCH_REQUESTS = 1_000_000
THROUGHPUT_FROM = 2019


def rows_of(seasons: range) -> list[dict[str, Any]]:
    """Prediction rows for every real game of `seasons` (p_home made up, same shape)."""
    from bullpen.settings import get_settings
    from bullpen.sources.parsed import read_gamelogs

    games = read_gamelogs(get_settings().gamelogs.gamelogs_dir, seasons).frame()
    now = dt.datetime.now(dt.UTC)
    return [
        {"game_id": g, "date": d.date(), "home": h, "away": a,
         "p_home": 0.35 + (i % 300) / 1000, "computed_at": now}
        for i, (g, d, h, a) in enumerate(
            zip(games["game_id"], games["date"], games["home"], games["away"], strict=True))
    ]  # fmt: skip


def packed_warm(client: redis.Redis, entries: dict[str, bytes], ttl: int) -> float:
    """Write `entries` as raw RESP pipelines on one connection; returns seconds."""
    ex = str(ttl).encode()
    items = [(k.encode(), v) for k, v in entries.items()]
    started = time.perf_counter()
    conn = client.connection_pool.get_connection()
    try:
        for start in range(0, len(items), writer.WARM_BATCH):
            batch = items[start : start + writer.WARM_BATCH]
            conn.send_packed_command([b"".join(
                b"*5\r\n$3\r\nSET\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$2\r\nEX\r\n$%d\r\n%b\r\n"
                % (len(k), k, len(v), v, len(ex), ex) for k, v in batch
            )])  # fmt: skip
            for _ in batch:
                conn.read_response()
    finally:
        client.connection_pool.release(conn)
    return time.perf_counter() - started


def redis_benchmark(port: int, size: int, cluster: bool) -> float:
    """SETs/second of `redis-benchmark -P 16` (bounded: 1M requests, 120 s timeout)."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        raise SystemExit("redis-benchmark not found: apt-get install -y redis-tools")
    out = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", str(port), "-t", "set", "-n", str(BENCH_REQUESTS),
         "-P", "16", "-c", "50", "-d", str(size), "-r", "100000", "-q",
         *(["--cluster"] if cluster else [])],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    match = re.search(r"SET: ([\d.]+) requests per second", out.replace("\r", "\n"))
    if match is None:
        raise RuntimeError(f"unexpected redis-benchmark output: {out[-500:]}")
    return float(match.group(1))


@contextmanager
def cluster(workdir: Path, masters: int = 3) -> Iterator[int]:
    """A Redis Cluster of `masters` masters (no replicas) on loopback; yields a node port."""
    procs = RedisClusterProcs(workdir, masters=masters, replicas=0).start()
    try:
        yield procs.ports[0]
    finally:
        procs.stop()


def _flush(client: Any) -> None:
    if isinstance(client, redis.RedisCluster):
        client.flushall(target_nodes=redis.RedisCluster.PRIMARIES)
    else:
        client.flushdb()


def throughput(client: Any, rows: list[dict], repeat: int, packed: bool) -> tuple[float, float]:
    """Median keys/s of the writes alone, and of encoding + writes."""
    writes, totals = [], []
    for _ in range(repeat):
        _flush(client)
        started = time.perf_counter()
        if packed:
            entries = contract.warm_entries(rows, stack.MODEL_VERSION, "f-bench", _revisions(rows))
            seconds = packed_warm(client, entries, TTL)
            keys = len(entries)
        else:
            result = writer.warm(
                client, rows, stack.MODEL_VERSION, "f-bench", _revisions(rows), TTL
            )
            seconds, keys = result.seconds, result.keys
        totals.append(keys / (time.perf_counter() - started))
        writes.append(keys / seconds)
    return statistics.median(writes), statistics.median(totals)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--png", type=Path, default=Path("bench/plots/warming.png"))
    args = parser.parse_args(argv)
    everything = rows_of(range(2000, 2024))
    season = [r for r in everything if r["date"].year >= THROUGHPUT_FROM]
    entries = contract.warm_entries(season, stack.MODEL_VERSION, "f-bench")
    size = round(statistics.mean(len(v) for v in entries.values()))
    print(f"setup: {machine()}; seasons {THROUGHPUT_FROM}-2023 = {len(season):,} games -> "
          f"{len(entries):,} keys, mean value {size} bytes; median of {args.repeat}")  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-warming-"))
    record: dict[str, Any] = {}
    try:
        with redis_server(workdir) as url, cluster(workdir) as cluster_port:
            single = redis.Redis.from_url(url)
            many = redis.RedisCluster(host="127.0.0.1", port=cluster_port)
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            rows = []
            for name, client, bench_port, is_cluster in (
                ("one Redis", single, port, False), ("cluster, 3 masters", many, cluster_port, True)
            ):  # fmt: skip
                ref = statistics.median(
                    redis_benchmark(bench_port, size, is_cluster) for _ in range(args.repeat)
                )
                _flush(client)
                for label, packed in (("cache.warm", False), ("packed RESP", True)):
                    if packed and is_cluster:
                        continue  # raw RESP to one connection cannot follow slots
                    writes, total = throughput(client, season, args.repeat, packed)
                    rows.append([name, label, writes, total, ref, writes / ref])
                rows.append([name, "redis-benchmark -P 16", ref, ref, ref, 1.0])
                tiny = redis_benchmark(bench_port, 3, is_cluster)
                rows.append([name, "redis-benchmark -P 16 -d 3", tiny, tiny, ref, tiny / ref])
            print(table(["target", "writer", "keys/s (writes)", "keys/s (encode+write)",
                         "redis-benchmark", "writes ÷ ref"], rows))  # fmt: skip
            record["throughput"] = rows
            curve = []
            for n in GAME_COUNTS:
                subset = everything[-n:]
                _flush(single)
                started = time.perf_counter()
                result = writer.warm(
                    single, subset, stack.MODEL_VERSION, "f-bench", _revisions(subset), TTL
                )
                total = time.perf_counter() - started
                curve.append([len(subset), result.keys, result.seconds, total])
            print(table(["games", "keys", "write s", "encode+write s"], curve))
            record["curve"] = curve
            single.close()
            many.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _plot(record["curve"], args.png)
    print(f"plot: {args.png}")
    save(args.json, "warming", record)


def _plot(curve: list[list], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = [c[0] for c in curve]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(games, [c[3] for c in curve], "o-", label="encode + write")
    ax.loglog(games, [c[2] for c in curve], "s--", label="writes only")
    ax.set_xlabel("games warmed (plus one slate key per date)")
    ax.set_ylabel("seconds")
    ax.set_title("cache.warm into one Redis")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()


def _revisions(rows: list[dict[str, Any]]) -> dict[dt.date, str]:
    """One fixed revision per date: the benchmark measures writing, not the store."""
    return dict.fromkeys((row["date"] for row in rows), "bench")
