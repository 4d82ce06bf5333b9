"""Benchmark: the online tier's reads beside the fastest thing doing the same job.

Run: `python -m bench.online [--seconds 5] [--connections 64] [--repeat 3]`.

Not a test. Builds a SQLite store with the real 2022 games, their features and an Elo
model, warms the season into a private redis-server on a free loopback port, starts
one uvicorn worker per app, then drives each with `wrk` (bounded time) and prints
the median of `--repeat` runs per row, with ratios to the references measured in the
same run:

* `bare`: a bare FastAPI route returning constant JSON (`bench.bare`);
* `redis-get`: FastAPI + one Redis GET through bullpen's client (`bench.redisget`);
* `bullpen`: the online tier as deployed (raw ASGI fast path for near-cache hits);
* `bullpen-slow`: the same with `BULLPEN_FAST_PATH=false` (the FastAPI route: "before");
* `bullpen-miss`: no near-cache and an empty Redis DB, so every request is computed
  from the store (each game once per run; the computed share is printed).

Targets (issue 6): hit single ≥ 0.9x bare req/s and p99 ≤ 1.5x bare at 64
connections, p99 ≤ 2 ms at 10; day slate ≥ 0.6x bare req/s; miss p99 ≤ 25 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import httpx
import redis

from bench import stack, wrk
from bench.loopback import redis_server, uvicorn
from bench.report import machine, save, table

WARMUP_S = 2
MISS_CONNECTIONS = (1, 8)
SLATE_DAYS = 5


def _servers(data: stack.BenchData, redis_url: str, miss_url: str) -> dict[str, tuple[str, dict]]:
    return {
        "bare": ("bench.bare:app", stack.app_env(data, redis_url)),
        "redis-get": ("bench.redisget:app", stack.app_env(data, redis_url)),
        "bullpen": ("online.app:app", stack.app_env(data, redis_url)),
        "bullpen-slow": ("online.app:app", stack.app_env(data, redis_url, BULLPEN_FAST_PATH="0")),
        "bullpen-miss": (
            "online.app:app",
            stack.app_env(data, miss_url, BULLPEN_NEAR_CACHE_SIZE="0"),
        ),
    }


@contextlib.contextmanager
def deployment(workdir: Path, names: Sequence[str]) -> Iterator[tuple[stack.BenchData, dict]]:
    """The store, a warmed private Redis and the named servers; yields (data, urls)."""
    data = stack.prepare(f"sqlite:///{workdir / 'bench.db'}")
    with redis_server(workdir) as redis_url, contextlib.ExitStack() as servers:
        miss_url = redis_url.rsplit("/", 1)[0] + "/1"
        result = stack.warm_season(redis_url, data)
        stack.set_pointer(miss_url, data)
        print(f"warmed {result.keys} keys ({result.bytes:,} bytes) at "
              f"{result.keys_per_second:,.0f} keys/s")  # fmt: skip
        specs = _servers(data, redis_url, miss_url)
        urls = {name: servers.enter_context(uvicorn(*specs[name])) for name in names}
        yield data, {**urls, "_redis": redis_url, "_miss": miss_url}


def measure(
    urls: dict[str, str], names: Sequence[str], paths: Sequence[str], key: str,
    seconds: float, connections: int, repeat: int,
) -> dict[str, wrk.WrkResult]:  # fmt: skip
    """Median of `repeat` runs per server, interleaved so drift hits all alike."""
    for name in names:  # warm-up: connections, near-cache, code paths
        wrk.run(urls[name], paths, key, WARMUP_S, connections)
    runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in names}
    for _ in range(repeat):
        for name in names:
            runs[name].append(wrk.run(urls[name], paths, key, seconds, connections))
    return {name: wrk.WrkResult.median(r) for name, r in runs.items()}


def measure_miss(
    data: stack.BenchData, urls: dict[str, str], paths: Sequence[str], key: str, seconds: float,
    connections: int, repeat: int,
) -> tuple[wrk.WrkResult, float]:  # fmt: skip
    """Computed-from-the-store reads; returns the median and the share really computed."""
    runs, shares = [], []
    client = redis.Redis.from_url(urls["_miss"])
    try:
        for _ in range(repeat):
            client.flushdb()
            stack.set_pointer(urls["_miss"], data)
            before = _computed(urls["bullpen-miss"])
            result = wrk.run(urls["bullpen-miss"], paths, key, seconds, connections)
            runs.append(result)
            shares.append((_computed(urls["bullpen-miss"]) - before) / max(1, result.requests))
    finally:
        client.close()
    return wrk.WrkResult.median(runs), min(shares)


def _computed(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    match = re.search(r"^bullpen_predictions_computed_total ([\d.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def _rows(results: dict[str, wrk.WrkResult], ref: wrk.WrkResult) -> list[list]:
    return [
        [name, r.rps, r.p50_ms, r.p99_ms, r.max_ms, r.errors,
         r.rps / ref.rps, r.p99_ms / ref.p99_ms]
        for name, r in results.items()
    ]  # fmt: skip


HEADERS = ["server", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "req/s ÷ bare", "p99 ÷ bare"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--light", type=int, default=10, help="connections of the light run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median)")
    parser.add_argument("--json", type=Path, default=None, help="merge results into this file")
    args = parser.parse_args(argv)
    wrk.require_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-bench-"))
    names = ["bare", "redis-get", "bullpen", "bullpen-slow", "bullpen-miss"]
    record: dict[str, dict] = {}
    try:
        with deployment(workdir, names) as (data, urls):
            day = data.busiest_day()
            singles = [f"/v1/games/{g}/prediction" for g in data.games[day]]
            slate_days = sorted(data.games, key=lambda d: -len(data.games[d]))[:SLATE_DAYS]
            slates = [f"/v1/games?date={d}" for d in slate_days]
            print(f"setup: {machine()}; one uvicorn worker per app; wrk -t1, "
                  f"{args.seconds:g} s per run, median of {args.repeat}; "
                  f"{len(singles)} games of {day}; slates of {len(slate_days)} dates")  # fmt: skip
            hit = ["bare", "redis-get", "bullpen", "bullpen-slow"]
            for connections in (args.connections, args.light):
                results = measure(urls, hit, singles, data.key, args.seconds, connections,
                                  args.repeat)  # fmt: skip
                title = f"cache-hit single game, {connections} connections"
                _print(title, results, results["bare"])
                record[title] = {k: asdict(v) for k, v in results.items()}
            results = measure(urls, ["bare", "bullpen", "bullpen-slow"], slates, data.key,
                              args.seconds, args.connections, args.repeat)  # fmt: skip
            title = f"cache-hit day slate ({len(data.games[day])} games), {args.connections} conns"
            _print(title, results, results["bare"])
            record[title] = {k: asdict(v) for k, v in results.items()}
            record.update(_boards(data, urls, slate_days, args))
            misses = [f"/v1/games/{g}/prediction" for g in data.all_game_ids()]
            for connections in MISS_CONNECTIONS:
                miss, share = measure_miss(
                    data, urls, misses, data.key, args.seconds, connections, args.repeat
                )
                title = f"cache-miss single game (computed), {connections} connections"
                _print(title, {"bullpen-miss": miss}, _ref(record, args.light))
                print(f"share of requests really computed: {share:.0%} (target p99 <= 25 ms)")
                record[title] = {"bullpen-miss": asdict(miss), "computed_share": share}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    save(args.json, "online", record)


def _boards(
    data: stack.BenchData, urls: dict[str, str], days: list, args: argparse.Namespace
) -> dict[str, dict]:
    """The board beside the slate of the same dates on the same server, runs interleaved
    (target, issue 14: board req/s >= 0.8x the slate's). FIXTURE lines: not market data."""
    priced = stack.warm_fixture_boards(urls["_redis"], data, days)
    paths = {"day slate": [f"/v1/games?date={d}" for d in days],
             "board": [f"/v1/edges?date={d}" for d in days]}  # fmt: skip
    for route in paths.values():  # warm-up: the near-cache, the fast path
        wrk.run(urls["bullpen"], route, data.key, WARMUP_S, args.connections)
    runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in paths}
    for _ in range(args.repeat):
        for name, route in paths.items():
            runs[name].append(wrk.run(urls["bullpen"], route, data.key, args.seconds,
                                      args.connections))  # fmt: skip
    results = {name: wrk.WrkResult.median(r) for name, r in runs.items()}
    title = (
        f"cache-hit board vs day slate, {len(days)} dates, {priced} games x "
        f"{stack.BENCH_BOOKS} books, {args.connections} conns (ratios: ÷ slate)"
    )
    _print(title, results, results["day slate"])
    print(
        f"board req/s ÷ slate req/s: {results['board'].rps / results['day slate'].rps:.2f} "
        "(target >= 0.8)"
    )
    return {title: {k: asdict(v) for k, v in results.items()}}


def _ref(record: dict[str, dict], connections: int) -> wrk.WrkResult:
    bare = record[f"cache-hit single game, {connections} connections"]["bare"]
    return wrk.WrkResult(**bare)


def _print(title: str, results: dict[str, wrk.WrkResult], ref: wrk.WrkResult) -> None:
    print(f"\n{title}")
    print(table(HEADERS, _rows(results, ref)))


if __name__ == "__main__":
    main()
