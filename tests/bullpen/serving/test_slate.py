"""A date's slate: games not played yet get the same pre-game features the game logs would
give them, with the announced starters; the unknown starter gets the prior; postponed games
are off the slate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from bullpen.domain.features import FEATURE_NAMES, build_features
from bullpen.domain.gamelogs import GameRecord, ParseResult
from bullpen.domain.model import WinModel
from bullpen.domain.schedule import GameStatus, ScheduledGame, StarterAnnouncement
from bullpen.serving.predictions import score
from bullpen.serving.slate import slate, slate_features
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import load_parse_result, make_engine, upgrade
from bullpen.store.live import record_schedule, record_starters
from tests.support.live import scheduled, store_before

DAY = dt.date(2022, 4, 20)
AT = dt.datetime(2022, 4, 20, 14, tzinfo=dt.UTC)


@pytest.fixture
def before_day(tmp_path: Path, logs2022: ParsedLogs) -> Iterator[Engine]:
    """A store holding only the 2022 games played before DAY."""
    engine = store_before(tmp_path / "store.db", logs2022, DAY)
    yield engine
    engine.dispose()


def _games_of(logs: ParsedLogs, day: dt.date) -> list[GameRecord]:
    return [g for g in logs.games if g.date == day]


def _scheduled(game: GameRecord, **changes: object) -> ScheduledGame:
    return scheduled(game, day_night=game.day_night, **changes)


def _announce(engine: Engine, game: GameRecord, home: str | None, away: str | None) -> None:
    record_starters(engine, [
        StarterAnnouncement(game.game_id, "home", home, home or "Unknown Arm", game.home, AT, "t"),
        StarterAnnouncement(game.game_id, "away", away, away or "Unknown Arm", game.away, AT, "t"),
    ])  # fmt: skip


def test_scheduled_games_get_the_features_the_game_logs_would_give(
    before_day: Engine, logs2022: ParsedLogs
) -> None:
    today = _games_of(logs2022, DAY)
    record_schedule(before_day, [_scheduled(g) for g in today])
    for game in today:
        _announce(before_day, game, game.home_sp_id, game.away_sp_id)

    live = slate_features(before_day, DAY).set_index("game_id")

    full = build_features(logs2022.frame()).set_index("game_id").loc[live.index]
    assert len(live) == len(today) > 10
    pd.testing.assert_frame_equal(
        live[list(FEATURE_NAMES)], full[list(FEATURE_NAMES)], check_exact=False, rtol=1e-9
    )


def test_an_unknown_starter_gets_the_prior_and_the_game_is_still_priced(
    before_day: Engine, logs2022: ParsedLogs
) -> None:
    game = _games_of(logs2022, DAY)[0]
    record_schedule(before_day, [_scheduled(game)])
    _announce(before_day, game, game.home_sp_id, None)

    features = slate_features(before_day, DAY)

    row = features.iloc[0]
    assert row["away_sp_starts"] == 0 and row["away_sp_season_starts"] == 0
    assert row["away_sp_runs_vs_exp"] == pytest.approx(0.0)  # the shrinkage target, no data
    assert row["home_sp_starts"] > 0
    assert np.isfinite(score(WinModel(kind="elo"), features).rows[0]["p_home"])


def test_postponed_games_are_off_the_slate_and_the_makeup_is_on_its_date(
    before_day: Engine, logs2022: ParsedLogs
) -> None:
    rained, played = _games_of(logs2022, DAY)[:2]
    makeup_day = DAY + dt.timedelta(days=1)
    makeup_id = f"{rained.home}{makeup_day:%Y%m%d}1"
    record_schedule(before_day, [
        _scheduled(rained, status=GameStatus.POSTPONED, postponed_reason="Rain",
                   makeup_date=makeup_day),
        _scheduled(played),
        _scheduled(rained, game_id=makeup_id, date=makeup_day, game_number=1),
    ])  # fmt: skip

    today, tomorrow = slate(before_day, DAY), slate(before_day, makeup_day)

    assert (list(today.games["game_id"]), today.postponed) == ([played.game_id], [rained.game_id])
    assert list(tomorrow.games["game_id"]) == [makeup_id] == tomorrow.live


def test_a_game_the_logs_have_is_on_the_slate_once(tmp_path: Path, logs2022: ParsedLogs) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'all.db'}")
    upgrade(str(engine.url))
    upto = [g for g in logs2022.games if g.date <= DAY]
    record_schedule(engine, [_scheduled(g) for g in _games_of(logs2022, DAY)])
    load_parse_result(engine, "GL2022.TXT", ParseResult(upto, []), "0" * 64)

    today = slate(engine, DAY)

    assert sorted(today.games["game_id"]) == sorted(g.game_id for g in _games_of(logs2022, DAY))
    assert today.live == []  # final now: their starters come from the game log
    engine.dispose()
