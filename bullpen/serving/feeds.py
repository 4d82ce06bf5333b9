"""Apply what a feed reported to the store, and say which dates' slates it changed.

Every source ends here: a Retrosheet schedule file, an MLB Stats API day, the
operator's drop files (starters, postponements) and results (a day's new
game-log lines). Each is recorded (`bullpen.store.live`, `bullpen.store`) and
the dates whose slates changed are returned, so the live loop re-prices and
re-warms exactly those (`bullpen.serving.refresh`). Re-applying the same feed
changes nothing and returns no date.

A file in the feed folder is told apart by its name: ``*schedule*.csv`` is a
Retrosheet schedule, ``gl*.txt`` game-log lines (results), any other ``.csv`` or
``.json`` an operator's drop file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from bullpen.cache.contract import game_date
from bullpen.domain.gamelogs import parse_lines
from bullpen.domain.pitchers import PitcherIndex
from bullpen.domain.schedule import (
    FeedBatch,
    FeedIssue,
    GameStatus,
    ScheduledGame,
    StarterAnnouncement,
)
from bullpen.sources import schedules
from bullpen.sources.dropfolder import Postponement, read_drop_file
from bullpen.sources.gamelogs import ENCODING, MAX_GAME_LOG_BYTES
from bullpen.store import load_parse_result
from bullpen.store.live import (
    read_pitchers,
    read_schedule,
    record_feed_issues,
    record_finals,
    record_schedule,
    record_starters,
)

# After results, the next dates with games still to play are re-priced: their
# features now include the new results.
DAYS_AFTER_RESULTS = 2


@dataclass
class Applied:
    source: str
    dates: set[dt.date] = field(default_factory=set)  # slates whose inputs changed
    games_changed: list[str] = field(default_factory=list)
    starters_changed: list[StarterAnnouncement] = field(default_factory=list)
    results: int = 0  # completed games loaded
    issues: list[FeedIssue] = field(default_factory=list)

    def merge(self, other: Applied) -> Applied:
        return Applied(
            f"{self.source}, {other.source}" if self.source else other.source,
            self.dates | other.dates,
            self.games_changed + other.games_changed,
            self.starters_changed + other.starters_changed,
            self.results + other.results,
            self.issues + other.issues,
        )


def pitcher_index(engine: Engine) -> PitcherIndex:
    return PitcherIndex(read_pitchers(engine))


def apply_batch(engine: Engine, batch: FeedBatch, source: str) -> Applied:
    """Schedule changes, then starters (they need their games), final scores (graded now,
    featured when the game log arrives), then the feed's issues."""
    changes = record_schedule(engine, batch.games)
    started, refused = record_starters(engine, batch.starters)
    finished = record_finals(engine, batch.finals)
    record_feed_issues(engine, batch.issues)
    by_id = {g.game_id: g for g in batch.games}
    dates = {by_id[g].date for g in changes.changed} | {game_date(s.game_id) for s in started}
    issues = [*batch.issues, *changes.issues, *refused]
    return Applied(source, dates, changes.changed + finished, started, len(finished), issues)


def apply_postponements(engine: Engine, postponed: Sequence[Postponement]) -> Applied:
    """Each game postponed (from its scheduled row), with a makeup game on the makeup date."""
    rows = read_schedule(engine).set_index("game_id") if postponed else None
    games: list[ScheduledGame] = []
    issues: list[FeedIssue] = []
    for item in postponed:
        if rows is None or item.game_id not in rows.index:
            issues.append(FeedIssue(item.source, item.game_id, "no scheduled game to postpone",
                                    repr(item)))  # fmt: skip
            continue
        original = _scheduled(rows.loc[item.game_id], item.game_id, item.source)
        games.append(dataclasses.replace(
            original, status=GameStatus.POSTPONED, postponed_reason=item.reason,
            makeup_date=item.makeup_date,
        ))  # fmt: skip
        if item.makeup_date is not None:
            made = _makeup(original, item.makeup_date, set(rows.index) | {g.game_id for g in games})
            if isinstance(made, str):
                issues.append(FeedIssue(item.source, f"{item.game_id}:makeup", made, repr(item)))
            else:
                games.append(made)
    record_feed_issues(engine, issues)
    applied = apply_batch(engine, FeedBatch(games=tuple(games)), postponed[0].source)
    applied.issues += issues
    return applied


def _scheduled(row: object, game_id: str, source: str) -> ScheduledGame:
    get = row.get  # type: ignore[attr-defined]
    return ScheduledGame(
        game_id=game_id, date=get("date").date(), game_number=int(get("game_number")),
        season=int(get("season")), home=get("home"), away=get("away"),
        home_league=get("home_league"), away_league=get("away_league"),
        day_night=get("day_night"), status=GameStatus.SCHEDULED, source=source,
    )  # fmt: skip


def _makeup(original: ScheduledGame, day: dt.date, taken: set[str]) -> ScheduledGame | str:
    """The makeup on `day`, or why there is none. Game number 0 when the home team has no
    other game that day, 2 after a game 1; a day with a single game 0 would need it renumbered
    (Retrosheet's ids) and the predictions keyed by it moved: the feed must say so instead."""
    prefix = f"{original.home}{day:%Y%m%d}"
    others = sorted(g for g in taken if g.startswith(prefix))
    if not others:
        number = 0
    elif others == [f"{prefix}1"]:
        number = 2
    else:
        return f"a makeup on {day} would join {others}: send the day's games with their numbers"
    return dataclasses.replace(
        original, game_id=f"{prefix}{number}", date=day, game_number=number, day_night=None,
        season=day.year,
    )  # fmt: skip


def apply_results(engine: Engine, name: str, lines: Iterable[str], sha256: str) -> Applied:
    """A day's game-log lines: loaded (upsert by game id, so idempotent), their schedule rows
    made final; the next dates with games to play are re-priced with the new results."""
    parsed = parse_lines(lines, name)
    summary = load_parse_result(engine, name, parsed, sha256)
    issues = [
        FeedIssue(name, f"line {q.line_number}", q.reason, q.text) for q in parsed.quarantined
    ]
    if not parsed.games:
        return Applied(name, issues=issues)
    last = max(g.date for g in parsed.games)
    upcoming = read_schedule(engine, statuses=[GameStatus.SCHEDULED])
    later = sorted({d.date() for d in upcoming["date"] if d.date() > last})[:DAYS_AFTER_RESULTS]
    loaded = [g.game_id for g in parsed.games]
    return Applied(name, set(later), loaded, [], summary.inserted, issues)


def apply_file(engine: Engine, path: Path, now: dt.datetime) -> Applied:
    """One file of the feed folder, by its name (see the module's docstring)."""
    name = path.name.lower()
    if name.endswith(".csv") and "schedule" in name:
        try:
            batch = schedules.read_schedule(path)
        except schedules.ScheduleFileError as exc:
            return _unreadable(path, str(exc))
        return apply_batch(engine, batch, path.name)
    if name.startswith("gl") and name.endswith(".txt"):
        data = path.read_bytes()[: MAX_GAME_LOG_BYTES + 1]
        if len(data) > MAX_GAME_LOG_BYTES:
            return _unreadable(path, f"larger than {MAX_GAME_LOG_BYTES} bytes")
        text = data.decode(ENCODING).splitlines()
        return apply_results(engine, path.name, text, hashlib.sha256(data).hexdigest())
    drop = read_drop_file(path, pitcher_index(engine), now)
    applied = apply_batch(engine, drop.batch, path.name)
    if drop.postponements:
        applied = applied.merge(apply_postponements(engine, drop.postponements))
    return applied


def _unreadable(path: Path, reason: str) -> Applied:
    return Applied(path.name, issues=[FeedIssue(path.name, "file", reason, "")])


def file_key(path: Path) -> str:
    """Name and content hash: the same file re-dropped unchanged is not applied again."""
    return f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
