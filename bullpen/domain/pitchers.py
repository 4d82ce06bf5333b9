"""Match a pitcher named by a feed ("Gerrit Cole", NYA) to the Retrosheet id the store knows.

Feeds name pitchers; features key them by Retrosheet id. The match is by name
only, after a normalisation that removes differences in spelling *form*
(accents, case, punctuation, "Jr."), never by similarity: a near miss stays
unmatched, because a wrong starter prices a game worse than the explicit
"unknown starter" state does.

When several pitchers share a normalised name, the team decides, in this order:
the one whose most recent game was for that team; else the one who has pitched
for that team before; else the only one league-wide (a trade the store has not
seen yet). More than one candidate at the deciding step is ambiguous, and
unmatched.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Generational suffixes: game logs write "Lance McCullers" where a feed may
# write "Lance McCullers Jr.". Only stripped at the end of a name.
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# Characters that separate name parts ("Hyun-Jin", "Smith/Jones").
_SEPARATORS = re.compile(r"[-_/]+")
# Anything else that is not a letter, digit or space ("O'Day", "J.P.").
_PUNCTUATION = re.compile(r"[^\w\s]+")


def normalize_name(name: str) -> str:
    """The comparison form of a name: "José  Ramírez Jr." → "jose ramirez", "J. P." → "jp"."""
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    text = _PUNCTUATION.sub("", _SEPARATORS.sub(" ", text))
    tokens = text.split()
    while len(tokens) > 1 and tokens[-1] in _SUFFIXES:
        tokens.pop()
    return " ".join(_join_initials(tokens))


def _join_initials(tokens: list[str]) -> list[str]:
    # "J. P. Sears" and "JP Sears" are one spelling: runs of single letters become one token.
    joined: list[str] = []
    run = False  # whether the last token is made of single-letter initials
    for token in tokens:
        if len(token) == 1 and run:
            joined[-1] += token
        else:
            joined.append(token)
            run = len(token) == 1
    return joined


@dataclass(frozen=True, slots=True)
class Sighting:
    """The last time the store saw a pitcher: for which team, on which date."""

    team: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class PitcherMatch:
    """`pitcher_id` is None when unmatched; `how` says why, for logs and issue reports:
    "exact", "normalized", either followed by ", other team: ..." when the pitcher's
    latest game was for another club, or "unmatched: <reason>"."""

    pitcher_id: str | None
    how: str
    other_team: bool = False  # matched, but the pitcher's latest game was for another team

    @property
    def matched(self) -> bool:
        return self.pitcher_id is not None


def _unmatched(reason: str) -> PitcherMatch:
    return PitcherMatch(None, f"unmatched: {reason}")


class PitcherIndex:
    """The pitchers the store has seen, searchable by (team, name).

    `rows` are (retrosheet_id, name as in the game logs, team code, last date
    seen for that team); several rows per pitcher (one per team, or repeats)
    are merged, keeping the latest date per team.
    """

    def __init__(self, rows: Iterable[tuple[str, str, str, dt.date]]) -> None:
        self._teams: dict[str, dict[str, dt.date]] = {}
        self._names: dict[str, set[str]] = {}
        self._latest_name: dict[str, tuple[dt.date, str]] = {}
        self._by_name: dict[str, set[str]] = {}
        for pitcher_id, name, team, date in rows:
            self._add(pitcher_id, name.strip(), team, date)

    def _add(self, pitcher_id: str, name: str, team: str, date: dt.date) -> None:
        teams = self._teams.setdefault(pitcher_id, {})
        teams[team] = max(date, teams.get(team, date))
        self._names.setdefault(pitcher_id, set()).add(name)
        # Compared as (date, name) so a same-day tie never depends on row order.
        if (date, name) > self._latest_name.get(pitcher_id, (dt.date.min, "")):
            self._latest_name[pitcher_id] = (date, name)
        self._by_name.setdefault(normalize_name(name), set()).add(pitcher_id)

    def __len__(self) -> int:
        return len(self._teams)

    def __contains__(self, pitcher_id: object) -> bool:
        return pitcher_id in self._teams

    def last_seen(self, pitcher_id: str) -> Sighting | None:
        """The pitcher's most recent team and date, or None if never seen."""
        teams = self._teams.get(pitcher_id)
        if not teams:
            return None
        date = max(teams.values())
        # Same-day ties (rare: a resumed suspended game) go to the alphabetically
        # first team, so the answer never depends on row order.
        return Sighting(min(t for t, d in teams.items() if d == date), date)

    def name_of(self, pitcher_id: str) -> str | None:
        """The name the pitcher was last seen under."""
        latest = self._latest_name.get(pitcher_id)
        return latest[1] if latest else None

    def is_named(self, pitcher_id: str, name: str) -> bool:
        """Whether `name` is one of the pitcher's names, after normalisation."""
        wanted = normalize_name(name)
        return any(normalize_name(known) == wanted for known in self._names.get(pitcher_id, ()))

    def match(self, team: str, name: str) -> PitcherMatch:
        """The pitcher called `name` who would be pitching for `team` (see the module doc)."""
        normalized = normalize_name(name)
        if not normalized:
            return _unmatched("no name given")
        candidates = self._by_name.get(normalized)
        if not candidates:
            return _unmatched(f"no pitcher named {name!r} has been seen")
        for step, chosen in self._steps(team, candidates):
            if len(chosen) > 1:
                ids = ", ".join(sorted(chosen))
                return _unmatched(f"{len(chosen)} pitchers named {name!r} {step}: {ids}")
            if chosen:
                return self._matched(next(iter(chosen)), team, name)
        raise AssertionError("the league-wide step always has a candidate")  # pragma: no cover

    def _steps(self, team: str, candidates: set[str]) -> list[tuple[str, set[str]]]:
        """The candidate sets in order of preference, each with how to describe it."""
        current = {p for p in candidates if self._current_team(p) == team}
        former = {p for p in candidates if team in self._teams[p]}
        return [
            (f"last pitched for {team}", current),
            (f"have pitched for {team}", former),
            ("league-wide", candidates),
        ]

    def _current_team(self, pitcher_id: str) -> str | None:
        seen = self.last_seen(pitcher_id)
        return seen.team if seen else None

    def _matched(self, pitcher_id: str, team: str, name: str) -> PitcherMatch:
        how = "exact" if name.strip() in self._names[pitcher_id] else "normalized"
        seen = self.last_seen(pitcher_id)
        if seen is None or seen.team == team:
            return PitcherMatch(pitcher_id, how)
        how += f", other team: last seen with {seen.team} on {seen.date.isoformat()}"
        return PitcherMatch(pitcher_id, how, other_team=True)
