"""Feature rows round-trip through JSON, missing values included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from bullpen.domain.inputs import inputs_hash
from bullpen.store import (
    read_feature_row,
    read_features,
    read_predictions,
    read_revision,
    write_features,
    write_predictions,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "game_id": ["NYA202204070", "BOS202204070", "SFN202204080"],
            "date": pd.to_datetime(["2022-04-07", "2022-04-07", "2022-04-08"]),
            "elo_diff": [12.5, -3.0, np.nan],
            "home_rest": [1.0, np.nan, 2.0],
            "rate": [0.1234567890123, 0.0, 1e-9],
        }
    )


def test_features_round_trip_with_nan(engine: Engine) -> None:
    frame = _frame()
    assert write_features(engine, frame, "v1") == 3

    back = read_features(engine, "v1")

    assert list(back.columns) == ["game_id", "date", "elo_diff", "home_rest", "rate"]
    expected = frame.sort_values(["date", "game_id"], ignore_index=True)
    expected["date"] = expected["date"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(back, expected)


def test_features_upsert_filters_and_versions(engine: Engine) -> None:
    write_features(engine, _frame(), "v1")
    changed = _frame().iloc[[0]].assign(elo_diff=99.0)
    write_features(engine, changed, "v1")
    write_features(engine, _frame().assign(elo_diff=-1.0), "v2")

    v1 = read_features(engine, "v1")
    assert len(v1) == 3
    assert v1.set_index("game_id").loc["NYA202204070", "elo_diff"] == 99.0
    assert (read_features(engine, "v2")["elo_diff"] == -1.0).all()

    some = read_features(engine, "v1", game_ids=["SFN202204080", "nope"])
    assert some["game_id"].tolist() == ["SFN202204080"]
    on_day = read_features(engine, "v1", on=dt.date(2022, 4, 7))
    assert on_day["game_id"].tolist() == ["BOS202204070", "NYA202204070"]
    empty = read_features(engine, "v3")
    assert empty.empty and list(empty.columns) == ["game_id", "date"]


def test_write_features_rejects_duplicate_games(engine: Engine) -> None:
    frame = pd.concat([_frame(), _frame().iloc[[0]]])
    with pytest.raises(ValueError, match="duplicate"):
        write_features(engine, frame, "v1")
    assert read_features(engine, "v1").empty


def test_read_feature_row_equals_the_frame_row(engine: Engine) -> None:
    """The online miss path's one-row read: the same values as `read_features`, no pandas."""
    write_features(engine, _frame(), "v1")
    frame = read_features(engine, "v1", inputs=True)
    for record in frame.to_dict("records"):
        row = read_feature_row(engine, "v1", record["game_id"])
        assert row is not None and list(row) == list(frame.columns)
        assert row["date"] == record["date"].date() and isinstance(row["date"], dt.date)
        for name in ("elo_diff", "home_rest", "rate"):
            assert type(row[name]) is float
            assert row[name] == record[name] or (np.isnan(row[name]) and np.isnan(record[name]))
    assert read_feature_row(engine, "v1", "nope") is None
    assert read_feature_row(engine, "v2", "NYA202204070") is None


def _with_starters(frame: pd.DataFrame, home: str, name: str) -> pd.DataFrame:
    return frame.assign(home_sp_id=home, home_sp_name=name, away_sp_id=None, away_sp_name="X")


def _predictions(frame: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    return frame[["game_id", "date"]].assign(
        home="NYA", away="BOS", p_home=0.5, model_version="m1", feature_version="v1",
        inputs_hash=inputs,
    )  # fmt: skip


def test_inputs_are_stored_and_a_changed_starter_drops_its_old_predictions(
    engine: Engine,
) -> None:
    """A prediction never outlives its inputs: scratch a starter, and the predictions made
    with the old one are gone (same transaction), the others stay; the date's revision moves."""
    before = _with_starters(_frame(), "coleg001", "Gerrit Cole")
    write_features(engine, before, "v1")
    stored = read_features(engine, "v1", inputs=True).set_index("game_id")
    write_predictions(
        engine, _predictions(before, list(stored.loc[before["game_id"], "inputs_hash"]))
    )
    revision = read_revision(engine, "v1", dt.date(2022, 4, 7))

    write_features(engine, before, "v1")  # the same inputs again: nothing dropped
    assert len(read_predictions(engine, model_version="m1")) == 3
    after = _with_starters(before.iloc[:1], "schmc001", "Clarke Schmidt")
    write_features(engine, after, "v1")

    left = read_predictions(engine, model_version="m1")
    assert sorted(left["game_id"]) == ["BOS202204070", "SFN202204080"]
    row = read_feature_row(engine, "v1", "NYA202204070")
    assert (row["home_sp_id"], row["home_sp_name"]) == ("schmc001", "Clarke Schmidt")
    assert row["inputs_hash"] != stored.loc["NYA202204070", "inputs_hash"]
    assert read_revision(engine, "v1", dt.date(2022, 4, 7)) != revision
    assert read_revision(engine, "v1", dt.date(2022, 4, 8)) == read_revision(
        engine, "v1", dt.date(2022, 4, 8)
    )


def test_inputs_hash_ignores_float_dust_but_not_names() -> None:
    values = {"a": 0.1 + 0.2, "b": None}
    assert inputs_hash(values, ["x", None]) == inputs_hash({"a": 0.3, "b": float("nan")}, ["x", ""])
    assert inputs_hash(values, ["x", None]) != inputs_hash(values, ["x", "Debutant B"])
    assert inputs_hash(values, ["x", None]) != inputs_hash({"a": 0.31, "b": None}, ["x", None])
