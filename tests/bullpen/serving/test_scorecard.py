"""The scorecard grades the last price published before first pitch; later ones are
excluded and counted; the Elo baseline is graded on the same games."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bullpen.domain.gamelogs import GameRecord
from bullpen.domain.schedule import EASTERN, FeedBatch, FinalScore, StarterAnnouncement
from bullpen.serving import clock
from bullpen.serving.feeds import apply_batch, apply_results
from bullpen.serving.pricing import price_slate
from bullpen.serving.scorecard import scorecard
from bullpen.serving.slate import slate
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import register_model
from bullpen.store.live import read_publications, read_schedule, record_starters
from tests.support.data import elo_entry
from tests.support.live import store_before

DAY = dt.date(2022, 4, 20)


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs) -> Iterator[Engine]:
    engine = store_before(tmp_path / "store.db", logs2022, DAY, (DAY,))
    yield engine
    engine.dispose()


def _at(hour: int) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour), tzinfo=EASTERN).astimezone(dt.UTC)


def _price(engine: Engine, monkeypatch: pytest.MonkeyPatch, hour: int) -> None:
    monkeypatch.setattr(clock, "now", lambda: _at(hour))
    price_slate(engine, elo_entry(), slate(engine, DAY))


def _scratch(engine: Engine, game: GameRecord, pitcher: str, hour: int) -> None:
    record_starters(engine, [StarterAnnouncement(
        game.game_id, "home", pitcher, pitcher, game.home, _at(hour), "test-feed"
    )])  # fmt: skip


def test_the_last_price_before_first_pitch_is_graded(
    store: Engine, logs2022: ParsedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_model(store, elo_entry())
    games = [g for g in logs2022.games if g.date == DAY]
    day_game = next(g for g in games if g.day_night == "D")
    _price(store, monkeypatch, 8)  # the morning's prices
    _scratch(store, day_game, "newpi001", 11)
    _price(store, monkeypatch, 11)  # the scratch re-priced before 13:05
    _scratch(store, day_game, "latep001", 21)
    _price(store, monkeypatch, 21)  # after the day game's first pitch: not graded
    apply_results(store, "gl20220420.txt", [g.source_line for g in games], "c" * 64)

    card = scorecard(store, 2022)

    decided = [g for g in games if g.home_score != g.away_score]
    assert card["graded_games"] == len(decided) > 10
    assert card["excluded_after_first_pitch"] == 1
    published = read_publications(store, 2022)
    assert len(published) == len(games) + 2  # the morning, and one re-price per scratch
    [model] = card["models"].values()
    assert model["games"] == len(decided)
    assert model["brier"] == model["elo_brier"]  # the model is Elo: the same numbers
    [day] = card["days"]
    assert day["date"] == DAY.isoformat() and day["season_to_date"] == model


def test_no_publications_no_grades(store: Engine) -> None:
    card = scorecard(store, 2022)
    assert (card["graded_games"], card["models"], card["days"]) == (0, {}, [])


def test_a_feeds_final_score_grades_before_the_game_log_arrives(
    store: Engine, logs2022: ParsedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Stats API's final scores (no box score) settle the prices; features wait."""
    register_model(store, elo_entry())
    games = [g for g in logs2022.games if g.date == DAY]
    _price(store, monkeypatch, 8)
    finals = tuple(FinalScore(g.game_id, g.home_score, g.away_score, "mlb-stats-api:2022-04-20")
                   for g in games[:3])  # fmt: skip

    applied = apply_batch(store, FeedBatch(finals=finals), "mlb-stats-api:2022-04-20")
    again = apply_batch(store, FeedBatch(finals=finals), "mlb-stats-api:2022-04-20")

    assert applied.results == 3 and again.results == 0  # already final: nothing new
    statuses = read_schedule(store, on=DAY).set_index("game_id")["status"]
    assert {statuses[g.game_id] for g in games[:3]} == {"final"}
    card = scorecard(store, 2022)
    assert card["graded_games"] == sum(g.home_score != g.away_score for g in games[:3])
