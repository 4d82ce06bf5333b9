"""A promotion killed midway leaves one consistent model served; re-running completes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from dagster import DagsterInstance, ExecuteInProcessResult
from promo_support import (
    AS_OF,
    REDIS_URL,
    WARM_DAYS,
    make_active,
    register_blend,
    register_elo,
)
from sqlalchemy import Engine

import assets.promotion
from bullpen import promotion
from bullpen.cache import ActiveModel, get_active
from bullpen.features import FEATURE_VERSION
from bullpen.promotion import Status
from bullpen.store import get_model, make_engine
from bullpen.warming import coming_days, coverage, expected_keys, schedule, warm_model
from orchestration.definitions import defs
from orchestration.resources import RedisResource, StoreResource

BLUE = ActiveModel("elo-blue", FEATURE_VERSION)


@pytest.fixture
def setup(store_url: str, cache: redis.Redis) -> Iterator[tuple[Engine, str]]:
    """Blue (Elo) active with its keys warm; green (a real blend) checked, not warmed."""
    engine = make_engine(store_url)
    register_elo(engine, BLUE.model_version)
    make_active(engine, cache, BLUE.model_version)
    warm_model(engine, cache, get_model(engine, "elo-blue"), coming_days(AS_OF, WARM_DAYS), 600)
    green = register_blend(engine, "blend-green").version
    promotion.transition(engine, green, Status.CHECKED, "test", "checks passed")
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
    games = schedule(engine, coming_days(AS_OF, WARM_DAYS))
    return coverage(cache, expected_keys(version, FEATURE_VERSION, games))


def _flips(engine: Engine, version: str) -> int:
    return sum(r.to_status == "active" for r in promotion.audit_log(engine, version))


def test_killed_after_warming(setup, store_url: str, cache: redis.Redis, monkeypatch) -> None:
    engine, green = setup

    def killed(*_args: object, **_kwargs: object) -> None:
        raise SystemError("killed after warming")

    with monkeypatch.context() as patch:
        patch.setattr(assets.promotion, "promote", killed)
        assert not _promote(store_url, green).success
    # Warmed but not flipped: blue serves, green's keys sit beside it, nothing half-done.
    assert get_active(cache) == BLUE
    assert promotion.active_version(engine) == "elo-blue"
    assert get_model(engine, green).status == "warming"
    assert _green_coverage(engine, cache, green).complete
    assert promotion.aliases(engine) == {"blue": "elo-blue", "green": green}

    assert _promote(store_url, green).success  # the re-run completes it
    assert get_active(cache) == ActiveModel(green, FEATURE_VERSION)
    assert promotion.aliases(engine) == {"blue": green, "green": "elo-blue"}
    assert _flips(engine, green) == 1


def test_killed_between_store_and_redis(
    setup, store_url: str, cache: redis.Redis, monkeypatch
) -> None:
    engine, green = setup

    def killed(*_args: object) -> None:
        raise SystemError("killed between the store and the Redis write")

    with monkeypatch.context() as patch:
        patch.setattr(promotion, "_point", killed)
        assert not _promote(store_url, green).success
    # The store is ahead (green active), Redis still names blue: every reader of the
    # pointer serves blue, whose keys are warm; green's are warm too.
    assert promotion.active_version(engine) == green
    assert get_active(cache) == BLUE
    assert _green_coverage(engine, cache, green).complete
    assert promotion.store_pointer(engine) == ActiveModel(green, FEATURE_VERSION)

    assert _promote(store_url, green).success  # reconcile, then nothing left to flip
    assert get_active(cache) == ActiveModel(green, FEATURE_VERSION)
    assert _flips(engine, green) == 1
    assert get_model(engine, "elo-blue").status == "retired"


def test_reconcile_alone_repairs_a_cut_short_flip(
    setup, store_url: str, cache: redis.Redis, monkeypatch
) -> None:
    engine, green = setup
    with monkeypatch.context() as patch:
        patch.setattr(promotion, "_point", lambda *_: (_ for _ in ()).throw(SystemError("kill")))
        assert not _promote(store_url, green).success
    assert get_active(cache) == BLUE
    assert promotion.reconcile(engine, cache) == ActiveModel(green, FEATURE_VERSION)
    assert get_active(cache) == ActiveModel(green, FEATURE_VERSION)
