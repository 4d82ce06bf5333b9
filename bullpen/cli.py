"""The `bullpen` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="bullpen: MLB win probabilities from Retrosheet game logs.", no_args_is_help=True
)


@app.callback()
def _root() -> None:
    """Keeps `bullpen` a command group even while it has one command."""


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def backtest(
    gamelogs: Annotated[Path, typer.Option(help="Directory of GL*.TXT or gl*.zip game logs.")],
    season: Annotated[int, typer.Option(help="Season to predict walk-forward.")],
    out: Annotated[
        Path, typer.Option(help="CSV to write: game_id,date,game_number,home,away,p_home.")
    ],
    threads: Annotated[int, typer.Option(help="LightGBM threads.")] = 2,
) -> None:
    """Train on the seasons before SEASON, predict every game of SEASON, print the scores."""
    from bullpen.backtest import BacktestError, format_metrics, run_backtest
    from bullpen.ingest import read_gamelogs
    from bullpen.sources import GameLogSourceError

    try:
        logs = read_gamelogs(gamelogs, range(1871, season + 1))
    except GameLogSourceError as exc:
        _fail(str(exc))
    _report_problems(logs)
    try:
        result = run_backtest(logs.frame(), season, threads=threads)
    except BacktestError as exc:
        _fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    result.output().to_csv(out, index=False, float_format="%.6f")
    typer.echo(format_metrics(result))
    typer.echo(f"wrote {len(result.predictions)} rows to {out}")


def _report_problems(logs) -> None:  # type: ignore[no-untyped-def]
    for error in logs.errors:
        typer.secho(f"warning: {error}", fg=typer.colors.YELLOW, err=True)
    for line in logs.quarantined:
        typer.secho(f"quarantined: {line}", fg=typer.colors.YELLOW, err=True)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
