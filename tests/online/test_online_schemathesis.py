"""schemathesis against the app's own OpenAPI schema, in process (ASGI): no 5xx, no
response that contradicts the schema. Real SQLite store with real games, real Redis."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from bullpen.cache import ActiveModel, set_active
from bullpen.features import FEATURE_VERSION
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from online.app import create_app
from online.config import OnlineSettings
from tests.online.conftest import MODEL_VERSION, SECRET, StoreData

pytestmark = pytest.mark.integration
KEYS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_app(sqlite_store: StoreData, single_redis_url: str) -> FastAPI:
    import redis

    client = redis.Redis.from_url(single_redis_url)
    set_active(client, ActiveModel(MODEL_VERSION, FEATURE_VERSION))
    client.close()
    engine = make_engine(sqlite_store.url)
    try:
        KEYS["admin"], _ = create_key(engine, SECRET, "schemathesis", "admin")
    finally:
        engine.dispose()
    return create_app(
        OnlineSettings(
            database_url=sqlite_store.url, redis_url=single_redis_url, api_key_secret=SECRET,
            rate_limit_per_s=100_000, rate_limit_burst=100_000,
        )
    )  # fmt: skip


def test_api_conforms_to_its_schema(api_app: FastAPI) -> None:
    # The pytest plugin's fixture support does not work with this pytest; drive each
    # operation's hypothesis strategy directly instead (same generation, same checks).
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"X-API-Key": KEYS["admin"]})

        check()
