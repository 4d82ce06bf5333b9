"""`bullpen loadtest` and `bullpen bench …`: Locust load tests and the benchmarks.

Both live outside the installed packages (`loadtest/`, `bench/` at the project root);
they are imported from there, so these commands run from a source checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bullpen.settings import PROJECT_ROOT

loadtest_app = typer.Typer(help="Load-test a running deployment with Locust (loopback only).")
bench_app = typer.Typer(
    help="Benchmarks, each beside a reference measured in the same run.", no_args_is_help=True
)
RESULTS = PROJECT_ROOT / "var" / "perf" / "results.json"


@loadtest_app.callback(invoke_without_command=True)
def loadtest(
    host: Annotated[str | None, typer.Option(help="Default: BULLPEN_LOADTEST_HOST.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="BULLPEN_LOADTEST_API_KEY", help="A read-scope key.", show_default=False
        ),
    ] = None,
    dates: Annotated[str | None, typer.Option(help="Comma-separated slate dates.")] = None,
    users: Annotated[int | None, typer.Option(help="Users at the peak.")] = None,
    ramp_up: Annotated[float | None, typer.Option(help="Seconds of ramp-up.")] = None,
    sustain: Annotated[float | None, typer.Option(help="Seconds at the peak.")] = None,
    ramp_down: Annotated[float | None, typer.Option(help="Seconds of ramp-down.")] = None,
    out: Annotated[Path, typer.Option(help="Directory for Locust's CSV and HTML.")] = Path(
        "var/loadtest"
    ),
) -> None:
    """Ramp up, sustain, ramp down; print p50/p95/p99/max, req/s, errors and the SLO verdict.

    Exit code 0 if the SLOs held, 1 if not, 2 if the test could not run.
    """
    from loadtest.runner import LoadTestError, Plan, format_summary, run, verdict
    from loadtest.settings import get_loadtest_settings

    s = get_loadtest_settings()
    key = api_key or (s.api_key.get_secret_value() if s.api_key else "")
    if not key:
        typer.secho("error: no API key (--api-key or BULLPEN_LOADTEST_API_KEY)", err=True)
        raise typer.Exit(2)
    plan = Plan(
        host=host or s.host, api_key=key,
        dates=[d.strip() for d in (dates or s.dates).split(",") if d.strip()],
        out_dir=out, users=users or s.users,
        ramp_up_s=s.ramp_up_s if ramp_up is None else ramp_up,
        sustain_s=s.sustain_s if sustain is None else sustain,
        ramp_down_s=s.ramp_down_s if ramp_down is None else ramp_down,
        wait_min_s=s.wait_min_s, wait_max_s=s.wait_max_s,
        slo_p95_ms=s.slo_p95_ms, slo_error_rate=s.slo_error_rate,
    )  # fmt: skip
    typer.echo(
        f"locust against {plan.host}: {plan.users} users, {plan.ramp_up_s:g} s up, "
        f"{plan.sustain_s:g} s sustained, {plan.ramp_down_s:g} s down; dates {plan.dates}"
    )
    try:
        summary = run(plan)
    except LoadTestError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(format_summary(summary, plan.slo_p95_ms, plan.slo_error_rate))
    if verdict(summary, plan.slo_p95_ms, plan.slo_error_rate):
        raise typer.Exit(1)


Json = Annotated[Path | None, typer.Option(help="Merge the results into this JSON file.")]


@bench_app.command()
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


@bench_app.command()
def scaling(
    seconds: Annotated[int, typer.Option(help="Seconds per wrk run.")] = 5,
    repeat: Annotated[int, typer.Option(help="Runs per point (median).")] = 1,
    json: Json = RESULTS,
) -> None:
    """req/s and p99 over 1…1024 connections and 1, 2 workers; a PNG plot."""
    from bench.scaling import main

    main([f"--seconds={seconds}", f"--repeat={repeat}", *_json(json)])


@bench_app.command()
def warming(
    repeat: Annotated[int, typer.Option(help="Runs per row (median).")] = 3,
    json: Json = RESULTS,
) -> None:
    """Cache warming keys/s vs redis-benchmark -P 16 SET; warming time vs games (PNG)."""
    from bench.warming import main

    main([f"--repeat={repeat}", *_json(json)])


@bench_app.command()
def inference(
    repeat: Annotated[int, typer.Option(help="Runs per row (median).")] = 5,
    json: Json = RESULTS,
) -> None:
    """LightGBM single-row latency and batch rows/s vs a compiled form (lleaves)."""
    from bench.inference import main

    main([f"--repeat={repeat}", *_json(json)])


@bench_app.command()
def features(repeat: Annotated[int, typer.Option(help="Runs (median).")] = 3) -> None:
    """Feature build over every bundled season, against a groupby-cumsum reference."""
    from bench.features import main

    sys.argv = ["bench.features", f"--repeat={repeat}"]
    main()


def _json(path: Path | None) -> list[str]:
    return [f"--json={path}"] if path else []
