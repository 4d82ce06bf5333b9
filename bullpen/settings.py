"""Typed settings from environment variables (prefix `BULLPEN_`).

Every setting has a default that works on one machine: SQLite under `var/`,
the bundled game logs in `../shared/data/retrosheet/gamelogs`, Redis on
127.0.0.1:6379.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BULLPEN_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'bullpen.db'}",
        description="SQLAlchemy URL of the app store (SQLite file or PostgreSQL).",
    )
    gamelogs_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data" / "retrosheet" / "gamelogs",
        description="Directory of GL*.TXT or gl*.zip game logs.",
    )
    gamelogs_base_url: str | None = Field(
        default=None,
        description="When set, game logs are downloaded from here as gl{YEAR}.zip.",
    )
    seasons: str = Field(default="2000-2023", description="Seasons to ingest, e.g. 2000-2023.")
    download_dir: Path = Field(default=PROJECT_ROOT / "var" / "downloads")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    redis_cluster: bool = Field(default=False, description="Treat redis_url as a cluster node.")
    cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=1, description="TTL of warmed keys.")
    model_threads: int = Field(default=1, ge=1, description="LightGBM threads per process.")

    def season_range(self) -> list[int]:
        return parse_seasons(self.seasons)


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
