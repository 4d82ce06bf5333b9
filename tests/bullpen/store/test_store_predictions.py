"""Predictions upsert by (game_id, model_version)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine

from bullpen.store import PREDICTION_COLUMNS, read_predictions, write_predictions


def _frame(model_version: str = "m1", p_home: float = 0.55) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "game_id": ["NYA202204070", "SFN202204080"],
            "date": [dt.date(2022, 4, 7), dt.date(2022, 4, 8)],
            "home": ["NYA", "SFN"],
            "away": ["BOS", "MIA"],
            "p_home": [p_home, 0.61],
            "model_version": [model_version] * 2,
            "feature_version": ["f1", None],
        }
    )


def test_predictions_upsert_and_filters(engine: Engine) -> None:
    assert write_predictions(engine, _frame()) == 2
    write_predictions(engine, _frame(p_home=0.4))
    write_predictions(engine, _frame("m2").drop(columns="feature_version"))

    everything = read_predictions(engine)
    assert list(everything.columns) == [*PREDICTION_COLUMNS, "computed_at"]
    assert len(everything) == 4
    m1 = read_predictions(engine, model_version="m1")
    assert m1["p_home"].tolist() == [0.4, 0.61]
    assert m1["feature_version"].tolist()[0] == "f1" and pd.isna(m1["feature_version"][1])
    assert pd.api.types.is_datetime64_any_dtype(m1["date"])
    assert m1["computed_at"].dt.tz is not None

    day = read_predictions(engine, on=dt.date(2022, 4, 8))
    assert day["model_version"].tolist() == ["m1", "m2"]
    assert set(day["game_id"]) == {"SFN202204080"}


def test_predictions_require_columns(engine: Engine) -> None:
    with pytest.raises(ValueError, match="missing columns"):
        write_predictions(engine, _frame().drop(columns="p_home"))
    assert read_predictions(engine).empty
