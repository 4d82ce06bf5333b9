"""`bullpen schedule …`: feed the live tables from files an operator has.

`schedule import` reads a Retrosheet schedule file (2023 layout or 2024+ with
Location) into the store's schedule; `schedule show` prints a date's slate with
each game's status and announced starters. Rows a feed could not use are stored
as feed issues and printed with their file and line; the rest still land.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

schedule_app = typer.Typer(no_args_is_help=True)

DatabaseUrl = Annotated[str | None, typer.Option(help="Default: BULLPEN_DATABASE_URL.")]


def _engine(database_url: str | None) -> Engine:
    from bullpen.settings import get_settings
    from bullpen.store import make_engine, upgrade

    url = database_url or get_settings().store.database_url
    upgrade(url)
    return make_engine(url)


@schedule_app.command("import")
def import_schedule(
    path: Annotated[Path, typer.Argument(help="A Retrosheet schedule CSV, e.g. 2023schedule.csv.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Load a Retrosheet schedule file: games, postponements and their makeups."""
    from bullpen.sources.schedules import ScheduleFileError, read_schedule
    from bullpen.store.live import record_feed_issues, record_schedule

    try:
        batch = read_schedule(path)
    except ScheduleFileError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    engine = _engine(database_url)
    changes = record_schedule(engine, batch.games)
    record_feed_issues(engine, batch.issues)
    for issue in (*batch.issues, *changes.issues):
        typer.secho(f"quarantined: {issue.source} {issue.location}: {issue.reason}",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
    postponed = sum(g.status.value == "postponed" for g in batch.games)
    typer.echo(
        f"{path.name}: {len(batch.games)} games ({postponed} postponed), "
        f"{len(changes.added)} new, {len(changes.status_changed)} status changed, "
        f"{len(changes.moved)} moved, {changes.unchanged} unchanged, "
        f"{len(batch.issues) + len(changes.issues)} quarantined"
    )


@schedule_app.command("show")
def show(
    date: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    database_url: DatabaseUrl = None,
) -> None:
    """A date's games: status, first pitch and the announced starters."""
    from bullpen.store.live import read_schedule

    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        typer.secho(f"error: --date {date!r} is not YYYY-MM-DD", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    rows = read_schedule(_engine(database_url), on=day)
    if rows.empty:
        typer.echo(f"no games scheduled on {day}")
    for row in rows.itertuples(index=False):
        starters = f"{row.away_sp_name or '?'} @ {row.home_sp_name or '?'}"
        typer.echo(f"{row.game_id}  {row.away}@{row.home}  {row.status:<9}  {starters}")
