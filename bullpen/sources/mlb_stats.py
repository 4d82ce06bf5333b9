"""The MLB Stats API schedule: a day's games, their status and probable starters.

`StatsApiClient` fetches `GET /api/v1/schedule?sportId=1&date=…&hydrate=probablePitcher`
(httpx, with tenacity retries on transient failures); `parse_schedule_payload`
turns the JSON into `FeedBatch` records. Parsing never raises on bad data: a
game it cannot use becomes a `FeedIssue` (location `dates[0].games[3]`, the raw
game as text) and every other game is still read. A part of a game that cannot
be used (a makeup date, a final score, a probable pitcher) is an issue at a
sub-location (`dates[0].games[3].teams.home.probablePitcher`) and the game is
kept without it. Locations are unique within a batch, because the store keys
issues by (source, location).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

import httpx

from bullpen.domain.mlb_teams import retro_team
from bullpen.domain.pitchers import PitcherIndex
from bullpen.domain.schedule import (
    FeedBatch,
    FeedIssue,
    FinalScore,
    GameStatus,
    ScheduledGame,
    StarterAnnouncement,
    game_id,
)
from bullpen.domain.teams import code_in
from bullpen.sources.errors import SourceError
from bullpen.sources.http_json import JsonHttpClient

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://statsapi.mlb.com"
SCHEDULE_PATH = "/api/v1/schedule"
SOURCE = "mlb-stats-api"
# A day's schedule with probable pitchers is ~100 KB; far past that is not one.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# The text of a whole-payload issue is capped: a wrong endpoint can return megabytes.
_MAX_ISSUE_TEXT = 100_000
_DAY_NIGHT = {"day": "d", "night": "n"}
_SIDES = ("home", "away")


class StatsApiError(SourceError):
    """A schedule that could not be fetched: `url` and what went wrong (`str()`: "url: problem")."""

    @property
    def url(self) -> str:
        return self.where


# --- parsing ---------------------------------------------------------------------


class _Unusable(ValueError):
    """A game (or part of one) the feed reported in a form that cannot be used."""


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One usable game with what came with it, before duplicates are looked for."""

    location: str
    raw: Any
    game: ScheduledGame
    starters: tuple[StarterAnnouncement, ...]
    final: FinalScore | None
    issues: tuple[FeedIssue, ...]  # parts of the game that could not be used


def parse_schedule_payload(
    payload: Any,
    source: str,
    pitchers: PitcherIndex,
    announced_at: dt.datetime,
    *,
    today: dt.date | None = None,
) -> FeedBatch:
    """The games, starters and final scores in a `/api/v1/schedule` JSON payload.

    `source` names the read in every record (the client uses `mlb-stats-api:<day>`
    so re-reading a day replaces that day's issues). `announced_at` (timezone-aware)
    stamps the starter announcements. With `today`, a game still *scheduled* on an
    earlier date is an issue: stale data, while final, postponed and suspended
    games of past dates are how results and lifecycle changes arrive.
    """
    if announced_at.tzinfo is None:
        raise ValueError("announced_at must be timezone-aware")
    reader = _Reader(source, pitchers, announced_at, today)
    entries, issues = _game_entries(payload, source)
    parsed: list[_Parsed] = []
    for location, raw in entries:
        try:
            parsed.append(reader.game(location, raw))
        except _Unusable as exc:
            issues.append(_issue(source, location, str(exc), raw))
    kept, duplicates = _without_duplicates(parsed, source)
    return FeedBatch(
        games=tuple(p.game for p in kept),
        starters=tuple(s for p in kept for s in p.starters),
        finals=tuple(p.final for p in kept if p.final is not None),
        issues=(*issues, *duplicates, *(i for p in kept for i in p.issues)),
    )


def _game_entries(payload: Any, source: str) -> tuple[list[tuple[str, Any]], list[FeedIssue]]:
    """(location, raw game) for every game in the payload, and issues for what is not a day."""
    if not isinstance(payload, dict) or not isinstance(payload.get("dates"), list):
        reason = "not a schedule: expected an object with a 'dates' list"
        return [], [_issue(source, "payload", reason, payload, limit=_MAX_ISSUE_TEXT)]
    entries: list[tuple[str, Any]] = []
    issues: list[FeedIssue] = []
    for i, day in enumerate(payload["dates"]):
        if not isinstance(day, dict) or not isinstance(day.get("games"), list):
            issues.append(_issue(source, f"dates[{i}]", "not a day: no 'games' list", day))
            continue
        entries.extend((f"dates[{i}].games[{j}]", game) for j, game in enumerate(day["games"]))
    return entries, issues


@dataclass(frozen=True, slots=True)
class _Reader:
    """Turns one raw game into records; raises `_Unusable` for a game that cannot be used."""

    source: str
    pitchers: PitcherIndex
    announced_at: dt.datetime
    today: dt.date | None

    def game(self, location: str, raw: Any) -> _Parsed:
        if not isinstance(raw, dict):
            raise _Unusable("not a game: expected an object")
        game = self._scheduled_game(raw)
        issues: list[FeedIssue] = []
        if game.status is GameStatus.POSTPONED:
            game = self._with_makeup(game, raw, location, issues)
        final = None
        if game.status is GameStatus.FINAL:
            final = self._final(game, raw, location, issues)
        starters = tuple(self._starters(game, raw, location, issues))
        return _Parsed(location, raw, game, starters, final, tuple(issues))

    def _scheduled_game(self, raw: dict[str, Any]) -> ScheduledGame:
        pk = _require(raw, "gamePk")
        if isinstance(pk, bool) or not isinstance(pk, int) or pk <= 0:
            raise _Unusable(f"bad gamePk {pk!r}: expected a positive integer")
        date = _date(_require(raw, "officialDate"), "officialDate")
        home, away = (code_in(_team(raw, side), date.year) for side in ("home", "away"))
        if home == away:
            raise _Unusable(f"home and away are both {home}")
        status, reason = _status(_require(raw, "status"))
        if self.today is not None and date < self.today and status is GameStatus.SCHEDULED:
            raise _Unusable(f"still scheduled on {date}, before today {self.today}")
        number = _game_number(raw)
        return ScheduledGame(
            game_id=game_id(home, date, number),
            date=date,
            game_number=number,
            season=date.year,
            home=home,
            away=away,
            home_league=None,  # the schedule endpoint does not say
            away_league=None,
            day_night=_day_night(raw.get("dayNight")),
            status=status,
            source=self.source,
            first_pitch=_first_pitch(raw),
            postponed_reason=reason,
            external_id=str(pk),
        )

    def _with_makeup(
        self, game: ScheduledGame, raw: dict[str, Any], location: str, issues: list[FeedIssue]
    ) -> ScheduledGame:
        # A bad makeup date loses only the makeup date: the postponement itself stands.
        for key in ("rescheduleGameDate", "rescheduleDate"):
            value = raw.get(key)
            if value is None:
                continue
            try:
                makeup = _makeup_date(value, key, game.date)
            except _Unusable as exc:
                issues.append(_issue(self.source, f"{location}.{key}", str(exc), value))
                return game
            return replace(game, makeup_date=makeup)
        return game

    def _final(
        self, game: ScheduledGame, raw: dict[str, Any], location: str, issues: list[FeedIssue]
    ) -> FinalScore | None:
        scores = [_side(raw, side).get("score") for side in _SIDES]
        if all(_is_count(s) for s in scores):
            return FinalScore(game.game_id, scores[0], scores[1], self.source)
        reason = f"final without usable scores (home {scores[0]!r}, away {scores[1]!r})"
        issues.append(_issue(self.source, f"{location}.teams", reason, raw.get("teams")))
        return None

    def _starters(
        self, game: ScheduledGame, raw: dict[str, Any], location: str, issues: list[FeedIssue]
    ) -> list[StarterAnnouncement]:
        starters = []
        for side, team in zip(_SIDES, (game.home, game.away), strict=True):
            probable = _side(raw, side).get("probablePitcher")
            if probable is None:  # not announced yet: no announcement, not an issue
                continue
            name = probable.get("fullName") if isinstance(probable, dict) else None
            if not isinstance(name, str) or not name.strip():
                where = f"{location}.teams.{side}.probablePitcher"
                issues.append(
                    _issue(self.source, where, "probable pitcher without a fullName", probable)
                )
                continue
            starters.append(self._starter(game.game_id, side, team, name.strip()))
        return starters

    def _starter(self, gid: str, side: str, team: str, name: str) -> StarterAnnouncement:
        match = self.pitchers.match(team, name)
        if not match.matched:
            # The explicit "unknown starter" state (pitcher_id None), not an issue:
            # debuts happen, and the game is priced with the debut prior.
            log.info("%s %s starter %r: %s", gid, side, name, match.how)
        return StarterAnnouncement(
            gid, side, match.pitcher_id, name, team, self.announced_at, self.source
        )


def _require(raw: dict[str, Any], key: str) -> Any:
    value = raw.get(key)
    if value is None:
        raise _Unusable(f"missing {key}")
    return value


def _side(raw: dict[str, Any], side: str) -> dict[str, Any]:
    """`teams.<side>`, which `_team` has already checked is an object."""
    return raw["teams"][side]


def _team(raw: dict[str, Any], side: str) -> str:
    teams = raw.get("teams")
    entry = teams.get(side) if isinstance(teams, dict) else None
    team = entry.get("team") if isinstance(entry, dict) else None
    mlb_id = team.get("id") if isinstance(team, dict) else None
    if mlb_id is None:
        raise _Unusable(f"missing teams.{side}.team.id")
    code = retro_team(mlb_id)
    if code is None:
        raise _Unusable(f"unknown team id {mlb_id!r} ({side})")
    return code


def _status(status: Any) -> tuple[GameStatus, str | None]:
    """The lifecycle status, and the reason when postponed."""
    if not isinstance(status, dict):
        raise _Unusable("bad status: expected an object")
    coded = status.get("codedGameState")
    detailed = status.get("detailedState")
    detailed = detailed if isinstance(detailed, str) else ""
    if coded == "D" or detailed.startswith("Postponed"):
        reason = status.get("reason")
        return GameStatus.POSTPONED, reason if isinstance(reason, str) and reason else detailed
    if coded in ("U", "T") or detailed.startswith("Suspended"):
        return GameStatus.SUSPENDED, None
    if coded == "C" or detailed.startswith("Cancelled"):
        # No lifecycle state fits; reading it as "scheduled" would keep a game
        # that will never be played waiting for a prediction.
        raise _Unusable(f"cancelled ({detailed or coded}): not a lifecycle state")
    if coded in ("F", "O") or status.get("abstractGameState") == "Final":
        return GameStatus.FINAL, None
    if coded is None and not detailed and status.get("abstractGameState") is None:
        raise _Unusable("status has no state")
    return GameStatus.SCHEDULED, None


def _game_number(raw: dict[str, Any]) -> int:
    flag = _require(raw, "doubleHeader")
    if flag == "N":
        return 0
    if flag not in ("Y", "S"):  # Y: a traditional doubleheader, S: split admission
        raise _Unusable(f"unknown doubleHeader {flag!r}")
    number = raw.get("gameNumber")
    if type(number) is not int or number not in (1, 2):  # not bool, not 1.0
        raise _Unusable(f"doubleheader game with gameNumber {number!r}, not 1 or 2")
    return number


def _day_night(value: Any) -> str | None:
    return _DAY_NIGHT.get(value) if isinstance(value, str) else None


def _first_pitch(raw: dict[str, Any]) -> dt.datetime | None:
    value = raw.get("gameDate")
    status = raw["status"]
    if value is None or status.get("startTimeTBD") is True:
        return None  # a TBD time carries a placeholder hour: use the day/night default
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _Unusable(f"bad gameDate {value!r}: expected an ISO datetime with a UTC offset")
    return when.astimezone(dt.UTC)


def _date(value: Any, key: str) -> dt.date:
    try:
        if isinstance(value, str) and len(value) == 10:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise _Unusable(f"bad {key} {value!r}: expected YYYY-MM-DD")


def _makeup_date(value: Any, key: str, game_date: dt.date) -> dt.date:
    # `rescheduleDate` is a UTC datetime; `rescheduleGameDate` (tried first) is the
    # local date. Without the latter, the date as written is the best there is.
    text = value[:10] if isinstance(value, str) else value
    makeup = _date(text, key)
    if makeup < game_date:
        raise _Unusable(f"bad {key} {value!r}: before the game's own date {game_date}")
    return makeup


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _without_duplicates(
    parsed: list[_Parsed], source: str
) -> tuple[list[_Parsed], list[FeedIssue]]:
    """Drop games that repeat another's gamePk (on the same date) or game id.

    An exact repeat is harmless: the first copy is kept and the others reported.
    Entries that disagree cannot be told apart, so all of them are quarantined.
    The gamePk counts per date because the API keeps a postponed game's gamePk
    for its makeup, listed on the makeup date.
    """
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(parsed):
        groups.setdefault(f"gamePk {p.game.external_id} on {p.game.date}", []).append(i)
        groups.setdefault(f"game id {p.game.game_id}", []).append(i)
    repeats: dict[int, str] = {}
    conflicts: dict[int, str] = {}
    for key, members in groups.items():
        if len(members) < 2:
            continue
        first = parsed[members[0]]
        if all(parsed[m].raw == first.raw for m in members):
            for m in members[1:]:
                repeats.setdefault(m, f"repeats {first.location} ({key})")
        else:
            where = ", ".join(parsed[m].location for m in members)
            for m in members:
                conflicts.setdefault(m, f"conflicting entries for {key}: {where}")
    reasons = {**repeats, **conflicts}  # a conflict outweighs a repeat
    kept = [p for i, p in enumerate(parsed) if i not in reasons]
    issues = [_issue(source, parsed[i].location, r, parsed[i].raw) for i, r in reasons.items()]
    return kept, issues


def _issue(
    source: str, location: str, reason: str, raw: Any, limit: int | None = None
) -> FeedIssue:
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=repr)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… (truncated from {len(text)} characters)"
    return FeedIssue(source, location, reason, text)


# --- fetching --------------------------------------------------------------------


class StatsApiClient(JsonHttpClient):
    """Fetches a day's schedule from the Stats API (retries and bounds: `JsonHttpClient`)."""

    error = StatsApiError
    what = "a schedule"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 5.0,
        retries: int = 3,
        *,
        retry_wait_s: float = 0.5,
        max_retry_wait_s: float = 10.0,
        max_bytes: int = MAX_RESPONSE_BYTES,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            timeout_s, retries, retry_wait_s=retry_wait_s, max_retry_wait_s=max_retry_wait_s,
            max_bytes=max_bytes, http=http,
        )  # fmt: skip
        self.base_url = base_url

    def url(self, day: dt.date) -> str:
        """The schedule URL for `day`, as requested and as named in errors."""
        params = {"sportId": "1", "date": day.isoformat(), "hydrate": "probablePitcher"}
        return str(httpx.URL(f"{self.base_url.rstrip('/')}{SCHEDULE_PATH}", params=params))

    def fetch_day(self, day: dt.date) -> Any:
        """The parsed JSON of `day`'s schedule; StatsApiError when it cannot be had."""
        return self.get_json(self.url(day))

    def schedule(
        self,
        day: dt.date,
        pitchers: PitcherIndex,
        now: dt.datetime,
        *,
        today: dt.date | None = None,
    ) -> FeedBatch:
        """Fetch and parse `day`; the source is `mlb-stats-api:<day>`, starters stamped `now`."""
        source = f"{SOURCE}:{day.isoformat()}"
        return parse_schedule_payload(self.fetch_day(day), source, pitchers, now, today=today)
