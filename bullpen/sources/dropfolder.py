"""The operator's drop folder: CSV or JSON files that correct the schedule feeds.

Two kinds of file, told apart by their columns (CSV header, JSON object keys),
never by their name, so a renamed file still reads the same:

* starters: ``game_id,side,pitcher_id,pitcher_name`` and optionally ``team`` and
  ``moved`` (``true`` when the pitcher changed teams since the store last saw him: a
  trade; without it a known pitcher announced for another team is refused).
  `pitcher_id` (Retrosheet) may be empty: the name is then matched with the
  `PitcherIndex` against the side's team. The game id names only the home team,
  so an away starter needs a `team` or a `pitcher_id`.
* postponements: ``game_id,reason`` and optionally ``makeup_date`` (YYYY-MM-DD).

JSON files hold a list of objects with the same fields (null for an empty
value). Values are stripped of surrounding spaces and otherwise taken as
written: game ids, sides and team codes must be spelt exactly.

An operator's correction overrides the feeds, so it is held to a stricter bar
than a feed: a row that is ambiguous or contradicts what the store knows (a
name that does not match, a pitcher last seen on another team) is a
`FeedIssue` naming the file and line (CSV) or index (JSON), never a guess.
Nothing here raises on bad content; one bad row loses nothing else.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bullpen.domain.pitchers import PitcherIndex
from bullpen.domain.schedule import GAME_ID, FeedBatch, FeedIssue, StarterAnnouncement
from bullpen.domain.teams import KNOWN_TEAMS

log = logging.getLogger(__name__)

# A drop file is a handful of hand-written rows; anything this large is a mistake.
MAX_FILE_BYTES = 4 * 1024 * 1024
SUFFIXES = frozenset({".csv", ".json"})
STARTERS = "starters"
POSTPONEMENTS = "postponements"
# Each kind: (required fields, optional fields).
_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    STARTERS: (
        frozenset({"game_id", "side", "pitcher_id", "pitcher_name"}),
        frozenset({"team", "moved"}),
    ),
    POSTPONEMENTS: (frozenset({"game_id", "reason"}), frozenset({"makeup_date"})),
}
_SIDES = frozenset({"home", "away"})
# Every Retrosheet player id: 4 letters of the surname (padded with "-"), the
# first initial, 3 digits ("coleg001", "lee-c003").
_PITCHER_ID = re.compile(r"[a-z][a-z-]{4}\d{3}")
_FILE = "file"  # the location of an issue with the file as a whole
_PREVIEW_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Postponement:
    """An operator's word that a game is postponed, with the makeup date when known."""

    game_id: str
    reason: str
    makeup_date: dt.date | None
    source: str
    at: dt.datetime  # when the drop folder was read


@dataclass(frozen=True, slots=True)
class DropFile:
    """What one drop file gave: starters and issues in `batch`, and postponements.

    `kind` is "starters", "postponements", or None when the file could not be
    read far enough to tell. `key` ("name:sha256") identifies this content of
    this file, for a sensor to remember what it has handled.
    """

    name: str
    sha256: str
    kind: str | None
    batch: FeedBatch
    postponements: tuple[Postponement, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}:{self.sha256}"


def read_drop_file(path: Path, pitchers: PitcherIndex, now: dt.datetime) -> DropFile:
    """Read one drop file; an unreadable one gives a DropFile whose only issue says why."""
    path = Path(path)
    try:
        data, sha256 = _read_bounded(path)
    except OSError as exc:
        return _rejected(path.name, "", f"cannot read: {exc}", "")
    return parse_drop_bytes(path.name, data, pitchers, now, sha256=sha256)


def scan_drop_folder(
    directory: Path, pitchers: PitcherIndex, now: dt.datetime, seen: Set[str]
) -> list[DropFile]:
    """The `*.csv` and `*.json` files in `directory` whose `key` is not in `seen`, by name.

    `seen` is not modified: add each returned file's `key` once it is handled,
    so a failure in between reads it again. Hidden files and symlinks are
    skipped, and so are files that cannot be read right now (retried next scan).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"drop folder {directory} does not exist or is not a directory")
    found = []
    for path in _drop_files(directory):
        try:
            data, sha256 = _read_bounded(path)
        except OSError as exc:  # vanished or still being written: the next scan retries
            log.warning("drop folder: skipping %s for now: %s", path.name, exc)
            continue
        if f"{path.name}:{sha256}" not in seen:
            found.append(parse_drop_bytes(path.name, data, pitchers, now, sha256=sha256))
    return found


def _drop_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.iterdir()):
        # Symlinks could point the reader anywhere on the host; dot-files are
        # editors' and copy tools' temporaries.
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        if path.suffix.lower() in SUFFIXES:
            yield path


def _read_bounded(path: Path) -> tuple[bytes, str]:
    """At most MAX_FILE_BYTES + 1 bytes of `path` and their sha256: enough to tell it is too big."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    return data, hashlib.sha256(data).hexdigest()


# --- parsing ---------------------------------------------------------------------


class _Rejected(ValueError):
    """A row (or a whole file) that cannot be used; the message is the reason."""


@dataclass(frozen=True, slots=True)
class _Row:
    location: str  # "line 3" or "[2]"
    fields: dict[str, str]
    text: str


def parse_drop_bytes(
    name: str, data: bytes, pitchers: PitcherIndex, now: dt.datetime, *, sha256: str = ""
) -> DropFile:
    """Parse the content of a drop file called `name` (its suffix says CSV or JSON)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    try:
        columns, rows, issues = _rows(name, data)
        kind = _kind(columns) if columns else None  # `[]`: nothing to read, nothing wrong
    except _Rejected as exc:
        return _rejected(name, sha256, str(exc), data[:_PREVIEW_CHARS].decode(errors="replace"))
    reader = _RowReader(f"dropfolder:{name}", pitchers, now)
    if kind == STARTERS:
        starters, more = reader.read(rows, reader.starter, _starter_key)
        return DropFile(name, sha256, kind, FeedBatch(starters=starters, issues=(*issues, *more)))
    if kind == POSTPONEMENTS:
        postponed, more = reader.read(rows, reader.postponement, _postponement_key)
        return DropFile(name, sha256, kind, FeedBatch(issues=(*issues, *more)), postponed)
    return DropFile(name, sha256, None, FeedBatch(issues=tuple(issues)))


def _rejected(name: str, sha256: str, reason: str, text: str) -> DropFile:
    issue = FeedIssue(f"dropfolder:{name}", _FILE, reason, text)
    return DropFile(name, sha256, None, FeedBatch(issues=(issue,)))


def _rows(name: str, data: bytes) -> tuple[set[str], list[_Row], list[FeedIssue]]:
    """The columns, the rows and issues for rows that are not even records."""
    if len(data) > MAX_FILE_BYTES:
        raise _Rejected(f"larger than {MAX_FILE_BYTES} bytes: not a drop file")
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is fine
    except UnicodeDecodeError as exc:
        raise _Rejected(f"not UTF-8 text: undecodable byte at offset {exc.start}") from exc
    if not text.strip():
        raise _Rejected("empty file")
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return _csv_rows(f"dropfolder:{name}", text)
    if suffix == ".json":
        return _json_rows(f"dropfolder:{name}", text)
    raise _Rejected(f"not a drop file: expected a name ending in {', '.join(sorted(SUFFIXES))}")


def _csv_rows(source: str, text: str) -> tuple[set[str], list[_Row], list[FeedIssue]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
        if not any(header):
            raise _Rejected("no header on line 1")
        if len(set(header)) != len(header):
            raise _Rejected(f"repeated column in header {header}")
        rows, issues = [], []
        start = reader.line_num + 1
        for record in reader:
            location, start = f"line {start}", reader.line_num + 1
            if not any(value.strip() for value in record):
                continue  # blank line
            if len(record) != len(header):
                reason = f"{len(record)} fields, the header has {len(header)}"
                issues.append(FeedIssue(source, location, reason, _csv_text(record)))
                continue
            values = {c: v.strip() for c, v in zip(header, record, strict=True)}
            rows.append(_Row(location, values, _csv_text(record)))
    except csv.Error as exc:
        raise _Rejected(f"not CSV at line {reader.line_num}: {exc}") from exc
    return set(header), rows, issues


def _csv_text(record: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(record)
    return out.getvalue()


def _json_rows(source: str, text: str) -> tuple[set[str], list[_Row], list[FeedIssue]]:
    try:
        items = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _Rejected(f"not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise _Rejected("expected a JSON list of objects")
    columns: set[str] = set()
    rows, issues = [], []
    for i, item in enumerate(items):
        location, raw = f"[{i}]", json.dumps(item, ensure_ascii=False, sort_keys=True)
        try:
            values = _json_values(item)
        except _Rejected as exc:
            issues.append(FeedIssue(source, location, str(exc), raw))
            continue
        columns.update(values)
        rows.append(_Row(location, values, raw))
    return columns, rows, issues


def _json_values(item: Any) -> dict[str, str]:
    if not isinstance(item, dict):
        raise _Rejected("not an object")
    values = {}
    for key, value in item.items():
        if value is not None and not isinstance(value, str):
            raise _Rejected(f"{key} must be a string or null, not {type(value).__name__}")
        values[key] = (value or "").strip()
    return values


def _kind(columns: set[str]) -> str:
    for kind, (required, optional) in _KINDS.items():
        if required <= columns <= required | optional:
            return kind
    expected = "; ".join(
        f"{kind} need {sorted(required)}, may add {sorted(optional)}"
        for kind, (required, optional) in _KINDS.items()
    )
    raise _Rejected(f"columns {sorted(columns)} fit no kind of drop file: {expected}")


def _starter_key(starter: StarterAnnouncement) -> str:
    return f"{starter.game_id} {starter.side}"


def _postponement_key(postponement: Postponement) -> str:
    return postponement.game_id


_Record = TypeVar("_Record", StarterAnnouncement, Postponement)


@dataclass(frozen=True, slots=True)
class _RowReader:
    """Turns rows into records; each row method raises `_Rejected` for a row it cannot use."""

    source: str
    pitchers: PitcherIndex
    now: dt.datetime

    def read(
        self,
        rows: Iterable[_Row],
        parse: Callable[[_Row], _Record],
        key: Callable[[_Record], str],
    ) -> tuple[tuple[_Record, ...], tuple[FeedIssue, ...]]:
        """The records of the rows that can be used, and an issue for each other row."""
        accepted: list[tuple[_Row, _Record]] = []
        issues: list[FeedIssue] = []
        for row in rows:
            try:
                accepted.append((row, parse(row)))
            except _Rejected as exc:
                issues.append(FeedIssue(self.source, row.location, str(exc), row.text))
        rejected = _duplicates([(key(record), row, record) for row, record in accepted])
        kept = tuple(record for row, record in accepted if row.location not in rejected)
        issues += [
            FeedIssue(self.source, row.location, rejected[row.location], row.text)
            for row, _ in accepted
            if row.location in rejected
        ]
        return kept, tuple(issues)

    def starter(self, row: _Row) -> StarterAnnouncement:
        fields = _fields(row, STARTERS)
        gid, _, home = _game(fields["game_id"])
        side = fields["side"]
        if side not in _SIDES:
            raise _Rejected(f"side {side!r}: expected home or away")
        team = _side_team(side, home, fields.get("team", ""))
        moved = fields.get("moved", "").lower()
        if moved not in ("", "true", "false"):
            raise _Rejected(f"moved {moved!r}: expected true or false")
        if fields["pitcher_id"]:
            pitcher_id, name, team = self._by_id(
                fields["pitcher_id"], fields["pitcher_name"], team, moved == "true"
            )
        else:
            pitcher_id, name, team = self._by_name("", fields["pitcher_name"], team)
        if side == "away" and team == home:
            raise _Rejected(f"pitcher {pitcher_id} last pitched for {team}, the home team")
        return StarterAnnouncement(gid, side, pitcher_id, name, team, self.now, self.source)

    def _by_id(
        self, pitcher_id: str, name: str, team: str | None, moved: bool = False
    ) -> tuple[str, str, str]:
        if not _PITCHER_ID.fullmatch(pitcher_id):
            raise _Rejected(f"bad pitcher_id {pitcher_id!r}: expected a Retrosheet id (coleg001)")
        seen = self.pitchers.last_seen(pitcher_id)
        if seen is None:
            # A debut: the store cannot vouch for the id, so the row must say it all.
            if not name or team is None:
                reason = f"pitcher {pitcher_id} has never been seen: give pitcher_name and team"
                raise _Rejected(reason)
            return pitcher_id, name, team
        if team is not None and seen.team != team and not moved:
            raise _Rejected(
                f"pitcher {pitcher_id} last pitched for {seen.team}, not {team} "
                "(if he moved, say moved=true)"
            )
        if name and not self.pitchers.is_named(pitcher_id, name):
            known = self.pitchers.name_of(pitcher_id)
            raise _Rejected(f"pitcher_id {pitcher_id} is {known!r}, not {name!r}")
        known = name or self.pitchers.name_of(pitcher_id) or pitcher_id
        return pitcher_id, known, team if moved and team is not None else seen.team

    def _by_name(self, pitcher_id: str, name: str, team: str | None) -> tuple[str, str, str]:
        if not name:
            raise _Rejected("give pitcher_id or pitcher_name")
        if team is None:
            # The game id names only the home team.
            raise _Rejected("an away starter given by name needs a team or a pitcher_id")
        match = self.pitchers.match(team, name)
        if match.pitcher_id is None:
            raise _Rejected(f"pitcher_name {name!r} {match.how}: give pitcher_id")
        if match.other_team:
            seen = self.pitchers.last_seen(match.pitcher_id)
            last = seen.team if seen else "another team"
            raise _Rejected(
                f"pitcher {match.pitcher_id} ({name}) last pitched for {last}, not {team}"
            )
        return match.pitcher_id, name, team

    def postponement(self, row: _Row) -> Postponement:
        fields = _fields(row, POSTPONEMENTS)
        gid, date, _ = _game(fields["game_id"])
        if not fields["reason"]:
            raise _Rejected("reason is empty")
        makeup = _makeup_date(fields.get("makeup_date", ""), date)
        return Postponement(gid, fields["reason"], makeup, self.source, self.now)


def _fields(row: _Row, kind: str) -> dict[str, str]:
    # CSV rows always have every header column; a JSON object may leave one out.
    missing = _KINDS[kind][0] - row.fields.keys()
    if missing:
        raise _Rejected(f"missing {', '.join(sorted(missing))}")
    return row.fields


def _game(gid: str) -> tuple[str, dt.date, str]:
    """(game id, date, home team) of a valid Retrosheet game id."""
    if not GAME_ID.fullmatch(gid):
        raise _Rejected(f"bad game_id {gid!r}: expected e.g. NYA202307010")
    home = gid[:3]
    if home not in KNOWN_TEAMS:
        raise _Rejected(f"unknown home team {home} in game_id {gid}")
    try:
        date = dt.datetime.strptime(gid[3:11], "%Y%m%d").date()
    except ValueError:
        raise _Rejected(f"bad date {gid[3:11]} in game_id {gid}") from None
    return gid, date, home


def _side_team(side: str, home: str, team: str) -> str | None:
    """The team of the side: the home team from the game id, else the `team` column if any."""
    if team and team not in KNOWN_TEAMS:
        raise _Rejected(f"unknown team {team!r}")
    if side == "home":
        if team and team != home:
            raise _Rejected(f"team {team} is not {home}, the home team of the game id")
        return home
    if team == home:
        raise _Rejected(f"away team {team} is the home team of the game id")
    return team or None


def _makeup_date(text: str, date: dt.date) -> dt.date | None:
    if not text:
        return None
    try:
        makeup = dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        makeup = None
    if makeup is None:
        raise _Rejected(f"bad makeup_date {text!r}: expected YYYY-MM-DD")
    if makeup < date:
        raise _Rejected(f"makeup_date {makeup} is before the game's date {date}")
    return makeup


def _duplicates(keyed: list[tuple[str, _Row, Any]]) -> dict[str, str]:
    """Location → reason for rows that repeat another's key (game and side, or game).

    An exact repeat (same record) is harmless: the first is kept, the others
    reported. Rows that disagree cannot be told apart, so all of them are rejected.
    """
    groups: dict[str, list[tuple[_Row, Any]]] = {}
    for key, row, record in keyed:
        groups.setdefault(key, []).append((row, record))
    rejected: dict[str, str] = {}
    for key, members in groups.items():
        first_row, first = members[0]
        if len(members) < 2:
            continue
        if all(record == first for _, record in members):
            for row, _ in members[1:]:
                rejected[row.location] = f"repeats {first_row.location} ({key})"
        else:
            where = ", ".join(row.location for row, _ in members)
            for row, _ in members:
                rejected[row.location] = f"conflicting rows for {key}: {where}"
    return rejected
