"""The web tier's own settings (prefix `BULLPEN_`): shedding, near-cache, rate limits, canary.

Everything the API shares with the batch side (store, Redis, the API-key secret,
the environment) is `bullpen.settings.Settings`; nothing here repeats it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OnlineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BULLPEN_", extra="ignore")

    migrate_on_start: bool = True
    # Load shedding (online/shedding.py): 503 + Retry-After at once rather than a queue
    # when more requests are in the app than it completes in max_queue_s, or more than
    # max_in_flight (a backstop); bodies over max_body_bytes get 413.
    max_queue_s: float = Field(default=0.25, ge=0, description="0 = no queue limit.")
    max_in_flight: int = Field(default=2048, ge=0, description="0 = no limit.")
    max_body_bytes: int = Field(default=64 * 1024, ge=0, description="0 = no limit.")
    # Threads for blocking work (store reads, scoring a miss). CPU-bound Python threads
    # beyond a few only take the GIL from the event loop: with anyio's default of 40, at
    # 2x capacity even 503s waited seconds (tests/faults/test_faults_overload.py).
    threads: int = Field(default=4, ge=1, description="Thread-pool size per worker.")
    # Every call into the SQL store from a request is abandoned past this (online/store.py):
    # a frozen database costs a request this long at most, then a 503 with Retry-After.
    store_deadline_s: float = Field(default=0.8, gt=0, description="Longest store call.")
    store_breaker_s: float = Field(
        default=1.0, ge=0, description="After a store timeout, fail store calls at once this long."
    )
    near_cache_size: int = Field(default=8192, ge=0)
    near_cache_ttl_s: float = Field(default=5.0, ge=0)
    # A date's revision is near-cached this long at most: the bound on serving an old
    # starter's price when a `bp:v1:inputs-changed` message is lost (it usually takes ms).
    revision_ttl_s: float = Field(
        default=2.0, ge=0, description="Longest a replica serves a date's old revision."
    )
    fast_path: bool = Field(default=True, description="Serve near-cache hits ahead of FastAPI.")
    lock_ms: int = Field(default=5000, ge=10, description="Single-flight lock lifetime.")
    pointer_poll_s: float = Field(default=5.0, gt=0, description="Safety-net pointer re-read.")
    # Revocations reach every replica within this; each costs one store read per key per TTL.
    key_cache_ttl_s: float = Field(default=5.0, ge=0, description="Revocations lag this much.")
    rate_limit_per_s: float = Field(default=100.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Tokens one replica takes from Redis at a time; 1 = exact, larger = fewer round trips.
    rate_limit_lease: int = Field(default=20, ge=1)
    min_date: dt.date = dt.date(1871, 5, 4)
    max_days_ahead: int = 400
    # Promotions (online/promotion.py, online/canary.py).
    pointer_repair: bool = Field(
        default=True, description="Push the store's choice to Redis when a flip was cut short."
    )
    canary_percent: float = Field(
        default=0.0, ge=0, le=100, description="Share of API keys served the warmed green model."
    )
    # Both turn the raw fast path off: they decide per request (online/promotion.py).
    shadow: bool = Field(default=False, description="Compute green beside blue; return blue.")
    green_version: str | None = Field(
        default=None, description="Green for canary/shadow (default: the warming `green` alias)."
    )


@lru_cache
def get_online_settings() -> OnlineSettings:
    return OnlineSettings()
