"""Why the model says so: one prediction split into per-feature contributions.

Every contribution is in **log-odds of the final, calibrated probability**, and they
add up exactly: ``base + sum(contributions) == logit(model.predict(x))`` (to float
rounding; the tests hold it to 1e-9). The model (`bullpen.domain.model`) is

    blend:  raw = 0.5 * (booster_raw + elo_logit) + 0.5 * linear_raw
    elo:    raw = elo_logit
    both:   p   = sigmoid(a * raw + b)        (Platt calibration a, b)

with ``elo_logit = logit(elo_p_home)``. Each term is mapped through the blend and the
calibration as it enters the score:

* **trees**: LightGBM's ``pred_contrib`` (TreeSHAP) splits ``booster_raw`` into one
  value per feature plus a bias column, missing values routed down the trees as when
  scoring. Feature *i* gets ``a * 0.5 * phi_i``; the bias goes to the base.
* **Elo start**: the booster was boosted from ``init_score = elo_logit``, which its own
  raw score excludes, so the blend adds it back: ``a * 0.5 * elo_logit`` goes to
  ``elo_p_home`` (``a * elo_logit`` for the Elo model, its only term).
* **logistic part**: ``a * 0.5 * coef_i * (v_i - mean_i) / scale_i`` for each of
  `LINEAR_FEATURES` (``v`` is the feature, Elo's probability as its log-odds); its
  ``a * 0.5 * intercept`` goes to the base.
* **calibration**: ``b`` goes to the base.

So ``elo_p_home`` collects three terms (trees, Elo start, logistic) and every other
feature at most two. The reference points differ by term: a tree value is measured
from the trees' average over the training data, a logistic value from the training
mean, the Elo start from even odds (p = 0.5). That is why the base is not "the average
game": it is what remains when every feature's term is zero.

Probabilities do not add (the logistic curve bends), so each contribution's effect on
the probability is given as ``p_without = sigmoid(logit(p_home) - logit_i)``: the
model's probability with that one contribution removed and every other one kept.

Plain names: `PLAIN_NAMES` maps every name of `FEATURE_NAMES` to words a reader of the
API understands (tests fail when a feature has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bullpen.domain.features import (
    DIFF_FEATURES,
    SIDE_FEATURES,
)
from bullpen.domain.model import LINEAR_FEATURES, WinModel, logit, sigmoid
from bullpen.domain.starter_form import RECENT_STARTS

BLEND_METHOD = (
    "additive log-odds: LightGBM pred_contrib (TreeSHAP) for the trees, coefficient x "
    "standardized value for the logistic part, Elo log-odds for the boosting start; "
    "each x0.5 (blend) x Platt slope; intercepts, tree bias and Platt intercept in base_logit"
)
ELO_METHOD = "additive log-odds: Elo log-odds x Platt slope; Platt intercept in base_logit"

_RECENT = f"last {RECENT_STARTS} starts"
# One phrase per side feature; `{venue}` is where that side plays ("at home", "on the road").
SIDE_NAMES: Mapping[str, str] = {
    "elo": "team's Elo rating",
    "win_pct_30": "team's win %, last 30 games",
    "win_pct_162": "team's win %, last 162 games",
    "run_diff_30": "team's run differential per game, last 30 games",
    "run_diff_162": "team's run differential per game, last 162 games",
    "pythag_162": "team's Pythagorean win % (runs scored vs allowed), last 162 games",
    "team_k_rate_162": "pitching staff's strikeout rate, last 162 games",
    "season_games": "team's games played this season",
    "season_win_pct": "team's win % this season",
    "season_run_diff": "team's run differential per game this season",
    "venue_win_pct": "team's win % {venue} this season",
    "rest_days": "team's days of rest before the game (up to 5)",
    "sp_starts": "starter's starts on record",
    "sp_season_starts": "starter's starts this season",
    "sp_rest_days": "starter's days since his last start (up to 30)",
    "sp_k_rate": "starter's strikeout rate, all his starts",
    "sp_k_rate_recent": f"starter's strikeout rate, {_RECENT}",
    "sp_runs_vs_exp": "starter's runs allowed vs the opponents' usual scoring, all his starts",
    "sp_runs_vs_exp_recent": f"starter's runs allowed vs the opponents' usual scoring, {_RECENT}",
    "sp_relievers": "relievers his team needed per start of the starter",
}
VENUES = {"home": "at home", "away": "on the road"}


def _plain_names() -> dict[str, str]:
    """Names only for features that have a phrase: a missing one fails the tests, not imports."""
    names = {"elo_p_home": "home team's win probability by Elo (home edge included)"}
    for side, venue in VENUES.items():
        for feature in SIDE_FEATURES:
            if feature in SIDE_NAMES:
                names[f"{side}_{feature}"] = f"{side} {SIDE_NAMES[feature].format(venue=venue)}"
    for feature in DIFF_FEATURES:
        if feature in SIDE_NAMES:
            phrase = SIDE_NAMES[feature].format(venue="at its venue")
            names[f"diff_{feature}"] = f"home minus away: {phrase}"
    return names


PLAIN_NAMES: Mapping[str, str] = _plain_names()


def plain_name(feature: str) -> str:
    return PLAIN_NAMES.get(feature, feature)


def method(model: WinModel) -> str:
    """A short text naming the decomposition used for `model`."""
    return ELO_METHOD if model.kind == "elo" else BLEND_METHOD


@dataclass(frozen=True)
class Decomposition:
    """Per row: ``base + contributions.sum(axis=1)`` is the calibrated log-odds."""

    feature_names: tuple[str, ...]
    base: np.ndarray  # (rows,)
    contributions: np.ndarray  # (rows, features), log-odds of the calibrated p

    @property
    def logit(self) -> np.ndarray:
        return self.base + self.contributions.sum(axis=1)


def decompose(model: WinModel, features: pd.DataFrame | np.ndarray) -> Decomposition:
    """Split each row's calibrated log-odds by feature (the mapping in the module docstring)."""
    x = model.matrix(features)
    a, b = model.calibration
    names = model.feature_names
    elo = names.index("elo_p_home")
    elo_logit = logit(x[:, elo])
    contributions = np.zeros_like(x)
    base = np.full(len(x), float(b))
    if model.kind == "elo":
        contributions[:, elo] = a * elo_logit
        return Decomposition(names, base, contributions)
    # Same threads as scoring: the default pool costs ms spikes on two cores.
    trees = model.booster.predict(x, pred_contrib=True, num_threads=model.threads)
    contributions += a * 0.5 * trees[:, :-1]
    base += a * 0.5 * trees[:, -1]
    contributions[:, elo] += a * 0.5 * elo_logit
    linear = [names.index(c) for c in LINEAR_FEATURES]
    contributions[:, linear] += a * 0.5 * model.linear_z(x) * np.array(model.linear["coef"])
    base += a * 0.5 * model.linear["intercept"][0]
    return Decomposition(names, base, contributions)


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    name: str
    value: float | None  # the game's feature value; None when missing (NaN)
    logit: float
    p_without: float  # p_home with this contribution's log-odds removed


@dataclass(frozen=True)
class Explanation:
    """One game's prediction and its decomposition."""

    p_home: float  # exactly `model.predict` of the row: the plain answer's number
    base: float
    feature_names: tuple[str, ...]
    values: np.ndarray  # (features,)
    contributions: np.ndarray  # (features,)

    @property
    def logit(self) -> float:
        return self.base + float(self.contributions.sum())

    def ranked(self) -> list[Contribution]:
        """Every non-zero contribution, the largest |log-odds| first (ties: feature order).

        A feature the trees never split on and the logistic part does not use contributes
        exactly 0 and is left out: it did not move this prediction.
        """
        total = self.logit
        order = np.argsort(-np.abs(self.contributions), kind="stable")
        return [
            Contribution(
                feature=self.feature_names[i],
                name=plain_name(self.feature_names[i]),
                value=None if np.isnan(self.values[i]) else float(self.values[i]),
                logit=float(self.contributions[i]),
                p_without=float(sigmoid(total - self.contributions[i])),
            )
            for i in order
            if self.contributions[i] != 0
        ]


def explain(model: WinModel, row: np.ndarray) -> Explanation:
    """The explanation of one row of features (in `model.feature_names` order)."""
    x = model.matrix(np.atleast_2d(row))
    if len(x) != 1:
        raise ValueError(f"explain takes one row, got {len(x)}")
    parts = decompose(model, x)
    return Explanation(
        p_home=float(model.predict(x)[0]),
        base=float(parts.base[0]),
        feature_names=parts.feature_names,
        values=x[0],
        contributions=parts.contributions[0],
    )
