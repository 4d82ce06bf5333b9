"""Warm one model's cache keys for the coming days and measure their coverage (no Dagster).

Used by the promotion job (after it computed the green model's predictions
into the store) and by rollback (the previous model's keys may have expired).
The keys that must exist for a model to be served without a miss are one per
scheduled game and one per date with games (`bullpen.cache`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine

from bullpen import cache
from bullpen.features import FEATURE_NAMES
from bullpen.model import WinModel
from bullpen.promotion_settings import get_promotion_settings
from bullpen.store import ModelEntry, read_features, read_games, read_predictions
from bullpen.store.schema import utcnow

# EXISTS per round trip when measuring coverage.
COVERAGE_BATCH = 1000
# MLB dates are US Eastern dates (as the daily partitions are).
MLB_TZ = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class Coverage:
    expected: int
    present: int
    missing: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.present / self.expected if self.expected else 1.0

    @property
    def complete(self) -> bool:
        return self.present == self.expected


def default_as_of() -> dt.date:
    """BULLPEN_PROMOTION_AS_OF if set (replays of past seasons), else today in New York."""
    return get_promotion_settings().as_of or dt.datetime.now(MLB_TZ).date()


def coming_days(start: dt.date | None = None, days: int | None = None) -> list[dt.date]:
    """`days` dates from `start` (defaults: `default_as_of()`, BULLPEN_PROMOTION_WARM_DAYS)."""
    start = start or default_as_of()
    count = days or get_promotion_settings().warm_days
    return [start + dt.timedelta(days=i) for i in range(count)]


def schedule(engine: Engine, days: Iterable[dt.date]) -> pd.DataFrame:
    """The stored games of `days` (game_id, date, home, away, ...), one query per day."""
    frames = [read_games(engine, on=day) for day in days]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["game_id", "date", "home", "away"])
    return pd.concat(frames, ignore_index=True)


def expected_keys(version: str, feature_version: str, games: pd.DataFrame) -> list[str]:
    """One prediction key per game and one day key per date with games."""
    keys = [cache.prediction_key(version, feature_version, str(g)) for g in games["game_id"]]
    dates = sorted({pd.Timestamp(d).date() for d in games["date"]})
    return keys + [cache.day_key(version, feature_version, d) for d in dates]


def coverage(redis: Any, keys: list[str]) -> Coverage:
    """How many of `keys` exist: pipelined single-key EXISTS, cluster-safe."""
    ordered = sorted(keys, key=lambda k: (cache.key_slot(k), k))
    missing: list[str] = []
    for start in range(0, len(ordered), COVERAGE_BATCH):
        batch = ordered[start : start + COVERAGE_BATCH]
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.exists(key)
        missing += [k for k, found in zip(batch, pipe.execute(), strict=True) if not found]
    return Coverage(len(keys), len(keys) - len(missing), tuple(sorted(missing)))


def stored_rows(engine: Engine, entry: ModelEntry, games: pd.DataFrame) -> list[dict[str, Any]]:
    """Prediction rows of `entry` for `games`: stored ones, else its score of stored features.

    Games with neither (no features stored yet) are left out; coverage shows them.
    """
    feature_version = entry.feature_version or ""
    rows: list[dict[str, Any]] = []
    for day in sorted({pd.Timestamp(d).date() for d in games["date"]}):
        stored = read_predictions(engine, on=day, model_version=entry.version)
        rows += stored.to_dict("records")
    have = {r["game_id"] for r in rows}
    todo = games[~games["game_id"].isin(have)]
    if not todo.empty:
        feats = read_features(engine, feature_version, game_ids=todo["game_id"].tolist())
        feats = feats.dropna(subset=list(FEATURE_NAMES))
        if not feats.empty:
            model = WinModel.from_bytes(entry.artifact, threads=1)
            teams = todo.set_index("game_id")[["home", "away"]]
            now = utcnow()
            for game_id, date, p in zip(
                feats["game_id"], feats["date"], model.predict(feats), strict=True
            ):
                home, away = teams.loc[game_id]
                rows.append({"game_id": game_id, "date": date, "home": home, "away": away,
                             "p_home": float(p), "computed_at": now})  # fmt: skip
    return rows


def warm_model(
    engine: Engine, redis: Any, entry: ModelEntry, days: Iterable[dt.date], ttl: int
) -> Coverage:
    """Write `entry`'s keys (and the games' feature keys) for the games of `days`; idempotent."""
    games = schedule(engine, days)
    feature_version = entry.feature_version or ""
    if games.empty:
        return Coverage(0, 0, ())
    cache.warm(redis, stored_rows(engine, entry, games), entry.version, feature_version, ttl)
    feats = read_features(engine, feature_version, game_ids=games["game_id"].tolist())
    feature_rows = (
        (r["game_id"], {n: r[n] for n in FEATURE_NAMES if n in r}) for r in feats.to_dict("records")
    )
    cache.write_entries(redis, cache.features_entries(feature_rows, feature_version), ttl)
    return coverage(redis, expected_keys(entry.version, feature_version, games))
