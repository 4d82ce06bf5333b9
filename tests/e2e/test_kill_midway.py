"""A promotion killed midway leaves one consistent model served; re-running completes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from dagster import DagsterInstance, ExecuteInProcessResult
from sqlalchemy import Engine

from assets.resources import RedisResource, StoreResource
from bullpen.cache.contract import ActiveModel
from bullpen.domain.features import FEATURE_VERSION
from bullpen.serving import active, lifecycle
from bullpen.serving.active import read_pointer
from bullpen.serving.lifecycle import Status
from bullpen.serving.warming import coming_days, coverage, keys_for_days
from bullpen.store import get_model, make_engine
from orchestration.definitions import defs
from tests.support.promotion import (
    AS_OF,
    REDIS_URL,
    WARM_DAYS,
    make_active,
    register_blend,
    register_elo,
)

BLUE = ActiveModel("elo-blue", FEATURE_VERSION)


@pytest.fixture
def setup(store_url: str, cache: redis.Redis) -> Iterator[tuple[Engine, str]]:
    """Blue (Elo) active with its keys warm; green (a real blend) checked, not warmed."""
    engine = make_engine(store_url)
    register_elo(engine, BLUE.model_version)
    make_active(engine, cache, BLUE.model_version)
    active.warm(engine, cache, get_model(engine, "elo-blue"), coming_days(AS_OF, WARM_DAYS), 600)
    green = register_blend(engine, "blend-green").version
    lifecycle.transition(engine, green, Status.CHECKED, "test", "checks passed")
    yield engine, green
    engine.dispose()


def _promote(store_url: str, version: str) -> ExecuteInProcessResult:
    config = {"version": version, "as_of": AS_OF.isoformat(), "days": WARM_DAYS}
    with DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def("promotion_job").execute_in_process(
            run_config={"ops": {"warm_green": {"config": config}}},
            instance=instance,
            resources={
                "store": StoreResource(database_url=store_url),
                "redis": RedisResource(redis_url=REDIS_URL),
            },
            raise_on_error=False,
        )


def _green_coverage(engine: Engine, cache: redis.Redis, version: str) -> Any:
    days = coming_days(AS_OF, WARM_DAYS)
    return coverage(cache, keys_for_days(engine, ActiveModel(version, FEATURE_VERSION), days))


def _flips(engine: Engine, version: str) -> int:
    return sum(r.to_status == "active" for r in lifecycle.audit_log(engine, version))


def test_killed_after_warming(setup, store_url: str, cache: redis.Redis, monkeypatch) -> None:
    engine, green = setup

    def killed(*_args: object, **_kwargs: object) -> None:
        raise SystemError("killed after warming")

    with monkeypatch.context() as patch:
        patch.setattr(active, "promote", killed)  # the promotion job's flip step
        assert not _promote(store_url, green).success
    # Warmed but not flipped: blue serves, green's keys sit beside it, nothing half-done.
    assert read_pointer(cache) == BLUE
    assert active.promoted_version(engine) == "elo-blue"
    assert get_model(engine, green).status == "warming"
    assert _green_coverage(engine, cache, green).complete
    assert active.aliases(engine) == {"blue": "elo-blue", "green": green}

    assert _promote(store_url, green).success  # the re-run completes it
    assert read_pointer(cache) == ActiveModel(green, FEATURE_VERSION)
    assert active.aliases(engine) == {"blue": green, "green": "elo-blue"}
    assert _flips(engine, green) == 1


def test_killed_between_store_and_redis(
    setup, store_url: str, cache: redis.Redis, monkeypatch
) -> None:
    engine, green = setup

    def killed(*_args: object) -> None:
        raise SystemError("killed between the store and the Redis write")

    with monkeypatch.context() as patch:
        patch.setattr(active, "_point", killed)
        assert not _promote(store_url, green).success
    # The store is ahead (green active), Redis still names blue: every reader of the
    # pointer serves blue, whose keys are warm; green's are warm too.
    assert active.promoted_version(engine) == green
    assert read_pointer(cache) == BLUE
    assert _green_coverage(engine, cache, green).complete
    assert active.serving_pointer(engine) == ActiveModel(green, FEATURE_VERSION)

    assert _promote(store_url, green).success  # reconcile, then nothing left to flip
    assert read_pointer(cache) == ActiveModel(green, FEATURE_VERSION)
    assert _flips(engine, green) == 1
    assert get_model(engine, "elo-blue").status == "retired"


def test_reconcile_alone_repairs_a_cut_short_flip(
    setup, store_url: str, cache: redis.Redis, monkeypatch
) -> None:
    engine, green = setup
    with monkeypatch.context() as patch:
        patch.setattr(active, "_point", lambda *_: (_ for _ in ()).throw(SystemError("kill")))
        assert not _promote(store_url, green).success
    assert read_pointer(cache) == BLUE
    assert active.reconcile(engine, cache) == ActiveModel(green, FEATURE_VERSION)
    assert read_pointer(cache) == ActiveModel(green, FEATURE_VERSION)
