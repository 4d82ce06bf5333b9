"""Bet tracking per API key: record a bet, list them settled from results, with CLV.

A bet is refused with its reason (`BetRefused`; `BetConflict` when the bet is well
formed but the game's state or the clock rules it out) when it cannot be a pre-game
moneyline bet: an unknown side, a price not above 1, a stake not in (0, MAX_STAKE],
a time in the future, a time at or after the game's first pitch (an in-play bet; a
final game's bets can only be recorded with their earlier time), or a postponed game.
An unknown game is `BetGameNotFound`. Status, profit and closing-line value are derived at read time
from the results and the line history (`bullpen.domain.bets`), so a bet recorded
before its game is graded as soon as the game is final and its close exists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from sqlalchemy import Engine

from bullpen.domain.bets import SIDES, Bet, BetStatus, Settled, clv, settle, summarize
from bullpen.domain.market import consensus
from bullpen.domain.odds import OddsError, check_decimal
from bullpen.domain.schedule import GameStatus
from bullpen.store.bets import game_states, read_bets, read_scores, record_bet
from bullpen.store.odds import closing_lines

MAX_STAKE = 1_000_000.0
CLOCK_SKEW = dt.timedelta(seconds=60)  # a client's clock may run a little ahead


class BetRefused(ValueError):
    """A bet that cannot be tracked, with the reason."""


class BetConflict(BetRefused):
    """A well-formed bet its game's state or the clock rules out (after first pitch, a
    postponed game, a time in the future)."""


class BetGameNotFound(LookupError):
    """The schedule and the game logs know no such game."""


def place(
    engine: Engine, key_id: int, game_id: str, side: str, price: float, book: str, stake: float,
    placed_at: dt.datetime | None, now: dt.datetime,
) -> Bet:  # fmt: skip
    """Record a bet of `key_id` after checking it (see the module docstring)."""
    placed_at = placed_at or now
    _check_terms(side, price, book, stake, placed_at, now)
    state = game_states(engine, [game_id]).get(game_id)
    if state is None:
        raise BetGameNotFound(f"no game {game_id}")
    starts, status = state
    if status == GameStatus.POSTPONED.value:  # it would be void at once
        raise BetConflict(f"{game_id} is postponed: its makeup is another game")
    if placed_at >= starts:
        raise BetConflict(f"placed at {placed_at.isoformat()}, not before first pitch "
                         f"{starts.isoformat()}: in-play bets are not tracked")  # fmt: skip
    return record_bet(engine, key_id, game_id, side, price, book.strip(), stake, placed_at)


def _check_terms(
    side: str, price: float, book: str, stake: float, placed_at: dt.datetime, now: dt.datetime
) -> None:
    if side not in SIDES:
        raise BetRefused(f"side must be home or away, got {side!r}")
    try:
        check_decimal(price)
    except OddsError as exc:
        raise BetRefused(f"price: {exc}") from None
    if not (math.isfinite(stake) and 0 < stake <= MAX_STAKE):
        raise BetRefused(f"stake must be above 0 and at most {MAX_STAKE:g}, got {stake}")
    if not book.strip():
        raise BetRefused("book must not be empty")
    if placed_at.tzinfo is None:
        raise BetRefused("placed_at needs a UTC offset")
    if placed_at > now + CLOCK_SKEW:
        raise BetConflict(f"placed_at {placed_at.isoformat()} is in the future")


def tracked(
    engine: Engine, key_id: int, now: dt.datetime
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The key's bets with status, profit and CLV (once first pitch is past at `now`),
    oldest first; and their summary."""
    bets = read_bets(engine, key_id)
    ids = [b.game_id for b in bets]
    scores, states = read_scores(engine, ids), game_states(engine, ids)
    closes = closing_lines(engine, ids, now)
    rows, graded = [], []
    for bet in bets:
        postponed = states.get(bet.game_id, (None, ""))[1] == GameStatus.POSTPONED.value
        settled = settle(bet, scores.get(bet.game_id), postponed)
        closing = _closing_p(closes.get(bet.game_id), bet.side)
        value = clv(bet.price, closing) if closing is not None else None
        graded.append((bet, settled, value))
        rows.append(_row(bet, settled, closing, value))
    return rows, dataclasses.asdict(summarize(graded))


def _closing_p(books: list[Any] | None, side: str) -> float | None:
    if not books:
        return None
    home, away = consensus(books)
    return home if side == "home" else away


def _row(bet: Bet, settled: Settled, closing_p: float | None, value: float | None) -> dict:
    return {
        "id": bet.id, "game_id": bet.game_id, "side": bet.side, "price": bet.price,
        "book": bet.book, "stake": bet.stake, "placed_at": bet.placed_at,
        "status": settled.status.value, "profit": settled.profit,
        "closing_p": closing_p, "clv": value, "beat_close": None if value is None else value > 0,
    }  # fmt: skip


__all__ = ["BetConflict", "BetGameNotFound", "BetRefused", "BetStatus", "place", "tracked"]
