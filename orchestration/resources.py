"""Resources: the two things the assets talk to, configured from `bullpen.settings`.

Assets never build a database URL or a path themselves; they ask these
resources, so a deployment swaps the store or the game-log source by
configuration alone. Defaults come from `Settings` (env vars `BULLPEN_*`), read
when the resource is built (i.e. when the code location loads).
"""

from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr
from redis import Redis, RedisCluster
from sqlalchemy import Engine

from bullpen.redis_client import make_sync_redis
from bullpen.settings import Settings, parse_seasons
from bullpen.sources import SourceScan, download_gamelogs, read_directory
from bullpen.store import make_engine, upgrade


class StoreResource(ConfigurableResource):
    """The app store (SQLite or PostgreSQL), migrated to the latest schema on first use."""

    database_url: str = Field(
        default_factory=lambda: Settings().database_url,
        description="SQLAlchemy URL of the app store (default: BULLPEN_DATABASE_URL).",
    )
    _engine: Engine | None = PrivateAttr(default=None)

    def engine(self) -> Engine:
        """One engine (and connection pool) per resource instance, i.e. per run and process."""
        if self._engine is None:
            # Migrating first makes every asset safe to run against a brand-new database.
            upgrade(self.database_url)
            self._engine = make_engine(self.database_url)
        return self._engine

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        # Close pooled connections: on PostgreSQL, idle pools of finished steps
        # otherwise count against the server's connection slots.
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _default_dir(name: str) -> str:
    return str(getattr(Settings(), name))


class GameLogSource(ConfigurableResource):
    """Where Retrosheet game logs come from: a local directory, or downloads from `base_url`."""

    gamelogs_dir: str = Field(
        default_factory=lambda: _default_dir("gamelogs_dir"),
        description="Directory of GL*.TXT / gl*.zip game logs (used when base_url is unset).",
    )
    base_url: str | None = Field(
        default_factory=lambda: Settings().gamelogs_base_url,
        description="When set, gl{YEAR}.zip archives are downloaded from here into download_dir.",
    )
    download_dir: str = Field(
        default_factory=lambda: _default_dir("download_dir"),
        description="Cache of downloaded archives.",
    )
    seasons: str = Field(
        default_factory=lambda: Settings().seasons,
        description="Seasons to ingest, e.g. '2000-2023' or '2019,2021'.",
    )

    def season_list(self) -> list[int]:
        return parse_seasons(self.seasons)

    def scan(self) -> SourceScan:
        """The readable game logs of the configured seasons, and what failed for the others."""
        if self.base_url:
            return download_gamelogs(self.base_url, self.season_list(), Path(self.download_dir))
        return read_directory(Path(self.gamelogs_dir), self.season_list())


class RedisResource(ConfigurableResource):
    """The prediction cache: one redis-server or a Redis Cluster."""

    redis_url: str = Field(
        default_factory=lambda: Settings().redis_url,
        description="Redis URL (default: BULLPEN_REDIS_URL); any node's URL for a cluster.",
    )
    cluster: bool = Field(
        default_factory=lambda: Settings().redis_cluster,
        description="Talk Redis Cluster protocol (default: BULLPEN_REDIS_CLUSTER).",
    )
    ttl_s: int = Field(
        default_factory=lambda: Settings().cache_ttl_s,
        description="TTL of warmed keys in seconds (default: BULLPEN_CACHE_TTL_S).",
    )

    def client(self) -> Redis | RedisCluster:
        return make_sync_redis(self.redis_url, self.cluster)
