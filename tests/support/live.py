"""Live game-day test data: a store that knows a season only up to a day, and the day's
games as a schedule feed would announce them (real 2022 games, results unknown)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine

from bullpen.domain.gamelogs import GameRecord, ParseResult
from bullpen.domain.schedule import GameStatus, ScheduledGame
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import load_parse_result, make_engine, upgrade
from bullpen.store.live import record_schedule


def scheduled(game: GameRecord, **changes: object) -> ScheduledGame:
    """`game` as a feed announces it before it is played."""
    announced = ScheduledGame(
        game_id=game.game_id, date=game.date, game_number=game.game_number, season=game.season,
        home=game.home, away=game.away, home_league=game.home_league,
        away_league=game.away_league, day_night=game.day_night.lower(),
        status=GameStatus.SCHEDULED, source="test-feed",
    )  # fmt: skip
    return replace(announced, **changes)


def store_before(
    path: Path, logs: ParsedLogs, day: dt.date, scheduled_days: tuple[dt.date, ...] = ()
) -> Engine:
    """A SQLite store with the games played before `day`; those of `scheduled_days` are
    only scheduled. The caller disposes of the engine."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(str(engine.url))
    earlier = [g for g in logs.games if g.date < day]
    load_parse_result(engine, "GL2022.TXT", ParseResult(earlier, []), "0" * 64)
    record_schedule(engine, [scheduled(g) for g in logs.games if g.date in scheduled_days])
    return engine


def store_with_a_game_on(path: Path, day: dt.date) -> str:
    """A migrated SQLite store whose schedule has one game (BOS @ NYA) on `day`; its URL."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    record_schedule(engine, [ScheduledGame(
        game_id=f"NYA{day:%Y%m%d}0", date=day, game_number=0, season=day.year, home="NYA",
        away="BOS", home_league="AL", away_league="AL", day_night="n",
        status=GameStatus.SCHEDULED, source="test-feed",
    )])  # fmt: skip
    engine.dispose()
    return url
