"""Thresholds of the promotion gate and the size of the rollout (env prefix `BULLPEN_PROMOTION_`).

The defaults were set on real data (2019-2022 game logs, 42-day hold-out of
571 games): the blend beats Elo there by ~0.0035 Brier and ~0.007 log loss;
a blend trained on shuffled labels is worse than Elo by ~0.0095 Brier and
~0.019 log loss, and its probabilities have a standard deviation of ~0.03
against ~0.11 for a real model. Tolerances sit well inside those gaps.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PromotionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BULLPEN_PROMOTION_", extra="ignore")

    holdout_days: int = Field(
        default=42, ge=7, description="Last days of the data no candidate trains on (the window)."
    )
    min_window_games: int = Field(
        default=200, ge=1, description="Fewer decided games in the window fails the quality check."
    )
    brier_tolerance: float = Field(default=0.003, ge=0, description="Candidate ≤ blue + this.")
    log_loss_tolerance: float = Field(default=0.006, ge=0, description="Candidate ≤ blue + this.")
    max_calibration_error: float = Field(
        default=0.06, gt=0, description="Expected calibration error (10 bins) must be below."
    )
    min_spread: float = Field(
        default=0.05, ge=0, description="Std of window probabilities at least this (not constant)."
    )
    max_spread: float = Field(default=0.2, gt=0, description="…and at most this (not reckless).")
    min_probability: float = Field(default=0.05, ge=0, description="No game below this p.")
    max_probability: float = Field(default=0.95, le=1, description="No game above this p.")
    leakage_dates: int = Field(
        default=3, ge=1, description="Window dates whose features are rebuilt as of that morning."
    )
    latency_p99_ms: float = Field(
        default=5.0, gt=0, description="Single-game predict p99 budget (num_threads=1, numpy row)."
    )
    latency_samples: int = Field(default=1000, ge=100, description="Predictions per round.")
    latency_rounds: int = Field(
        default=3, ge=1, description="Best round counts: a busy neighbour is not the model."
    )
    warm_days: int = Field(
        default=3, ge=1, description="Days of scheduled games warmed for green from the as-of date."
    )
    as_of: dt.date | None = Field(
        default=None, description="First day warmed (default: today in New York); for replays."
    )


@lru_cache
def get_promotion_settings() -> PromotionSettings:
    return PromotionSettings()
