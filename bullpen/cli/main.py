"""The `bullpen` command line: backtest, ingest, migrate; API keys, rollback and the live
schedule as groups.

Benchmarks, load tests and the capacity plan are tools outside the core, with
their own commands (`bullpen-bench`, `bullpen-loadtest`, `bullpen-capacity`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bullpen.sources.parsed import ParsedLogs

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
    from bullpen.domain.backtest import BacktestError, format_metrics, run_backtest
    from bullpen.sources.gamelogs import GameLogSourceError
    from bullpen.sources.parsed import read_gamelogs

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


@app.command()
def migrate(
    database_url: Annotated[str | None, typer.Option(help="Default: BULLPEN_DATABASE_URL.")] = None,
) -> None:
    """Bring the app store's schema to the newest migration."""
    from sqlalchemy.engine import make_url

    from bullpen.settings import get_settings
    from bullpen.store import upgrade

    url = database_url or get_settings().store.database_url
    upgrade(url)
    shown = make_url(url).render_as_string(hide_password=True)  # never echo a password
    typer.echo(f"store at {shown} is at the newest migration")


@app.command()
def ingest(
    gamelogs: Annotated[Path | None, typer.Option(help="Default: BULLPEN_GAMELOGS_DIR.")] = None,
    seasons: Annotated[
        str | None, typer.Option(help="e.g. 2000-2023; default: BULLPEN_SEASONS.")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="Default: BULLPEN_DATABASE_URL.")] = None,
) -> None:
    """Load game logs into the store: one transaction per file, bad lines quarantined."""
    from bullpen.settings import get_settings, parse_seasons
    from bullpen.sources.gamelogs import GameLogSourceError
    from bullpen.sources.parsed import read_gamelogs
    from bullpen.store import load_parse_result, make_engine, upgrade

    settings = get_settings()
    url = database_url or settings.store.database_url
    upgrade(url)
    engine = make_engine(url)
    source = settings.gamelogs
    try:
        seasons_wanted = parse_seasons(seasons or source.seasons)
        logs = read_gamelogs(gamelogs or source.gamelogs_dir, seasons_wanted)
    except GameLogSourceError as exc:
        _fail(str(exc))
    _report_problems(logs)
    for parsed in logs.files:
        summary = load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        typer.echo(
            f"{summary.source}: {summary.games} games ({summary.inserted} new, "
            f"{summary.updated} updated), {summary.quarantined} quarantined"
        )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def replay(ctx: typer.Context) -> None:
    """Play a past season forward as if live against a private stack (see --help)."""
    # The replay is a tool beside the core (`replay/`, like `bench/`): run it, never import it.
    os.execv(sys.executable, [sys.executable, "-m", "replay", *ctx.args])


def _report_problems(logs: ParsedLogs) -> None:
    for error in logs.errors:
        typer.secho(f"warning: {error}", fg=typer.colors.YELLOW, err=True)
    for line in logs.quarantined:
        typer.secho(f"quarantined: {line}", fg=typer.colors.YELLOW, err=True)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


def _register_subcommands() -> None:
    from bullpen.cli.apikeys import apikey_app
    from bullpen.cli.live import schedule_app
    from bullpen.cli.odds import edges, odds_app
    from bullpen.cli.rollback import rollback

    app.add_typer(apikey_app, name="apikey", help="Create, list and revoke API keys.")
    app.add_typer(schedule_app, name="schedule", help="Import and show the live schedule.")
    app.add_typer(odds_app, name="odds", help="Import odds: The Odds API JSON or the odds CSV.")
    app.command(name="edges")(edges)
    app.command(name="rollback")(rollback)


_register_subcommands()
