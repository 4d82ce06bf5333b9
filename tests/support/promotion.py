"""Promotion tests' data: a real 2019-2022 store, candidate models, a model walked to active."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import redis
from sqlalchemy import Engine

from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION, build_features
from bullpen.domain.model import WinModel, train_blend
from bullpen.domain.training import labelled, training_seasons
from bullpen.serving import active
from bullpen.serving.gates import holdout_start
from bullpen.serving.lifecycle import Status, transition
from bullpen.settings import get_settings
from bullpen.sources.parsed import read_gamelogs
from bullpen.store import (
    ModelEntry,
    load_parse_result,
    make_engine,
    read_features,
    read_games,
    register_model,
    upgrade,
    write_features,
)
from tests.support.redis_db import PROMOTION_URL

SEASONS = (2019, 2020, 2021, 2022)
REDIS_URL = PROMOTION_URL  # flushed before and after each test
SECRET = "promotion-test-secret"
# Days with games late in 2022 (inside the hold-out window): what the tests warm and serve.
AS_OF = dt.date(2022, 9, 20)
WARM_DAYS = 3


def build_base_store(gamelogs: Path, path: Path) -> str:
    """A migrated SQLite store with the games and pre-game features of SEASONS."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    try:
        logs = read_gamelogs(gamelogs, SEASONS)
        for parsed in logs.files:
            load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        frame = build_features(read_games(engine))
        write_features(engine, frame[["game_id", "date", *FEATURE_NAMES]], FEATURE_VERSION)
    finally:
        engine.dispose()
    return url


def copy_store(source: Path, target: Path) -> str:
    """A consistent copy of a SQLite store (the backup API, so WAL contents come along)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def training_frame(engine: Engine) -> pd.DataFrame:
    """The training set exactly as the `training_set` asset builds it (hold-out excluded)."""
    games = read_games(engine)
    features = read_features(engine, FEATURE_VERSION)
    seasons = training_seasons(sorted(int(s) for s in games["season"].unique()), 9999)
    with_season = features.merge(games[["game_id", "season"]], on="game_id", validate="1:1")
    frame = labelled(with_season[with_season["season"].isin(seasons)], games)
    holdout = holdout_start(frame["date"], get_settings().promotion.holdout_days)
    return frame[frame["date"] < pd.Timestamp(holdout)].reset_index(drop=True)


def entry_for(model: WinModel, version: str, train: pd.DataFrame | None = None) -> ModelEntry:
    seasons = sorted(int(s) for s in train["season"].unique()) if train is not None else [2021]
    params: dict[str, Any] = {}
    if train is not None:
        until = pd.Timestamp(train["date"].max()) + pd.Timedelta(days=1)
        params["train_until"] = until.date().isoformat()
    return ModelEntry(
        version=version, name="bullpen-win-probability", kind=model.kind,
        train_seasons_from=seasons[0], train_seasons_to=seasons[-1],
        feature_version=model.feature_version, feature_names=list(model.feature_names),
        metrics={}, params=params, artifact=model.to_bytes(),
    )  # fmt: skip


def register_elo(engine: Engine, version: str = "elo-blue") -> ModelEntry:
    return register_model(engine, entry_for(WinModel(kind="elo"), version))


def register_blend(engine: Engine, version: str = "blend-green") -> ModelEntry:
    train = training_frame(engine)
    return register_model(engine, entry_for(train_blend(train), version, train))


def make_active(engine: Engine, client: Any, version: str) -> None:
    """Walk a registered model through the states to active, as a promotion would."""
    transition(engine, version, Status.CHECKED, "test", "fixture")
    active.begin_warming(engine, version, "test")
    active.promote(engine, client, version, "test", "fixture")


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, socket_timeout=2)
