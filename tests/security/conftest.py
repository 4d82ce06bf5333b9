"""Fixtures of the security suite: the real 2022 store (tests/online), a private Redis,
keys of each scope, an in-process app and a uvicorn process on top of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bullpen.cache import ActiveModel, set_active
from bullpen.features import FEATURE_VERSION
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from tests.faults.tools import RedisNode
from tests.online.conftest import (  # noqa: F401 - fixtures
    MODEL_VERSION,
    SECRET,
    StoreData,
    features2022,
    logs2022,
    sqlite_store,
)
from tests.security.support import Secured


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisNode]:
    try:
        node = RedisNode(tmp_path_factory.mktemp("redis")).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def secured(sqlite_store: StoreData, private_redis: RedisNode) -> Secured:  # noqa: F811
    client = redis.Redis.from_url(private_redis.url)
    set_active(client, ActiveModel(MODEL_VERSION, FEATURE_VERSION))
    client.close()
    engine = make_engine(sqlite_store.url)
    try:
        read_key, _ = create_key(engine, SECRET, "security-read", "read")
        admin_key, _ = create_key(engine, SECRET, "security-admin", "admin")
    finally:
        engine.dispose()
    return Secured(sqlite_store, private_redis.url, read_key, admin_key)
