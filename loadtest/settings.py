"""Load-test settings from the environment (prefix `BULLPEN_LOADTEST_`), with the SLOs."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LoadTestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BULLPEN_LOADTEST_", extra="ignore")

    host: str = Field(default="http://127.0.0.1:8000", description="Loopback only.")
    api_key: SecretStr | None = Field(default=None, description="A read-scope API key.")
    dates: str = Field(default="2022-04-07", description="Comma-separated slate dates.")
    users: int = Field(default=50, ge=1, description="Concurrent users at the peak.")
    ramp_up_s: float = Field(default=20.0, ge=0)
    sustain_s: float = Field(default=60.0, ge=0)
    ramp_down_s: float = Field(default=10.0, ge=0)
    # Think time between one user's requests, uniform in [min, max] seconds.
    wait_min_s: float = Field(default=0.5, ge=0)
    wait_max_s: float = Field(default=1.5, ge=0)
    # Service-level objectives: the verdict.
    slo_p95_ms: float = Field(default=500.0, gt=0)
    slo_error_rate: float = Field(default=0.01, ge=0, le=1)


@lru_cache
def get_loadtest_settings() -> LoadTestSettings:
    return LoadTestSettings()
