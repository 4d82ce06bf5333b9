"""Explanations add up: base + contributions is the log-odds of the model's own answer,
for a trained blend and for Elo, on real 2022 rows (missing values included); and every
feature has a plain name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bullpen.domain import explain as ex
from bullpen.domain.features import (
    DIFF_FEATURES,
    FEATURE_NAMES,
    SIDE_FEATURES,
)
from bullpen.domain.model import LINEAR_FEATURES, WinModel, elo_model, logit, sigmoid
from bullpen.domain.starter_form import RECENT_STARTS

EXACT = 1e-9
# Features neither model part reads as a linear term: NaN there still gives a number
# (the trees route missing values); NaN in a linear feature makes p NaN, as for predict.
TREE_ONLY = [i for i, name in enumerate(FEATURE_NAMES) if name not in LINEAR_FEATURES]


@pytest.fixture(scope="module")
def rows(features2022: pd.DataFrame) -> np.ndarray:
    """Twelve real rows, three of them with missing values the trees must route."""
    x = features2022[list(FEATURE_NAMES)].to_numpy(dtype=float)[::10][:12].copy()
    x[0, TREE_ONLY[:5]] = np.nan
    x[1, TREE_ONLY] = np.nan
    x[2, FEATURE_NAMES.index("home_sp_k_rate_recent")] = np.nan
    return x


def _calibrated_elo() -> WinModel:
    model = elo_model()
    model.calibration = (1.07, -0.03)
    return model


@pytest.mark.parametrize("kind", ["blend", "elo"])
def test_base_plus_contributions_is_the_log_odds_of_predict(
    kind: str, blend2022: WinModel, rows: np.ndarray
) -> None:
    model = blend2022 if kind == "blend" else _calibrated_elo()
    assert model.calibration != (1.0, 0.0)
    parts = ex.decompose(model, rows)
    p = model.predict(rows)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(parts.logit, logit(p), rtol=0, atol=EXACT)
    for i, row in enumerate(rows):
        one = ex.explain(model, row)
        assert one.p_home == p[i]  # the very number the plain answer gives
        assert one.base + one.contributions.sum() == pytest.approx(logit(p[i]), abs=EXACT)


def test_the_mapping_is_the_documented_one(blend2022: WinModel, rows: np.ndarray) -> None:
    """Trees: a*0.5*pred_contrib; Elo start: a*0.5*elo_logit; logistic: a*0.5*coef*z."""
    a, b = blend2022.calibration
    parts = ex.decompose(blend2022, rows)
    trees = blend2022.booster.predict(rows, pred_contrib=True)
    tree_only = FEATURE_NAMES.index("home_win_pct_30")
    np.testing.assert_allclose(parts.contributions[:, tree_only], a * 0.5 * trees[:, tree_only])
    linear = blend2022.linear
    k = LINEAR_FEATURES.index("diff_sp_k_rate")
    j = FEATURE_NAMES.index("diff_sp_k_rate")
    term = linear["coef"][k] * (rows[:, j] - linear["mean"][k]) / linear["scale"][k]
    np.testing.assert_allclose(parts.contributions[:, j], a * 0.5 * (trees[:, j] + term))
    elo = FEATURE_NAMES.index("elo_p_home")
    z = (logit(rows[:, elo]) - linear["mean"][0]) / linear["scale"][0]
    np.testing.assert_allclose(
        parts.contributions[:, elo],
        a * 0.5 * (trees[:, elo] + logit(rows[:, elo]) + linear["coef"][0] * z),
    )
    np.testing.assert_allclose(
        parts.base, b + a * 0.5 * (trees[:, -1] + linear["intercept"][0]), rtol=0, atol=EXACT
    )


def test_elo_is_all_elo_p_home(rows: np.ndarray) -> None:
    model = _calibrated_elo()
    parts = ex.decompose(model, rows)
    elo = FEATURE_NAMES.index("elo_p_home")
    assert np.all(parts.base == -0.03)
    assert np.count_nonzero(parts.contributions[:, np.arange(len(FEATURE_NAMES)) != elo]) == 0
    ranked = ex.explain(model, rows[3]).ranked()
    assert [c.feature for c in ranked] == ["elo_p_home"]
    assert ranked[0].p_without == pytest.approx(sigmoid(-0.03))


def test_ranked_contributions(blend2022: WinModel, rows: np.ndarray) -> None:
    one = ex.explain(blend2022, rows[0])
    ranked = one.ranked()
    sizes = [abs(c.logit) for c in ranked]
    assert sizes == sorted(sizes, reverse=True) and all(s > 0 for s in sizes)
    assert one.base + sum(c.logit for c in ranked) == pytest.approx(logit(one.p_home), abs=EXACT)
    by_feature = {c.feature: c for c in ranked}
    for i in TREE_ONLY[:5]:  # missing values are reported as such
        if FEATURE_NAMES[i] in by_feature:
            assert by_feature[FEATURE_NAMES[i]].value is None
    top = ranked[0]
    assert top.name == ex.PLAIN_NAMES[top.feature]
    assert top.value == one.values[FEATURE_NAMES.index(top.feature)]
    # p_without: the same prediction with only that contribution's log-odds removed
    assert top.p_without == pytest.approx(sigmoid(logit(one.p_home) - top.logit), abs=EXACT)
    assert (top.p_without < one.p_home) == (top.logit > 0)


def test_nan_in_a_linear_feature_gives_no_number_as_predict_does(blend2022: WinModel) -> None:
    row = np.full(len(FEATURE_NAMES), np.nan)
    assert np.isnan(blend2022.predict(row[None, :])[0])
    assert np.isnan(ex.explain(blend2022, row).p_home)


def test_every_feature_has_a_plain_name() -> None:
    assert set(ex.PLAIN_NAMES) == set(FEATURE_NAMES)
    assert set(ex.SIDE_NAMES) <= set(SIDE_FEATURES)  # no phrase for a feature that is gone
    assert len(set(ex.PLAIN_NAMES.values())) == len(FEATURE_NAMES)
    assert ex.plain_name("home_sp_k_rate_recent") == (
        f"home starter's strikeout rate, last {RECENT_STARTS} starts"
    )
    assert ex.plain_name("away_venue_win_pct") == "away team's win % on the road this season"
    assert all(ex.plain_name(f"diff_{f}").startswith("home minus away: ") for f in DIFF_FEATURES)
