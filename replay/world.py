"""The outside world of a past season, as the replay publishes it day by day.

The truth comes from the bundled data: the season's original Retrosheet schedule
(parsed once, whole, so makeups and doubleheaders get the ids they were played
under) and its game log (who actually started, and the results). Each day's
publications are written in the formats the live loop reads from its feed folder:

* the morning's schedule: that date's rows of the schedule file (Retrosheet layout),
  a makeup as an ordinary row with its game number, a postponed game with its reason;
* the starters: a drop file with the game log's actual starters; for a share of the
  games (the scratches) first another pitcher of the same team, corrected later;
* the evening's results: that date's game-log lines.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from bullpen.domain.gamelogs import GameRecord
from bullpen.domain.schedule import GameStatus, ScheduledGame
from bullpen.sources.parsed import read_gamelogs
from bullpen.sources.schedules import read_schedule

HEADER = "Date,Num,Day,Visitor,League,Game,Home,League,Game,Day/Night,Postponed,Makeup"


@dataclass(frozen=True)
class Starter:
    game_id: str
    side: str
    pitcher_id: str
    name: str
    team: str


@dataclass(frozen=True)
class Scratch:
    """A game whose first announcement for one side named `wrong`, corrected to `right`."""

    wrong: Starter
    right: Starter


@dataclass(frozen=True)
class Day:
    date: dt.date
    scheduled: list[ScheduledGame]  # to be played (incl. makeups), by game id
    postponed: list[ScheduledGame]
    played: dict[str, GameRecord]  # game id → what happened

    def schedule_csv(self) -> str:
        rows = [_row(g) for g in sorted(self.scheduled + self.postponed, key=lambda g: g.game_id)]
        return "\r\n".join([HEADER, *rows]) + "\r\n"

    def results(self) -> list[str]:
        return [
            self.played[g.game_id].source_line for g in self.scheduled if g.game_id in self.played
        ]

    def starters(self) -> list[Starter]:
        """Each scheduled game's actual starters (from the game log)."""
        out = []
        for game in self.scheduled:
            record = self.played.get(game.game_id)
            if record is None:
                continue
            out.append(Starter(game.game_id, "home", record.home_sp_id, record.home_sp_name,
                               record.home))  # fmt: skip
            out.append(Starter(game.game_id, "away", record.away_sp_id, record.away_sp_name,
                               record.away))  # fmt: skip
        return out


class Season:
    def __init__(self, schedule_file: Path, gamelogs_dir: Path, season: int) -> None:
        batch = read_schedule(schedule_file)
        if batch.issues:
            raise ValueError(f"{schedule_file}: {len(batch.issues)} rows not usable")
        self.games = list(batch.games)
        logs = read_gamelogs(gamelogs_dir, [season])
        self.played = {g.game_id: g for g in logs.games}
        self.season = season

    def day(self, date: dt.date) -> Day:
        on = [g for g in self.games if g.date == date]
        scheduled = [g for g in on if g.status is GameStatus.SCHEDULED]
        postponed = [g for g in on if g.status is GameStatus.POSTPONED]
        return Day(
            date,
            scheduled,
            postponed,
            {g.game_id: self.played[g.game_id] for g in scheduled if g.game_id in self.played},
        )

    def records_before(self, date: dt.date) -> list[GameRecord]:
        return [g for g in self.played.values() if g.date < date]


def choose_scratches(
    day: Day, rate: float, rng: random.Random, starters_of_team: dict[str, list[tuple[str, str]]]
) -> list[Scratch]:
    """For a share `rate` of the games, one side first announced with another pitcher who
    has started for the same team this season."""
    scratches = []
    for starter in day.starters():
        if starter.side != "home" or rng.random() >= rate:
            continue
        others = [p for p in starters_of_team.get(starter.team, []) if p[0] != starter.pitcher_id]
        if others:
            pid, name = rng.choice(others)
            wrong = Starter(starter.game_id, starter.side, pid, name, starter.team)
            scratches.append(Scratch(wrong, starter))
    return scratches


def starters_csv(starters: list[Starter], moved: set[str]) -> str:
    """A drop file; `moved`: pitcher ids the store last saw with another team (trades)."""
    lines = ["game_id,side,pitcher_id,pitcher_name,team,moved"]
    for s in starters:
        flag = "true" if s.pitcher_id in moved else ""
        lines.append(f"{s.game_id},{s.side},{s.pitcher_id},{_csv(s.name)},{s.team},{flag}")
    return "\n".join(lines) + "\n"


def first_pitch(game: ScheduledGame, record: GameRecord | None) -> dt.time:
    """13:05 for day games, 19:05 otherwise (US Eastern): the files have no times."""
    day_night = game.day_night or (record.day_night if record else None)
    return dt.time(13, 5) if day_night == "D" or day_night == "d" else dt.time(19, 5)


def _row(game: ScheduledGame) -> str:
    reason = game.postponed_reason or ""
    day_night = game.day_night or ""
    return (
        f'"{game.date:%Y%m%d}","{game.game_number}","{game.date:%a}","{game.away}",'
        f'"{game.away_league or ""}",1,"{game.home}","{game.home_league or ""}",1,'
        f'"{day_night}","{_quote(reason)}",""'
    )


def _quote(text: str) -> str:
    return text.replace('"', "'")


def _csv(text: str) -> str:
    return f'"{text}"' if "," in text else text
