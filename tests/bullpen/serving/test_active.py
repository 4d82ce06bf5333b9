"""Which model serves (`bullpen.serving.active`): the rule, the pointer, promote, rollback,
reconcile and repair, each against a real registry and a real Redis."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, text

from bullpen.cache.contract import ACTIVE_KEY, ActiveModel
from bullpen.domain.features import FEATURE_VERSION
from bullpen.serving import active, lifecycle
from bullpen.serving.active import Candidate, MissingFeatureVersion, choose, read_pointer
from bullpen.serving.lifecycle import Status, TransitionError
from bullpen.store import get_model, make_engine, register_model
from tests.support.data import elo_entry, served_key
from tests.support.promotion import AS_OF, WARM_DAYS, make_active, register_elo


def _set_pointer(client: Any, pointer: ActiveModel) -> None:
    """Write the Redis pointer behind the owner's back (a stale or foreign pointer)."""
    client.set(ACTIVE_KEY, pointer.encode())


def _c(version: str, status: str = "trained", kind: str = "blend") -> Candidate:
    return Candidate(version, kind, status, FEATURE_VERSION)


# --- the rule (pure) ------------------------------------------------------------------------


def test_blue_serves_while_active_else_the_newest_active() -> None:
    models = [_c("new", "active"), _c("blue", "active"), _c("cand", "checked")]
    assert choose(models, blue="blue").version == "blue"
    assert choose(models, blue="gone").version == "new"
    assert choose([_c("old", "retired"), _c("blue", "active")], blue="old").version == "blue"


def test_nothing_serves_before_a_promotion() -> None:
    """A model reaches users only through a promotion: no fallback to a trained, checked or
    warming candidate, nor to a retired model."""
    models = [_c("elo", "checked", kind="elo"), _c("warm", "warming"), _c("blend")]
    assert choose(models, blue=None) is None
    assert choose([_c("cand"), _c("was-blue", "retired")], blue="was-blue") is None
    assert choose([], None) is None


def test_a_model_without_a_feature_version_is_refused_at_load() -> None:
    with pytest.raises(MissingFeatureVersion, match="legacy has no feature version"):
        active.pointer("legacy", None)
    assert active.pointer("m", "f1") == ActiveModel("m", "f1")


# --- against the store ------------------------------------------------------------------------


def test_the_daily_job_serves_blue_not_the_newest_candidate(
    engine: Engine, cache: redis.Redis
) -> None:
    register_elo(engine, "older-blue")
    make_active(engine, cache, "older-blue")
    register_elo(engine, "newer-candidate")
    assert active.serving_entry(engine).version == "older-blue"
    assert active.serving_pointer(engine) == ActiveModel("older-blue", FEATURE_VERSION)
    assert active.promoted_version(engine) == "older-blue"


def test_a_legacy_model_without_feature_version_fails_to_load_not_to_miss(
    engine: Engine, cache: redis.Redis
) -> None:
    """Before: warmed under one key, looked up under another, every request a miss."""
    register_model(engine, replace(elo_entry("legacy"), feature_version=None))
    lifecycle.transition(engine, "legacy", Status.CHECKED, "test")
    active.begin_warming(engine, "legacy", "test")
    with pytest.raises(MissingFeatureVersion):
        active.promote(engine, cache, "legacy", "test")
    assert get_model(engine, "legacy").status == "warming"  # refused before the flip
    # A legacy served row, as migration 0004 leaves a `production` one: refused at load.
    with engine.begin() as conn:
        conn.execute(text("update models set status = 'active' where version = 'legacy'"))
    with pytest.raises(MissingFeatureVersion, match="legacy has no feature version"):
        active.serving_pointer(engine)


def test_promote_flips_store_then_redis_and_is_idempotent(
    engine: Engine, cache: redis.Redis
) -> None:
    register_elo(engine, "blue")
    register_elo(engine, "green")
    make_active(engine, cache, "blue")
    assert read_pointer(cache) == ActiveModel("blue", FEATURE_VERSION)
    lifecycle.transition(engine, "green", Status.CHECKED, "test")
    with pytest.raises(TransitionError, match="only a warmed"):
        active.promote(engine, cache, "green", "test")  # checked, not warmed
    active.begin_warming(engine, "green", "test")
    assert active.aliases(engine) == {"blue": "blue", "green": "green"}
    assert active.green_candidate(engine) == ActiveModel("green", FEATURE_VERSION)

    flip = active.promote(engine, cache, "green", "alice")
    assert (flip.active, flip.previous, flip.changed) == ("green", "blue", True)
    assert read_pointer(cache) == ActiveModel("green", FEATURE_VERSION)
    assert active.aliases(engine) == {"blue": "green", "green": "blue"}
    assert get_model(engine, "blue").status == "retired"
    assert active.promoted_version(engine) == "green"
    assert active.green_candidate(engine) is None  # green is the retired blue now

    audits = len(lifecycle.audit_log(engine))
    again = active.promote(engine, cache, "green", "alice")
    assert not again.changed and len(lifecycle.audit_log(engine)) == audits


def test_killed_between_store_and_redis_then_reconciled(
    engine: Engine, cache: redis.Redis, monkeypatch
) -> None:
    register_elo(engine, "blue")
    register_elo(engine, "green")
    make_active(engine, cache, "blue")
    lifecycle.transition(engine, "green", Status.CHECKED, "test")
    active.begin_warming(engine, "green", "test")

    def killed(*_args: object) -> None:
        raise ConnectionError("process killed before the Redis write")

    with monkeypatch.context() as patch:
        patch.setattr(active, "_point", killed)
        with pytest.raises(ConnectionError):
            active.promote(engine, cache, "green", "test")
    # The store is ahead, Redis still names blue: readers see one model, blue.
    assert active.promoted_version(engine) == "green"
    assert read_pointer(cache) == ActiveModel("blue", FEATURE_VERSION)
    # Re-running completes it (reconcile first, then nothing left to flip).
    flip = active.promote(engine, cache, "green", "test")
    assert not flip.changed
    assert read_pointer(cache) == ActiveModel("green", FEATURE_VERSION)


def test_reconcile_points_redis_at_the_rule_and_replaces_a_foreign_pointer(
    engine: Engine, cache: redis.Redis
) -> None:
    """A shared Redis may hold another store's pointer: the serving model replaces it; a
    store that serves nothing yet leaves Redis as it is."""
    assert active.reconcile(engine, cache) is None
    foreign = ActiveModel("blend-from-another-store", FEATURE_VERSION)
    _set_pointer(cache, foreign)
    register_elo(engine, "elo-here")
    assert active.reconcile(engine, cache) == foreign  # nothing promoted here: no claim
    make_active(engine, cache, "elo-here")
    wanted = ActiveModel("elo-here", FEATURE_VERSION)
    _set_pointer(cache, foreign)
    assert active.reconcile(engine, cache) == wanted
    assert read_pointer(cache) == wanted
    assert active.reconcile(engine, cache) == wanted  # idempotent


def test_pointer_repair_waits_for_a_second_sighting(engine: Engine, cache: redis.Redis) -> None:
    register_elo(engine, "blue")
    make_active(engine, cache, "blue")
    stale = ActiveModel("stale", FEATURE_VERSION)
    _set_pointer(cache, stale)
    watch = active.PointerWatch()
    pubsub = cache.pubsub()
    pubsub.subscribe("bp:v1:model-changed")
    pubsub.get_message(timeout=1)  # the subscription's own message
    assert watch.repair(engine, cache) is None  # a flip may be under way
    assert read_pointer(cache) == stale
    assert watch.repair(engine, cache) == ActiveModel("blue", FEATURE_VERSION)
    assert read_pointer(cache) == ActiveModel("blue", FEATURE_VERSION)
    message = pubsub.get_message(timeout=2)
    assert message is not None and ActiveModel.decode(message["data"]).model_version == "blue"
    assert watch.repair(engine, cache) is None  # in step: nothing to do
    pubsub.close()


def test_rollback_rewarms_expired_keys_then_restores_previous(
    store_url: str, cache: redis.Redis
) -> None:
    engine = make_engine(store_url)
    try:
        register_elo(engine, "blue")
        register_elo(engine, "green")
        make_active(engine, cache, "blue")
        lifecycle.transition(engine, "green", Status.CHECKED, "test")
        active.begin_warming(engine, "green", "test")
        active.promote(engine, cache, "green", "test")
        assert not cache.keys("bp:v1:pred:blue:*")  # blue's keys "expired" (never warmed)

        flip = active.rollback(engine, cache, "bob", 60, "bad green", AS_OF, WARM_DAYS)
        assert (flip.active, flip.previous, flip.changed) == ("blue", "green", True)
        assert flip.warmed.complete and flip.warmed.expected > 40
        assert len(flip.warmed_days) == WARM_DAYS and flip.warmed_days[0] == AS_OF
        assert read_pointer(cache) == ActiveModel("blue", FEATURE_VERSION)
        assert get_model(engine, "green").status == "retired"
        assert active.aliases(engine) == {"blue": "blue", "green": "green"}
        some_key = cache.keys("bp:v1:pred:blue:*")[0].decode()
        assert some_key == served_key(engine, "blue", some_key.split(":")[-2])
        assert 0 < cache.ttl(some_key) <= 60
        last = lifecycle.audit_log(engine)[-1]
        assert (last.model_version, last.to_status, last.actor, last.reason) == (
            "blue", "active", "bob", "bad green",
        )  # fmt: skip
    finally:
        engine.dispose()


def test_rollback_without_a_previous_model_refuses(engine: Engine, cache: redis.Redis) -> None:
    register_elo(engine, "only")
    make_active(engine, cache, "only")
    with pytest.raises(LookupError, match="no retired model"):
        active.rollback(engine, cache, "bob", 60)


def test_no_status_is_written_outside_the_lifecycle(engine: Engine) -> None:
    """The store's API has no status setter any more (it had an unaudited one)."""
    import bullpen.store as store

    assert not hasattr(store, "set_model_status")
    register_elo(engine, "m")
    with engine.connect() as conn:
        assert conn.execute(text("select status from models")).scalar_one() == "trained"
