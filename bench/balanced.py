"""The original design's load test: nginx `least_conn` in front of API replicas, driven
by a constant-rate (open-loop) generator at offered rates up to and past 5,000 req/s.

    python -m bench.balanced [--replicas 2] [--rates 1000,2500,4000,5000,6000,7500]
        [--seconds 10] [--slow-quota 0.25] [--slow-rate 1500] [--json F] [--png F]

Set-up (all loopback, every process stopped by PID): the real 2022 season in a SQLite
store with an Elo model serving, warmed into a private redis-server except for its last
`HELD_OUT_DATES` dates (cold: computed from the store on first touch); `--replicas`
uvicorn processes of one worker each; Debian's nginx balancing them.

The ScalabilityTester mix, per 1,000 requests (`mix`): 300 `POST /api/v1/predict
{"game_id","model_name"}`, 450 `GET /v1/games/{id}/prediction`, 200 day slates
`GET /v1/games?date=`, 40 games of cold dates and 10 game ids that do not exist (404
is their right answer). Keys: 70% from the season's 5 busiest dates ("tonight"), the
rest spread over the whole season.

Two parts:
1. rate sweep through least_conn: req/s, p50/p95/p99 and errors per offered rate, with
   the design's SLO verdict at 5,000 req/s (p95 < 500 ms, errors < 1%);
2. one replica CPU-throttled (a cgroup-v1 CFS quota of `--slow-quota` CPUs), the same
   offered rate through least_conn and through round-robin;
3. one replica pinned to one core (what a pod with a 1-CPU limit serves), the rest of
   the stack on the other: the per-pod capacity the HPA's target derives from.

The generator keeps `CONNECTIONS` connections open, many users' worth, so an overload
queues inside the replicas (where the shedder answers 503 rather than let it grow).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench import openloop, stack
from bench.balancer import METHODS, nginx, require_nginx
from bench.loopback import PIDS, redis_server, uvicorn
from bench.openloop import Request, Run
from bench.report import machine, save, table
from bench.throttle import cpu_quota, pinned

RATES = (1000, 2500, 4000, 5000, 6000, 7500)
POD_RATES = (1000, 1500, 2000, 2500, 3000, 3500, 4000)
# Connections the generator keeps open: many users' worth, so an overload queues in the
# replicas, where the shedder sees it, not in the generator's own connection pool.
CONNECTIONS = 512
HPA_HEADROOM = 0.7  # the HPA's per-pod target as a share of the measured capacity
SLO_RATE, SLO_P95_MS, SLO_ERRORS = 5000, 500.0, 0.01
HELD_OUT_DATES = 10
HOT_DATES = 5
MIX_SIZE = 20_000
WARMUP_RATE, WARMUP_S = 1000, 3


def mix(data: stack.BenchData, cold: Sequence[str], size: int = MIX_SIZE,
        seed: int = 11) -> list[Request]:  # fmt: skip
    """`size` requests in the design's proportions (see the module docstring)."""
    rng = random.Random(seed)
    warm_days = [d for d in sorted(data.games) if data.games[d][0] not in set(cold)]
    hot_days = sorted(warm_days, key=lambda d: -len(data.games[d]))[:HOT_DATES]
    hot = [g for d in hot_days for g in data.games[d]]
    spread = [g for d in warm_days for g in data.games[d]]

    def game() -> str:
        return rng.choice(hot) if rng.random() < 0.7 else rng.choice(spread)

    def day() -> dt.date:
        return rng.choice(hot_days) if rng.random() < 0.7 else rng.choice(warm_days)

    out: list[Request] = []
    for i in range(size):
        slot = i % 1000
        if slot < 300:
            out.append(Request("POST", "/api/v1/predict",
                               {"game_id": game(), "model_name": "elo"}))  # fmt: skip
        elif slot < 750:
            out.append(Request("GET", f"/v1/games/{game()}/prediction"))
        elif slot < 950:
            out.append(Request("GET", f"/v1/games?date={day()}"))
        elif slot < 990:
            out.append(Request("GET", f"/v1/games/{rng.choice(cold)}/prediction"))
        else:
            out.append(Request("GET", f"/v1/games/{_unknown(rng)}/prediction", expect=404))
    return out


def _unknown(rng: random.Random) -> str:
    # Well-formed ids of a home team and date with no game: found in no tier, so a 404.
    return f"ZZZ2022{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}0"


Deployment = tuple[stack.BenchData, list[str], list[str]]  # data, replica URLs, cold games


@contextlib.contextmanager
def deployment(workdir: Path, replicas: int, days: int | None = None) -> Iterator[Deployment]:
    """Store (the season's first `days` dates, or all), Redis warmed but for the held-out
    dates, and `replicas` servers."""
    data = stack.prepare(f"sqlite:///{workdir / 'bench.db'}", days=days)
    held_out = sorted(data.games)[-HELD_OUT_DATES:]
    cold = [g for d in held_out for g in data.games[d]]
    with redis_server(workdir) as redis_url, contextlib.ExitStack() as servers:
        warm = stack.BenchData(data.db_url, data.key, data.games,
                               [r for r in data.rows if r["date"] not in held_out],
                               data.revisions)  # fmt: skip
        stack.warm_season(redis_url, warm)
        env = stack.app_env(data, redis_url)
        urls = [servers.enter_context(uvicorn("online.app:app", env)) for _ in range(replicas)]
        yield data, urls, cold


def sweep(target: str, requests: Path, key: str, rates: Sequence[int], seconds: float) -> list[Run]:
    openloop.run(target, requests, WARMUP_RATE, WARMUP_S, key, connections=CONNECTIONS)
    return [
        openloop.run(target, requests, rate, seconds, key, connections=CONNECTIONS)
        for rate in rates
    ]


def pod_capacity(url: str, requests: Path, key: str, rates: Sequence[int],
                 seconds: float) -> list[Run]:  # fmt: skip
    """One replica pinned to core 1, as a pod with a 1-CPU limit; nginx, the generator
    (children of this process, pinned to core 0) and Redis share the other core."""
    everything = set(range(os.cpu_count() or 1))
    os.sched_setaffinity(0, {0})
    try:
        with pinned(PIDS[url], {1}), nginx([url], "least_conn") as target:
            return sweep(target, requests, key, rates, seconds)
    finally:
        os.sched_setaffinity(0, everything)


def held(run: Run) -> bool:
    return run.p95_ms < SLO_P95_MS and run.error_rate < SLO_ERRORS


def capacity(runs: Sequence[Run]) -> float:
    """Answered req/s at the highest offered rate that held the SLO (0: none did)."""
    return max((r.achieved for r in runs if held(r)), default=0.0)


def slowed(urls: Sequence[str], requests: Path, key: str, rate: int, seconds: float,
           quota: float) -> dict[str, Run]:  # fmt: skip
    """The same offered rate through each balancing method, the last replica throttled."""
    results: dict[str, Run] = {}
    with cpu_quota(PIDS[urls[-1]], quota):
        for method in METHODS:
            with nginx(urls, method) as target:
                openloop.run(target, requests, WARMUP_RATE, WARMUP_S, key, connections=CONNECTIONS)
                results[method] = openloop.run(target, requests, rate, seconds, key,
                                               connections=CONNECTIONS)  # fmt: skip
    return results


def computed(urls: Sequence[str]) -> float:
    total = 0.0
    for url in urls:
        text = httpx.get(f"{url}/metrics", timeout=5).text
        found = re.search(r"^bullpen_predictions_computed_total ([\d.e+]+)$", text, re.M)
        total += float(found.group(1)) if found else 0.0
    return total


def verdict(runs: Sequence[Run]) -> str:
    at = next((r for r in runs if r.offered == SLO_RATE), None)
    if at is None:
        return f"no run at {SLO_RATE} req/s"
    return (f"{'PASS' if held(at) else 'FAIL'} at {SLO_RATE:,} req/s: p95 {at.p95_ms:.1f} ms "
            f"(< {SLO_P95_MS:g}), errors {at.error_rate:.2%} (< {SLO_ERRORS:.0%})")  # fmt: skip


def share(run: Run, url: str) -> float:
    return run.upstreams.get(url.removeprefix("http://"), 0) / max(1, sum(run.upstreams.values()))


SWEEP = ["offered req/s", "answered req/s", "served req/s", "p50 ms", "p95 ms", "p99 ms",
         "max ms", "errors", "error %"]  # fmt: skip


def _row(label: Any, r: Run) -> list[Any]:
    return [label, r.achieved, r.served, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms, r.errors,
            100 * r.error_rate]  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, print the tables, and return the record (also merged into --json)."""
    args = _parser().parse_args(argv)
    require_nginx()
    openloop.build()
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-balanced-"))
    try:
        with deployment(workdir, args.replicas, args.days) as (data, urls, cold):
            requests = openloop.write_requests(mix(data, cold))
            print(f"setup: {machine()}; nginx least_conn, {args.replicas} replicas (1 uvicorn "
                  f"worker each), open loop {args.seconds:g} s per rate")  # fmt: skip
            with nginx(urls, "least_conn") as target:
                before = computed(urls)
                runs = sweep(target, requests, data.key, rates, args.seconds)
                misses = computed(urls) - before
            slow: dict[str, Run] = {}
            if not args.skip_slow:
                slow = slowed(urls, requests, data.key, args.slow_rate, args.seconds,
                              args.slow_quota)  # fmt: skip
            slowed_at = urls[-1]
            pod: list[Run] = []
            if args.pod_rates:
                pod_rates = [int(r) for r in args.pod_rates.split(",") if r.strip()]
                pod = pod_capacity(urls[0], requests, data.key, pod_rates, args.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _report(args, runs, misses, slow, slowed_at, pod)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--slow-quota", type=float, default=0.25, help="CPUs of the slowed one")
    parser.add_argument("--slow-rate", type=int, default=1500)
    parser.add_argument("--skip-slow", action="store_true")
    parser.add_argument("--days", type=int, default=None, help="the season's first N dates")
    parser.add_argument("--pod-rates", default=",".join(map(str, POD_RATES)),
                        help="offered rates for one pinned replica ('' skips it)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--png", type=Path, default=None)
    return parser


def _report(args: argparse.Namespace, runs: list[Run], misses: float, slow: dict[str, Run],
            slowed_at: str, pod: list[Run]) -> dict[str, Any]:  # fmt: skip
    print(table(SWEEP, [_row(r.offered, r) for r in runs]))
    print(f"computed from the store (cold games): {misses:.0f}")
    print("SLO:", verdict(runs))
    if slow:
        print(f"\none replica throttled to {args.slow_quota:g} CPU, "
              f"{args.slow_rate:,} req/s offered")  # fmt: skip
        rows = [[*_row(m, r), 100 * share(r, slowed_at)] for m, r in slow.items()]
        print(table(["method", *SWEEP[1:], "to slowed replica %"], rows))
    if pod:
        per_pod = capacity(pod)
        print("\none replica pinned to one core (a pod's 1-CPU limit)")
        print(table(SWEEP, [_row(r.offered, r) for r in pod]))
        print(f"per-pod capacity (SLO held): {per_pod:,.0f} req/s; HPA target at "
              f"{HPA_HEADROOM:.0%}: {HPA_HEADROOM * per_pod:,.0f} req/s per pod")  # fmt: skip
    record = {
        "machine": machine(), "replicas": args.replicas, "seconds": args.seconds,
        "sweep": [asdict(r) | {"error_rate": r.error_rate} for r in runs],
        "verdict": verdict(runs), "computed": misses, "slow_quota": args.slow_quota,
        "slow_rate": args.slow_rate,
        "slowed": {m: asdict(r) | {"share_slowed": share(r, slowed_at)} for m, r in slow.items()},
        "pod": [asdict(r) | {"error_rate": r.error_rate} for r in pod],
        "pod_capacity": capacity(pod) if pod else None,
    }  # fmt: skip
    save(args.json, "balanced", record)
    if args.png is not None:
        _plot(runs, slow, pod, args.png)
        print(f"plot: {args.png}")
    return record


def _plot(runs: Sequence[Run], slow: dict[str, Run], pod: Sequence[Run], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    offered = [r.offered for r in runs]
    left.plot(offered, [r.achieved for r in runs], "o-", label="answered in time, 2 replicas")
    left.plot(offered, [r.served for r in runs], "o:", color="tab:blue", alpha=0.5,
              label="served (late too), 2 replicas")  # fmt: skip
    if pod:
        left.plot([r.offered for r in pod], [r.achieved for r in pod], "s-", color="tab:olive",
                  label="answered in time, 1 replica on 1 core")  # fmt: skip
    left.plot(offered, offered, ":", color="grey", label="offered")
    left.set_xlabel("offered req/s (open loop)")
    left.set_ylabel("req/s")
    twin = left.twinx()
    for q, style in (("p50_ms", "g--"), ("p95_ms", "r-"), ("p99_ms", "m-.")):
        twin.plot(offered, [getattr(r, q) for r in runs], style, label=q.replace("_ms", ""))
    twin.axhline(SLO_P95_MS, color="red", lw=0.6)
    twin.set_yscale("log")
    twin.set_ylabel("latency ms (log)")
    left.axvline(SLO_RATE, color="grey", lw=0.6)
    left.legend(loc="upper left", fontsize=8)
    twin.legend(loc="lower right", fontsize=8)
    left.set_title("nginx least_conn, rate sweep")
    if slow:
        names = list(slow)
        for i, q in enumerate(("p50_ms", "p95_ms", "p99_ms")):
            heights = [getattr(slow[n], q) for n in names]
            xs = [j + 0.25 * i for j in range(len(names))]
            right.bar(xs, heights, 0.25, label=q.replace("_ms", ""))
        right.set_xticks([j + 0.25 for j in range(len(names))], names)
        right.set_yscale("log")
        right.set_ylabel("latency ms (log)")
        right.set_title("one replica CPU-throttled")
        right.legend(fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
