"""Warming one model for the coming days: the rows stored, the keys written and counted.

The one recipe promotion and rollback follow (`bullpen.serving.warming.warm_model`),
against a real store (the first ten days of 2022) and a private Redis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from sqlalchemy import Engine, text

from bench.loopback import RedisNode
from bullpen.cache.contract import ActiveModel, features_key, revision_key
from bullpen.domain.features import FEATURE_VERSION
from bullpen.domain.model import WinModel
from bullpen.serving.warming import (
    coming_days,
    coverage,
    days_with_games,
    keys_for_days,
    schedule,
    warm_model,
)
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine, read_predictions, read_revision
from tests.support.data import FIRST_DAY, fill_store, served_day_key, served_key

ELO = ActiveModel("elo-warming", FEATURE_VERSION)
ARTIFACT = WinModel(kind="elo").to_bytes()
DAYS = [FIRST_DAY, FIRST_DAY + dt.timedelta(days=1)]


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame) -> Iterator[Engine]:
    engine = make_engine(
        fill_store(f"sqlite:///{tmp_path / 'store.db'}", logs2022, features2022).url
    )
    yield engine
    engine.dispose()


@pytest.fixture
def client(private_redis: RedisNode) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(private_redis.url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_warming_stores_scores_writes_every_key_and_counts_them(
    store: Engine, client: redis.Redis
) -> None:
    games = schedule(store, DAYS)
    covered = warm_model(store, client, ELO, ARTIFACT, DAYS, ttl=120)
    assert covered.complete and covered.expected == len(games) + len(DAYS)
    assert covered.computed == len(games)  # nothing was stored for this model before
    assert covered.written == 2 * len(games) + len(DAYS)  # predictions, features, days
    stored = pd.concat(
        [read_predictions(store, on=d, model_version=ELO.model_version) for d in DAYS]
    )
    assert sorted(stored["game_id"]) == sorted(games["game_id"])
    some = str(games["game_id"].iloc[0])
    assert client.exists(served_key(store, ELO.model_version, some))
    assert client.exists(features_key(FEATURE_VERSION, some))
    assert 0 < client.ttl(served_day_key(store, ELO.model_version, FIRST_DAY)) <= 120
    assert client.get(revision_key(FEATURE_VERSION, FIRST_DAY)).decode() == read_revision(
        store, FEATURE_VERSION, FIRST_DAY
    )


def test_warming_again_writes_the_same_bytes_and_computes_nothing(
    store: Engine, client: redis.Redis
) -> None:
    warm_model(store, client, ELO, ARTIFACT, DAYS, ttl=120)
    keys = keys_for_days(store, ELO, DAYS)
    first = client.mget(keys)
    again = warm_model(store, client, ELO, ARTIFACT, DAYS, ttl=120)
    assert again.complete and again.computed == 0  # read back as stored, computed_at and all
    assert client.mget(keys) == first


def test_a_game_without_features_is_missing_from_the_coverage(
    store: Engine, client: redis.Redis
) -> None:
    games = schedule(store, [FIRST_DAY])
    lost = str(games["game_id"].iloc[0])
    with store.begin() as conn:
        conn.execute(text("delete from features where game_id = :g"), {"g": lost})
    covered = warm_model(store, client, ELO, ARTIFACT, [FIRST_DAY], ttl=120)
    assert not covered.complete
    assert covered.missing == (served_key(store, ELO.model_version, lost),)
    assert coverage(client, [served_key(store, ELO.model_version, lost)]).ratio == 0


def test_a_day_without_games_is_empty_not_complete(store: Engine, client: redis.Redis) -> None:
    """Zero keys expected is a visible outcome: never counted as 100% covered."""
    covered = warm_model(store, client, ELO, ARTIFACT, [dt.date(2022, 12, 25)], ttl=120)
    assert (covered.expected, covered.present, covered.written) == (0, 0, 0)
    assert covered.empty and not covered.complete and covered.ratio == 0.0
    assert client.dbsize() == 0


def test_a_break_looks_ahead_to_the_next_days_with_games(store: Engine) -> None:
    """The sample's games start on FIRST_DAY: a window before it (a break) moves to the next
    dates with games; the offseason, with none within the horizon, stays empty."""
    before = FIRST_DAY - dt.timedelta(days=5)

    moved = days_with_games(store, before, 2)
    offseason = days_with_games(store, dt.date(2022, 12, 1), 2)

    assert moved == [FIRST_DAY, FIRST_DAY + dt.timedelta(days=1)]
    assert offseason == [dt.date(2022, 12, 1), dt.date(2022, 12, 2)]
    assert schedule(store, offseason).empty
    assert days_with_games(store, FIRST_DAY, 2) == moved  # games already: the calendar days


def test_coming_days_start_at_the_as_of_date() -> None:
    assert coming_days(FIRST_DAY, 3) == [FIRST_DAY + dt.timedelta(days=i) for i in range(3)]
