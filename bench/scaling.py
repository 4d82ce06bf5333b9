"""Scaling curve: req/s and p99 of cache-hit single-game reads over 1…1024 connections,
with 1 and 2 uvicorn workers, for bullpen and the bare-FastAPI reference.

    python -m bench.scaling [--seconds 5] [--repeat 1] [--json …] [--png bench/plots/scaling.png]

Same set-up as `bench.online` (real 2022 season warmed into a private redis-server,
loopback, `wrk -t1`, every run bounded in time); prints one table and saves a plot.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench import stack, wrk
from bench.loopback import redis_server, uvicorn
from bench.online import WARMUP_S
from bench.report import machine, save, table

CONNECTIONS = (1, 4, 16, 64, 256, 1024)
WORKERS = (1, 2)
APPS = {"bullpen": "online.app:app", "bare": "bench.bare:app"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--png", type=Path, default=Path("bench/plots/scaling.png"))
    args = parser.parse_args(argv)
    wrk.require_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-scaling-"))
    points: list[list[Any]] = []
    try:
        data = stack.prepare(f"sqlite:///{workdir / 'bench.db'}")
        day = data.busiest_day()
        paths = [f"/v1/games/{g}/prediction" for g in data.games[day]]
        print(f"setup: {machine()}; wrk -t1, {args.seconds} s per point, median of "
              f"{args.repeat}; {len(paths)} games of {day}")  # fmt: skip
        with redis_server(workdir) as redis_url:
            stack.warm_season(redis_url, data)
            env = stack.app_env(data, redis_url)
            for workers in WORKERS:
                for name, app in APPS.items():
                    with uvicorn(app, env, workers=workers) as url:
                        wrk.run(url, paths, data.key, WARMUP_S, 64)
                        for connections in CONNECTIONS:
                            r = wrk.median_of(args.repeat, lambda u=url, c=connections: wrk.run(
                                u, paths, data.key, args.seconds, c))  # fmt: skip
                            points.append([name, workers, connections, r.rps, r.p50_ms,
                                           r.p99_ms, r.errors])  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(["app", "workers", "connections", "req/s", "p50 ms", "p99 ms", "errors"], points))
    _plot(points, args.png)
    print(f"plot: {args.png}")
    save(args.json, "scaling", {"points": points})


def _plot(points: list[list[Any]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rps, p99) = plt.subplots(1, 2, figsize=(11, 4))
    for name in APPS:
        for workers in WORKERS:
            series = [p for p in points if p[0] == name and p[1] == workers]
            style = "-" if name == "bullpen" else ":"
            label = f"{name}, {workers} worker{'s' if workers > 1 else ''}"
            x = [p[2] for p in series]
            rps.semilogx(x, [p[3] for p in series], "o" + style, label=label, base=2)
            p99.loglog(x, [p[5] for p in series], "o" + style, label=label, base=2)
    rps.set_ylabel("requests / second")
    p99.set_ylabel("p99 latency, ms")
    for ax in (rps, p99):
        ax.set_xlabel("concurrent connections")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("cache-hit single-game prediction, loopback, 2 cores (wrk shares them)")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
