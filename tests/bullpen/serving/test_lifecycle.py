"""A model's lifecycle: the state machine, its audit log, check results (core only)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select

from bullpen.serving import lifecycle
from bullpen.serving.lifecycle import Status, TransitionError, settle_checks
from bullpen.store import get_model, register_model
from bullpen.store.promotion_schema import model_audit
from tests.support.data import elo_entry
from tests.support.promotion import register_elo

CHECKS = ("a", "b")


def _audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model_audit)).scalar_one()


def test_every_allowed_transition_is_audited_and_others_refused(engine: Engine) -> None:
    register_elo(engine, "m")
    assert lifecycle.transition(engine, "m", Status.CHECKED, "alice", "looks good") == "trained"
    assert lifecycle.transition(engine, "m", Status.CHECKED, "alice") == "checked"  # no-op
    with pytest.raises(TransitionError, match="checked → active"):
        lifecycle.transition(engine, "m", Status.ACTIVE, "mallory")
    with pytest.raises(TransitionError, match="no model"):
        lifecycle.transition(engine, "nope", Status.CHECKED, "alice")
    assert get_model(engine, "m").status == "checked"
    [row] = lifecycle.audit_log(engine, "m")
    assert (row.from_status, row.to_status, row.actor, row.reason) == (
        "trained", "checked", "alice", "looks good",
    )  # fmt: skip
    assert row.at.tzinfo is not None


def test_transition_and_audit_row_commit_together(engine: Engine, monkeypatch) -> None:
    register_elo(engine, "m")

    def broken_audit(*_args: object) -> None:
        raise RuntimeError("audit insert failed")

    monkeypatch.setattr(lifecycle, "audit", broken_audit)
    with pytest.raises(RuntimeError):
        lifecycle.transition(engine, "m", Status.CHECKED, "alice")
    assert get_model(engine, "m").status == "trained"  # rolled back with the audit row


def test_registration_cannot_set_or_change_a_status(engine: Engine) -> None:
    """Only the audited lifecycle writes a status: registering refuses one, and re-registering
    the same version keeps the status the lifecycle gave it."""
    with pytest.raises(ValueError, match=r"serving\.lifecycle"):
        register_model(engine, replace(elo_entry("m"), status="active"))
    register_elo(engine, "m")
    lifecycle.transition(engine, "m", Status.CHECKED, "alice")
    again = register_model(engine, elo_entry("m"))
    assert again.status == get_model(engine, "m").status == "checked"
    assert [r.to_status for r in lifecycle.audit_log(engine, "m")] == ["checked"]


def test_state_machine_table() -> None:
    assert lifecycle.allowed("trained", "checked") and lifecycle.allowed("checked", "warming")
    assert lifecycle.allowed("warming", "active") and lifecycle.allowed("active", "retired")
    assert lifecycle.allowed("retired", "active")  # rollback
    for status in ("trained", "checked", "warming"):
        assert lifecycle.allowed(status, "rejected")
    assert not lifecycle.allowed("rejected", "checked")
    assert not lifecycle.allowed("active", "rejected")
    assert not lifecycle.allowed("trained", "active")
    assert not lifecycle.allowed("production", "retired")  # the legacy status is gone (0004)


def test_check_results_reject_with_reasons_or_mark_checked(engine: Engine) -> None:
    register_elo(engine, "good")
    register_elo(engine, "bad")
    assert lifecycle.record_check(engine, "good", "a", True, [], CHECKS, "check:a") == "trained"
    assert lifecycle.record_check(engine, "good", "b", True, [], CHECKS, "check:b") == "checked"
    status = lifecycle.record_check(engine, "bad", "a", False, ["brier too high"], CHECKS, "c:a")
    assert status == "rejected"
    lifecycle.record_check(engine, "bad", "b", False, ["NaN"], CHECKS, "check:b")
    lifecycle.record_check(engine, "bad", "a", True, [], CHECKS, "check:a")  # no resurrection
    assert get_model(engine, "bad").status == "rejected"
    reasons = [(r.from_status, r.to_status, r.reason) for r in lifecycle.audit_log(engine, "bad")]
    assert reasons == [
        ("trained", "rejected", "a: brier too high"),
        ("rejected", "rejected", "b: NaN"),
    ]
    assert get_model(engine, "bad").metrics["checks"]["b"]["reasons"] == ["NaN"]


def test_settle_checks_is_the_sensors_verdict(engine: Engine) -> None:
    register_elo(engine, "good")
    register_elo(engine, "bad")
    verdict = settle_checks(engine, "good", [], "sensor:test")
    assert verdict.promote and get_model(engine, "good").status == "checked"
    verdict = settle_checks(engine, "bad", ["sanity: NaN"], "sensor:test")
    assert not verdict.promote and verdict.note == "bad rejected — sanity: NaN"
    assert get_model(engine, "bad").status == "rejected"
    again = settle_checks(engine, "bad", [], "sensor:test")
    assert not again.promote and "is rejected: nothing to promote" in again.note
    assert not settle_checks(engine, "ghost", [], "sensor:test").promote


def test_concurrent_check_results_all_land(engine: Engine) -> None:
    """Checks finishing at once (separate processes in production) each see the others."""
    register_elo(engine, "m")
    names = [f"c{i}" for i in range(6)]

    def record(name: str) -> str:
        return lifecycle.record_check(engine, "m", name, True, [], names, f"check:{name}")

    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(record, names))
    entry = get_model(engine, "m")
    assert set(entry.metrics["checks"]) == set(names)
    assert entry.status == "checked"
    assert [r.to_status for r in lifecycle.audit_log(engine, "m")] == ["checked"]
    assert _audit_count(engine) == 1
