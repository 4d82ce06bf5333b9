"""Warm one model's cache keys for the coming days and measure their coverage.

The one recipe both promotion (green, before its flip) and rollback (the
previous model, whose keys may have expired) follow: the model's rows for the
games of each day (`bullpen.serving.predictions.rows_for`: stored, else scored
from stored features), the rows it had to score stored so every later reader
sees the same numbers, then the keys written and counted. The keys that must
exist for a model to be served without a miss are one per game on the days' slates
and one per date with games (`bullpen.cache.contract`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine

from bullpen.cache import contract
from bullpen.cache.contract import ActiveModel
from bullpen.cache.writer import key_slot, warm, write_entries
from bullpen.domain.features import FEATURE_NAMES
from bullpen.domain.model import WinModel
from bullpen.serving import clock
from bullpen.serving.board import point_odds, prediction_bodies, warm_boards
from bullpen.serving.predictions import rows_for, to_frame
from bullpen.serving.revisions import point, revisions
from bullpen.serving.slate import slate
from bullpen.settings import get_settings
from bullpen.store import read_features, write_predictions

# EXISTS per round trip when measuring coverage.
COVERAGE_BATCH = 1000
# MLB dates are US Eastern dates (as the daily partitions are).
MLB_TZ = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class Coverage:
    expected: int
    present: int
    missing: tuple[str, ...]
    computed: int = 0  # predictions scored (and stored) while warming
    written: int = 0  # keys written: predictions, days and the games' features
    bytes: int = 0
    seconds: float = 0.0

    @property
    def empty(self) -> bool:
        """No key was expected: no games on the days asked for (nothing was verified)."""
        return self.expected == 0

    @property
    def ratio(self) -> float:
        return self.present / self.expected if self.expected else 0.0

    @property
    def complete(self) -> bool:
        """Every expected key is there, and there was at least one."""
        return not self.empty and self.present == self.expected


def default_as_of() -> dt.date:
    """BULLPEN_PROMOTION_AS_OF if set, else today in New York by the live clock (a season
    replay's simulated day, or the real one)."""
    return get_settings().promotion.as_of or clock.now().astimezone(MLB_TZ).date()


def coming_days(start: dt.date | None = None, days: int | None = None) -> list[dt.date]:
    """`days` dates from `start` (defaults: `default_as_of()`, BULLPEN_PROMOTION_WARM_DAYS)."""
    start = start or default_as_of()
    count = days or get_settings().promotion.warm_days
    return [start + dt.timedelta(days=i) for i in range(count)]


# How far past an empty window (an off day, the All-Star break) a promotion looks for games.
GAME_DAYS_HORIZON = 14


def days_with_games(
    engine: Engine, start: dt.date | None = None, days: int | None = None
) -> list[dt.date]:
    """`coming_days(start, days)`; when none of them has games (a break), the next `days`
    dates that do, at most GAME_DAYS_HORIZON days on. Still empty: nothing to warm (the
    caller fails visibly, never "covered")."""
    window = coming_days(start, days)
    if not schedule(engine, window).empty:
        return window
    ahead = coming_days(window[-1] + dt.timedelta(days=1), GAME_DAYS_HORIZON)
    found = [d for d in ahead if not slate(engine, d).empty][: len(window)]
    return found or window


def schedule(engine: Engine, days: Iterable[dt.date]) -> pd.DataFrame:
    """The games on the slates of `days` (game_id, date, home, away, ...): played ones and
    the live schedule's games not played yet (`bullpen.serving.slate`); postponed ones not."""
    frames = [slate(engine, day).games for day in days]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["game_id", "date", "home", "away"])
    return pd.concat(frames, ignore_index=True)


def expected_keys(
    active: ActiveModel, games: pd.DataFrame, revs: Mapping[dt.date, str]
) -> list[str]:
    """One prediction key per game and one day key per date with games, at `revs`."""
    version, features = active.model_version, active.feature_version
    dated = [(str(g), pd.Timestamp(d).date()) for g, d in zip(games["game_id"], games["date"],
                                                            strict=True)]  # fmt: skip
    keys = [contract.prediction_key(version, features, g, revs[d]) for g, d in dated]
    return keys + [contract.day_key(version, features, d, revs[d]) for d in sorted(revs)]


def keys_for_days(engine: Engine, active: ActiveModel, days: Iterable[dt.date]) -> list[str]:
    """`expected_keys` of the slates of `days` at the store's current revisions."""
    games = schedule(engine, days)
    dates = {pd.Timestamp(d).date() for d in games["date"]}
    return expected_keys(active, games, revisions(engine, active.feature_version, dates))


def coverage(redis: Any, keys: list[str]) -> Coverage:
    """How many of `keys` exist: pipelined single-key EXISTS, cluster-safe."""
    ordered = sorted(keys, key=lambda k: (key_slot(k), k))
    missing: list[str] = []
    for start in range(0, len(ordered), COVERAGE_BATCH):
        batch = ordered[start : start + COVERAGE_BATCH]
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.exists(key)
        missing += [k for k, found in zip(batch, pipe.execute(), strict=True) if not found]
    return Coverage(len(keys), len(keys) - len(missing), tuple(sorted(missing)))


def warm_model(
    engine: Engine,
    redis: Any,
    active: ActiveModel,
    artifact: bytes,
    days: Iterable[dt.date],
    ttl: int,
    trained_until: dt.date | None = None,
) -> Coverage:
    """Store and warm `active`'s rows and the games' feature keys for `days`; idempotent.

    `trained_until` (the first date the model did not train on) marks each body's
    `in_sample`. A schedule without games is `Coverage.empty`, never "complete".
    """
    games = schedule(engine, days)
    if games.empty:
        return Coverage(0, 0, ())
    model = WinModel.from_bytes(artifact, threads=get_settings().model_threads)
    dates = {pd.Timestamp(d).date() for d in games["date"]}
    revs = revisions(engine, active.feature_version, dates)
    found = rows_for(engine, model, active, game_ids=games["game_id"].tolist())
    if found.scored:
        write_predictions(engine, to_frame(found.scored, active))
    predictions = warm(
        redis, found.rows, active.model_version, active.feature_version, revs, ttl, trained_until
    )
    feats = read_features(engine, active.feature_version, game_ids=games["game_id"].tolist())
    feature_rows = (
        (r["game_id"], {n: r[n] for n in FEATURE_NAMES if n in r}) for r in feats.to_dict("records")
    )
    features = write_entries(
        redis, contract.features_entries(feature_rows, active.feature_version), ttl
    )
    odds_revs = warm_boards(
        engine, redis, active, prediction_bodies(found.rows, active, trained_until), revs, ttl
    )
    point(redis, active.feature_version, revs, ttl)  # after the values it names
    point_odds(redis, odds_revs, ttl)
    measured = coverage(redis, expected_keys(active, games, revs))
    return replace(
        measured,
        computed=len(found.scored),
        written=predictions.keys + features.keys,
        bytes=predictions.bytes + features.bytes,
        seconds=predictions.seconds + features.seconds,
    )
