"""Tracked bets: settlement from results, closing-line value against the close.

A bet is a side of a game's moneyline at a decimal price, a book and a stake, placed
before first pitch. It settles from the final score: won pays stake x (price - 1),
lost costs the stake; a postponed game voids it (its makeup is another game) and
a game not final yet leaves it open. Its closing-line value is the closing line's
de-vigged probability of the side minus the bet's implied probability (1/price):
positive means the bet got a better price than the market closed at, the
yardstick bettors trust more than a short run of results.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from bullpen.domain.odds import check_decimal, check_probability

SIDES = ("home", "away")


class BetStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class Bet:
    id: int
    key_id: int
    game_id: str
    side: str
    price: float  # decimal
    book: str
    stake: float
    placed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Settled:
    status: BetStatus
    profit: float  # 0 while open or void


def settle(bet: Bet, score: tuple[int, int] | None, postponed: bool = False) -> Settled:
    """The bet against the final (home, away) score; None: not final yet."""
    if postponed:
        return Settled(BetStatus.VOID, 0.0)
    if score is None or score[0] == score[1]:  # a tie is no result (suspended, abandoned)
        return Settled(BetStatus.OPEN, 0.0)
    home_won = score[0] > score[1]
    if home_won == (bet.side == "home"):
        return Settled(BetStatus.WON, bet.stake * (bet.price - 1.0))
    return Settled(BetStatus.LOST, -bet.stake)


def clv(price: float, closing_p: float) -> float:
    """Closing-line value: the close's fair probability of the side minus the price's
    implied probability (positive: the bet beat the close)."""
    return check_probability(closing_p) - 1.0 / check_decimal(price)


@dataclass(frozen=True, slots=True)
class Summary:
    bets: int
    open: int
    settled: int  # won or lost
    staked: float  # on settled bets
    profit: float
    roi: float | None  # profit / staked, None before a bet settles
    with_close: int  # bets whose game has a closing line
    mean_clv: float | None
    beat_close: int  # bets with CLV above 0


def summarize(settled: Sequence[tuple[Bet, Settled, float | None]]) -> Summary:
    """Totals of (bet, settlement, CLV or None) rows."""
    done = [(b, s) for b, s, _ in settled if s.status in (BetStatus.WON, BetStatus.LOST)]
    staked = sum(b.stake for b, _ in done)
    profit = sum(s.profit for _, s in done)
    values = [c for _, _, c in settled if c is not None]
    return Summary(
        bets=len(settled),
        open=sum(s.status == BetStatus.OPEN for _, s, _ in settled),
        settled=len(done),
        staked=staked,
        profit=profit,
        roi=profit / staked if staked else None,
        with_close=len(values),
        mean_clv=sum(values) / len(values) if values else None,
        beat_close=sum(c > 0 for c in values),
    )
