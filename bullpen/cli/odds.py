"""`bullpen odds …` and `bullpen edges`: the market in, the best-bet board out.

`odds import` reads The Odds API JSON or the odds CSV into the line history (the
same snapshot twice stores once), quarantines what it cannot use with its file and
location, and re-warms the boards of the dates it changed when a model serves and
Redis answers. `odds poll` does the same for one fetch of The Odds API.
`edges --date D` prints the board (`--json`: the document `GET /v1/edges` returns).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bullpen.cli.live import DatabaseUrl, _engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bullpen.serving.odds import OddsImport

odds_app = typer.Typer(no_args_is_help=True)
PriceFormat = Annotated[
    str, typer.Option(help="How The Odds API JSON writes prices: decimal or american.")
]


@odds_app.command("import")
def import_odds(
    path: Annotated[Path, typer.Argument(help="An odds file.")],
    fmt: Annotated[str, typer.Option("--format", help="the-odds-api or csv.")] = "the-odds-api",
    price_format: PriceFormat = "decimal",
    database_url: DatabaseUrl = None,
) -> None:
    """Record an odds file's lines (idempotent) and re-warm the boards they change."""
    from bullpen.serving.odds import FORMATS, import_lines, read_odds_file

    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if price_format not in ("decimal", "american"):
        _fail(f"--price-format must be decimal or american, got {price_format!r}")
    if not path.is_file():
        _fail(f"{path}: no such file")
    engine = _engine(database_url)
    lines, issues = read_odds_file(path, fmt, price_format)
    _report(engine, import_lines(engine, path.name, lines, issues))


@odds_app.command("poll")
def poll(database_url: DatabaseUrl = None) -> None:
    """Fetch The Odds API once (BULLPEN_LIVE_ODDS_API_URL and _KEY) and import it."""
    from bullpen.serving import clock
    from bullpen.serving.odds import import_lines
    from bullpen.settings import LiveSettings
    from bullpen.sources.odds_api import OddsApiClient, OddsApiError

    live = LiveSettings()
    if not live.odds_api_url:
        _fail("BULLPEN_LIVE_ODDS_API_URL is not set")
    key = live.odds_api_key.get_secret_value() if live.odds_api_key else ""
    client = OddsApiClient(live.odds_api_url or "", key, live.odds_price_format)
    with client:
        try:
            lines, issues = client.lines(clock.now())
        except OddsApiError as exc:
            _fail(str(exc))
    engine = _engine(database_url)
    _report(engine, import_lines(engine, client.url(with_key=False), lines, issues))


def _report(engine: Engine, result: OddsImport) -> None:
    for issue in result.issues:
        typer.secho(f"quarantined: {issue.source} {issue.location}: {issue.reason}",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
    typer.echo(
        f"{result.source}: {result.lines} lines, {result.stored} new snapshots, "
        f"{result.repeated} already stored, {len(result.issues)} quarantined"
    )
    if result.dates:
        _refresh(engine, sorted(result.dates))


def _refresh(engine: Engine, days: list[dt.date]) -> None:
    from redis.exceptions import RedisError

    from bullpen.cache.clients import sync_client
    from bullpen.serving.odds import refresh_boards
    from bullpen.settings import get_settings

    settings = get_settings().redis
    try:
        done = refresh_boards(engine, sync_client(settings), days, settings.cache_ttl_s)
    except RedisError as exc:
        typer.secho(f"warning: boards not re-warmed ({exc}); the lines are stored",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
        return
    if not done:
        typer.echo("no model serves yet: boards are built once one does")
    for d in done:
        typer.echo(f"{d.day}: board warmed for {d.model_version}, {d.priced}/{d.games} games "
                   "with odds")  # fmt: skip


def edges(
    date: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: Annotated[bool, typer.Option("--json", help="Print GET /v1/edges' document.")] = False,
    kelly_fraction: Annotated[float, typer.Option(help="Share of full Kelly, (0, 1].")] = 0.25,
    kelly_cap: Annotated[float, typer.Option(help="Largest stake, [0, 1].")] = 0.05,
    database_url: DatabaseUrl = None,
) -> None:
    """The best-bet board of a date: best prices, consensus, model, edge, EV and Kelly."""
    from bullpen.domain.odds import OddsError, capped_kelly
    from bullpen.serving.odds import current_board

    try:
        day = dt.date.fromisoformat(date)
        capped_kelly(0.5, 2.0, kelly_fraction, kelly_cap)  # the one check of the bounds
    except ValueError as exc:
        reason = str(exc) if isinstance(exc, OddsError) else f"--date {date!r} is not YYYY-MM-DD"
        _fail(reason)
    try:
        board = current_board(_engine(database_url), day, kelly_fraction, kelly_cap)
    except LookupError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(board, indent=2))
        return
    _print_board(board)


def _print_board(board: dict[str, Any]) -> None:
    typer.echo(f"{board['date']}  model {board['model_version']}")
    if not board["games"]:
        typer.echo("no games")
    for game in board["games"]:
        matchup = f"{game['game_id']}  {game['away']}@{game['home']}"
        if game["sides"] is None:
            typer.echo(f"{matchup}  no odds")
            continue
        for name, s in game["sides"].items():
            mark = "BET" if s["ev"] > 0 else "   "
            typer.echo(
                f"{matchup}  {mark} {name:<4} {s['best_decimal']:>7.3f} {s['best_book']:<14} "
                f"model {s['model_p']:.3f}  market {s['consensus_p']:.3f}  "
                f"edge {s['edge']:+.3f}  EV {s['ev']:+.3f}  stake {s['kelly']:.3f}"
            )


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)
