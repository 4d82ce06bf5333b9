"""Blue-green model promotion: registry states, the audit log, promote, rollback, reconcile.

A model moves through these states (`models.status`), each move written with
its `model_audit` row in one transaction::

    trained ──► checked ──► warming ──► active ──► retired
       │           │           │                  │  ▲
       └───────────┴───────────┴──► rejected      │  │ rollback (retired → active)
                                                  └──┘ re-promotion (retired → warming)

Two aliases name the slots: `blue` is the model serving traffic, `green` the
other one (the candidate while it is warmed, the previous model after a flip,
i.e. what a rollback restores).

The store is the source of truth; the Redis pointer (`bullpen.cache.ACTIVE_KEY`)
follows it. Every flip writes the store first and Redis second, so a process
killed between the two leaves the store ahead of Redis — a state `reconcile`
repairs (it runs at the start of every promotion and rollback, and in the
online tier's pointer poll). The reverse order could leave Redis serving a
model the registry does not call active, with nothing to notice. Until the
first promotion sets `blue`, the store claims nothing and Redis is left alone.

No Dagster or FastAPI here: the Dagster jobs, the CLI and the API all call
these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from bullpen import cache
from bullpen.cache import ActiveModel
from bullpen.features import FEATURE_VERSION
from bullpen.store import ModelEntry, get_model
from bullpen.store._sql import as_utc, upsert
from bullpen.store.promotion_schema import model_aliases, model_audit
from bullpen.store.schema import models, utcnow


class Status(StrEnum):
    TRAINED = "trained"
    CHECKED = "checked"
    WARMING = "warming"
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


# What the registry called the served model before promotions existed; treated as active.
LEGACY_ACTIVE = "production"
SERVING = frozenset({Status.ACTIVE.value, LEGACY_ACTIVE})
BLUE, GREEN = "blue", "green"

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.TRAINED: frozenset({Status.CHECKED, Status.REJECTED}),
    Status.CHECKED: frozenset({Status.WARMING, Status.REJECTED}),
    Status.WARMING: frozenset({Status.ACTIVE, Status.REJECTED}),
    Status.ACTIVE: frozenset({Status.RETIRED}),
    # A retired model comes back by rollback (its keys re-warmed first) or is promoted again.
    Status.RETIRED: frozenset({Status.ACTIVE, Status.WARMING}),
    Status.REJECTED: frozenset(),  # final: a rejected version is never served
    LEGACY_ACTIVE: frozenset({Status.RETIRED}),
}
# Checks that fail reject a model only before it has served anyone; a live model
# that fails a re-run of its checks is left to an operator's rollback.
REJECTABLE = frozenset({Status.TRAINED, Status.CHECKED, Status.WARMING})


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


@dataclass(frozen=True, slots=True)
class Flip:
    """What `promote` or `rollback` did: `changed` is False when it was already so."""

    active: str
    previous: str | None
    changed: bool
    warmed: Any = None  # what rollback's `warm` callback returned (e.g. a Coverage)


def allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


# --- transactions ---------------------------------------------------------------------


def _lock(conn: Connection, version: str) -> str:
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


def _move(
    conn: Connection, version: str, from_status: str, to_status: str, actor: str, reason: str
) -> None:
    if not allowed(from_status, to_status):
        raise TransitionError(f"{version}: {from_status} → {to_status} is not allowed")
    conn.execute(update(models).where(models.c.version == version).values(status=to_status))
    _audit(conn, version, from_status, to_status, actor, reason)


def _audit(
    conn: Connection, version: str, from_status: str | None, to_status: str, actor: str,
    reason: str,
) -> None:  # fmt: skip
    conn.execute(
        insert(model_audit).values(
            model_version=version, from_status=from_status, to_status=to_status,
            actor=actor, reason=reason, at=utcnow(),
        )
    )  # fmt: skip


def _set_alias(conn: Connection, alias: str, version: str) -> None:
    row = {"alias": alias, "model_version": version, "updated_at": utcnow()}
    upsert(conn, model_aliases, [row], ["alias"])


def transition(engine: Engine, version: str, to_status: str, actor: str, reason: str = "") -> str:
    """Move `version` to `to_status` with its audit row; returns the status it left.

    Moving to the status a model already has is a no-op (no audit row), so
    re-running a step is safe. TransitionError if the move is not allowed.
    """
    with engine.begin() as conn:
        current = _lock(conn, version)
        if current != to_status:
            _move(conn, version, current, to_status, actor, reason)
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
        status = _lock(conn, version)
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
            _move(conn, version, status, Status.REJECTED, actor, reason)
            return Status.REJECTED.value
        if not passed and status == Status.REJECTED:
            _audit(conn, version, status, status, actor, reason)
        elif passed and status == Status.TRAINED and _all_passed(checks, required):
            _move(conn, version, status, Status.CHECKED, actor, f"passed {sorted(required)}")
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
        status = _lock(conn, version)
        if status == Status.REJECTED:
            _audit(conn, version, status, status, actor, reason)
            return False
        _move(conn, version, status, Status.REJECTED, actor, reason)
    return True


def begin_warming(engine: Engine, version: str, actor: str) -> str:
    """`checked`/`retired` → `warming`, and `green` → `version`; idempotent.

    Returns the status afterwards: `warming`, or `active` if it already serves
    (a re-run after the flip has nothing left to warm for).
    """
    with engine.begin() as conn:
        status = _lock(conn, version)
        if status in SERVING:
            return status
        if status != Status.WARMING:
            _move(conn, version, status, Status.WARMING, actor, "warming its cache keys")
        _set_alias(conn, GREEN, version)
    return Status.WARMING.value


# --- reads ------------------------------------------------------------------------------


def aliases(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(model_aliases.c.alias, model_aliases.c.model_version))
        return {row.alias: row.model_version for row in rows}


def active_version(engine: Engine) -> str | None:
    """The model the store says serves: `blue` if it is active, else the newest active one."""
    with engine.connect() as conn:
        return _active_version(conn)


def _active_version(conn: Connection) -> str | None:
    blue = conn.execute(
        select(model_aliases.c.model_version).where(model_aliases.c.alias == BLUE)
    ).scalar_one_or_none()
    serving = conn.execute(
        select(models.c.version)
        .where(models.c.status.in_(SERVING))
        .order_by(models.c.created_at.desc(), models.c.version.desc())
    ).scalars()
    serving = list(serving)
    if blue in serving:
        return blue
    return serving[0] if serving else None


def audit_log(engine: Engine, version: str | None = None) -> list[AuditRow]:
    """Audit rows, oldest first (of one model, or of all)."""
    stmt = select(model_audit).order_by(model_audit.c.id)
    if version is not None:
        stmt = stmt.where(model_audit.c.model_version == version)
    with engine.connect() as conn:
        return [
            AuditRow(**{**row, "at": as_utc(row["at"])}) for row in conn.execute(stmt).mappings()
        ]


def previous_version(engine: Engine) -> str | None:
    """The rollback target: `green` if retired, else the model most recently retired."""
    with engine.connect() as conn:
        current = _active_version(conn)
        green = conn.execute(
            select(model_aliases.c.model_version).where(model_aliases.c.alias == GREEN)
        ).scalar_one_or_none()
        if green and green != current and _status(conn, green) == Status.RETIRED:
            return green
        # Green may be a candidate being warmed: the newest retirement tells instead.
        retired = conn.execute(
            select(model_audit.c.model_version)
            .where(model_audit.c.to_status == Status.RETIRED)
            .order_by(model_audit.c.id.desc())
        ).scalars()
        for version in retired:
            if version != current and _status(conn, version) == Status.RETIRED:
                return version
    return None


def _status(conn: Connection, version: str) -> str | None:
    return conn.execute(
        select(models.c.status).where(models.c.version == version)
    ).scalar_one_or_none()


def pointer_of(entry: ModelEntry) -> ActiveModel:
    return ActiveModel(entry.version, entry.feature_version or FEATURE_VERSION)


# --- store ⇄ Redis --------------------------------------------------------------------


def store_pointer(engine: Engine) -> ActiveModel | None:
    """The pointer the store wants: `blue`, if a promotion ever set it and it is active.

    One small SQL read (no artifact), cheap enough for every replica's poll.
    """
    stmt = (
        select(models.c.version, models.c.feature_version)
        .join(model_aliases, model_aliases.c.model_version == models.c.version)
        .where(model_aliases.c.alias == BLUE, models.c.status.in_(SERVING))
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return ActiveModel(row.version, row.feature_version or FEATURE_VERSION) if row else None


def green_candidate(engine: Engine) -> ActiveModel | None:
    """`green` while it is a warmed candidate (`warming`): what canary and shadow serve."""
    stmt = (
        select(models.c.version, models.c.feature_version)
        .join(model_aliases, model_aliases.c.model_version == models.c.version)
        .where(model_aliases.c.alias == GREEN, models.c.status == Status.WARMING)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return ActiveModel(row.version, row.feature_version or FEATURE_VERSION) if row else None


def reconcile(engine: Engine, redis: Any) -> ActiveModel | None:
    """Make the Redis pointer match the store's `blue`; returns the pointer Redis now holds.

    Cheap (one SQL read, one Redis GET) and idempotent. Without a `blue` alias
    (no promotion yet) Redis is left alone: the cache warmer's bootstrap pointer,
    or one an operator set, stays.
    """
    wanted = store_pointer(engine)
    current = cache.get_active(redis)
    if wanted is None:
        return current
    if current != wanted:
        _point(redis, wanted)
    return wanted


def _point(redis: Any, active: ActiveModel) -> None:
    """SET the pointer and PUBLISH it (one function, so tests can fail it on purpose)."""
    cache.set_active(redis, active)


def promote(engine: Engine, redis: Any, version: str, actor: str, reason: str = "") -> Flip:
    """Make the warmed `version` the active model: store first, then Redis and publish.

    `warming` → `active`, the previous active model → `retired`, aliases
    `blue` = version and `green` = previous, all in one transaction; then the
    Redis pointer is set and published. Idempotent: re-running after a crash at
    any point completes the flip (`reconcile` runs first and pushes a store that
    is ahead to Redis); promoting the active model again changes nothing.
    """
    reconcile(engine, redis)
    why = reason or "promoted"
    with engine.begin() as conn:
        status = _lock(conn, version)
        if status in SERVING:
            changed, previous = False, None
        else:
            if status != Status.WARMING:
                raise TransitionError(
                    f"{version} is {status}: only a warmed (warming) model can be promoted"
                )
            previous = _flip(conn, version, status, actor, why)
            changed = True
    if changed:  # else `reconcile` above already made Redis match
        entry = get_model(engine, version)
        assert entry is not None
        _point(redis, pointer_of(entry))
    return Flip(version, previous, changed)


def _flip(conn: Connection, version: str, status: str, actor: str, reason: str) -> str | None:
    """Inside a transaction: retire whatever serves, activate `version`, swap the aliases."""
    serving = conn.execute(
        select(models.c.version, models.c.status)
        .where(models.c.status.in_(SERVING), models.c.version != version)
        .order_by(models.c.created_at.desc())
    ).all()
    current = _active_version(conn)
    for other, other_status in serving:
        _move(conn, other, other_status, Status.RETIRED, actor, f"replaced by {version}")
    _move(conn, version, status, Status.ACTIVE, actor, reason)
    _set_alias(conn, BLUE, version)
    previous = current if current and current != version else None
    if previous is not None:
        _set_alias(conn, GREEN, previous)
    return previous


def rollback(
    engine: Engine,
    redis: Any,
    actor: str,
    warm: Callable[[ModelEntry], object] | None = None,
    reason: str = "",
) -> Flip:
    """Put the previous model back: re-warm its keys, then flip store and Redis.

    `warm(entry)` (optional) writes the previous model's cache keys again in
    case they expired; it runs before the flip, so no request is sent to a
    cold model. The model rolled back from becomes `retired` (and `green`), so
    a second rollback rolls forward again. LookupError if there is nothing to
    roll back to.
    """
    reconcile(engine, redis)
    target = previous_version(engine)
    if target is None:
        raise LookupError("no retired model to roll back to")
    entry = get_model(engine, target)
    assert entry is not None
    warmed = warm(entry) if warm is not None else None
    with engine.begin() as conn:
        status = _lock(conn, target)
        if status in SERVING:  # someone else rolled back meanwhile
            previous, changed = None, False
        else:
            previous = _flip(conn, target, status, actor, reason or "rollback")
            changed = True
    if changed:
        _point(redis, pointer_of(entry))
    else:
        reconcile(engine, redis)
    return Flip(target, previous, changed, warmed)
