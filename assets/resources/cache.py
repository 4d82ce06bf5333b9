"""The prediction cache: one redis-server or a Redis Cluster."""

from dagster import ConfigurableResource
from pydantic import Field
from redis import Redis, RedisCluster

from bullpen.cache.clients import sync_client
from bullpen.settings import RedisSettings


class RedisResource(ConfigurableResource):
    """The prediction cache: one redis-server or a Redis Cluster (batch client policy)."""

    redis_url: str = Field(
        default_factory=lambda: RedisSettings().redis_url,
        description="Redis URL (default: BULLPEN_REDIS_URL); any node's URL for a cluster.",
    )
    cluster: bool = Field(
        default_factory=lambda: RedisSettings().redis_cluster,
        description="Talk Redis Cluster protocol (default: BULLPEN_REDIS_CLUSTER).",
    )
    ttl_s: int = Field(
        default_factory=lambda: RedisSettings().cache_ttl_s,
        description="TTL of warmed keys in seconds (default: BULLPEN_CACHE_TTL_S).",
    )

    def client(self) -> Redis | RedisCluster:
        settings = RedisSettings(
            redis_url=self.redis_url, redis_cluster=self.cluster, cache_ttl_s=self.ttl_s
        )
        return sync_client(settings)
