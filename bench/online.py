"""Benchmark: cache-hit predictions vs. a bare FastAPI constant-JSON route.

Run: `python -m bench.online [--seconds 10] [--connections 64]`.

Not a test. Builds a SQLite store with the real 2022 games, their features and an Elo
model, warms one day into Redis (DB 14 of 127.0.0.1:6379 unless BULLPEN_BENCH_REDIS_URL),
starts both apps with one uvicorn worker each on loopback ports, then drives each with
`wrk` (64 connections, bounded time) on that day's game URLs, and prints req/s and
p50/p99 side by side with the ratios. Target: >= 0.8x req/s, p99 <= 1.5x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

BENCH_DATE = dt.date(2022, 4, 8)
SECRET = "bench-secret"
LUA = """
local ids = {}
for id in string.gmatch(os.getenv("BP_GAME_IDS"), "[^,]+") do ids[#ids + 1] = id end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/v1/games/" .. ids[(i % #ids) + 1] .. "/prediction",
                    {["X-API-Key"] = os.getenv("BP_KEY")})
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db_url: str, redis_url: str) -> tuple[list[str], str]:
    """Store, model, pointer, warmed day; returns the day's game ids and a read key."""
    from bullpen.cache import ActiveModel, set_active, warm
    from bullpen.features import FEATURE_NAMES, FEATURE_VERSION, build_features
    from bullpen.ingest import read_gamelogs
    from bullpen.model import WinModel
    from bullpen.settings import Settings
    from bullpen.store import ModelEntry, make_engine, register_model, upgrade, write_features
    from bullpen.store.apikeys import create_key

    logs = read_gamelogs(Settings().gamelogs_dir, [2022])
    features = build_features(logs.frame())
    day = features[features["date"] == str(BENCH_DATE)][["game_id", "date", *FEATURE_NAMES]]
    upgrade(db_url)
    engine = make_engine(db_url)
    model = WinModel(kind="elo")
    register_model(engine, ModelEntry(
        version="bench-elo", name="elo", kind="elo", train_seasons_from=2021,
        train_seasons_to=2021, feature_version=FEATURE_VERSION,
        feature_names=list(FEATURE_NAMES), metrics={}, params={}, artifact=model.to_bytes(),
        status="production",
    ))  # fmt: skip
    write_features(engine, day, FEATURE_VERSION)
    key, _ = create_key(engine, SECRET, "bench", "read")
    engine.dispose()
    games = logs.frame().set_index("game_id")
    rows = [
        {"game_id": g, "date": BENCH_DATE, "home": games.at[g, "home"],
         "away": games.at[g, "away"], "p_home": float(p),
         "computed_at": dt.datetime.now(dt.UTC)}
        for g, p in zip(day["game_id"], model.predict(day), strict=True)
    ]  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    result = warm(client, rows, "bench-elo", FEATURE_VERSION, ttl=3600)
    set_active(client, ActiveModel("bench-elo", FEATURE_VERSION))
    client.close()
    print(f"warmed {result.keys} keys, {result.bytes} bytes, {result.keys_per_second:.0f} keys/s")
    return list(day["game_id"]), key


def start(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--no-access-log", "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app} did not start on port {port}")


def run_wrk(port: int, seconds: int, connections: int, env: dict[str, str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name,
         f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "non2xx": float(m.group(1)) if (m := re.search(r"Non-2xx.*?(\d+)", out)) else 0.0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    redis_url = os.environ.get("BULLPEN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-bench-"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    game_ids, key = prepare(db_url, redis_url)
    env = {**os.environ, "BULLPEN_DATABASE_URL": db_url, "BULLPEN_REDIS_URL": redis_url,
           "BULLPEN_API_KEY_SECRET": SECRET, "BULLPEN_RATE_LIMIT_PER_S": "1000000",
           "BULLPEN_RATE_LIMIT_BURST": "1000000", "BULLPEN_RATE_LIMIT_LEASE": "1000",
           "BP_GAME_IDS": ",".join(game_ids), "BP_KEY": key}  # fmt: skip
    ports = {"bare": _free_port(), "bullpen": _free_port()}
    procs = [
        start("bench.bare:app", ports["bare"], env),
        start("online.app:app", ports["bullpen"], env),
    ]
    try:
        print(f"setup: 1 uvicorn worker each, wrk -t2 -c{args.connections} -d{args.seconds}s, "
              f"{len(game_ids)} game ids of {BENCH_DATE}, {os.cpu_count()} cores")  # fmt: skip
        for port in ports.values():  # warm-up: connections, near-cache, code paths
            run_wrk(port, 2, args.connections, env)
        results = {name: run_wrk(port, args.seconds, args.connections, env)
                   for name, port in ports.items()}  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    bare, ours = results["bare"], results["bullpen"]
    print(f"{'':10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in results.items():
        print(f"{name:10}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['non2xx']:>10.0f}")
    print(f"ratio: req/s {ours['rps'] / bare['rps']:.2f}x (target >= 0.8), "
          f"p99 {ours['p99'] / bare['p99']:.2f}x (target <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
