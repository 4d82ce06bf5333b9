"""The registry's state machine, its audit log, promote / rollback / reconcile (core only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from promo_support import AS_OF, WARM_DAYS, make_active, register_elo
from sqlalchemy import Engine, func, select

from bullpen import promotion
from bullpen.cache import ActiveModel, get_active, prediction_key, set_active
from bullpen.features import FEATURE_VERSION
from bullpen.promotion import Status, TransitionError
from bullpen.store import get_model, make_engine, upgrade
from bullpen.store.promotion_schema import model_audit
from bullpen.warming import coming_days, warm_model
from tests.support.postgres import fresh_database

CHECKS = ("a", "b")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty registry on each backend (row locks differ: SQLite's and PostgreSQL's)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    with fresh_database("bullpen_promotion") as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model_audit)).scalar_one()


def test_every_allowed_transition_is_audited_and_others_refused(engine: Engine) -> None:
    register_elo(engine, "m")
    assert promotion.transition(engine, "m", Status.CHECKED, "alice", "looks good") == "trained"
    assert promotion.transition(engine, "m", Status.CHECKED, "alice") == "checked"  # no-op
    with pytest.raises(TransitionError, match="checked → active"):
        promotion.transition(engine, "m", Status.ACTIVE, "mallory")
    with pytest.raises(TransitionError, match="no model"):
        promotion.transition(engine, "nope", Status.CHECKED, "alice")
    assert get_model(engine, "m").status == "checked"
    [row] = promotion.audit_log(engine, "m")
    assert (row.from_status, row.to_status, row.actor, row.reason) == (
        "trained", "checked", "alice", "looks good",
    )  # fmt: skip
    assert row.at.tzinfo is not None


def test_transition_and_audit_row_commit_together(engine: Engine, monkeypatch) -> None:
    register_elo(engine, "m")

    def broken_audit(*_args: object) -> None:
        raise RuntimeError("audit insert failed")

    monkeypatch.setattr(promotion, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        promotion.transition(engine, "m", Status.CHECKED, "alice")
    assert get_model(engine, "m").status == "trained"  # rolled back with the audit row


def test_state_machine_table() -> None:
    assert promotion.allowed("trained", "checked") and promotion.allowed("checked", "warming")
    assert promotion.allowed("warming", "active") and promotion.allowed("active", "retired")
    assert promotion.allowed("retired", "active")  # rollback
    for status in ("trained", "checked", "warming"):
        assert promotion.allowed(status, "rejected")
    assert not promotion.allowed("rejected", "checked")
    assert not promotion.allowed("active", "rejected")
    assert not promotion.allowed("trained", "active")


def test_check_results_reject_with_reasons_or_mark_checked(engine: Engine) -> None:
    register_elo(engine, "good")
    register_elo(engine, "bad")
    assert promotion.record_check(engine, "good", "a", True, [], CHECKS, "check:a") == "trained"
    assert promotion.record_check(engine, "good", "b", True, [], CHECKS, "check:b") == "checked"
    status = promotion.record_check(engine, "bad", "a", False, ["brier too high"], CHECKS, "c:a")
    assert status == "rejected"
    promotion.record_check(engine, "bad", "b", False, ["NaN"], CHECKS, "check:b")
    promotion.record_check(engine, "bad", "a", True, [], CHECKS, "check:a")  # no resurrection
    assert get_model(engine, "bad").status == "rejected"
    reasons = [(r.from_status, r.to_status, r.reason) for r in promotion.audit_log(engine, "bad")]
    assert reasons == [
        ("trained", "rejected", "a: brier too high"),
        ("rejected", "rejected", "b: NaN"),
    ]
    assert get_model(engine, "bad").metrics["checks"]["b"]["reasons"] == ["NaN"]


def test_promote_flips_store_then_redis_and_is_idempotent(
    engine: Engine, cache: redis.Redis
) -> None:
    register_elo(engine, "blue")
    register_elo(engine, "green")
    make_active(engine, cache, "blue")
    assert get_active(cache) == ActiveModel("blue", FEATURE_VERSION)
    promotion.transition(engine, "green", Status.CHECKED, "test")
    with pytest.raises(TransitionError, match="only a warmed"):
        promotion.promote(engine, cache, "green", "test")  # checked, not warmed
    promotion.begin_warming(engine, "green", "test")
    assert promotion.aliases(engine) == {"blue": "blue", "green": "green"}

    flip = promotion.promote(engine, cache, "green", "alice")
    assert (flip.active, flip.previous, flip.changed) == ("green", "blue", True)
    assert get_active(cache) == ActiveModel("green", FEATURE_VERSION)
    assert promotion.aliases(engine) == {"blue": "green", "green": "blue"}
    assert get_model(engine, "blue").status == "retired"
    assert promotion.active_version(engine) == "green"

    audits = _audit_count(engine)
    again = promotion.promote(engine, cache, "green", "alice")
    assert not again.changed and _audit_count(engine) == audits


def test_killed_between_store_and_redis_then_reconciled(
    engine: Engine, cache: redis.Redis, monkeypatch
) -> None:
    register_elo(engine, "blue")
    register_elo(engine, "green")
    make_active(engine, cache, "blue")
    promotion.transition(engine, "green", Status.CHECKED, "test")
    promotion.begin_warming(engine, "green", "test")

    def killed(*_args: object) -> None:
        raise ConnectionError("process killed before the Redis write")

    with monkeypatch.context() as patch:
        patch.setattr(promotion, "_point", killed)
        with pytest.raises(ConnectionError):
            promotion.promote(engine, cache, "green", "test")
    # The store is ahead, Redis still names blue: readers see one model, blue.
    assert promotion.active_version(engine) == "green"
    assert get_active(cache) == ActiveModel("blue", FEATURE_VERSION)
    # Re-running completes it (reconcile first, then nothing left to flip).
    flip = promotion.promote(engine, cache, "green", "test")
    assert not flip.changed
    assert get_active(cache) == ActiveModel("green", FEATURE_VERSION)


def test_reconcile_leaves_redis_alone_before_any_promotion(
    engine: Engine, cache: redis.Redis
) -> None:
    register_elo(engine, "m")
    set_active(cache, ActiveModel("bootstrap", FEATURE_VERSION))
    assert promotion.reconcile(engine, cache) == ActiveModel("bootstrap", FEATURE_VERSION)
    assert get_active(cache) == ActiveModel("bootstrap", FEATURE_VERSION)


def test_rollback_rewarms_expired_keys_then_restores_previous(
    store_url: str, cache: redis.Redis
) -> None:
    engine = make_engine(store_url)
    try:
        register_elo(engine, "blue")
        register_elo(engine, "green")
        make_active(engine, cache, "blue")
        promotion.transition(engine, "green", Status.CHECKED, "test")
        promotion.begin_warming(engine, "green", "test")
        promotion.promote(engine, cache, "green", "test")
        days = coming_days(AS_OF, WARM_DAYS)
        assert not cache.keys("bp:v1:pred:blue:*")  # blue's keys "expired" (never warmed)

        def warm(entry):  # type: ignore[no-untyped-def]
            return warm_model(engine, cache, entry, days, 60)

        flip = promotion.rollback(engine, cache, "bob", warm=warm, reason="bad green")
        assert (flip.active, flip.previous, flip.changed) == ("blue", "green", True)
        assert flip.warmed.complete and flip.warmed.expected > 40
        assert get_active(cache) == ActiveModel("blue", FEATURE_VERSION)
        assert get_model(engine, "green").status == "retired"
        assert promotion.aliases(engine) == {"blue": "blue", "green": "green"}
        some_game = cache.keys("bp:v1:pred:blue:*")[0].decode().rsplit(":", 1)[1]
        assert cache.ttl(prediction_key("blue", FEATURE_VERSION, some_game)) > 0
        last = promotion.audit_log(engine)[-1]
        assert (last.model_version, last.to_status, last.actor, last.reason) == (
            "blue", "active", "bob", "bad green",
        )  # fmt: skip
    finally:
        engine.dispose()


def test_rollback_without_a_previous_model_refuses(engine: Engine, cache: redis.Redis) -> None:
    register_elo(engine, "only")
    make_active(engine, cache, "only")
    with pytest.raises(LookupError, match="no retired model"):
        promotion.rollback(engine, cache, "bob")


def test_the_daily_job_serves_blue_not_the_newest_candidate(
    engine: Engine, cache: redis.Redis
) -> None:
    from assets.registry import serving_model

    register_elo(engine, "older-blue")
    make_active(engine, cache, "older-blue")
    register_elo(engine, "newer-candidate")
    assert serving_model(engine).version == "older-blue"


def test_concurrent_check_results_all_land(engine: Engine) -> None:
    """Checks finishing at once (separate processes in production) each see the others."""
    from concurrent.futures import ThreadPoolExecutor

    register_elo(engine, "m")
    names = [f"c{i}" for i in range(6)]

    def record(name: str) -> str:
        return promotion.record_check(engine, "m", name, True, [], names, f"check:{name}")

    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(record, names))
    entry = get_model(engine, "m")
    assert set(entry.metrics["checks"]) == set(names)
    assert entry.status == "checked"
    assert [r.to_status for r in promotion.audit_log(engine, "m")] == ["checked"]


def test_cache_warm_replaces_a_pointer_to_a_model_this_store_lacks(
    engine: Engine, cache: redis.Redis
) -> None:
    """A shared Redis may hold another store's pointer; before any promotion here, the
    warmer points at this store's newest predictions instead of keeping a ghost."""
    from assets.cache import _bootstrap_pointer

    register_elo(engine, "elo-here")
    set_active(cache, ActiveModel("blend-from-another-store", FEATURE_VERSION))
    newest = pd.DataFrame({
        "model_version": ["elo-here"], "feature_version": [FEATURE_VERSION],
        "computed_at": [pd.Timestamp("2022-09-20T12:00:00Z")],
    })  # fmt: skip
    assert _bootstrap_pointer(cache, newest, engine) == ActiveModel("elo-here", FEATURE_VERSION)
    assert get_active(cache) == ActiveModel("elo-here", FEATURE_VERSION)
    assert _bootstrap_pointer(cache, newest, engine) == ActiveModel("elo-here", FEATURE_VERSION)
