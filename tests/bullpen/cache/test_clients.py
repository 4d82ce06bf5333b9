"""Every Redis client is built from one `RedisSettings`: the batch side's sync client and
the request path's async one share the URL, the topology and the retry policy's shape."""

from __future__ import annotations

import asyncio

import pytest
import redis
from redis import asyncio as aioredis

from bullpen.cache.clients import async_client, pubsub_client, sync_client
from bullpen.settings import RedisSettings


def test_one_configuration_builds_both_clients_with_their_timeouts() -> None:
    settings = RedisSettings(
        redis_url="redis://127.0.0.1:6379/9", redis_socket_timeout_s=0.3,
        redis_batch_timeout_s=4.0, redis_retries=2, redis_batch_retries=5,
        redis_max_connections=17,
    )  # fmt: skip
    sync = sync_client(settings)
    kwargs = sync.connection_pool.connection_kwargs
    assert (kwargs["db"], kwargs["socket_timeout"]) == (9, 4.0)
    assert kwargs["retry"]._retries == 5
    fast = async_client(settings)
    pool = fast.connection_pool
    assert isinstance(pool, aioredis.BlockingConnectionPool) and pool.max_connections == 17
    assert pool.connection_kwargs["socket_timeout"] == 0.3
    assert pool.connection_kwargs["retry"]._retries == 2
    sub = pubsub_client(settings)
    assert sub.connection_pool.connection_kwargs.get("socket_timeout") is None  # waits for news
    sync.close()
    asyncio.run(fast.aclose())
    asyncio.run(sub.aclose())


@pytest.mark.integration
def test_both_clients_talk_to_the_same_redis(single_redis_url: str) -> None:
    settings = RedisSettings(redis_url=single_redis_url)
    sync = sync_client(settings)
    try:
        sync.set("bp:v1:clients-test", b"1", ex=30)

        async def read() -> bytes | None:
            client = async_client(settings)
            try:
                return await client.get("bp:v1:clients-test")
            finally:
                await client.aclose()

        assert asyncio.run(read()) == b"1"
    except redis.ConnectionError as exc:
        pytest.skip(f"no Redis at {single_redis_url}: {exc}")
    finally:
        sync.delete("bp:v1:clients-test")
        sync.close()
