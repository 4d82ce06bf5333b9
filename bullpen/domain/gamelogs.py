"""Parse and validate Retrosheet game-log lines into typed game records.

Pure functions: text in, records and quarantined lines out. Reading files,
archives and URLs lives in `bullpen.sources.gamelogs`; writing to the store in
`bullpen.store`. Field numbers below are 1-based, as in Retrosheet's
`glfields.txt`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields

import pandas as pd

from bullpen.domain.teams import KNOWN_TEAMS

FIELD_COUNT = 161
GAME_NUMBERS = frozenset("0123")

# Offensive stats per team, fields 22-38 (visitor) and 50-66 (home), in this order.
_OFFENSE = ("ab", "h", "d", "t", "hr", "rbi", "sh", "sf", "hbp", "bb", "ibb", "k",
            "sb", "cs", "gidp", "ci", "lob")  # fmt: skip
_VIS_OFFENSE_AT = 21  # 0-based index of field 22
_HOME_OFFENSE_AT = 49  # 0-based index of field 50
# Pitchers used is the first pitching stat: field 39 (visitor), 67 (home).
_VIS_PITCHERS_USED_AT = 38
_HOME_PITCHERS_USED_AT = 66
# Errors: field 46 (visitor defense), 74 (home defense).
_VIS_ERRORS_AT = 45
_HOME_ERRORS_AT = 73


class GameLogError(ValueError):
    """A line that is not a valid game-log record; the message names the reason."""


@dataclass(frozen=True, slots=True)
class GameRecord:
    """One completed regular-season game, as the features need it.

    `source_line` keeps the original text so nothing in the 161 fields is lost.
    """

    game_id: str
    date: dt.date
    game_number: int
    season: int
    home: str
    away: str
    home_league: str
    away_league: str
    home_score: int
    away_score: int
    outs: int | None
    day_night: str
    park: str
    home_sp_id: str
    home_sp_name: str
    away_sp_id: str
    away_sp_name: str
    # Team offence in this game; the opponent's pitchers allowed these.
    home_ab: int
    home_bb: int
    home_hbp: int
    home_sf: int
    home_sh: int
    home_k: int
    home_h: int
    home_hr: int
    away_ab: int
    away_bb: int
    away_hbp: int
    away_sf: int
    away_sh: int
    away_k: int
    away_h: int
    away_hr: int
    home_pitchers_used: int
    away_pitchers_used: int
    home_errors: int
    away_errors: int
    source_line: str


GAME_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(GameRecord))


@dataclass(frozen=True, slots=True)
class QuarantinedLine:
    """A rejected line: where it came from, why, and the text itself."""

    source: str
    line_number: int
    reason: str
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line_number}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    games: list[GameRecord]
    quarantined: list[QuarantinedLine]


def game_id(home: str, date: dt.date, game_number: int) -> str:
    """Retrosheet's game id: home team + yyyymmdd + game number (`NYA201004040`)."""
    return f"{home}{date:%Y%m%d}{game_number}"


def parse_date(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise GameLogError(f"bad date {text!r}: expected yyyymmdd")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise GameLogError(f"bad date {text!r}: {exc}") from None


def _int(row: list[str], index: int, name: str) -> int:
    text = row[index].strip()
    if not text.lstrip("-").isdigit():
        raise GameLogError(f"field {index + 1} ({name}) is not a number: {text!r}")
    return int(text)


def _stat(row: list[str], index: int) -> int:
    # Team stats are blank in a few old logs; a blank stat is 0, not an error.
    text = row[index].strip()
    return int(text) if text.lstrip("-").isdigit() else 0


def _team(row: list[str], index: int, side: str) -> str:
    code = row[index]
    if code not in KNOWN_TEAMS:
        raise GameLogError(f"field {index + 1} ({side} team) is an unknown team code: {code!r}")
    return code


def _offense(row: list[str], start: int, prefix: str) -> dict[str, int]:
    wanted = ("ab", "bb", "hbp", "sf", "sh", "k", "h", "hr")
    return {f"{prefix}_{n}": _stat(row, start + _OFFENSE.index(n)) for n in wanted}


def parse_row(row: list[str], line: str) -> GameRecord:
    """Validate one CSV-split game-log row and build its record."""
    if len(row) != FIELD_COUNT:
        raise GameLogError(f"expected {FIELD_COUNT} fields, found {len(row)}")
    date = parse_date(row[0])
    if row[1] not in GAME_NUMBERS:
        raise GameLogError(f"field 2 (game number) must be one of 0-3, found {row[1]!r}")
    number = int(row[1])
    away, home = _team(row, 3, "visiting"), _team(row, 6, "home")
    if away == home:
        raise GameLogError(f"home and visiting team are both {home!r}")
    outs_text = row[11].strip()
    return GameRecord(
        game_id=game_id(home, date, number),
        date=date,
        game_number=number,
        season=date.year,
        home=home,
        away=away,
        home_league=row[7],
        away_league=row[4],
        home_score=_int(row, 10, "home score"),
        away_score=_int(row, 9, "visiting score"),
        outs=int(outs_text) if outs_text.isdigit() else None,
        day_night=row[12],
        park=row[16],
        home_sp_id=row[103],
        home_sp_name=row[104],
        away_sp_id=row[101],
        away_sp_name=row[102],
        **_offense(row, _HOME_OFFENSE_AT, "home"),
        **_offense(row, _VIS_OFFENSE_AT, "away"),
        home_pitchers_used=_stat(row, _HOME_PITCHERS_USED_AT),
        away_pitchers_used=_stat(row, _VIS_PITCHERS_USED_AT),
        home_errors=_stat(row, _HOME_ERRORS_AT),
        away_errors=_stat(row, _VIS_ERRORS_AT),
        source_line=line,
    )


def parse_lines(lines: Iterable[str], source: str) -> ParseResult:
    """Parse every line; bad lines are quarantined with file, line number and reason."""
    games: list[GameRecord] = []
    quarantined: list[QuarantinedLine] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            record = parse_row(_split(text), text)
            if record.game_id in seen:
                raise GameLogError(
                    f"duplicate game id {record.game_id} (first on line {seen[record.game_id]})"
                )
        except GameLogError as exc:
            quarantined.append(QuarantinedLine(source, number, str(exc), text))
            continue
        seen[record.game_id] = number
        games.append(record)
    return ParseResult(games, quarantined)


def _split(text: str) -> list[str]:
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise GameLogError(f"malformed CSV: {exc}") from None
    return rows[0] if rows else []


def records_frame(records: Iterable[GameRecord]) -> pd.DataFrame:
    """Game records as the frame the features read (no `source_line`)."""
    columns = [c for c in GAME_COLUMNS if c != "source_line"]
    frame = pd.DataFrame.from_records(
        [tuple(getattr(r, c) for c in columns) for r in records], columns=columns
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.sort_values(["date", "game_number", "game_id"], ignore_index=True)
