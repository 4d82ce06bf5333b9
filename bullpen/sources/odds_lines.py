"""Odds lines as feeds report them, and their matching to the schedule's game ids.

Every odds adapter (The Odds API's JSON, the plain CSV) yields `OddsLine`s: a book's
prices for a game named by date and teams (and a game number, or a start time for
a doubleheader), plus `FeedIssue`s for what it could not read. `match_lines` turns
lines into `OddsSnapshot`s keyed by bullpen game ids, or issues saying why not.

Prices are checked here, where the feed's format is known: decimal odds must be
above 1, American ones outside (-100, +100), and the two sides' implied
probabilities must add up to a book's plausible margin (`MIN_BOOK_TOTAL` to
`MAX_BOOK_TOTAL`): far outside that the line is a data error, not a market.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bullpen.domain.market import OddsSnapshot
from bullpen.domain.odds import OddsError, american_to_decimal, check_decimal
from bullpen.domain.schedule import EASTERN, FeedIssue

PRICE_FORMATS = ("decimal", "american")
# Sum of a book's two implied probabilities: a two-way line carries 2-10 % margin; a
# small negative one is a promotion. Beyond these it is a typo or a wrong market.
MIN_BOOK_TOTAL = 0.97
MAX_BOOK_TOTAL = 1.25


class Unusable(ValueError):
    """A record (or part of one) an odds feed reported in a form that cannot be used."""


def utc_time(value: object, field: str) -> dt.datetime:
    """An ISO 8601 time with its offset ("Z" too), in UTC; a time without one is refused."""
    if not isinstance(value, str):
        raise Unusable(f"{field} must be an ISO 8601 time, got {value!r}")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Unusable(f"{field} must be an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        raise Unusable(f"{field} {value!r} has no UTC offset")
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class OddsLine:
    """One book's two-way price for one game as a feed named it."""

    date: dt.date  # US Eastern
    home: str  # Retrosheet codes
    away: str
    book: str
    taken_at: dt.datetime  # UTC
    home_decimal: float
    away_decimal: float
    source: str
    location: str  # where in the feed: "line 4", "[3].bookmakers[1]"
    raw: str
    game_number: int | None = None  # the CSV says; The Odds API does not
    commence_time: dt.datetime | None = None  # The Odds API says: orders a doubleheader


@dataclass(frozen=True, slots=True)
class Slot:
    """A schedule game an odds line may be for."""

    game_id: str
    date: dt.date
    game_number: int
    home: str
    away: str


def to_decimal(value: object, price_format: str) -> float:
    """A feed's price as decimal odds; OddsError (with the reason) if it cannot be one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OddsError(f"price must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise OddsError(f"price must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise OddsError(f"price must be finite, got {value!r}")
    if price_format == "american":
        return american_to_decimal(number)
    if price_format == "decimal":
        return check_decimal(number)
    raise OddsError(f"format must be one of {', '.join(PRICE_FORMATS)}, got {price_format!r}")


def check_margin(home_decimal: float, away_decimal: float) -> None:
    total = 1.0 / home_decimal + 1.0 / away_decimal
    if not MIN_BOOK_TOTAL <= total <= MAX_BOOK_TOTAL:
        raise OddsError(
            f"implied probabilities add up to {total:.3f}, outside a book's "
            f"{MIN_BOOK_TOTAL}-{MAX_BOOK_TOTAL}: not a two-way moneyline"
        )


def eastern_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(EASTERN).date()


def match_lines(
    lines: Sequence[OddsLine], slots: Iterable[Slot]
) -> tuple[list[OddsSnapshot], list[FeedIssue]]:
    """Each line's game id: by date, home and away, then the game number; without one
    (The Odds API), a doubleheader's events in start-time order take games 1 and 2."""
    by_teams: dict[tuple[dt.date, str, str], list[Slot]] = {}
    for slot in slots:
        by_teams.setdefault((slot.date, slot.home, slot.away), []).append(slot)
    order = _start_order(lines)
    snapshots: list[OddsSnapshot] = []
    issues: list[FeedIssue] = []
    for line in lines:
        found = sorted(by_teams.get((line.date, line.home, line.away), []),
                       key=lambda s: s.game_number)  # fmt: skip
        game = _pick(line, found, order)
        if isinstance(game, str):
            issues.append(FeedIssue(line.source, line.location, game, line.raw))
            continue
        snapshots.append(OddsSnapshot(game.game_id, line.book, line.taken_at, line.home_decimal,
                                      line.away_decimal, line.source))  # fmt: skip
    return snapshots, issues


def _start_order(lines: Sequence[OddsLine]) -> dict[tuple[dt.date, str, str], list[dt.datetime]]:
    """The distinct start times of each date and matchup, earliest first."""
    starts: dict[tuple[dt.date, str, str], set[dt.datetime]] = {}
    for line in lines:
        if line.commence_time is not None:
            starts.setdefault((line.date, line.home, line.away), set()).add(line.commence_time)
    return {key: sorted(times) for key, times in starts.items()}


def _pick(
    line: OddsLine, found: list[Slot], order: dict[tuple[dt.date, str, str], list[dt.datetime]]
) -> Slot | str:
    where = f"{line.away}@{line.home} on {line.date}"
    if not found:
        return f"no scheduled game {where}"
    if line.game_number is not None:
        numbered = [s for s in found if s.game_number == line.game_number]
        return numbered[0] if numbered else f"no game number {line.game_number} {where}"
    if len(found) == 1:
        return found[0]
    starts = order.get((line.date, line.home, line.away), [])
    if len(starts) != len(found) or line.commence_time is None:
        return (f"{len(found)} games {where} but {len(starts)} distinct start times in the "
                f"feed: which game is meant is ambiguous")  # fmt: skip
    return found[starts.index(line.commence_time)]
