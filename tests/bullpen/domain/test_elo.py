"""Team Elo (`bullpen.domain.elo`): ratings are pre-game, updates are zero-sum, seasons regress.

Elo is a model feature computed over every season, so a leak of a same-day result into a
pre-game rating, or a drift in the update rule, would silently change every model trained on
it. Each test builds a few hand-made games and checks exact ratings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bullpen.domain.elo import MEAN_RATING, EloParams, expected_home, pregame_elo

# No home edge and no margin weighting: an even game moves each side by exactly k / 2.
PLAIN = EloParams(k=4.0, home_advantage=0.0, carry_over=0.6, mov_scale=0.0)

Game = tuple[str, str, str, float, float]  # date, home, away, home_score, away_score


def _games(rows: list[Game], game_numbers: list[int] | None = None) -> pd.DataFrame:
    numbers = game_numbers or [0] * len(rows)
    return pd.DataFrame(
        {
            "game_id": [f"G{i:02d}" for i in range(len(rows))],
            "date": pd.to_datetime([r[0] for r in rows]),
            "game_number": numbers,
            "season": [int(r[0][:4]) for r in rows],
            "home": [r[1] for r in rows],
            "away": [r[2] for r in rows],
            "home_score": [r[3] for r in rows],
            "away_score": [r[4] for r in rows],
        }
    )


def _rated(games: pd.DataFrame, params: EloParams = PLAIN) -> pd.DataFrame:
    return pregame_elo(games, params).set_index("game_id")


def test_first_game_is_rated_at_the_mean() -> None:
    out = _rated(_games([("2022-04-07", "NYA", "BOS", 5, 3)]))
    assert out.loc["G00", "elo_home"] == MEAN_RATING
    assert out.loc["G00", "elo_away"] == MEAN_RATING
    assert out.loc["G00", "elo_p_home"] == pytest.approx(0.5)


def test_home_win_moves_both_teams_by_the_same_amount() -> None:
    out = _rated(_games([("2022-04-07", "NYA", "BOS", 5, 3), ("2022-04-08", "BOS", "NYA", 1, 2)]))
    # Even game, no home edge, no margin weighting: shift = k * (1 - 0.5).
    assert out.loc["G01", "elo_away"] == pytest.approx(MEAN_RATING + 2.0)
    assert out.loc["G01", "elo_home"] == pytest.approx(MEAN_RATING - 2.0)


def test_updates_are_zero_sum_over_a_schedule() -> None:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", 5, 3),
        ("2022-04-07", "TOR", "BAL", 1, 9),
        ("2022-04-08", "BOS", "TOR", 4, 4),
        ("2022-04-08", "BAL", "NYA", 2, 3),
        ("2022-04-09", "NYA", "TOR", 0, 7),
        ("2022-04-09", "BOS", "BAL", 6, 5),
        ("2022-04-10", "NYA", "BOS", np.nan, np.nan),
        ("2022-04-10", "TOR", "BAL", np.nan, np.nan),
    ]
    params = EloParams(k=6.0, home_advantage=24.0, carry_over=0.6, mov_scale=1.0)
    last = _rated(_games(rows), params).loc[["G06", "G07"]]
    total = last["elo_home"].sum() + last["elo_away"].sum()
    assert total == pytest.approx(4 * MEAN_RATING)
    assert not np.allclose(last[["elo_home", "elo_away"]].to_numpy(), MEAN_RATING)


def test_doubleheader_games_share_pre_game_ratings() -> None:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", 5, 3),
        ("2022-04-07", "NYA", "BOS", 6, 2),
        ("2022-04-08", "NYA", "BOS", 0, 0),
    ]
    out = _rated(_games(rows, game_numbers=[1, 2, 0]))
    # The second game must not see the first one's result.
    assert out.loc["G01", "elo_home"] == MEAN_RATING
    assert out.loc["G01", "elo_away"] == MEAN_RATING
    # Both results applied afterwards from the same expectation: 2 * k * 0.5.
    assert out.loc["G02", "elo_home"] == pytest.approx(MEAN_RATING + 4.0)
    assert out.loc["G02", "elo_away"] == pytest.approx(MEAN_RATING - 4.0)


def test_games_are_rated_in_date_order_whatever_the_input_order() -> None:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", 5, 3),
        ("2022-04-08", "BOS", "TOR", 1, 2),
        ("2022-04-09", "TOR", "NYA", 3, 4),
    ]
    forward = _rated(_games(rows), PLAIN)
    backward = _rated(_games(rows).iloc[::-1].reset_index(drop=True), PLAIN)
    pd.testing.assert_frame_equal(forward, backward)
    assert list(pregame_elo(_games(rows).iloc[::-1], PLAIN)["game_id"]) == ["G00", "G01", "G02"]


@pytest.mark.parametrize(("home_score", "away_score"), [(np.nan, np.nan), (5, np.nan)])
def test_games_without_a_result_move_nothing(home_score: float, away_score: float) -> None:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", home_score, away_score),
        ("2022-04-08", "NYA", "BOS", 1, 0),
    ]
    out = _rated(_games(rows))
    assert out.loc["G01", "elo_home"] == MEAN_RATING
    assert out.loc["G01", "elo_away"] == MEAN_RATING


def test_tie_without_margin_weighting_pulls_ratings_together() -> None:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", 5, 3),
        ("2022-04-08", "NYA", "BOS", 2, 2),
        ("2022-04-09", "NYA", "BOS", 0, 0),
    ]
    out = _rated(_games(rows))
    gap_before = out.loc["G01", "elo_home"] - out.loc["G01", "elo_away"]
    gap_after = out.loc["G02", "elo_home"] - out.loc["G02", "elo_away"]
    assert 0 < gap_after < gap_before


@pytest.mark.parametrize("carry_over", [0.0, 0.6, 1.0])
def test_new_season_regresses_toward_the_mean_by_carry_over(carry_over: float) -> None:
    rows: list[Game] = [
        ("2021-09-30", "NYA", "BOS", 5, 3),
        ("2022-04-07", "NYA", "BOS", 1, 0),
    ]
    params = EloParams(k=4.0, home_advantage=0.0, carry_over=carry_over, mov_scale=0.0)
    out = _rated(_games(rows), params)
    assert out.loc["G01", "elo_home"] == pytest.approx(MEAN_RATING + carry_over * 2.0)
    assert out.loc["G01", "elo_away"] == pytest.approx(MEAN_RATING - carry_over * 2.0)


def test_regression_happens_once_per_season_not_per_game() -> None:
    rows: list[Game] = [
        ("2021-09-30", "NYA", "BOS", 5, 3),
        ("2022-04-07", "NYA", "TOR", np.nan, np.nan),
        ("2022-04-08", "NYA", "TOR", np.nan, np.nan),
    ]
    out = _rated(_games(rows))
    assert out.loc["G01", "elo_home"] == pytest.approx(MEAN_RATING + 0.6 * 2.0)
    assert out.loc["G02", "elo_home"] == pytest.approx(MEAN_RATING + 0.6 * 2.0)


# Montreal became Washington; from 2025 the game logs write ATH (no city) for Oakland.
@pytest.mark.parametrize(
    ("before", "after"),
    [(("2004-10-03", "MON", "NYN"), ("2005-04-04", "WAS", "PHI")),
     (("2024-09-26", "OAK", "TEX"), ("2025-03-28", "ATH", "SEA"))],
)  # fmt: skip
def test_relocated_or_renamed_franchise_keeps_its_rating(
    before: tuple[str, str, str], after: tuple[str, str, str]
) -> None:
    out = _rated(_games([(*before, 8, 1), (*after, 3, 2)]))
    assert out.loc["G01", "elo_home"] == pytest.approx(MEAN_RATING + 0.6 * 2.0)
    assert out.loc["G01", "elo_away"] == MEAN_RATING


def _home_shift(home_score: float, away_score: float, params: EloParams) -> float:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", home_score, away_score),
        ("2022-04-08", "NYA", "BOS", np.nan, np.nan),
    ]
    return float(_rated(_games(rows), params).loc["G01", "elo_home"] - MEAN_RATING)


def test_margin_of_victory_off_ignores_the_score() -> None:
    assert _home_shift(10, 0, PLAIN) == pytest.approx(_home_shift(1, 0, PLAIN))


def test_margin_of_victory_scales_a_blowout() -> None:
    mov = EloParams(k=4.0, home_advantage=0.0, carry_over=0.6, mov_scale=1.0)
    # Even teams: multiplier = ln(margin + 1).
    assert _home_shift(10, 0, mov) == pytest.approx(2.0 * math.log(11))
    assert _home_shift(1, 0, mov) == pytest.approx(2.0 * math.log(2))
    assert _home_shift(10, 0, mov) > _home_shift(10, 0, PLAIN)


def test_margin_of_victory_counts_less_for_a_favourite() -> None:
    even = EloParams(k=4.0, home_advantage=0.0, carry_over=0.6, mov_scale=1.0)
    favoured = EloParams(k=4.0, home_advantage=200.0, carry_over=0.6, mov_scale=1.0)
    p_fav = float(expected_home(np.array(MEAN_RATING), np.array(MEAN_RATING), 200.0))
    multiplier_even = _home_shift(10, 0, even) / (4.0 * 0.5)
    multiplier_fav = _home_shift(10, 0, favoured) / (4.0 * (1.0 - p_fav))
    assert multiplier_fav == pytest.approx(math.log(11) * 2.2 / (200 * 0.001 + 2.2))
    assert multiplier_fav < multiplier_even


def test_expected_home_is_even_without_an_edge_and_symmetric() -> None:
    a, b = np.array([1500.0, 1620.0]), np.array([1500.0, 1480.0])
    np.testing.assert_allclose(expected_home(a, a, 0.0), 0.5)
    np.testing.assert_allclose(expected_home(a, b, 0.0) + expected_home(b, a, 0.0), 1.0)


def test_expected_home_adds_the_home_edge_to_the_rating_gap() -> None:
    assert expected_home(np.array(1500.0), np.array(1524.0), 24.0) == pytest.approx(0.5)
    assert expected_home(np.array(1500.0), np.array(1500.0), 24.0) > 0.5
    assert expected_home(np.array(1900.0), np.array(1500.0), 0.0) == pytest.approx(10 / 11)


def test_output_probability_matches_the_ratings() -> None:
    rows: list[Game] = [
        ("2022-04-07", "NYA", "BOS", 5, 3),
        ("2022-04-08", "NYA", "BOS", 1, 0),
    ]
    params = EloParams(k=8.0, home_advantage=24.0, carry_over=0.6, mov_scale=1.0)
    out = _rated(_games(rows), params)
    np.testing.assert_allclose(
        out["elo_p_home"], expected_home(out["elo_home"], out["elo_away"], 24.0)
    )
    assert EloParams().as_dict() == {
        "k": 4.0, "home_advantage": 24.0, "carry_over": 0.6, "mov_scale": 1.0
    }  # fmt: skip
