"""End to end on each backend: batch_job, then one as-of date, then both again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import redis
from sqlalchemy import Engine

from bullpen.cache.contract import (
    ActiveModel,
    day_key,
    features_key,
    prediction_key,
    revision_key,
)
from bullpen.domain.backtest import OUTPUT_COLUMNS
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.model import WinModel
from bullpen.serving.active import read_pointer
from bullpen.store import (
    count_games,
    get_model,
    list_models,
    read_features,
    read_games,
    read_predictions,
)

BATCH_ASSETS = {
    "gamelog_files",
    "games",
    "game_features",
    "training_set",
    "candidate_model",
    "elo_baseline_model",
    "backtest_report",
}
DAILY_ASSETS = {"scheduled_games", "game_predictions", "prediction_cache"}
GAMES_2019_2022 = 2429 + 898 + 2429 + 2430  # 2020 was the 60-game season
AS_OF = "2022-07-04"
GAMES_ON_AS_OF = 14


def test_batch_then_daily_and_again(
    empty_store_url, four_seasons, pipeline_for, engine_for
) -> None:
    pipeline = pipeline_for(empty_store_url, four_seasons)
    engine = engine_for(empty_store_url)

    batch = pipeline.batch()
    assert batch.success
    first = pipeline.metadata(batch)
    _check_batch(first, engine, pipeline.backtest_dir)
    assert not pipeline.daily(AS_OF).success  # nothing promoted yet: nothing to predict with
    assert pipeline.promote(first["candidate_model"]["version"], AS_OF).success
    daily = pipeline.daily(AS_OF)
    assert daily.success
    assert daily.dagster_run.tags["bullpen/date"] == AS_OF
    _check_daily(pipeline.metadata(daily), engine, first["candidate_model"]["version"])
    _check_cache(pipeline.metadata(daily), pipeline.redis_url, first["candidate_model"]["version"])

    # Idempotent: the same inputs give the same store, no duplicate models or predictions.
    models_before = {m.version for m in list_models(engine)}
    again = pipeline.batch()
    assert again.success
    second = pipeline.metadata(again)
    assert second["games"]["store_total_games"] == GAMES_2019_2022
    assert second["games"]["game_dates_added"] == 0  # every date already a partition
    dates = pipeline.instance.get_dynamic_partitions("game_dates")
    assert len(dates) == first["games"]["game_dates_added"] == len(set(read_games(engine)["date"]))
    assert second["candidate_model"]["version"] == first["candidate_model"]["version"]
    assert {m.version for m in list_models(engine)} == models_before
    assert len(read_features(engine, FEATURE_VERSION)) == GAMES_2019_2022
    assert pipeline.daily(AS_OF).success
    assert len(read_predictions(engine, on=dt.date(2022, 7, 4))) == GAMES_ON_AS_OF


def _check_batch(meta: dict, engine: Engine, backtest_dir: Path) -> None:
    assert set(meta) == BATCH_ASSETS
    assert meta["gamelog_files"]["files"] == 4
    assert meta["gamelog_files"]["source_errors"] == []
    assert meta["games"]["games_loaded"] == GAMES_2019_2022
    assert meta["games"]["store_total_games"] == count_games(engine) == GAMES_2019_2022
    assert meta["games"]["games_per_season"] == {
        "2019": 2429,
        "2020": 898,
        "2021": 2429,
        "2022": 2430,
    }
    assert meta["games"]["quarantined"] == 0
    assert meta["game_features"]["rows"] == GAMES_2019_2022
    assert meta["game_features"]["feature_version"] == FEATURE_VERSION
    assert meta["training_set"]["seasons"] == [2020, 2021, 2022]
    assert 0.5 < meta["training_set"]["home_win_rate"] < 0.56
    assert "data:image/png;base64," in meta["candidate_model"]["feature_importance"]

    models = {m.kind: m for m in list_models(engine)}
    assert set(models) == {"blend", "elo"}
    assert all(m.feature_version == FEATURE_VERSION for m in models.values())
    candidate = models["blend"]
    assert candidate.version == meta["candidate_model"]["version"]
    assert (candidate.train_seasons_from, candidate.train_seasons_to) == (2020, 2022)
    assert candidate.metrics["backtest"]["season"] == 2022
    # The model card: every feature's share of the trees' gain, and the backtest by month.
    shares = candidate.metrics["card"]["gain_share"]
    assert set(shares) == set(candidate.feature_names)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    months = candidate.metrics["backtest"]["by_month"]
    assert [m["month"] for m in months] == ["Apr", "May", "Jun", "Jul", "Aug", "Sep"]
    assert sum(m["games"] for m in months) == 2430
    assert (
        candidate.metrics["backtest"]["april_may"]["model"]["games"]
        == months[0]["games"] + months[1]["games"]
    )

    report = meta["backtest_report"]
    assert report["season"] == 2022 and report["games"] == 2430
    for name in ("model", "elo", "constant"):
        for metric in ("brier", "log_loss", "accuracy", "calibration_error"):
            assert 0 < report[f"{name}_{metric}"] < 1
    assert report["model_brier"] < report["constant_brier"]
    assert "data:image/png;base64," in report["calibration_plot"]
    assert 0 < report["april_may_model_brier"] < 1 and 0 < report["april_may_elo_brier"] < 1
    assert report["by_month"].count("\n") == 1 + 6  # header, rule, six months
    csv = pd.read_csv(backtest_dir / "backtest-2022.csv")
    assert tuple(csv.columns) == OUTPUT_COLUMNS and len(csv) == 2430


def _check_daily(meta: dict, engine: Engine, candidate: str) -> None:
    assert set(meta) == DAILY_ASSETS
    assert meta["scheduled_games"]["games"] == GAMES_ON_AS_OF
    assert meta["game_predictions"]["model_version"] == candidate
    assert meta["game_predictions"]["predictions"].count("\n") == GAMES_ON_AS_OF + 1
    stored = read_predictions(engine, on=dt.date(2022, 7, 4))
    assert len(stored) == GAMES_ON_AS_OF
    assert set(stored["model_version"]) == {candidate}
    assert set(stored["feature_version"]) == {FEATURE_VERSION}
    assert stored["p_home"].between(0, 1, inclusive="neither").all()
    # Pre-game means pre-game: features rebuilt from the blanked as-of schedule
    # score exactly like the batch features stored for the same games.
    entry = get_model(engine, candidate)
    batch_features = read_features(engine, FEATURE_VERSION, on=dt.date(2022, 7, 4))
    expected = WinModel.from_bytes(entry.artifact).predict(batch_features)
    merged = stored.merge(batch_features[["game_id"]].assign(expected=expected), on="game_id")
    np.testing.assert_allclose(merged["p_home"], merged["expected"], rtol=0, atol=1e-12)


def _check_cache(meta: dict, redis_url: str, candidate: str) -> None:
    """The day's slate, each game and its features are in Redis, with TTLs."""
    client = redis.Redis.from_url(redis_url)
    # one key per game, one per game's features, one for the day's slate
    assert meta["prediction_cache"]["keys_written"] == 2 * GAMES_ON_AS_OF + 1
    assert meta["prediction_cache"]["active_model"] == candidate
    assert read_pointer(client) == ActiveModel(candidate, FEATURE_VERSION)
    as_of = dt.date(2022, 7, 4)
    revision = client.get(revision_key(FEATURE_VERSION, as_of)).decode()
    day = json.loads(client.get(day_key(candidate, FEATURE_VERSION, as_of, revision)))
    assert day["count"] == GAMES_ON_AS_OF
    game = day["games"][0]
    key = prediction_key(candidate, FEATURE_VERSION, game["game_id"], revision)
    stored = json.loads(client.get(key))
    assert stored == game
    # July 4 is before the hold-out the blend did not train on: its numbers are fits.
    assert all(g["in_sample"] is True for g in day["games"])
    feats = json.loads(client.get(features_key(FEATURE_VERSION, game["game_id"])))
    assert set(feats) == set(FEATURE_NAMES)
    assert 0 < client.ttl(key) <= 7 * 86400
    # Each game carries the starters its features were computed with.
    assert game["starters"]["home"]["id"] and game["inputs"]
