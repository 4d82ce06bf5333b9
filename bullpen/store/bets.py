"""Reading and writing tracked bets, and the final scores that settle them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Engine, insert, select

from bullpen.domain.bets import Bet
from bullpen.domain.schedule import GameStatus
from bullpen.store._sql import as_utc, chunks
from bullpen.store.live import CHUNK_SIZE, logged_ids, schedule_rows
from bullpen.store.live_schema import bets, final_scores
from bullpen.store.odds import first_pitch
from bullpen.store.schema import games, utcnow


def record_bet(
    engine: Engine, key_id: int, game_id: str, side: str, price: float, book: str, stake: float,
    placed_at: dt.datetime,
) -> Bet:  # fmt: skip
    row = {
        "key_id": key_id, "game_id": game_id, "side": side, "price": price, "book": book[:64],
        "stake": stake, "placed_at": placed_at, "recorded_at": utcnow(),
    }  # fmt: skip
    with engine.begin() as conn:
        bet_id = conn.execute(insert(bets).values(**row).returning(bets.c.id)).scalar_one()
    return Bet(bet_id, key_id, game_id, side, price, row["book"], stake, placed_at)


def read_bets(engine: Engine, key_id: int) -> list[Bet]:
    """The key's bets, oldest first."""
    stmt = select(bets).where(bets.c.key_id == key_id).order_by(bets.c.placed_at, bets.c.id)
    with engine.connect() as conn:
        return [
            Bet(r.id, r.key_id, r.game_id, r.side, r.price, r.book, r.stake, as_utc(r.placed_at))
            for r in conn.execute(stmt)
        ]


def read_scores(engine: Engine, game_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(home, away) final score of each of `game_ids` that has one: the game logs', else a
    schedule feed's."""
    ids = sorted(set(game_ids))
    found: dict[str, tuple[int, int]] = {}
    with engine.connect() as conn:
        for chunk in chunks(ids, CHUNK_SIZE):
            for table in (final_scores, games):  # the game log's line wins: read last
                stmt = select(table.c.game_id, table.c.home_score, table.c.away_score)
                for gid, home, away in conn.execute(stmt.where(table.c.game_id.in_(chunk))):
                    found[gid] = (int(home), int(away))
    return found


def game_states(engine: Engine, game_ids: Iterable[str]) -> dict[str, tuple[dt.datetime, str]]:
    """(first pitch, status) of each of `game_ids` the schedule or the game logs know."""
    ids = sorted(set(game_ids))
    with engine.connect() as conn:
        scheduled = schedule_rows(conn, ids)
        logged = logged_ids(conn, ids)
        rest = [g for g in ids if g not in scheduled and g in logged]
        played: dict[str, dict] = {}
        for chunk in chunks(rest, CHUNK_SIZE):
            stmt = select(games.c.game_id, games.c.date, games.c.day_night)
            played.update({r.game_id: dict(r._mapping) for r in conn.execute(
                stmt.where(games.c.game_id.in_(chunk)))})  # fmt: skip
    states = {g: (first_pitch(row), row["status"]) for g, row in scheduled.items()}
    for g, row in played.items():
        states[g] = (first_pitch(row), GameStatus.FINAL.value)
    for g in logged & set(states):
        states[g] = (states[g][0], GameStatus.FINAL.value)
    return states
