from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION, build_features
from bullpen.domain.metrics import brier
from bullpen.domain.model import WinModel, elo_model, train_blend
from bullpen.domain.training import labelled
from bullpen.sources.parsed import read_gamelogs


@pytest.fixture(scope="module")
def data(gamelogs_dir: Path) -> pd.DataFrame:
    games = read_gamelogs(gamelogs_dir, range(2015, 2020)).frame()
    return labelled(build_features(games), games)


@pytest.fixture(scope="module")
def model(data: pd.DataFrame) -> WinModel:
    return train_blend(data[data["season"].between(2016, 2018)], threads=1, calibrate=False)


def test_blend_beats_constant_out_of_sample(data: pd.DataFrame, model: WinModel) -> None:
    test = data[data["season"] == 2019]
    p = model.predict(test)
    assert np.all((p > 0) & (p < 1))
    constant = np.full(len(test), data.loc[data["season"] < 2019, "y"].mean())
    assert brier(test["y"], p) < brier(test["y"], constant) - 0.005


def test_artifact_round_trip_scores_identically(data: pd.DataFrame, model: WinModel) -> None:
    test = data[data["season"] == 2019]
    restored = WinModel.from_bytes(model.to_bytes())
    assert restored.feature_version == FEATURE_VERSION
    assert restored.feature_names == FEATURE_NAMES
    np.testing.assert_allclose(restored.predict(test), model.predict(test), rtol=1e-12)
    # numpy rows, the online path, score the same as a DataFrame
    row = test[list(FEATURE_NAMES)].to_numpy()[:1]
    assert restored.predict(row)[0] == pytest.approx(model.predict(test.iloc[:1])[0])


def test_elo_model_is_the_elo_probability(data: pd.DataFrame) -> None:
    frame = data.head(50)
    np.testing.assert_allclose(elo_model().predict(frame), frame["elo_p_home"], rtol=1e-9)


def test_missing_feature_column_is_a_clear_error(data: pd.DataFrame, model: WinModel) -> None:
    with pytest.raises(ValueError, match="features missing columns: \\['away_sp_k_rate'\\]"):
        model.predict(data.drop(columns=["away_sp_k_rate"]))


def test_feature_importance_names_every_feature(model: WinModel) -> None:
    importance = model.feature_importance()
    assert set(importance) == set(FEATURE_NAMES)
    assert max(importance.values()) > 0
