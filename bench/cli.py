"""`bullpen-bench …`: the benchmarks, each beside a reference measured in the same run.

A tool beside the core, not part of it: it starts its own servers on loopback
(`bench/stack.py`) and prints figures; `bullpen` itself never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bullpen.settings import PROJECT_ROOT

app = typer.Typer(
    help="Benchmarks, each beside a reference measured in the same run.", no_args_is_help=True
)
RESULTS = PROJECT_ROOT / "var" / "perf" / "results.json"


Json = Annotated[Path | None, typer.Option(help="Merge the results into this JSON file.")]


@app.command()
def odds(
    repeat: Annotated[int, typer.Option(help="Fresh stores imported (median).")] = 5,
    json: Json = RESULTS,
) -> None:
    """A full day of The Odds API (15 games x 10 books) imported, vs decoding its JSON."""
    from bench.odds import main

    main([f"--repeat={repeat}", *_json(json)])


@app.command()
def online(
    seconds: Annotated[int, typer.Option(help="Seconds per wrk run.")] = 5,
    connections: int = 64,
    light: Annotated[int, typer.Option(help="Connections of the light run.")] = 10,
    repeat: Annotated[int, typer.Option(help="Runs per row (median).")] = 3,
    json: Json = RESULTS,
) -> None:
    """Cache-hit single game and day slate, cache miss: vs bare FastAPI and a Redis GET."""
    from bench.online import main

    main([f"--seconds={seconds}", f"--connections={connections}", f"--light={light}",
          f"--repeat={repeat}", *_json(json)])  # fmt: skip


@app.command()
def scaling(
    seconds: Annotated[int, typer.Option(help="Seconds per wrk run.")] = 5,
    repeat: Annotated[int, typer.Option(help="Runs per point (median).")] = 1,
    json: Json = RESULTS,
) -> None:
    """req/s and p99 over 1…1024 connections and 1, 2 workers; a PNG plot."""
    from bench.scaling import main

    main([f"--seconds={seconds}", f"--repeat={repeat}", *_json(json)])


@app.command()
def balanced(
    replicas: Annotated[int, typer.Option(help="API processes behind nginx.")] = 2,
    rates: Annotated[str, typer.Option(help="Offered req/s, comma-separated.")] = (
        "1000,2500,4000,5000,6000,7500"
    ),
    seconds: Annotated[float, typer.Option(help="Seconds per offered rate.")] = 10,
    slow_quota: Annotated[float, typer.Option(help="CPUs left to the slowed replica.")] = 0.25,
    slow_rate: Annotated[int, typer.Option(help="Offered req/s with one replica slowed.")] = 1500,
    pod_rates: Annotated[str, typer.Option(help="Offered req/s, one replica on one core.")] = (
        "1000,1500,2000,2500,3000,3500,4000"
    ),
    png: Annotated[Path | None, typer.Option(help="Plot.")] = Path("bench/plots/balanced.png"),
    json: Json = RESULTS,
) -> None:
    """The design's load test: nginx least_conn, open-loop rates past 5,000 req/s, a slowed
    replica under least_conn vs round-robin, one pod's capacity on one core."""
    from bench.balanced import main

    main([f"--replicas={replicas}", f"--rates={rates}", f"--seconds={seconds}",
          f"--slow-quota={slow_quota}", f"--slow-rate={slow_rate}", f"--pod-rates={pod_rates}",
          *([f"--png={png}"] if png else []), *_json(json)])  # fmt: skip


@app.command()
def warming(
    repeat: Annotated[int, typer.Option(help="Runs per row (median).")] = 3,
    json: Json = RESULTS,
) -> None:
    """Cache warming keys/s vs redis-benchmark -P 16 SET; warming time vs games (PNG)."""
    from bench.warming import main

    main([f"--repeat={repeat}", *_json(json)])


@app.command()
def inference(
    repeat: Annotated[int, typer.Option(help="Runs per row (median).")] = 5,
    json: Json = RESULTS,
) -> None:
    """LightGBM single-row latency and batch rows/s vs a compiled form (lleaves)."""
    from bench.inference import main

    main([f"--repeat={repeat}", *_json(json)])


@app.command()
def features(repeat: Annotated[int, typer.Option(help="Runs (median).")] = 3) -> None:
    """Feature build over every bundled season, against a groupby-cumsum reference."""
    from bench.features import main

    main([f"--repeat={repeat}"])


@app.command()
def quality(
    seasons: Annotated[str, typer.Option(help="Seasons backtested, comma-separated.")] = (
        "2017,2018,2019,2021,2022,2023"
    ),
    lever: Annotated[
        list[str] | None, typer.Option(help="Candidate feature to measure (bench/levers.py).")
    ] = None,
) -> None:
    """Walk-forward Brier on the validation seasons, 2022 and 2023, April-May and by month,
    beside Elo and FiveThirtyEight; each --lever measured against the platform's features."""
    from bench.quality import main

    main([f"--seasons={seasons}", *(f"--lever={name}" for name in lever or [])])


def _json(path: Path | None) -> list[str]:
    return [f"--json={path}"] if path else []
