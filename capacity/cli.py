"""`bullpen-capacity`: the game-day replay through the HPA, as a table and a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capacity.simulate import (
    DEFAULT_HPA,
    HPA_MANIFEST,
    MEASURED_THROUGHPUT_RPS,
    PodModel,
    format_report,
    game_day_trace,
    load_hpa,
    pods_needed,
    simulate,
    users_to_rps,
    write_plot,
)

app = typer.Typer(help="Capacity plan: replay a game day's traffic through the online tier's HPA.")


@app.command()
def capacity(
    throughput: Annotated[
        float,
        typer.Option(
            "--throughput",
            min=1.0,
            help=(
                "Requests per second one online pod (one uvicorn worker, 1 CPU) serves within "
                f"its SLO. The default {MEASURED_THROUGHPUT_RPS:g} is what `bullpen-bench "
                "balanced` measured for one pinned replica on the design's request mix."
            ),
        ),
    ] = MEASURED_THROUGHPUT_RPS,
    out: Annotated[Path, typer.Option("--out", help="PNG to write the replay's plot to.")] = Path(
        "var/capacity.png"
    ),
    peak: Annotated[
        float, typer.Option("--peak", min=1.0, help="Evening peak of the game-day trace, req/s.")
    ] = 12000.0,
    startup: Annotated[
        float, typer.Option("--startup", min=0.0, help="Seconds from a new pod to ready.")
    ] = 30.0,
    goal_rps: Annotated[
        float, typer.Option("--goal-rps", help="Design goal in requests per second.")
    ] = 5000.0,
    users: Annotated[int, typer.Option("--users", help="Design goal in concurrent users.")] = 10000,
    request_interval: Annotated[
        float,
        typer.Option(
            "--request-interval",
            min=0.001,
            help="Seconds between two requests of one user (think time + response time).",
        ),
    ] = 2.0,
    hpa_manifest: Annotated[
        Path | None,
        typer.Option(
            "--hpa", help=f"HPA manifest to replay (default: {HPA_MANIFEST.name} in k8s/base)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the trace's jitter.")] = 2024,
) -> None:
    """Replay a game day (quiet morning, surge before first pitch, evening peak) through
    the HPA as configured and report replicas, requests over capacity and pod counts."""
    manifest = hpa_manifest or HPA_MANIFEST
    if manifest.is_file():
        hpa = load_hpa(manifest)
        source = str(manifest)
    elif hpa_manifest is not None:
        typer.secho(f"error: no such file {hpa_manifest}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    else:
        hpa = DEFAULT_HPA
        source = "built-in copy of k8s/base/online/hpa.yaml (manifest not found)"
    pod = PodModel(throughput_rps=throughput, startup_s=startup)
    replay = simulate(game_day_trace(peak, seed=seed), hpa, pod)
    user_rps = users_to_rps(users, request_interval)
    sizings = [
        (f"{goal_rps:,.0f} requests per second", pods_needed(goal_rps, hpa, pod)),
        (f"{users:,} users, 1 request / {request_interval:g} s", pods_needed(user_rps, hpa, pod)),
        ("evening peak of the trace", pods_needed(float(replay.offered.max()), hpa, pod)),
    ]
    typer.echo(f"HPA from {source}")
    if throughput == MEASURED_THROUGHPUT_RPS:
        typer.echo(
            f"per-pod throughput {throughput:g} req/s: measured by `bullpen-bench balanced` "
            "(one replica on one core, the design's mix, p95 < 500 ms)"
        )
    typer.echo(format_report(replay, sizings))
    write_plot(replay, out)
    typer.echo(f"wrote {out}")
