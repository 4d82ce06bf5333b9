"""The one policy for a model's prediction rows: stored, else scored from stored features.

Warming, rollback and the API's miss path all read rows through it; these tests pin what
each of them gets, on a store with the real first ten days of 2022.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from bullpen.cache.contract import ActiveModel
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.model import WinModel
from bullpen.serving.predictions import (
    GameNotFound,
    PredictionUnavailable,
    row_for_game,
    rows_for,
    score,
    to_frame,
)
from bullpen.serving.slate import slate_features
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine, read_features, write_features, write_predictions
from tests.support.data import FIRST_DAY, fill_store

ELO = ActiveModel("elo-policy", FEATURE_VERSION)
MODEL = WinModel(kind="elo")


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame) -> Engine:
    store = fill_store(f"sqlite:///{tmp_path / 'store.db'}", logs2022, features2022)
    engine = make_engine(store.url)
    yield engine
    engine.dispose()


def _expected(store: Engine, game_ids: list[str]) -> dict[str, float]:
    features = read_features(store, FEATURE_VERSION, game_ids=game_ids)
    return dict(zip(features["game_id"], MODEL.predict(features), strict=True))


def test_without_stored_predictions_the_stored_features_are_scored(store: Engine) -> None:
    found = rows_for(store, MODEL, ELO, on=FIRST_DAY)
    assert found.rows and found.stored == 0 and len(found.scored) == len(found.rows)
    expected = _expected(store, [r["game_id"] for r in found.rows])
    assert {r["game_id"]: r["p_home"] for r in found.rows} == pytest.approx(expected)
    assert all(r["date"] == FIRST_DAY and r["home"] == r["game_id"][:3] for r in found.rows)
    assert [r["game_id"] for r in found.rows] == sorted(r["game_id"] for r in found.rows)


def test_a_stored_prediction_wins_and_the_rest_are_scored(store: Engine) -> None:
    day = rows_for(store, MODEL, ELO, on=FIRST_DAY).rows
    pinned = {**day[0], "p_home": 0.123}
    write_predictions(store, to_frame([pinned], ELO))
    found = rows_for(store, MODEL, ELO, on=FIRST_DAY)
    assert found.stored == 1 and len(found.scored) == len(day) - 1
    by_game = {r["game_id"]: r for r in found.rows}
    assert by_game[pinned["game_id"]]["p_home"] == pytest.approx(0.123)
    by_ids = rows_for(store, MODEL, ELO, game_ids=[r["game_id"] for r in day])
    assert [r["p_home"] for r in by_ids.rows] == [r["p_home"] for r in found.rows]
    assert row_for_game(store, MODEL, ELO, pinned["game_id"])["p_home"] == pytest.approx(0.123)


def test_one_game_is_found_scored_or_refused_with_a_reason(store: Engine) -> None:
    game_id = rows_for(store, MODEL, ELO, on=FIRST_DAY).rows[1]["game_id"]
    row = row_for_game(store, MODEL, ELO, game_id)
    assert row["p_home"] == pytest.approx(_expected(store, [game_id])[game_id])
    with pytest.raises(GameNotFound, match="NYA199904070"):
        row_for_game(store, MODEL, ELO, "NYA199904070")
    nan_game = {"game_id": ["ZZZ202204100"], "date": [dt.date(2022, 4, 10)]}
    frame = pd.DataFrame(nan_game | {name: [math.nan] for name in FEATURE_NAMES})
    write_features(store, frame, FEATURE_VERSION)
    with pytest.raises(PredictionUnavailable, match="ZZZ202204100"):
        row_for_game(store, MODEL, ELO, "ZZZ202204100")
    assert rows_for(store, MODEL, ELO, game_ids=["ZZZ202204100"]).unscorable == ["ZZZ202204100"]


def test_a_game_the_store_has_only_features_of_takes_its_home_team_from_its_id(
    store: Engine,
) -> None:
    existing = read_features(store, FEATURE_VERSION, on=FIRST_DAY).iloc[[0]]
    scheduled = existing.assign(game_id="SEA202211300", date=pd.Timestamp("2022-11-30"))
    write_features(store, scheduled, FEATURE_VERSION)
    row = row_for_game(store, MODEL, ELO, "SEA202211300")
    assert (row["home"], row["away"], row["date"]) == ("SEA", None, dt.date(2022, 11, 30))


def test_the_daily_jobs_as_of_scores_equal_the_policys(store: Engine) -> None:
    """Scoring features rebuilt as of the morning gives what the stored features give: the
    daily job and every reader of the policy agree (the leakage guarantee, seen from here)."""
    with store.connect() as conn:
        later = conn.execute(text("select min(date) from features where date > :d"),
                             {"d": FIRST_DAY + dt.timedelta(days=3)}).scalar_one()  # fmt: skip
    day = dt.date.fromisoformat(str(later)[:10])
    as_of = score(MODEL, slate_features(store, day))
    policy = rows_for(store, MODEL, ELO, on=day)
    assert [r["game_id"] for r in as_of.rows] == [r["game_id"] for r in policy.rows]
    assert [r["p_home"] for r in as_of.rows] == pytest.approx([r["p_home"] for r in policy.rows])
