"""Reads the miss path needs from the SQL store, by game and by date (sync; run in a thread).

The batch side's predictions are preferred when they exist for the model;
otherwise the stored pre-game features are scored with the model here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from bullpen.model import WinModel
from bullpen.store import read_feature_row, read_features
from bullpen.store.schema import games, predictions, utcnow


class GameNotFound(LookupError):
    pass


class PredictionUnavailable(RuntimeError):
    """The game exists but its features cannot be scored (e.g. missing values)."""


def _prediction_rows(engine: Engine, model_version: str, where: Any) -> list[dict[str, Any]]:
    cols = [predictions.c[n] for n in ("game_id", "date", "home", "away", "p_home", "computed_at")]
    stmt = select(*cols).where(predictions.c.model_version == model_version, where)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def _teams(engine: Engine, where: Any) -> dict[str, tuple[str, str]]:
    stmt = select(games.c.game_id, games.c.home, games.c.away).where(where)
    with engine.connect() as conn:
        return {row.game_id: (row.home, row.away) for row in conn.execute(stmt)}


def _score(
    engine: Engine, model: WinModel, feature_version: str, frame: Any, teams: dict
) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    p_home = model.predict(frame)
    now = utcnow()
    rows = []
    for game_id, date, p in zip(frame["game_id"], frame["date"], p_home, strict=True):
        if not math.isfinite(float(p)):
            raise PredictionUnavailable(f"features of {game_id} cannot be scored")
        # Without a games row (a scheduled game), the home team is in the game id.
        home, away = teams.get(game_id, (game_id[:3], None))
        rows.append({"game_id": game_id, "date": date.date(), "home": home, "away": away,
                     "p_home": float(p), "computed_at": now})  # fmt: skip
    return rows


def game_row(
    engine: Engine, model: WinModel, model_version: str, feature_version: str, game_id: str
) -> dict[str, Any]:
    """A predictions-shaped row for one game; GameNotFound if the store knows nothing of it."""
    stored = _prediction_rows(engine, model_version, predictions.c.game_id == game_id)
    if stored:
        return stored[0]
    # One row, no DataFrame: read_features' frame building was ~85 % of a miss.
    features = read_feature_row(engine, feature_version, game_id)
    if features is None:
        raise GameNotFound(f"no game {game_id} with features {feature_version}")
    missing = [name for name in model.feature_names if name not in features]
    if missing:
        raise ValueError(f"features missing columns: {missing}")
    x = np.array([[features[name] for name in model.feature_names]], dtype=float)
    p = float(model.predict(x)[0])
    if not math.isfinite(p):
        raise PredictionUnavailable(f"features of {game_id} cannot be scored")
    home, away = _teams(engine, games.c.game_id == game_id).get(game_id, (game_id[:3], None))
    return {"game_id": game_id, "date": features["date"], "home": home, "away": away,
            "p_home": p, "computed_at": utcnow()}  # fmt: skip


def day_rows(
    engine: Engine, model: WinModel, model_version: str, feature_version: str, date: dt.date
) -> list[dict[str, Any]]:
    """Rows for every game of `date`: stored predictions, else scored features."""
    stored = _prediction_rows(engine, model_version, predictions.c.date == date)
    if stored:
        return sorted(stored, key=lambda r: r["game_id"])
    frame = read_features(engine, feature_version, on=date)
    teams = _teams(engine, games.c.date == date)
    return sorted(_score(engine, model, feature_version, frame, teams), key=lambda r: r["game_id"])
