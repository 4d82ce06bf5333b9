"""schemathesis against the app's own OpenAPI schema, in process (ASGI): no 5xx, no
response that contradicts the schema. Real SQLite store with real games, real Redis."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from tests.support.apps import Secured
from tests.support.data import StoreData, serve

pytestmark = pytest.mark.integration
KEYS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_app(sqlite_store: StoreData, single_redis_url: str) -> FastAPI:
    import redis

    client = redis.Redis.from_url(single_redis_url)
    serve(sqlite_store.url, client)
    client.close()
    deployment = Secured(sqlite_store, single_redis_url, "", "")
    KEYS["admin"], _ = deployment.new_key("schemathesis", "admin")
    return deployment.app(migrate_on_start=True)


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
