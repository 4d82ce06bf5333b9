"""Odds math: American ↔ decimal ↔ probability, vig removal, edge, EV and Kelly.

Pure functions on floats; every impossible input raises `OddsError` (a
`ValueError`) with the reason, so the API can turn it into a 4xx.

Conventions: decimal odds are the total return per unit staked (stake
included), so decimal 2.0 is an even-money bet; American +150 wins 150 per 100
staked, American -150 must stake 150 to win 100. American odds strictly
between -100 and +100 do not exist.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


class OddsError(ValueError):
    """An odds value or probability that cannot exist."""


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise OddsError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def check_probability(p: float) -> float:
    """`p` if it is a probability strictly between 0 and 1 (fair odds need both sides)."""
    p = _finite(p, "probability")
    if not 0.0 < p < 1.0:
        raise OddsError(f"probability must be strictly between 0 and 1, got {p}")
    return p


def check_decimal(odds: float) -> float:
    odds = _finite(odds, "decimal odds")
    if odds <= 1.0:
        raise OddsError(f"decimal odds must be greater than 1, got {odds}")
    return odds


def check_american(odds: float) -> float:
    odds = _finite(odds, "American odds")
    if -100.0 < odds < 100.0:
        raise OddsError(f"American odds between -100 and +100 do not exist, got {odds}")
    return odds


def american_to_decimal(odds: float) -> float:
    odds = check_american(odds)
    return 1.0 + odds / 100.0 if odds > 0 else 1.0 + 100.0 / -odds


def decimal_to_american(odds: float) -> float:
    """Even money (2.0) is reported as +100, the usual way of writing it."""
    odds = check_decimal(odds)
    return (odds - 1.0) * 100.0 if odds >= 2.0 else -100.0 / (odds - 1.0)


def decimal_to_probability(odds: float) -> float:
    """The implied probability of decimal odds (vig included if the book charges one)."""
    return 1.0 / check_decimal(odds)


def probability_to_decimal(p: float) -> float:
    """Fair decimal odds: no vig, so the expected profit at these odds is zero."""
    return 1.0 / check_probability(p)


def american_to_probability(odds: float) -> float:
    return decimal_to_probability(american_to_decimal(odds))


def probability_to_american(p: float) -> float:
    return decimal_to_american(probability_to_decimal(p))


def remove_vig(implied: Sequence[float]) -> list[float]:
    """Proportional vig removal: scale the implied probabilities of all outcomes to sum to 1.

    The overround (sum - 1) is the book's margin; proportional removal assumes
    it is charged in proportion to each side's price, the simplest standard.
    """
    if len(implied) < 2:
        raise OddsError("vig removal needs the prices of at least two outcomes")
    probs = [check_probability(p) for p in implied]
    total = sum(probs)
    return [p / total for p in probs]


def overround(implied: Sequence[float]) -> float:
    """The book's margin: how far the implied probabilities sum above 1."""
    return sum(check_probability(p) for p in implied) - 1.0


def edge(p_model: float, p_market: float) -> float:
    """How much more likely the model thinks the outcome is than the (vig-free) market."""
    return check_probability(p_model) - check_probability(p_market)


def expected_value(p_model: float, decimal_odds: float) -> float:
    """Expected profit per unit staked at `decimal_odds` if `p_model` is right."""
    return check_probability(p_model) * check_decimal(decimal_odds) - 1.0


def kelly_fraction(p_model: float, decimal_odds: float) -> float:
    """Full-Kelly share of the bankroll, floored at 0 (never bet a negative edge)."""
    p = check_probability(p_model)
    b = check_decimal(decimal_odds) - 1.0  # net winnings per unit staked
    return max(0.0, (b * p - (1.0 - p)) / b)


def capped_kelly(
    p_model: float, decimal_odds: float, fraction: float = 0.25, cap: float = 0.05
) -> float:
    """Fractional Kelly (`fraction` of full Kelly), never more than `cap` of the bankroll.

    Fractional Kelly trades a little growth for much less variance and is far
    more forgiving of an over-confident model; the cap bounds any one bet.
    """
    fraction = _finite(fraction, "Kelly fraction")
    cap = _finite(cap, "Kelly cap")
    if not 0.0 < fraction <= 1.0:
        raise OddsError(f"Kelly fraction must be in (0, 1], got {fraction}")
    if not 0.0 <= cap <= 1.0:
        raise OddsError(f"Kelly cap must be in [0, 1], got {cap}")
    return min(cap, fraction * kelly_fraction(p_model, decimal_odds))


@dataclass(frozen=True, slots=True)
class SideEdge:
    """One side of a two-way market, priced by the market and by the model."""

    decimal_odds: float
    implied: float  # with vig
    fair: float  # vig removed
    model: float
    edge: float
    ev_per_unit: float
    kelly_stake: float


def two_way_edge(
    p_home_model: float,
    home_decimal: float,
    away_decimal: float,
    fraction: float = 0.25,
    cap: float = 0.05,
) -> tuple[SideEdge, SideEdge, float]:
    """Both sides of a home/away market against the model; also returns the overround."""
    implied = [decimal_to_probability(home_decimal), decimal_to_probability(away_decimal)]
    fair = remove_vig(implied)
    p_home = check_probability(p_home_model)
    models = [p_home, 1.0 - p_home]
    sides = tuple(
        SideEdge(
            decimal_odds=odds,
            implied=imp,
            fair=f,
            model=m,
            edge=edge(m, f),
            ev_per_unit=expected_value(m, odds),
            kelly_stake=capped_kelly(m, odds, fraction, cap),
        )
        for odds, imp, f, m in zip((home_decimal, away_decimal), implied, fair, models, strict=True)
    )
    return sides[0], sides[1], sum(implied) - 1.0
