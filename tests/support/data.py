"""The real 2022 sample in a store: games, pre-game features of the first ten days, an Elo
model, and that model put in service the way production does it (`bullpen.serving`).

The model is registered `trained`, walked to `checked` and `warming` through the audited
lifecycle when the store is filled, and promoted by `serve` once a Redis is there: the
first call flips the store, every later one (another Redis) only writes the pointer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import redis

from bench.loopback import RedisNode
from bullpen.cache import writer
from bullpen.cache.contract import warm_entries
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION, build_features
from bullpen.domain.inputs import INPUT_COLUMNS, with_inputs
from bullpen.domain.model import WinModel, train_blend
from bullpen.domain.training import labelled
from bullpen.serving import active
from bullpen.serving.lifecycle import Status, transition
from bullpen.serving.predictions import score
from bullpen.serving.revisions import point, revisions
from bullpen.sources.parsed import ParsedLogs, read_gamelogs
from bullpen.store import (
    ModelEntry,
    get_model,
    load_parse_result,
    make_engine,
    register_model,
    upgrade,
    write_features,
)

MODEL_VERSION = "elo-2022-test"
BLEND_VERSION = "blend-2022-test"
# One season cannot be calibrated out of fold: the test blend gets a slope and intercept
# away from the identity instead, so whatever maps through the calibration is exercised.
TEST_CALIBRATION = (0.9, 0.05)
FIRST_DAY = dt.date(2022, 4, 7)
SAMPLE_DAYS = 10
SECRET = "test-secret"
ACTOR = "tests"


@dataclass
class StoreData:
    url: str
    game_ids: list[str]
    days: list[dt.date]


def read_2022(gamelogs_dir: Path) -> ParsedLogs:
    logs = read_gamelogs(gamelogs_dir, [2022])
    assert logs.files and not logs.errors
    return logs


def sample_features(logs: ParsedLogs) -> pd.DataFrame:
    """Real pre-game features of the first ten days of 2022 (computed on the whole season),
    with each game's starters and inputs hash (`bullpen.domain.inputs`)."""
    games = logs.frame()
    frame = with_inputs(build_features(games), games, FEATURE_NAMES)
    frame = frame[frame["date"] < pd.Timestamp(FIRST_DAY + dt.timedelta(days=SAMPLE_DAYS))]
    return frame[["game_id", "date", *FEATURE_NAMES, *INPUT_COLUMNS]].reset_index(drop=True)


def blend_2022(logs: ParsedLogs) -> WinModel:
    """A blend trained on the whole 2022 season (so the sample's games are in-sample)."""
    games = logs.frame()
    model = train_blend(labelled(build_features(games), games), threads=1, calibrate=False)
    model.calibration = TEST_CALIBRATION
    return model


def elo_entry(version: str = MODEL_VERSION) -> ModelEntry:
    return ModelEntry(
        version=version, name="elo", kind="elo", train_seasons_from=2021, train_seasons_to=2021,
        feature_version=FEATURE_VERSION, feature_names=list(FEATURE_NAMES),
        metrics={"brier": 0.245, "log_loss": 0.684}, params={},
        artifact=WinModel(kind="elo").to_bytes(),
    )  # fmt: skip


def fill_store(url: str, logs: ParsedLogs, features: pd.DataFrame) -> StoreData:
    import bullpen.store.apikeys  # noqa: F401 - its table joins the metadata

    upgrade(url)
    engine = make_engine(url)
    try:
        parsed = logs.files[0]
        load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        write_features(engine, features, FEATURE_VERSION)
        register_model(engine, elo_entry())
        # No candidate data to check an Elo baseline against: checked by fiat, audited.
        transition(engine, MODEL_VERSION, Status.CHECKED, ACTOR, "test baseline, unchecked")
        active.begin_warming(engine, MODEL_VERSION, ACTOR)
    finally:
        engine.dispose()
    days = sorted({d.date() for d in features["date"]})
    return StoreData(url, list(features["game_id"]), days)


def serve(store_url: str, client: Any) -> None:
    """Make the sample's Elo model the active one and its pointer `client`'s (idempotent)."""
    engine = make_engine(store_url)
    try:
        active.promote(engine, client, MODEL_VERSION, ACTOR, "tests")
    finally:
        engine.dispose()


def prediction_rows(logs: ParsedLogs, features: pd.DataFrame) -> list[dict[str, Any]]:
    """Predictions rows (as the batch side stores them) of the Elo model on `features`."""
    teams = logs.frame()[["game_id", "home", "away"]]
    return score(WinModel(kind="elo"), features.merge(teams, on="game_id")).rows


def warm_all(
    client: Any, rows: list[dict[str, Any]], store_url: str | None = None
) -> dict[str, bytes]:
    """Warm every game and slate of `rows` under the store's revisions, and serve the model
    of `store_url` (without a store: one made-up revision per date, values only); returns
    the exact bytes written, by key."""
    dates = {row["date"] for row in rows}
    revs = dict.fromkeys(dates, "test")
    if store_url is not None:
        engine = make_engine(store_url)
        try:
            revs = revisions(engine, FEATURE_VERSION, dates)
        finally:
            engine.dispose()
    entries = warm_entries(rows, MODEL_VERSION, FEATURE_VERSION, revs)
    writer.write_entries(client, entries, ttl=3600)
    if store_url is not None:
        point(client, FEATURE_VERSION, revs, 3600)
        serve(store_url, client)
    return entries


@dataclass
class WarmNode:
    """A private redis-server with the 2022 sample warmed: its process, a client, the bytes."""

    node: RedisNode
    client: redis.Redis
    entries: dict[str, bytes]


def switch_to(store_url: str, client: Any, version: str) -> None:
    """Put `version` in service the way a promotion does (checked → warming → active)."""
    engine = make_engine(store_url)
    try:
        if get_model(engine, version).status == Status.TRAINED:  # type: ignore[union-attr]
            transition(engine, version, Status.CHECKED, ACTOR, "test model, unchecked")
        active.begin_warming(engine, version, ACTOR)
        active.promote(engine, client, version, ACTOR, "tests")
    finally:
        engine.dispose()


def served_key(engine: Any, version: str, game_id: str) -> str:
    """The cache key of a game's prediction under `version` at the store's revision."""
    from bullpen.cache.contract import game_date, prediction_key
    from bullpen.store import read_revision

    revision = read_revision(engine, FEATURE_VERSION, game_date(game_id))
    return prediction_key(version, FEATURE_VERSION, game_id, revision)


def served_day_key(engine: Any, version: str, day: dt.date) -> str:
    from bullpen.cache.contract import day_key
    from bullpen.store import read_revision

    return day_key(version, FEATURE_VERSION, day, read_revision(engine, FEATURE_VERSION, day))
