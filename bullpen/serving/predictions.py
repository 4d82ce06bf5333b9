"""A model's prediction rows: the one policy every reader follows, and the one scorer.

A game's row under a model is the model's **stored** prediction when the store
has one, else the model's **score of the game's stored pre-game features**. A
game with neither has no row (`GameNotFound` for one game); a game whose
features the model cannot score (NaN) has none either and is named in
`Rows.unscorable` (`PredictionUnavailable` for one game). Warming, rollback and
the API's miss path all call `rows_for`; the daily job scores a slate's
features (`bullpen.serving.slate`) with `score`.

A row is ``{game_id, date, home, away, p_home, computed_at}`` plus the inputs it
came from (`bullpen.domain.inputs.INPUT_COLUMNS`: a hash and the starters), the
input of `bullpen.cache.contract.prediction_body`. A game the store has no `games` row
for (scheduled, not played) takes its home team from its id and no away team.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from bullpen.cache.contract import ActiveModel
from bullpen.domain.inputs import INPUT_COLUMNS
from bullpen.domain.model import WinModel
from bullpen.store import (
    read_feature_row,
    read_features,
    read_prediction_rows,
    read_teams,
)
from bullpen.store.schema import utcnow

Row = dict[str, Any]


class GameNotFound(LookupError):
    """Neither a stored prediction nor stored features: the store knows nothing of the game."""


class PredictionUnavailable(RuntimeError):
    """The game exists but its features cannot be scored (e.g. missing values)."""


@dataclass(frozen=True, slots=True)
class Rows:
    rows: list[Row]  # sorted by game_id
    stored: int = 0  # how many came from the store as they were
    scored: list[Row] = field(default_factory=list)  # the rows scored here, not stored yet
    unscorable: list[str] = field(default_factory=list)  # games whose features gave no p


def rows_for(
    engine: Engine,
    model: WinModel,
    active: ActiveModel,
    *,
    game_ids: Sequence[str] | None = None,
    on: dt.date | None = None,
) -> Rows:
    """The rows of `game_ids`, or of every game of date `on`, under `active` (see above)."""
    version, feature_version = active.model_version, active.feature_version
    stored = read_prediction_rows(engine, version, game_ids=game_ids, on=on)
    have = {row["game_id"] for row in stored}
    if game_ids is not None:
        todo = [g for g in dict.fromkeys(game_ids) if g not in have]
        ids, dates, x, inputs = _stored_features(engine, model, feature_version, todo)
    else:
        ids, dates, x, inputs = _features_of_date(engine, model, feature_version, on, have)
    teams = read_teams(engine, game_ids=ids) if ids else {}
    scored, unscorable = _rows(ids, dates, model.predict(x) if ids else [], teams, inputs)
    rows = sorted(stored + scored, key=lambda r: r["game_id"])
    return Rows(rows, len(stored), scored, unscorable)


def row_for_game(engine: Engine, model: WinModel, active: ActiveModel, game_id: str) -> Row:
    """One game's row; GameNotFound or PredictionUnavailable instead of an empty answer."""
    found = rows_for(engine, model, active, game_ids=[game_id])
    if found.rows:
        return found.rows[0]
    if found.unscorable:
        raise unscorable(game_id)
    raise _not_found(game_id, active)


@dataclass(frozen=True, slots=True)
class GameFeatures:
    game_id: str
    date: dt.date
    x: np.ndarray  # 1 x the model's features, as `rows_for` scores them
    inputs: dict[str, Any]  # the game's `INPUT_COLUMNS`


def game_features(
    engine: Engine, model: WinModel, active: ActiveModel, game_id: str
) -> GameFeatures:
    """One game's stored pre-game features, read as the miss path reads them to score it;
    GameNotFound (as `row_for_game`) when the store has none."""
    ids, dates, x, inputs = _stored_features(engine, model, active.feature_version, [game_id])
    if not ids:
        raise _not_found(game_id, active)
    return GameFeatures(game_id, dates[0], x, inputs[game_id])


def unscorable(game_id: str) -> PredictionUnavailable:
    return PredictionUnavailable(f"features of {game_id} cannot be scored")


def _not_found(game_id: str, active: ActiveModel) -> GameNotFound:
    return GameNotFound(f"no game {game_id} with features {active.feature_version}")


def score(model: WinModel, features: pd.DataFrame) -> Rows:
    """Rows for a frame of features (`game_id`, `date`, `home`, `away`, the model's columns)."""
    ids = [str(g) for g in features["game_id"]]
    dates = [pd.Timestamp(d).date() for d in features["date"]]
    teams = dict(zip(ids, zip(features["home"], features["away"], strict=True), strict=True))
    p_home = model.predict(features) if ids else []
    scored, unscorable = _rows(ids, dates, p_home, teams, _inputs(features))
    return Rows(sorted(scored, key=lambda r: r["game_id"]), 0, scored, unscorable)


def to_frame(rows: Sequence[Row], active: ActiveModel) -> pd.DataFrame:
    """Rows as the frame `bullpen.store.write_predictions` takes."""
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=["game_id", "date", "home", "away", "p_home", "computed_at", *INPUT_COLUMNS],
    )
    return frame.assign(model_version=active.model_version, feature_version=active.feature_version)


Features = tuple[list[str], list[dt.date], np.ndarray, dict[str, dict[str, Any]]]


def _stored_features(
    engine: Engine, model: WinModel, feature_version: str, game_ids: list[str]
) -> Features:
    if len(game_ids) == 1:  # the API's miss path: one row, no DataFrame (pandas was ~85 %)
        row = read_feature_row(engine, feature_version, game_ids[0])
        if row is None:
            return [], [], _empty(model), {}
        missing = [name for name in model.feature_names if name not in row]
        if missing:
            raise ValueError(f"features missing columns: {missing}")
        x = np.array([[row[name] for name in model.feature_names]], dtype=float)
        inputs = {game_ids[0]: {c: row[c] for c in INPUT_COLUMNS}}
        return [game_ids[0]], [row["date"]], x, inputs
    if not game_ids:
        return [], [], _empty(model), {}
    return _matrix(model, read_features(engine, feature_version, game_ids=game_ids, inputs=True))


def _features_of_date(
    engine: Engine, model: WinModel, feature_version: str, on: dt.date | None, have: set[str]
) -> Features:
    frame = read_features(engine, feature_version, on=on, inputs=True)
    return _matrix(model, frame[~frame["game_id"].isin(have)])


def _matrix(model: WinModel, frame: pd.DataFrame) -> Features:
    if frame.empty:
        return [], [], _empty(model), {}
    missing = [c for c in model.feature_names if c not in frame.columns]
    if missing:
        raise ValueError(f"features missing columns: {missing}")
    dates = [pd.Timestamp(d).date() for d in frame["date"]]
    x = frame[list(model.feature_names)].to_numpy(dtype=float)
    return list(frame["game_id"]), dates, x, _inputs(frame)


def _inputs(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """game_id → its inputs columns (None where the frame does not carry them)."""
    columns = {c: frame[c].tolist() if c in frame else [None] * len(frame) for c in INPUT_COLUMNS}
    return {
        str(game_id): {c: _text(values[i]) for c, values in columns.items()}
        for i, game_id in enumerate(frame["game_id"])
    }


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _empty(model: WinModel) -> np.ndarray:
    return np.empty((0, len(model.feature_names)))


def _rows(
    ids: Sequence[str],
    dates: Sequence[dt.date],
    p_home: Any,
    teams: Mapping[str, tuple],
    inputs: Mapping[str, Mapping[str, Any]],
) -> tuple[list[Row], list[str]]:
    now = utcnow()
    rows: list[Row] = []
    unscorable: list[str] = []
    blank = dict.fromkeys(INPUT_COLUMNS)
    for game_id, date, p in zip(ids, dates, p_home, strict=True):
        if not math.isfinite(float(p)):
            unscorable.append(game_id)
            continue
        home, away = teams.get(game_id, (game_id[:3], None))
        rows.append({"game_id": game_id, "date": date, "home": home, "away": away,
                     "p_home": float(p), "computed_at": now,
                     **inputs.get(game_id, blank)})  # fmt: skip
    return rows, unscorable
