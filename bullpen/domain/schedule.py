"""Scheduled games, announced starters and results as the outside world reports them.

Every feed (Retrosheet schedule files, the MLB Stats API, the operator's drop
folder, a day's game logs) is an adapter that turns its format into these
records plus `FeedIssue`s for what it could not use. Nothing here does I/O.

A game's lifecycle is ``scheduled → (postponed | suspended) → final``; a
postponed game keeps its original id and the makeup is a new game (its own id,
on its own date), as Retrosheet numbers them. `next_status` is the one rule for
which moves are allowed.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bullpen.domain.gamelogs import game_id

__all__ = ["GAME_ID", "FeedBatch", "FeedIssue", "FinalScore", "GameStatus", "LifecycleError",
           "ScheduledGame", "StarterAnnouncement", "default_first_pitch", "game_id",
           "next_status"]  # fmt: skip

GAME_ID = re.compile(r"[A-Z][A-Z0-9]{2}\d{8}[0-3]")


class GameStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    POSTPONED = "postponed"
    SUSPENDED = "suspended"
    FINAL = "final"


# Allowed moves. A postponed game can come back (the feed corrected itself, or an
# operator re-scheduled it the same day); a final game never changes status.
_MOVES: dict[GameStatus, frozenset[GameStatus]] = {
    GameStatus.SCHEDULED: frozenset(GameStatus),
    GameStatus.POSTPONED: frozenset({GameStatus.POSTPONED, GameStatus.SCHEDULED}),
    GameStatus.SUSPENDED: frozenset({GameStatus.SUSPENDED, GameStatus.FINAL}),
    GameStatus.FINAL: frozenset({GameStatus.FINAL}),
}


DAY_GAME_START = dt.time(13, 5)
NIGHT_GAME_START = dt.time(19, 5)
EASTERN = ZoneInfo("America/New_York")


def default_first_pitch(date: dt.date, day_night: str | None) -> dt.datetime:
    """When a game starts if no feed says: 13:05 US Eastern for a day game, 19:05 for a
    night game or one whose day/night is unknown; in UTC."""
    local = DAY_GAME_START if (day_night or "").lower() == "d" else NIGHT_GAME_START
    return dt.datetime.combine(date, local, tzinfo=EASTERN).astimezone(dt.UTC)


class LifecycleError(ValueError):
    """A status change the lifecycle does not allow (e.g. final → scheduled)."""


def next_status(current: GameStatus | None, new: GameStatus) -> GameStatus:
    """`new` if a game may move there from `current` (None: not known yet), else LifecycleError."""
    if current is None or new in _MOVES[current]:
        return new
    raise LifecycleError(f"a {current.value} game cannot become {new.value}")


@dataclass(frozen=True, slots=True)
class ScheduledGame:
    """One game as a schedule feed reports it.

    `first_pitch` is UTC when the feed knows it (None: use the day/night default).
    A postponed game carries the reason and, when known, its makeup date; the
    makeup itself is a separate `ScheduledGame` on that date.
    """

    game_id: str
    date: dt.date
    game_number: int  # 0 single game, 1/2 doubleheader
    season: int
    home: str
    away: str
    home_league: str | None
    away_league: str | None
    day_night: str | None  # "d", "n" or None when the feed does not say
    status: GameStatus
    source: str  # e.g. "retrosheet:2023schedule.csv", "mlb-stats-api", "dropfolder:x.csv"
    first_pitch: dt.datetime | None = None
    postponed_reason: str | None = None
    makeup_date: dt.date | None = None
    location: str | None = None  # 2024+ Retrosheet files: a park when not the home park
    external_id: str | None = None  # the feed's own id (MLB gamePk)


@dataclass(frozen=True, slots=True)
class StarterAnnouncement:
    """A probable starting pitcher for one side of one game, as a feed announced it.

    `pitcher_id` is the Retrosheet id, or None when the feed's pitcher could not be
    matched to one the store has seen: the explicit "unknown starter" state, which
    the features price as a debut starter (the game is never dropped).
    """

    game_id: str
    side: str  # "home" or "away"
    pitcher_id: str | None
    pitcher_name: str
    team: str
    announced_at: dt.datetime
    source: str


@dataclass(frozen=True, slots=True)
class FinalScore:
    """A finished game's score as a schedule feed reports it (the MLB Stats API's
    final state). Enough to settle and grade predictions; the features wait for the
    game's full game-log line."""

    game_id: str
    home_score: int
    away_score: int
    source: str


@dataclass(frozen=True, slots=True)
class FeedIssue:
    """A record a feed could not use, with where it came from and why: quarantined, not dropped."""

    source: str  # the file or URL
    location: str  # "line 17", "dates[0].games[3]", …
    reason: str
    text: str  # the raw record, so nothing is lost


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """What one read of a feed produced."""

    games: tuple[ScheduledGame, ...] = ()
    starters: tuple[StarterAnnouncement, ...] = ()
    finals: tuple[FinalScore, ...] = ()
    issues: tuple[FeedIssue, ...] = ()
