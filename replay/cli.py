"""`bullpen replay`: play a real season forward as if live, against a private stack.

    bullpen replay --season 2023 --from 2023-07-01 --days 14 --speed 3600 \\
        --scratch-rate 0.1 --json-out var/replay.json

prints a table per day and writes the JSON (`days`, `totals`, and how it was run).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from bullpen.serving.scorecard import scorecard
from bullpen.settings import GameLogSettings
from bullpen.store import list_models, make_engine
from replay.deploy import deploy, launch
from replay.health import dagster_failures, wait_for_runs
from replay.play import Bettor, DayReport, _mean, _p95, play_day, publish_week_ahead
from replay.world import Season

app = typer.Typer(add_completion=False)
KEYS = ("date", "games_scheduled", "games_postponed", "games_predicted_before_first_pitch",
        "starter_changes", "starter_change_to_served_p95_s", "stale_answers", "brier",
        "elo_brier")  # fmt: skip
SCHEDULES = GameLogSettings().gamelogs_dir.parent / "schedules"


@app.command()
def replay(
    season: Annotated[int, typer.Option(help="The season to replay.")] = 2023,
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")] = "2023-07-01",
    days: Annotated[int, typer.Option(min=1, help="Days to play.")] = 14,
    speed: Annotated[float, typer.Option(min=1, help="Simulated seconds per second.")] = 3600,
    scratch_rate: Annotated[
        float,
        typer.Option(
            min=0, max=1, help="Share of games whose home starter is first announced wrong."
        ),
    ] = 0.1,
    json_out: Annotated[Path, typer.Option(help="Where to write the JSON.")] = Path(
        "var/replay.json"
    ),
    apis: Annotated[int, typer.Option(min=1, help="API processes (replicas).")] = 2,
    history: Annotated[int, typer.Option(min=1, help="Seasons of history before it.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed of the scratches.")] = 7,
    retrain_every: Annotated[
        int,
        typer.Option(
            min=0, help="Days between retrains through the blue-green promotion (0: never)."
        ),
    ] = 7,
    workdir: Annotated[Path | None, typer.Option(help="Default: a temporary directory.")] = None,
) -> None:
    """Replay DAYS of SEASON from --from through the live loop; print and write the report."""
    first = dt.date.fromisoformat(start)
    if first.year != season:
        raise typer.BadParameter(f"--from {first} is not in season {season}")
    world = Season(SCHEDULES / f"{season}schedule.csv", GameLogSettings().gamelogs_dir, season)
    rng = random.Random(seed)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bullpen-replay-") as tmp:
        root = workdir or Path(tmp)
        seasons = range(season - history, season + 1)
        with deploy(root, GameLogSettings().gamelogs_dir, seasons, first, apis) as deployment:
            typer.echo(f"stack up in {time.monotonic() - began:.0f} s: {deployment.api_urls}")
            bettor = Bettor(deployment.api_urls, deployment.api_key)
            publish_week_ahead(deployment, world, first)
            reports, retrains = [], []
            for i in range(days):
                date = first + dt.timedelta(days=i)
                report = play_day(deployment, world, date, speed, scratch_rate, rng, bettor)
                reports.append(report)
                typer.echo(_row(report))
                if retrain_every and (i + 1) % retrain_every == 0 and i + 1 < days:
                    launch(deployment, "retrain_job")  # overnight, after the day's results
                    retrains.append(date.isoformat())
                    typer.echo(f"retrain launched after {date}")
            bettor.close()
            graded_days = sum(1 for r in reports if r.games_scheduled)
            wait_for_runs(deployment.dagster_home, expected=graded_days + len(retrains))
            models = _models(deployment.store_url)
            card = _scorecard(deployment.store_url, season)
            failures = dagster_failures(deployment.dagster_home)
    document = {
        "days": [_public(r) for r in reports],
        "totals": _totals(reports),
        "dagster": failures,
        "scorecard": card,
        "retrains_after": retrains,
        "models": models,
        "run": {"season": season, "from": first.isoformat(), "days": days, "speed": speed,
                "scratch_rate": scratch_rate, "apis": apis, "history_seasons": history,
                "seed": seed, "wall_seconds": round(time.monotonic() - began, 1)},
    }  # fmt: skip
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(document, indent=2))
    typer.echo(_row(document["totals"], total=True))
    typer.echo(f"scorecard: {card}")
    typer.echo(f"models: {models}")
    typer.echo(f"dagster: {failures}; wrote {json_out}")


def _scorecard(store_url: str, season: int) -> dict:
    """The store's own grading of the prices the live loop published (`GET /v1/scorecard`)."""
    engine = make_engine(store_url)
    try:
        card = scorecard(engine, season)
    finally:
        engine.dispose()
    return {k: card[k] for k in ("graded_games", "excluded_after_first_pitch", "models")}


def _models(store_url: str) -> list[dict]:
    """The registry at the end: which models were trained, checked, served, rejected."""
    engine = make_engine(store_url)
    try:
        return [{"version": m.version, "status": m.status} for m in list_models(engine)]
    finally:
        engine.dispose()


def _public(report: DayReport) -> dict:
    return {k: v for k, v in asdict(report).items()
            if k not in ("squared_errors", "elo_squared_errors")}  # fmt: skip


def _totals(reports: list[DayReport]) -> dict:
    latencies = [x for r in reports for x in r.change_latencies_s]
    return {
        "date": f"{reports[0].date}..{reports[-1].date}",
        **{k: sum(getattr(r, k) for r in reports) for k in KEYS[1:5]},
        "starter_change_to_served_p95_s": _p95(latencies),
        "stale_answers": sum(r.stale_answers for r in reports),
        "brier": _mean([x for r in reports for x in r.squared_errors]),
        "elo_brier": _mean([x for r in reports for x in r.elo_squared_errors]),
        "answers": sum(r.answers for r in reports),
        "starter_change_max_s": max(latencies) if latencies else None,
        "starter_change_median_s": statistics.median(latencies) if latencies else None,
    }


def _row(report: DayReport | dict, total: bool = False) -> str:
    data = report if isinstance(report, dict) else asdict(report)
    cells = [str(data[k]) if data[k] is not None else "-" for k in KEYS]
    return ("TOTAL " if total else "") + " | ".join(cells)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
