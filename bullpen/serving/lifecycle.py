"""A model's lifecycle: its status, every change audited. The only writer of `models.status`.

A model moves through these states, each move written with its `model_audit`
row in one transaction::

    trained ──► checked ──► warming ──► active ──► retired
       │           │           │                  │  ▲
       └───────────┴───────────┴──► rejected      │  │ rollback (retired → active)
                                                  └──┘ re-promotion (retired → warming)

Registration inserts a model as `trained` and never changes a status again
(`bullpen.store.register_model`); everything after goes through here. Which of
the models serves is `bullpen.serving.active`'s decision, made with `move`
inside its own transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from bullpen.store._sql import as_utc
from bullpen.store.promotion_schema import model_audit
from bullpen.store.schema import models, utcnow


class Status(StrEnum):
    TRAINED = "trained"
    CHECKED = "checked"
    WARMING = "warming"
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.TRAINED: frozenset({Status.CHECKED, Status.REJECTED}),
    Status.CHECKED: frozenset({Status.WARMING, Status.REJECTED}),
    Status.WARMING: frozenset({Status.ACTIVE, Status.REJECTED}),
    Status.ACTIVE: frozenset({Status.RETIRED}),
    # A retired model comes back by rollback (its keys re-warmed first) or is promoted again.
    Status.RETIRED: frozenset({Status.ACTIVE, Status.WARMING}),
    Status.REJECTED: frozenset(),  # final: a rejected version is never served
}
# Checks that fail reject a model only before it has served anyone; a live model
# that fails a re-run of its checks is left to an operator's rollback.
REJECTABLE = frozenset({Status.TRAINED, Status.CHECKED, Status.WARMING})
HAS_SERVED = frozenset({Status.ACTIVE, Status.RETIRED})


class TransitionError(ValueError):
    """A status change the state machine does not allow (or an unknown model)."""


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    model_version: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: dt.datetime


def allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


# --- inside a transaction ----------------------------------------------------------------


def lock(conn: Connection, version: str) -> str:
    """Take the write lock on `version`'s row first, then read its status.

    A no-op UPDATE as the transaction's first statement makes SQLite take its
    write lock up front (waiting out the busy timeout instead of failing with a
    stale snapshot) and makes PostgreSQL lock the row, so concurrent
    transitions of one model serialise.
    """
    result = conn.execute(
        update(models).where(models.c.version == version).values(status=models.c.status)
    )
    if result.rowcount == 0:
        raise TransitionError(f"no model with version {version!r}")
    return conn.execute(select(models.c.status).where(models.c.version == version)).scalar_one()


def move(
    conn: Connection, version: str, from_status: str, to_status: str, actor: str, reason: str
) -> None:
    """Change `version`'s status and write its audit row (the caller holds the lock)."""
    if not allowed(from_status, to_status):
        raise TransitionError(f"{version}: {from_status} → {to_status} is not allowed")
    conn.execute(update(models).where(models.c.version == version).values(status=to_status))
    audit(conn, version, from_status, to_status, actor, reason)


def audit(
    conn: Connection, version: str, from_status: str | None, to_status: str, actor: str,
    reason: str,
) -> None:  # fmt: skip
    conn.execute(
        insert(model_audit).values(
            model_version=version, from_status=from_status, to_status=to_status,
            actor=actor, reason=reason, at=utcnow(),
        )
    )  # fmt: skip


# --- one transaction each -------------------------------------------------------------------


def transition(engine: Engine, version: str, to_status: str, actor: str, reason: str = "") -> str:
    """Move `version` to `to_status` with its audit row; returns the status it left.

    Moving to the status a model already has is a no-op (no audit row), so
    re-running a step is safe. TransitionError if the move is not allowed.
    """
    with engine.begin() as conn:
        current = lock(conn, version)
        if current != to_status:
            move(conn, version, current, to_status, actor, reason)
    return current


def record_check(
    engine: Engine,
    version: str,
    check: str,
    passed: bool,
    reasons: Iterable[str],
    required: Collection[str],
    actor: str,
) -> str:
    """Store one check's outcome on the model; returns the model's status afterwards.

    A failure rejects a not-yet-served model (trained/checked/warming) with the
    reasons; further failures add their reasons as `rejected → rejected` audit
    rows. When every check in `required` has passed, a `trained` model becomes
    `checked`. Results live in `metrics["checks"]`, written under the row lock,
    so checks finishing at once in separate processes still see each other.
    """
    reasons = list(reasons)
    with engine.begin() as conn:
        status = lock(conn, version)
        metrics = dict(
            conn.execute(select(models.c.metrics).where(models.c.version == version)).scalar_one()
            or {}
        )
        checks = dict(metrics.get("checks") or {})
        checks[check] = {"passed": passed, "reasons": reasons, "at": utcnow().isoformat()}
        metrics["checks"] = checks
        conn.execute(update(models).where(models.c.version == version).values(metrics=metrics))
        reason = f"{check}: {'; '.join(reasons) or 'failed'}"
        if not passed and status in REJECTABLE:
            move(conn, version, status, Status.REJECTED, actor, reason)
            return Status.REJECTED.value
        if not passed and status == Status.REJECTED:
            audit(conn, version, status, status, actor, reason)
        elif passed and status == Status.TRAINED and _all_passed(checks, required):
            move(conn, version, status, Status.CHECKED, actor, f"passed {sorted(required)}")
            return Status.CHECKED.value
    return status


def _all_passed(checks: dict[str, Any], required: Collection[str]) -> bool:
    return all(checks.get(name, {}).get("passed") is True for name in required)


def reject(engine: Engine, version: str, actor: str, reasons: Iterable[str]) -> bool:
    """Reject `version` with `reasons`; True if this call rejected it.

    Already rejected: the reasons are appended to the audit log. A model that
    has served (active/retired) is not rejected: TransitionError.
    """
    reason = "; ".join(reasons) or "rejected"
    with engine.begin() as conn:
        status = lock(conn, version)
        if status == Status.REJECTED:
            audit(conn, version, status, status, actor, reason)
            return False
        move(conn, version, status, Status.REJECTED, actor, reason)
    return True


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the check results of one model led to: `promote` it, or not and why (`note`)."""

    promote: bool
    note: str


def settle_checks(engine: Engine, version: str, failures: list[str], actor: str) -> Verdict:
    """Act on a model's complete check results (`failures`: one reason per failed check).

    Any failure rejects a model that has not served yet (one that has is left to
    an operator's rollback); all passed makes a `trained` model `checked` and asks
    for its promotion, unless it is already serving or was rejected before.
    """
    status = current_status(engine, version)
    if status is None:
        return Verdict(False, f"{version} is not in the registry")
    if failures:
        if status in REJECTABLE:
            reject(engine, version, actor, failures)
        verdict = (
            f"{version} ({status}) failed its checks"
            if status in HAS_SERVED
            else (f"{version} rejected")
        )
        return Verdict(False, f"{verdict} — {'; '.join(failures)}")
    if status == Status.REJECTED or status == Status.ACTIVE:
        return Verdict(False, f"{version} passed its checks but is {status}: nothing to promote")
    if status == Status.TRAINED:  # the checks' own bookkeeping did not get there
        transition(engine, version, Status.CHECKED, actor, "all checks passed")
    return Verdict(True, f"{version}: all checks passed")


# --- reads ------------------------------------------------------------------------------


def current_status(engine: Engine, version: str) -> str | None:
    with engine.connect() as conn:
        return status_of(conn, version)


def status_of(conn: Connection, version: str) -> str | None:
    return conn.execute(
        select(models.c.status).where(models.c.version == version)
    ).scalar_one_or_none()


def audit_log(engine: Engine, version: str | None = None) -> list[AuditRow]:
    """Audit rows, oldest first (of one model, or of all)."""
    stmt = select(model_audit).order_by(model_audit.c.id)
    if version is not None:
        stmt = stmt.where(model_audit.c.model_version == version)
    with engine.connect() as conn:
        return [
            AuditRow(**{**row, "at": as_utc(row["at"])}) for row in conn.execute(stmt).mappings()
        ]
