"""Fixtures of the security suite: the real 2022 sample store, a private Redis serving its
model, and keys of each scope."""

from __future__ import annotations

import pytest
import redis

from bench.loopback import RedisNode
from tests.support.apps import Secured, new_key
from tests.support.data import StoreData, serve


@pytest.fixture(scope="session")
def secured(sqlite_store: StoreData, private_redis: RedisNode) -> Secured:
    client = redis.Redis.from_url(private_redis.url)
    serve(sqlite_store.url, client)
    client.close()
    read_key, _ = new_key(sqlite_store.url, "security-read", "read")
    admin_key, _ = new_key(sqlite_store.url, "security-admin", "admin")
    return Secured(sqlite_store, private_redis.url, read_key, admin_key)
