"""The model's CLV: its last pre-pitch price's recommendations at the market of that moment,
graded against the closing line. FIXTURE prices: invented, not market data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bullpen.domain.market import OddsSnapshot
from bullpen.domain.schedule import EASTERN
from bullpen.serving import clock
from bullpen.serving.model_clv import model_clv
from bullpen.serving.pricing import price_slate
from bullpen.serving.slate import slate
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import register_model
from bullpen.store.live import read_publications, read_schedule
from bullpen.store.odds import record_odds
from tests.support.data import elo_entry
from tests.support.live import store_before

DAY = dt.date(2022, 4, 20)


def _at(hour: int) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour), tzinfo=EASTERN).astimezone(dt.UTC)


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs) -> Iterator[Engine]:
    engine = store_before(tmp_path / "store.db", logs2022, DAY, (DAY,))
    yield engine
    engine.dispose()


def test_recommendations_are_graded_against_the_close(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_model(store, elo_entry())
    night = read_schedule(store, on=DAY)
    game = night[night["day_night"] == "n"]["game_id"].iloc[0]
    record_odds(store, [OddsSnapshot(game, "draftkings", _at(7), 1.50, 2.80, "fixture")])
    monkeypatch.setattr(clock, "now", lambda: _at(8))
    price_slate(store, elo_entry(), slate(store, DAY))  # published at 08:00
    record_odds(store, [OddsSnapshot(game, "draftkings", _at(12), 1.70, 2.30, "fixture"),
                        OddsSnapshot(game, "fanduel", _at(12), 1.72, 2.25, "fixture")])  # fmt: skip

    early = model_clv(store, 2022, now=_at(12))  # before first pitch the line can move
    report = model_clv(store, 2022, now=_at(23))

    assert (early["recommendations"], early["waiting_for_close"]) == (0, 1)
    p = read_publications(store, 2022).set_index("game_id").loc[game, "p_home"]
    close_home = (2.30 / 4.00 + 2.25 / 3.97) / 2  # each book's fair home p, averaged
    expected = []
    if p * 1.50 - 1 > 0:
        expected.append(close_home - 1 / 1.50)
    if (1 - p) * 2.80 - 1 > 0:
        expected.append((1 - close_home) - 1 / 2.80)
    assert report["recommendations"] == len(expected) == 1  # one side of a two-way line
    assert report["mean_clv"] == pytest.approx(expected[0], abs=1e-6)
    assert report["beat_close"] == int(expected[0] > 0)
    assert report["waiting_for_close"] == 0
    [day] = report["days"]
    assert day["date"] == DAY.isoformat() and day["season_to_date"]["recommendations"] == 1


def test_no_publications_no_recommendations(store: Engine) -> None:
    report = model_clv(store, 2022)
    assert (report["recommendations"], report["mean_clv"], report["days"]) == (0, None, [])
