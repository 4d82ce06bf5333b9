"""The odds line history: recorded once per (game, book, time), read for boards and closes.

A snapshot is only recorded for a game the schedule has that is still to be played:
a game that is final or postponed, or a line taken at or after first pitch (an in-play
price, not a pre-game one), is a `FeedIssue` with its reason. The rest of the batch
still lands, in one transaction. Re-importing a snapshot changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select

from bullpen.domain.market import OddsSnapshot, closing_per_book, latest_per_book
from bullpen.domain.schedule import FeedIssue, GameStatus, default_first_pitch
from bullpen.store._sql import as_date, as_utc, chunks, insert_new
from bullpen.store.live import CHUNK_SIZE, logged_ids, record_feed_issues, schedule_rows
from bullpen.store.live_schema import odds_snapshots
from bullpen.store.schema import utcnow


@dataclass
class RecordedOdds:
    stored: int = 0  # snapshots new to the store
    repeated: int = 0  # already there (the same import again)
    dates: set[dt.date] = field(default_factory=set)  # whose boards changed
    issues: list[FeedIssue] = field(default_factory=list)


def record_odds(engine: Engine, batch: Sequence[OddsSnapshot]) -> RecordedOdds:
    """Store the snapshots of games still to be played; the rest become feed issues."""
    out = RecordedOdds()
    with engine.begin() as conn:
        games = schedule_rows(conn, [s.game_id for s in batch])
        logged = logged_ids(conn, list(games))
        rows = []
        for snap in batch:
            game = games.get(snap.game_id)
            problem = _problem(snap, game, snap.game_id in logged)
            if problem:
                location = f"{snap.game_id}:{snap.book}:{snap.taken_at.isoformat()}"
                out.issues.append(FeedIssue(snap.source, location, problem, repr(snap)))
                continue
            rows.append(_row(snap, as_date(game["date"])))  # type: ignore[index]
        stored = insert_new(conn, odds_snapshots, rows, ["game_id", "book", "taken_at"])
    record_feed_issues(engine, out.issues)
    out.stored, out.repeated = stored, len(rows) - stored
    if stored:
        out.dates = {r["date"] for r in rows}
    return out


def first_pitch(game: dict[str, Any]) -> dt.datetime:
    """The game's first pitch as the schedule has it, else the day/night default."""
    if game.get("first_pitch") is not None:
        return as_utc(game["first_pitch"])
    return default_first_pitch(as_date(game["date"]), game.get("day_night"))


def _problem(snap: OddsSnapshot, game: dict[str, Any] | None, logged: bool) -> str | None:
    if game is None:
        return f"no scheduled game {snap.game_id}"
    if logged or game["status"] == GameStatus.FINAL.value:
        return f"{snap.game_id} is final: a line after the result is not a market"
    if game["status"] != GameStatus.SCHEDULED.value:
        return f"{snap.game_id} is {game['status']}: its line is off"
    starts = first_pitch(game)
    if snap.taken_at >= starts:
        return f"taken at {snap.taken_at.isoformat()}, not before first pitch {starts.isoformat()}"
    return None


def _row(snap: OddsSnapshot, date: dt.date) -> dict[str, Any]:
    return {
        "game_id": snap.game_id, "date": date, "book": snap.book[:64],
        "taken_at": snap.taken_at, "home_decimal": snap.home_decimal,
        "away_decimal": snap.away_decimal, "source": snap.source[:255], "recorded_at": utcnow(),
    }  # fmt: skip


# --- reads -------------------------------------------------------------------------------


def read_odds(
    engine: Engine, on: dt.date | None = None, game_ids: Iterable[str] | None = None
) -> list[OddsSnapshot]:
    """Every snapshot of a date's games, or of `game_ids`, oldest first."""
    with engine.connect() as conn:
        if game_ids is None:
            stmt = select(odds_snapshots).where(odds_snapshots.c.date == on)
            return _snapshots(conn, stmt)
        found: list[OddsSnapshot] = []
        for chunk in chunks(sorted(set(game_ids)), CHUNK_SIZE):
            found += _snapshots(conn, select(odds_snapshots).where(
                odds_snapshots.c.game_id.in_(chunk)))  # fmt: skip
        return sorted(found, key=lambda s: (s.taken_at, s.game_id, s.book))


def _snapshots(conn: Connection, stmt: Any) -> list[OddsSnapshot]:
    stmt = stmt.order_by(odds_snapshots.c.taken_at, odds_snapshots.c.id)
    rows = conn.execute(stmt)
    return [
        OddsSnapshot(
            r.game_id, r.book, as_utc(r.taken_at), r.home_decimal, r.away_decimal, r.source
        )
        for r in rows
    ]


def latest_odds(engine: Engine, on: dt.date) -> list[OddsSnapshot]:
    """Each book's latest line for each game of `on`: what a board is built from."""
    return latest_per_book(read_odds(engine, on=on))


def closing_lines(
    engine: Engine, game_ids: Iterable[str], now: dt.datetime
) -> dict[str, list[OddsSnapshot]]:
    """Each game's closing line (each book's last snapshot before first pitch) once its
    first pitch is past at `now` (before that the line can still move); games without one
    are absent."""
    ids = sorted(set(game_ids))
    with engine.connect() as conn:
        games = {g: row for g, row in schedule_rows(conn, ids).items() if first_pitch(row) <= now}
    history: dict[str, list[OddsSnapshot]] = {}
    for snap in read_odds(engine, game_ids=list(games)):
        history.setdefault(snap.game_id, []).append(snap)
    closes = {g: closing_per_book(snaps, first_pitch(games[g])) for g, snaps in history.items()}
    return {g: books for g, books in closes.items() if books}
