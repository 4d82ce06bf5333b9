"""Odds math: conversions round-trip, vig removal is a distribution, Kelly is bounded."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bullpen.domain import odds

probability = st.floats(min_value=1e-4, max_value=1 - 1e-4)
decimal_odds = st.floats(min_value=1.0001, max_value=1000.0)
american = st.one_of(
    st.floats(min_value=100, max_value=1e5), st.floats(min_value=-1e5, max_value=-100)
)


@given(probability)
def test_probability_decimal_american_round_trip(p: float) -> None:
    assert odds.decimal_to_probability(odds.probability_to_decimal(p)) == pytest.approx(p)
    assert odds.american_to_probability(odds.probability_to_american(p)) == pytest.approx(p)


@given(american)
def test_american_round_trip_and_sign(a: float) -> None:
    d = odds.american_to_decimal(a)
    assert d >= 2.0 if a > 0 else 1.0 < d <= 2.0
    back = odds.decimal_to_american(d)
    # The same price comes back; near even money -100 and +100 are one price, written +100.
    assert odds.american_to_decimal(back) == pytest.approx(d, rel=1e-9)
    if abs(a) > 100.001:
        assert back == pytest.approx(a, rel=1e-9)


def test_known_values() -> None:
    assert odds.american_to_decimal(150) == 2.5
    assert odds.american_to_decimal(-150) == pytest.approx(1 + 100 / 150)
    assert odds.american_to_probability(-110) == pytest.approx(110 / 210)
    assert odds.probability_to_american(0.6) == pytest.approx(-150)
    assert odds.probability_to_american(0.4) == pytest.approx(150)


@given(st.floats(min_value=-99.999, max_value=99.999))
def test_american_between_minus_and_plus_100_is_impossible(a: float) -> None:
    with pytest.raises(odds.OddsError, match="between -100 and"):
        odds.american_to_decimal(a)


@given(st.floats(max_value=1.0))
def test_decimal_at_most_one_is_impossible(d: float) -> None:
    with pytest.raises(odds.OddsError):
        odds.decimal_to_probability(d)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_is_rejected(bad: float) -> None:
    for convert in (odds.american_to_decimal, odds.decimal_to_probability, odds.check_probability):
        with pytest.raises(odds.OddsError):
            convert(bad)


@given(st.lists(st.floats(min_value=0.01, max_value=0.99), min_size=2, max_size=6))
def test_vig_removal_gives_a_distribution_in_the_same_order(implied: list[float]) -> None:
    fair = odds.remove_vig(implied)
    assert sum(fair) == pytest.approx(1.0)
    for i in range(len(implied)):
        for j in range(len(implied)):
            if implied[i] < implied[j]:
                assert fair[i] <= fair[j]
    # Proportional: the ratios between outcomes are kept.
    assert fair[0] / fair[1] == pytest.approx(implied[0] / implied[1])


@given(probability, decimal_odds)
def test_ev_and_kelly_agree_on_sign(p: float, d: float) -> None:
    ev = odds.expected_value(p, d)
    kelly = odds.kelly_fraction(p, d)
    assert 0.0 <= kelly < 1.0
    if ev <= 0:
        assert kelly == 0.0
    else:
        assert kelly > 0.0


@given(probability, decimal_odds, st.floats(0.01, 1.0), st.floats(0.0, 1.0))
def test_capped_fractional_kelly_is_bounded(p: float, d: float, frac: float, cap: float) -> None:
    stake = odds.capped_kelly(p, d, frac, cap)
    assert 0.0 <= stake <= cap
    assert stake <= frac * odds.kelly_fraction(p, d) + 1e-12


@given(probability)
def test_fair_odds_have_zero_edge_and_ev(p: float) -> None:
    d = odds.probability_to_decimal(p)
    assert odds.expected_value(p, d) == pytest.approx(0.0, abs=1e-9)
    assert odds.kelly_fraction(p, d) == pytest.approx(0.0, abs=1e-9)


@given(probability, st.floats(0.0, 0.1))
def test_two_way_edge_against_a_vigged_fair_market(p: float, vig: float) -> None:
    home_implied, away_implied = p * (1 + vig), (1 - p) * (1 + vig)
    if home_implied >= 1 or away_implied >= 1:
        return
    home, away, overround = odds.two_way_edge(p, 1 / home_implied, 1 / away_implied)
    assert overround == pytest.approx(vig, abs=1e-9)
    assert home.fair == pytest.approx(p) and away.fair == pytest.approx(1 - p)
    assert home.edge == pytest.approx(0, abs=1e-9) and away.edge == pytest.approx(0, abs=1e-9)
    assert home.kelly_stake == 0.0 or home.ev_per_unit > -1e-9


def test_bad_kelly_parameters() -> None:
    with pytest.raises(odds.OddsError):
        odds.capped_kelly(0.6, 2.0, fraction=0)
    with pytest.raises(odds.OddsError):
        odds.capped_kelly(0.6, 2.0, cap=1.5)
