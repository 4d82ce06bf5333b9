"""A date's slate: the games known on its morning, and their pre-game features.

The slate of a date is its games as that morning knew them: games the game logs
already have (replaying history: results blanked, their actual starters standing
in for the announced ones) plus the live schedule's games still `scheduled`, with
the starters announced now ("" when unknown: priced as a debut).
Postponed and suspended games are not on it; a makeup is on its own date.
Features come from every final game before the date (`bullpen.domain.asof`).
The daily job, the leakage check and the live loop all read slates here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from bullpen.domain.asof import as_of_schedule, pregame_features, schedule_frame
from bullpen.domain.features import FEATURE_NAMES
from bullpen.domain.inputs import INPUT_COLUMNS, with_inputs
from bullpen.domain.schedule import GameStatus
from bullpen.store import read_games
from bullpen.store.live import read_schedule

ORDER = ["date", "game_number", "game_id"]


@dataclass(frozen=True)
class Slate:
    day: dt.date
    games: pd.DataFrame  # as-of schedule frame (`bullpen.domain.asof.PREGAME_COLUMNS` + blanks)
    live: list[str]  # ids of games not played yet (from the live schedule)
    postponed: list[str]  # the date's postponed games (not on the slate)

    @property
    def empty(self) -> bool:
        return self.games.empty


def slate(engine: Engine, day: dt.date) -> Slate:
    final = as_of_schedule(read_games(engine, on=day))
    live = read_schedule(engine, on=day, statuses=[GameStatus.SCHEDULED])
    live = live[~live["game_id"].isin(final["game_id"])]
    postponed = read_schedule(engine, on=day, statuses=[GameStatus.POSTPONED])
    games = final
    if not live.empty:
        games = pd.concat([final, schedule_frame(live)], ignore_index=True)
        games = games.sort_values(ORDER, ignore_index=True)
    return Slate(day, games, list(live["game_id"]), list(postponed["game_id"]))


def slate_features(engine: Engine, day: dt.date) -> pd.DataFrame:
    """The features of `day`'s slate as that morning knew them."""
    return features_of(engine, slate(engine, day))


def features_of(engine: Engine, of: Slate) -> pd.DataFrame:
    """The slate's features, each game's starters and inputs hash (`bullpen.domain.inputs`)."""
    if of.empty:
        columns = ["game_id", "date", "season", "home", "away", *FEATURE_NAMES, *INPUT_COLUMNS]
        return pd.DataFrame(columns=columns)
    features = pregame_features(read_games(engine, before=of.day), of.games)
    return with_inputs(features, of.games, FEATURE_NAMES)
