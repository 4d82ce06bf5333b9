"""The core's settings: one source, in sections, from environment variables.

Every section reads the variables it always has (prefix `BULLPEN_`, or
`BULLPEN_PROMOTION_` for the promotion gate), so a deployment's environment
does not change with the layout. Every setting has a default that works on one
machine: SQLite under `var/`, the bundled game logs in
`../shared/data/retrosheet/gamelogs`, Redis on 127.0.0.1:6379.

The web tier's own knobs (shedding, near-cache, rate limits) live in
`online/config.py`; everything both sides share lives here, so the CLI, the
Dagster resources and the API read the same values.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The API-key secret a fresh checkout runs with; refused outside `local`.
DEV_API_KEY_SECRET = "bullpen-dev-secret-change-me"


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BULLPEN_", extra="ignore")


class StoreSettings(_Section):
    """The app store, and the bounds on every call to it (a frozen server must not hang
    anything that asks it: the API, a CLI command or a Dagster step)."""

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'bullpen.db'}",
        description="SQLAlchemy URL of the app store (SQLite file or PostgreSQL).",
    )
    db_connect_timeout_s: int = Field(
        default=5, ge=2, description="PostgreSQL connect timeout (libpq's minimum is 2 s)."
    )
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="PostgreSQL statement_timeout per session (0: none)."
    )
    db_pool_timeout_s: float = Field(
        default=5.0, gt=0, description="Longest wait for a pooled connection before an error."
    )
    db_pool_size: int = Field(default=5, ge=1, description="PostgreSQL connections kept open.")
    db_max_overflow: int = Field(default=5, ge=0, description="…and opened beyond them at peaks.")


class GameLogSettings(_Section):
    gamelogs_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data" / "retrosheet" / "gamelogs",
        description="Directory of GL*.TXT or gl*.zip game logs.",
    )
    gamelogs_base_url: str | None = Field(
        default=None, description="When set, game logs are downloaded from here as gl{YEAR}.zip."
    )
    seasons: str = Field(default="2000-2023", description="Seasons to ingest, e.g. 2000-2023.")
    download_dir: Path = Field(default=PROJECT_ROOT / "var" / "downloads")


class RedisSettings(_Section):
    """One Redis configuration; `bullpen.cache.clients` builds every client from it."""

    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    redis_cluster: bool = Field(default=False, description="Treat redis_url as a cluster node.")
    cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=1, description="TTL of warmed keys.")
    # The request path (async client): every call bounded by socket timeouts per attempt,
    # a few retries with backoff and an overall deadline; after a failure Redis is skipped
    # for `redis_breaker_s`, so a dead cache costs nothing per request.
    redis_socket_timeout_s: float = Field(default=0.25, gt=0)
    redis_connect_timeout_s: float = Field(default=0.25, gt=0)
    redis_retries: int = Field(default=2, ge=0)
    redis_deadline_s: float = Field(default=0.8, gt=0)
    # Short, since one probe at a time tests a skipped Redis (half-open): a failed-over
    # cluster shard is back in service within this of its replica's promotion.
    redis_breaker_s: float = Field(default=0.25, ge=0)
    # redis-py raises past max_connections; the request path's blocking pool waits instead.
    redis_max_connections: int = Field(default=256, ge=1)
    # Batch work (sync client: warming, promotion, rollback) rides out a failover
    # (a few seconds with cluster-node-timeout 2000) on retries instead of failing a run.
    redis_batch_timeout_s: float = Field(default=5.0, gt=0)
    redis_batch_retries: int = Field(default=6, ge=0)


class AuthSettings(_Section):
    api_key_secret: SecretStr = Field(
        default=SecretStr(DEV_API_KEY_SECRET),
        description="HMAC secret for API keys; set it in every non-local deployment.",
    )


class PromotionSettings(BaseSettings):
    """Thresholds of the promotion gate and the size of the rollout.

    The defaults were set on real data (2019-2022 game logs, 42-day hold-out of
    571 games): the blend beats Elo there by ~0.0035 Brier and ~0.007 log loss;
    a blend trained on shuffled labels is worse than Elo by ~0.0095 Brier and
    ~0.019 log loss, and its probabilities have a standard deviation of ~0.03
    against ~0.11 for a real model. Tolerances sit well inside those gaps.
    """

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
    sensor_interval_s: int = Field(
        default=30, ge=1, description="How often the promotion sensor looks at check results."
    )
    as_of: dt.date | None = Field(
        default=None, description="First day warmed (default: today in New York); for replays."
    )


class LiveSettings(BaseSettings):
    """Where the live game-day feeds come from (`orchestration/live.py`)."""

    model_config = SettingsConfigDict(env_prefix="BULLPEN_LIVE_", extra="ignore")

    feed_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "feeds",
        description="Schedule files, drop files (starters, postponements), results: dropped here.",
    )
    stats_api_url: str | None = Field(
        default=None,
        description="MLB Stats API base URL (e.g. https://statsapi.mlb.com); unset: not polled.",
    )
    sensor_interval_s: int = Field(
        default=2, ge=1, description="How often the live sensors look for news."
    )
    watch_s: float = Field(
        default=4.0,
        ge=0,
        le=50,
        description="How long one feed-folder tick keeps watching (the daemon ticks a sensor "
        "at most every 5 s; watching within the tick answers a dropped file in ~0.2 s).",
    )
    days_ahead: int = Field(default=1, ge=0, description="Stats API days polled after today.")
    clock_file: Path | None = Field(
        default=None,
        description="A file holding the simulated time (ISO 8601, UTC) for a season replay; "
        "unset: the real clock.",
    )
    odds_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "odds",
        description="Odds files dropped here: The Odds API JSON (*.json) or the odds CSV (*.csv).",
    )
    odds_price_format: Literal["decimal", "american"] = Field(
        default="decimal", description="How The Odds API JSON files and polls write prices."
    )
    odds_api_url: str | None = Field(
        default=None,
        description="The Odds API base URL (e.g. https://api.the-odds-api.com); unset: not polled.",
    )
    odds_api_key: SecretStr | None = Field(default=None, description="The Odds API key.")
    odds_poll_s: int = Field(
        default=300, ge=30, description="How often The Odds API is polled (each poll costs quota)."
    )


class Settings(BaseSettings):
    """Everything the core is configured with, by section."""

    model_config = SettingsConfigDict(env_prefix="BULLPEN_", extra="ignore")

    environment: Literal["local", "staging", "production"] = Field(
        default="local", description="Outside `local`, development defaults are refused."
    )
    model_threads: int = Field(default=1, ge=1, description="LightGBM threads per process.")
    store: StoreSettings = Field(default_factory=StoreSettings)
    gamelogs: GameLogSettings = Field(default_factory=GameLogSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)

    @model_validator(mode="after")
    def _no_development_secret(self) -> Settings:
        # As FastAPI's full-stack template does: a shared default secret would let anyone
        # who read this file mint API keys' HMACs for a real deployment.
        secret = self.auth.api_key_secret.get_secret_value()
        if self.environment != "local" and secret == DEV_API_KEY_SECRET:
            raise ValueError(
                f"BULLPEN_API_KEY_SECRET is the development default while BULLPEN_ENVIRONMENT="
                f"{self.environment}: set a secret of your own (e.g. from a Kubernetes Secret)"
            )
        return self


def parse_seasons(text: str) -> list[int]:
    """`2000-2023` or `2019,2021,2022` → sorted list of seasons."""
    seasons: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (int(x) for x in part.split("-", 1))
            seasons.update(range(first, last + 1))
        elif part:
            seasons.add(int(part))
    return sorted(seasons)


@lru_cache
def get_settings() -> Settings:
    return Settings()
