"""Retrosheet schedule files → `ScheduledGame`s, and a `FeedIssue` for every row not used.

The format (`/work/shared/data/retrosheet/schedules/README.md`): an optional header row,
then one comma-separated row per game, read by position because two header names repeat:

    Date, Num, Day, Visitor, League, Game, Home, League, Game, Day/Night,
    [Location,] Postponed, Makeup

`Location` (a park other than the home park) exists from the 2024 files on; the layout
(12 or 13 fields) is decided once per file, from the header or else the rows' field counts.

What this adapter adds to what the file says:

* A postponed row stays on its original date, status POSTPONED, with its own id; the
  makeup date comes from the Makeup field (`yyyymmdd`, or a note holding exactly one such
  date). A Makeup field that is not a bare date is kept in `postponed_reason`.
* The makeup itself is not a row of the file: it is emitted here as a SCHEDULED game on the
  makeup date, same teams, same home team (every 2023 makeup was played at the original
  home park), `day_night` None (the file does not say when it starts).
* A makeup that lands on a date the home team already plays forms a doubleheader, numbered
  by `_doubleheader_order`. **The single game already on that date then changes id** from
  `HOMEyyyymmdd0` to `...1` or `...2`: the id this batch gives it is not the id its row
  would give on its own. Measured on 2023 (tests): all 42 makeups and all 2,388 games
  played as scheduled get an id that is in the 2023 game log.
* Suspended games are not marked in schedule files (a suspended game is a row like any
  other); suspension comes from the results feeds, never from here.
* The files hold no start times: `first_pitch` stays None and `first_pitch_default` is the
  one rule for a default.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bullpen.domain.schedule import (
    FeedBatch,
    FeedIssue,
    GameStatus,
    ScheduledGame,
    default_first_pitch,
    game_id,
)
from bullpen.domain.teams import KNOWN_TEAMS
from bullpen.sources.errors import SourceError

# Retrosheet publishes latin-1 text; decoding it never fails, so a bad byte becomes a bad
# row (with its line number) instead of an unreadable file.
ENCODING = "latin-1"
# A season's schedule is ~150 KB: anything this large is not one, and is not read whole.
MAX_SCHEDULE_BYTES = 16 * 1024 * 1024
GAME_NUMBERS: dict[str, int] = {"0": 0, "1": 1, "2": 2}
_DATE = re.compile(r"\d{8}")
_DATE_IN_NOTE = re.compile(r"(?<!\d)\d{8}(?!\d)")
_SEASON_IN_NAME = re.compile(r"(?<!\d)(\d{4})schedule", re.IGNORECASE)


class ScheduleFileError(SourceError):
    """A schedule file that could not be read at all (missing, too large, empty).

    `str()` gives `"name: problem"`.
    """

    @property
    def name(self) -> str:
        return self.where


class _RowError(ValueError):
    """A row that cannot be used; the message is the reason."""


@dataclass(frozen=True, slots=True)
class _Layout:
    width: int
    location: int | None  # 0-based index of the Location column (2024+ files)

    @property
    def postponed(self) -> int:
        return self.width - 2

    @property
    def makeup(self) -> int:
        return self.width - 1


_LAYOUTS: dict[int, _Layout] = {12: _Layout(12, None), 13: _Layout(13, 10)}


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str
    fields: list[str] | None  # None: the line is not CSV (the issue is already recorded)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    text: str
    game: ScheduledGame


# --- public API ------------------------------------------------------------------


def read_schedule(path: Path, *, max_bytes: int = MAX_SCHEDULE_BYTES) -> FeedBatch:
    """Parse a Retrosheet schedule file; its source name is `retrosheet:{file name}`.

    The season is the year in the name (`2023schedule.csv`) when there is one. Raises
    ScheduleFileError when the file cannot be read, is empty or is larger than `max_bytes`.
    """
    path = Path(path)
    raw = _read_bounded(path, max_bytes)
    if not raw.strip():
        raise ScheduleFileError(path.name, "file is empty")
    match = _SEASON_IN_NAME.search(path.name)
    season = int(match.group(1)) if match else None
    return parse_schedule(_lines(raw.decode(ENCODING)), f"retrosheet:{path.name}", season=season)


def parse_schedule(lines: Iterable[str], source: str, *, season: int | None = None) -> FeedBatch:
    """The games (makeups included) of schedule-file lines, and an issue per unusable row.

    `lines` may end in CRLF or LF, and may or may not start with the header. `season`
    (None: the most common year of the rows' dates) is the year every date must be in.
    """
    issues: list[FeedIssue] = []
    header, lines_read = _header_and_rows(_split_lines(lines, source, issues))
    layout = _choose_layout(header, lines_read, source, issues)
    if season is None:
        season = _likely_season(lines_read)
    rows = _parse_rows(lines_read, layout, season, source, issues)
    games = _with_makeups(rows, source, issues)
    games.sort(key=lambda g: (g.date, g.game_id))
    issues.sort(key=_line_number)
    return FeedBatch(games=tuple(games), issues=tuple(issues))


def first_pitch_default(game: ScheduledGame) -> dt.datetime:
    """When `game` starts if no feed says: 13:05 US Eastern for a day game, 19:05 for a
    night game or one whose day/night is unknown; in UTC."""
    return default_first_pitch(game.date, game.day_night)


# --- reading and splitting -------------------------------------------------------


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)  # one byte more tells "too large" apart
    except OSError as exc:
        raise ScheduleFileError(path.name, f"cannot read: {exc}") from exc
    if len(raw) > max_bytes:
        problem = f"larger than {max_bytes} bytes: not a schedule file (limit: max_bytes)"
        raise ScheduleFileError(path.name, problem)
    return raw


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines would also split on U+0085, which is what the
    # latin-1 byte 0x85 decodes to, and so shift every later line number.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _split_lines(lines: Iterable[str], source: str, issues: list[FeedIssue]) -> Iterator[_Line]:
    """The non-blank lines, numbered as in the file, split into fields."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue  # a blank line holds no game: nothing is lost by skipping it
        try:
            yield _Line(number, text, _split(text))
        except _RowError as exc:
            issues.append(FeedIssue(source, f"line {number}", str(exc), text))
            yield _Line(number, text, None)


def _split(text: str) -> list[str]:
    if "\x00" in text:
        raise _RowError("line contains a NUL byte: not a schedule row")
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise _RowError(f"malformed CSV: {exc}") from None
    return [field.strip() for field in rows[0]] if rows else []


def _header_and_rows(lines: Iterator[_Line]) -> tuple[_Line | None, list[_Line]]:
    """The header (only the first line can be one) and the other lines."""
    read = list(lines)
    first = read[0] if read else None
    if first is not None and first.fields and first.fields[0].lower() == "date":
        return first, read[1:]
    return None, read


def _choose_layout(
    header: _Line | None, lines: list[_Line], source: str, issues: list[FeedIssue]
) -> _Layout:
    """The header's layout; without a usable header, the one most rows have (ties: 12)."""
    if header is not None and header.fields is not None and len(header.fields) in _LAYOUTS:
        return _LAYOUTS[len(header.fields)]
    counts = Counter(len(line.fields) for line in lines if line.fields is not None)
    width = max(_LAYOUTS, key=lambda w: (counts[w], w == 12))
    if header is not None and header.fields is not None:
        reason = f"header has {len(header.fields)} fields, expected 12 or 13; using {width}"
        issues.append(FeedIssue(source, f"line {header.number}", reason, header.text))
    return _LAYOUTS[width]


def _line_number(issue: FeedIssue) -> int:
    return int(issue.location.removeprefix("line "))  # every location here is "line N"


def _likely_season(lines: list[_Line]) -> int | None:
    years = Counter(
        line.fields[0][:4] for line in lines if line.fields and _DATE.fullmatch(line.fields[0])
    )
    return int(years.most_common(1)[0][0]) if years else None


# --- rows ------------------------------------------------------------------------


def _parse_rows(
    lines: list[_Line], layout: _Layout, season: int | None, source: str, issues: list[FeedIssue]
) -> list[_Row]:
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    for line in lines:
        if line.fields is None:
            continue
        try:
            game = _parse_row(line.fields, layout, season, source)
            if game.game_id in first_line:
                raise _RowError(
                    f"duplicate game id {game.game_id} (first on line {first_line[game.game_id]})"
                )
        except _RowError as exc:
            issues.append(FeedIssue(source, f"line {line.number}", str(exc), line.text))
            continue
        first_line[game.game_id] = line.number
        rows.append(_Row(line.number, line.text, game))
    return rows


def _parse_row(
    fields: list[str], layout: _Layout, season: int | None, source: str
) -> ScheduledGame:
    if len(fields) != layout.width:
        raise _RowError(f"expected {layout.width} fields (the file's layout), found {len(fields)}")
    date = _date(fields[0], "date", season)
    if fields[1] not in GAME_NUMBERS:
        raise _RowError(f"field 2 (Num) must be 0, 1 or 2, found {fields[1]!r}")
    number = GAME_NUMBERS[fields[1]]
    away, home = _team(fields[3], "visitor"), _team(fields[6], "home")
    if away == home:
        raise _RowError(f"home and visiting team are both {home!r}")
    _season_game_number(fields[5], 6)
    _season_game_number(fields[8], 9)
    reason, makeup = _postponement(fields[layout.postponed], fields[layout.makeup], date, season)
    location = fields[layout.location] if layout.location is not None else ""
    return ScheduledGame(
        game_id=game_id(home, date, number),
        date=date,
        game_number=number,
        season=date.year,
        home=home,
        away=away,
        home_league=fields[7] or None,
        away_league=fields[4] or None,
        day_night=_day_night(fields[9]),
        status=GameStatus.POSTPONED if reason else GameStatus.SCHEDULED,
        source=source,
        postponed_reason=reason,
        makeup_date=makeup,
        location=location or None,
    )


def _date(text: str, what: str, season: int | None) -> dt.date:
    if not _DATE.fullmatch(text):
        raise _RowError(f"bad {what} {text!r}: expected yyyymmdd")
    try:
        date = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise _RowError(f"bad {what} {text!r}: {exc}") from None
    if season is not None and date.year != season:
        raise _RowError(f"{what} {date} is outside the {season} season")
    return date


def _team(code: str, side: str) -> str:
    if code not in KNOWN_TEAMS:
        raise _RowError(f"unknown {side} team code {code!r}")
    return code


def _season_game_number(text: str, field: int) -> None:
    # Not kept (the store numbers games itself), but a non-number here means the row is
    # not what the layout says it is.
    if not text.isdigit() or int(text) < 1:
        raise _RowError(f"field {field} (team game number) is not a positive integer: {text!r}")


def _day_night(text: str) -> str | None:
    value = text.lower()
    if value not in ("d", "n", ""):
        raise _RowError(f"Day/Night must be 'd', 'n' or empty, found {text!r}")
    return value or None


def _postponement(
    reason: str, note: str, date: dt.date, season: int | None
) -> tuple[str | None, dt.date | None]:
    """(reason, makeup date) of a row: (None, None) when the game was not postponed."""
    if not reason:
        if note:
            raise _RowError(f"makeup {note!r} given for a game that was not postponed")
        return None, None
    makeup = _makeup_date(note, date, season)
    if note and not _DATE.fullmatch(note):
        reason = f"{reason} (makeup: {note})"  # a note, or no single date: keep every word
    return reason, makeup


def _makeup_date(note: str, date: dt.date, season: int | None) -> dt.date | None:
    found = _DATE_IN_NOTE.findall(note)
    if len(found) != 1:
        return None  # no date, or several: which one is the makeup is not ours to guess
    makeup = _date(found[0], "makeup date", season)
    # Retrosheet writes a game moved *forward* as a note ("game played a day early;
    # 20230819", Hurricane Hilary 2023); a bare earlier date is a typo.
    if makeup < date and "early" not in note.lower():
        raise _RowError(f"makeup date {makeup} is before the original date {date}")
    if makeup == date:
        raise _RowError(f"makeup date {makeup} is the original date")
    return makeup


# --- makeups and the doubleheaders they form ---------------------------------------


def _with_makeups(rows: list[_Row], source: str, issues: list[FeedIssue]) -> list[ScheduledGame]:
    """The file's games plus a game per makeup date, every date of a home team numbered.

    Every row of the file (postponed ones too: the schedule had them there) takes a place
    on its date; a makeup that would be a home team's third game that date is an issue.
    """
    days: dict[tuple[str, dt.date], list[ScheduledGame]] = defaultdict(list)
    for row in rows:
        days[row.game.home, row.game.date].append(row.game)
    pending: dict[tuple[str, dt.date], list[_Row]] = defaultdict(list)
    for row in rows:
        if row.game.makeup_date is not None:
            pending[row.game.home, row.game.makeup_date].append(row)
    for key, postponed in sorted(pending.items()):
        postponed.sort(key=lambda row: (row.game.date, row.line))  # earlier postponed first
        room = max(0, 2 - len(days[key]))
        for row in postponed[room:]:
            reason = f"makeup on {key[1]} would be {key[0]}'s third game that day; not scheduled"
            issues.append(FeedIssue(source, f"line {row.line}", reason, row.text))
        makeups = [_makeup_of(row.game, key[1]) for row in postponed[:room]]
        if makeups:
            days[key] = _number_day(days[key], makeups)
    return [game for day in days.values() for game in day]


def _makeup_of(game: ScheduledGame, date: dt.date) -> ScheduledGame:
    """The game that makes up postponed `game` on `date` (numbered by `_number_day`)."""
    return dataclasses.replace(
        game,
        game_id=game_id(game.home, date, 0),
        date=date,
        game_number=0,
        day_night=None,
        status=GameStatus.SCHEDULED,
        postponed_reason=None,
        makeup_date=None,
        location=None,
    )


def _number_day(existing: list[ScheduledGame], makeups: list[ScheduledGame]) -> list[ScheduledGame]:
    """One home team's games on one date (at most two), numbered as Retrosheet does."""
    if not existing and len(makeups) == 1:
        return [_numbered(makeups[0], 0)]
    if len(existing) == 1 and existing[0].game_number in (1, 2):
        # Half a scheduled doubleheader is in the file: the makeup takes the other half.
        return [existing[0], _numbered(makeups[0], 3 - existing[0].game_number)]
    order = _doubleheader_order(existing, makeups)
    return [_numbered(game, number) for number, game in enumerate(order, start=1)]


def _doubleheader_order(
    existing: list[ScheduledGame], makeups: list[ScheduledGame]
) -> list[ScheduledGame]:
    """Which game is first when makeups join a date.

    A day game already on the date keeps its slot and is game 1; otherwise the makeup goes
    first (a split doubleheader adds the makeup on the free side of the day). 2023 shows
    both: DET 2023-04-29 kept its 1:10 pm game as game 1, the rained-out Friday game
    became game 2; BOS 2023-06-18 played the makeup at 1:35 pm as game 1 before its
    Sunday night game. Checked against GL2023's day/night in the tests. Two makeups go in
    the order they were postponed.
    """
    if existing and existing[0].day_night == "d":
        return [*existing, *makeups]
    return [*makeups, *existing]


def _numbered(game: ScheduledGame, number: int) -> ScheduledGame:
    if game.game_number == number:
        return game
    new_id = game_id(game.home, game.date, number)
    return dataclasses.replace(game, game_id=new_id, game_number=number)
