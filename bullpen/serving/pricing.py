"""Price a date's slate with a model: what the daily job and the live loop both do.

The slate's features are computed as of its morning (`bullpen.serving.slate`);
those of games not played yet are stored (with their starters and inputs hash,
so a changed starter drops the predictions computed before it), every game is
scored, and the rows are stored as the model's predictions; the prices of games
not played yet are frozen as publications (`bullpen.serving.scorecard` grades them).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from bullpen.cache.contract import ActiveModel
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.inputs import INPUT_COLUMNS
from bullpen.domain.model import WinModel
from bullpen.serving import clock
from bullpen.serving.active import pointer_of
from bullpen.serving.predictions import Row, score, to_frame
from bullpen.serving.slate import Slate, features_of
from bullpen.settings import get_settings
from bullpen.store import ModelEntry, write_features, write_predictions
from bullpen.store.live import record_publications


class FeatureVersionMismatch(RuntimeError):
    """The model reads another feature version than this code computes: retrain first."""


@dataclass(frozen=True)
class Priced:
    rows: list[Row]
    live: int  # games not played yet whose features were (re)stored
    unscorable: list[str] = field(default_factory=list)


def price_slate(engine: Engine, entry: ModelEntry, of: Slate) -> Priced:
    active = pointer_of(entry)
    if active.feature_version != FEATURE_VERSION:
        raise FeatureVersionMismatch(
            f"model {entry.version} expects feature version {active.feature_version}, "
            f"but this code computes {FEATURE_VERSION}: retrain (run batch_job) before serving"
        )
    if of.empty:
        return Priced([], 0)
    model = WinModel.from_bytes(entry.artifact, threads=get_settings().model_threads)
    features = features_of(engine, of)
    live = features[features["game_id"].isin(of.live)]
    write_features(
        engine, live[["game_id", "date", *FEATURE_NAMES, *INPUT_COLUMNS]], FEATURE_VERSION
    )
    scored = score(model, features)
    write_predictions(engine, to_frame(scored.rows, active))
    published = _publications(scored.rows, features, set(of.live), active, clock.now())
    record_publications(engine, published)
    return Priced(scored.rows, len(live), scored.unscorable)


def _publications(
    rows: list[Row], features: pd.DataFrame, live: set[str], active: ActiveModel,
    at: dt.datetime,
) -> list[dict[str, Any]]:  # fmt: skip
    """The prices of games not played yet, frozen as published (what the scorecard grades)."""
    elo = dict(zip(features["game_id"], features["elo_p_home"], strict=True))
    return [
        {
            "game_id": r["game_id"],
            "date": r["date"],
            "model_version": active.model_version,
            "feature_version": active.feature_version,
            "inputs_hash": r["inputs_hash"],
            "p_home": r["p_home"],
            "elo_p_home": _finite(elo.get(r["game_id"])),
            "home_sp_id": r["home_sp_id"],
            "away_sp_id": r["away_sp_id"],
            "published_at": at,
        }
        for r in rows
        if r["game_id"] in live and r.get("inputs_hash")
    ]


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None
