"""Starting-pitcher form (`bullpen.domain.starter_form`): shrunk toward his experience class,
priors from earlier seasons only, and the explicit unknown-or-debut value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bullpen.domain.features import build_features
from bullpen.domain.starter_form import (
    EXPERIENCE_EDGES,
    K_WEIGHT,
    _experience_priors,
    experience_class,
    starter_features,
)
from bullpen.sources.parsed import read_gamelogs


def _starts(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """Team-game rows: (pitcher, date, runs_vs_exp, strikeouts in 30 plate appearances)."""
    dates = pd.to_datetime([r[1] for r in rows])
    played = pd.Series([0.0 if np.isnan(r[2]) else 1.0 for r in rows])
    return pd.DataFrame(
        {
            "sp": [r[0] for r in rows],
            "date": dates,
            "day": (dates - pd.Timestamp("1970-01-01")).days.astype(float),
            "season": dates.year,
            "played": played,
            "k_against": [r[3] for r in rows],
            "pa_against": 30.0 * played,
            "runs_vs_exp": [r[2] for r in rows],
            "relievers": 3.0 * played,
            "k_prior": 0.2,
        }
    )


def test_experience_classes_follow_the_edges() -> None:
    assert EXPERIENCE_EDGES[0] == 0
    np.testing.assert_array_equal(
        experience_class(np.array([0, 1, 5, 6, 20, 21, 50, 51, 400])), [0, 1, 1, 2, 2, 3, 3, 4, 4]
    )


def test_an_unknown_starter_gets_the_debut_prior_and_shares_no_history() -> None:
    long = _starts(
        [
            ("rook1", "2021-05-01", 2.0, 3),  # two debut starts in 2021 (class 0)
            ("vet01", "2021-05-01", -1.0, 12),
            ("", "2022-04-10", 5.0, 0),  # an unknown starter's game, played
            ("", "2022-04-20", np.nan, np.nan),  # and the next unknown one
        ]
    )
    out = starter_features(long)
    unknown = out.iloc[3]
    # The 2022 class-0 prior is the mean of 2021's two debut starts.
    assert unknown["sp_runs_vs_exp"] == pytest.approx((2.0 - 1.0) / 2)
    assert unknown["sp_k_rate"] == pytest.approx(0.2 + (3 + 12 - 2 * 0.2 * 30) / 60)
    assert unknown["sp_starts"] == 0 and unknown["sp_season_starts"] == 0
    # The first unknown game's +5 runs did not become the second's history.
    assert out.iloc[2]["sp_runs_vs_exp"] == unknown["sp_runs_vs_exp"]


def test_a_starter_is_shrunk_toward_his_class_prior() -> None:
    long = _starts(
        [
            ("rook1", "2021-05-01", 2.0, 3),
            ("vet01", "2021-05-01", -1.0, 9),
            ("vet01", "2021-05-06", -1.0, 9),
            ("rook2", "2022-04-10", np.nan, np.nan),  # debut: class 0 prior
            ("vet01", "2022-04-10", np.nan, np.nan),  # 2 starts: class 1, no 2021 data
        ]
    )
    out = starter_features(long)
    # rook2 debuts: 2021's class-0 starts (rook1's, vet01's first) are his prior.
    assert out.iloc[3]["sp_runs_vs_exp"] == pytest.approx((2.0 - 1.0) / 2)
    # vet01 has 2 starts (class 1), whose 2021 prior is his own second start: -1 run,
    # 9 strikeouts in 30 (0.1 above the league's 0.2).
    assert out.iloc[4]["sp_runs_vs_exp"] == pytest.approx((-2.0 - 1.0 * 8) / (2 + 8))
    assert out.iloc[4]["sp_k_rate"] == pytest.approx((18 + 0.3 * K_WEIGHT) / (60 + K_WEIGHT))


def test_priors_come_from_earlier_seasons_only() -> None:
    rows = [("p1", "2021-05-01", 1.0, 3), ("p2", "2022-05-01", 4.0, 3)]
    long = _starts([*rows, ("p3", "2023-05-01", np.nan, np.nan)])
    changed = _starts(
        [rows[0], ("p2", "2022-05-01", -9.0, 30), ("p3", "2023-05-01", np.nan, np.nan)]
    )
    klass = np.zeros(3, dtype=int)
    before, after = _experience_priors(long, klass), _experience_priors(changed, klass)
    pd.testing.assert_frame_equal(before.loc[[2021, 2022]], after.loc[[2021, 2022]])
    assert before.loc[(2023, 0), "runs_vs_exp"] == pytest.approx(2.5)
    assert after.loc[(2023, 0), "runs_vs_exp"] == pytest.approx(-4.0)


def test_debut_starters_are_worse_than_veterans_in_the_real_logs(gamelogs_dir: Path) -> None:
    games = read_gamelogs(gamelogs_dir, [2019, 2021, 2022]).frame()
    features = build_features(games)
    late = features[features["season"] == 2022]
    debut = late[late["home_sp_starts"] == 0]["home_sp_runs_vs_exp"]
    veteran = late[late["home_sp_starts"] > 60]["home_sp_runs_vs_exp"]
    assert len(debut) > 10 and len(veteran) > 50
    # The class-0 prior (learned from 2019 and 2021 debuts) gives runs above expectation.
    assert debut.mean() > 0.2 > veteran.mean()
