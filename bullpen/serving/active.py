"""Which model serves: the one rule, the blue/green aliases, the Redis pointer, promote, rollback.

This module is the only owner of that decision. The Dagster jobs, the sensor,
the CLI and the API call it; nothing else writes the aliases or the pointer.

**The rule** (`choose`): the model serving traffic is `blue` while it is active,
else the newest active model. A model reaches users only through a promotion: a
store that never promoted anything serves nothing (the API answers 503 and says
so), and the first start-up promotes its candidate like any later one.

**The aliases** name the two slots: `blue` serves, `green` is the other model
(the candidate while it is warmed, the previous model after a flip, i.e. what
a rollback restores).

**The pointer** (`bp:v1:active` in Redis, announced on `bp:v1:model-changed`)
follows the store. Every flip writes the store first and Redis second, so a
process killed between the two leaves the store ahead of Redis: a state
`reconcile` repairs (at the start of every promotion and rollback) and so does
every API replica's poll (`repair`, after two sightings). The reverse order
could leave Redis serving a model the registry does not call active, with
nothing to notice.

A model's status changes only through `bullpen.serving.lifecycle` (audited).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from bullpen.cache.contract import ACTIVE_KEY, MODEL_CHANGED_CHANNEL, ActiveModel
from bullpen.serving.lifecycle import Status, TransitionError, lock, move, status_of
from bullpen.serving.registry import trained_until
from bullpen.serving.warming import Coverage, coming_days, warm_model
from bullpen.store import ModelEntry, get_model
from bullpen.store._sql import upsert
from bullpen.store.promotion_schema import model_aliases, model_audit
from bullpen.store.schema import models, utcnow

BLUE, GREEN = "blue", "green"


class MissingFeatureVersion(ValueError):
    """A registered model without a feature version: its keys could not be named."""


class ModelNotFound(LookupError):
    """A request named a model the registry does not have."""


class ModelNotServable(ValueError):
    """A request named a model that exists but may not answer (not promoted, or rejected)."""


# What a request may ask for by version: the serving model, or one that served before
# (a rollback target; its keys may have expired, so its answers may be computed).
ANSWERS_BY_VERSION = frozenset({Status.ACTIVE, Status.RETIRED})


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the rule needs of a registered model (no artifact)."""

    version: str
    kind: str
    status: str
    feature_version: str | None


@dataclass(frozen=True, slots=True)
class Flip:
    """What `promote` or `rollback` did: `changed` is False when it was already so."""

    active: str
    previous: str | None
    changed: bool
    warmed: Coverage | None = None  # rollback: the re-warmed keys of `warmed_days`
    warmed_days: tuple[dt.date, ...] = ()


# --- the rule ---------------------------------------------------------------------------


def choose(candidates: Sequence[Candidate], blue: str | None) -> Candidate | None:
    """The serving model among `candidates` (newest first), given the `blue` alias."""
    active = [c for c in candidates if c.status == Status.ACTIVE]
    for c in active:
        if c.version == blue:
            return c
    return active[0] if active else None


def pointer(version: str, feature_version: str | None) -> ActiveModel:
    """The one conversion from a registry entry to what the servers serve."""
    if not feature_version:
        raise MissingFeatureVersion(
            f"model {version} has no feature version, so its cache keys cannot be named; "
            "re-register it (retrain) before serving it"
        )
    return ActiveModel(version, feature_version)


def pointer_of(entry: ModelEntry | Candidate) -> ActiveModel:
    return pointer(entry.version, entry.feature_version)


def serving_candidate(engine: Engine) -> Candidate | None:
    """The rule applied to the store: one light query (no artifacts), fine for every poll."""
    with engine.connect() as conn:
        return _serving(conn)


def serving_pointer(engine: Engine) -> ActiveModel | None:
    chosen = serving_candidate(engine)
    return pointer_of(chosen) if chosen else None


def serving_entry(engine: Engine) -> ModelEntry | None:
    """The serving model's registry entry, artifact included (to score with it)."""
    chosen = serving_candidate(engine)
    return get_model(engine, chosen.version) if chosen else None


def promoted_version(engine: Engine) -> str | None:
    """The version that serves (blue, else the newest active); None before any promotion."""
    chosen = serving_candidate(engine)
    return chosen.version if chosen is not None else None


def _serving(conn: Connection) -> Candidate | None:
    rows = conn.execute(
        select(models.c.version, models.c.kind, models.c.status, models.c.feature_version).order_by(
            models.c.created_at.desc(), models.c.version.desc()
        )
    ).all()
    return choose([Candidate(*row) for row in rows], _alias(conn, BLUE))


def _alias(conn: Connection, alias: str) -> str | None:
    return conn.execute(
        select(model_aliases.c.model_version).where(model_aliases.c.alias == alias)
    ).scalar_one_or_none()


def requested(
    engine: Engine, serving: ActiveModel, name: str | None, version: str | None
) -> ActiveModel:
    """The model a request names, through the rule: a name means the serving model of that
    name; a version must be the serving model or a retired one. `serving` is what this
    caller would get without naming anything (a canary's green included). Light reads
    only (no artifact): it runs on a request path."""
    with engine.connect() as conn:
        if version is None and name is not None and _registered(conn, name) is not None:
            name, version = None, name  # older clients send a version as `model_name`
        if version is not None:
            entry = _registered(conn, version)
            if entry is None:
                raise ModelNotFound(f"no model version {version!r} in the registry")
            if name is not None and entry.name != name:
                raise ModelNotFound(f"model {version!r} is named {entry.name!r}, not {name!r}")
            if version != serving.model_version and entry.status not in ANSWERS_BY_VERSION:
                raise ModelNotServable(
                    f"model {version} is {entry.status}: only the serving model "
                    f"({serving.model_version}) or a retired one answers requests"
                )
            return pointer(entry.version, entry.feature_version)
        if name is None:
            return serving
        current = _registered(conn, serving.model_version)
        if current is not None and current.name == name:
            return serving
        if conn.execute(select(models.c.version).where(models.c.name == name)).first() is None:
            raise ModelNotFound(f"no model named {name!r} in the registry")
    raise ModelNotServable(f"no model named {name!r} is serving (serving: {serving.model_version})")


def _registered(conn: Connection, version: str) -> Any:
    """(version, name, status, feature_version) of a registered model, or None."""
    return conn.execute(
        select(models.c.version, models.c.name, models.c.status, models.c.feature_version).where(
            models.c.version == version
        )
    ).first()


def aliases(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(model_aliases.c.alias, model_aliases.c.model_version))
        return {row.alias: row.model_version for row in rows}


def green_candidate(engine: Engine) -> ActiveModel | None:
    """`green` while it is a warmed candidate (`warming`): what canary and shadow serve."""
    with engine.connect() as conn:
        green = _alias(conn, GREEN)
        row = conn.execute(
            select(models.c.version, models.c.feature_version).where(
                models.c.version == green, models.c.status == Status.WARMING
            )
        ).first()
    return pointer(*row) if row else None


def previous_version(engine: Engine) -> str | None:
    """The rollback target: `green` if retired, else the model most recently retired."""
    with engine.connect() as conn:
        current = _serving(conn)
        current_version = current.version if current else None
        green = _alias(conn, GREEN)
        if green and green != current_version and status_of(conn, green) == Status.RETIRED:
            return green
        # Green may be a candidate being warmed: the newest retirement tells instead.
        retired = conn.execute(
            select(model_audit.c.model_version)
            .where(model_audit.c.to_status == Status.RETIRED)
            .order_by(model_audit.c.id.desc())
        ).scalars()
        for version in retired:
            if version != current_version and status_of(conn, version) == Status.RETIRED:
                return version
    return None


# --- the Redis pointer ------------------------------------------------------------------


def read_pointer(redis: Any) -> ActiveModel | None:
    raw = redis.get(ACTIVE_KEY)
    return ActiveModel.decode(raw) if raw else None


def _point(redis: Any, active: ActiveModel) -> None:
    """SET the pointer, then PUBLISH it: every replica switches on the message."""
    payload = active.encode()
    redis.set(ACTIVE_KEY, payload)
    redis.publish(MODEL_CHANGED_CHANNEL, payload)


def reconcile(engine: Engine, redis: Any) -> ActiveModel | None:
    """Make the Redis pointer name the serving model; returns the pointer Redis now holds.

    Cheap (one SQL read, one Redis GET) and idempotent. With nothing to serve
    (an empty registry) Redis is left alone.
    """
    wanted = serving_pointer(engine)
    current = read_pointer(redis)
    if wanted is None:
        return current
    if current != wanted:
        _point(redis, wanted)
    return wanted


class PointerWatch:
    """Repairs the pointer only when it lags the store on two consecutive looks.

    A replica that read the store just before a flip, and Redis just after, would
    otherwise push the old model back over the new one.
    """

    def __init__(self) -> None:
        self._behind: ActiveModel | None = None

    def repair(self, engine: Engine, redis: Any) -> ActiveModel | None:
        """One look; returns the pointer written, if this look repaired it."""
        # Redis first, then the store: the store is written first in a flip, so a
        # mismatch seen in this order means Redis is behind, never ahead.
        current = read_pointer(redis)
        wanted = serving_pointer(engine)
        if wanted is None or wanted == current:
            self._behind = None
            return None
        if self._behind != wanted:  # first sighting: the flip may be under way
            self._behind = wanted
            return None
        _point(redis, wanted)
        self._behind = None
        return wanted


# --- flips -------------------------------------------------------------------------------


def _set_alias(conn: Connection, alias: str, version: str) -> None:
    row = {"alias": alias, "model_version": version, "updated_at": utcnow()}
    upsert(conn, model_aliases, [row], ["alias"])


def begin_warming(engine: Engine, version: str, actor: str) -> str:
    """`checked`/`retired` → `warming`, and `green` → `version`; idempotent.

    Returns the status afterwards: `warming`, or `active` if it already serves
    (a re-run after the flip has nothing left to warm for).
    """
    with engine.begin() as conn:
        status = lock(conn, version)
        if status == Status.ACTIVE:
            return status
        if status != Status.WARMING:
            move(conn, version, status, Status.WARMING, actor, "warming its cache keys")
        _set_alias(conn, GREEN, version)
    return Status.WARMING.value


def warm(
    engine: Engine, redis: Any, entry: ModelEntry, days: Sequence[dt.date], ttl: int
) -> Coverage:
    """Store and warm `entry`'s predictions of `days` (the recipe of promotion and rollback)."""
    return warm_model(
        engine, redis, pointer_of(entry), entry.artifact, days, ttl, trained_until(entry)
    )


def promote(engine: Engine, redis: Any, version: str, actor: str, reason: str = "") -> Flip:
    """Make the warmed `version` the active model: store first, then Redis and publish.

    `warming` → `active`, the previous active model → `retired`, aliases
    `blue` = version and `green` = previous, all in one transaction; then the
    Redis pointer is set and published. Idempotent: re-running after a crash at
    any point completes the flip (`reconcile` runs first and pushes a store that
    is ahead to Redis); promoting the active model again changes nothing.
    """
    reconcile(engine, redis)
    entry = get_model(engine, version)
    if entry is None:
        raise TransitionError(f"no model with version {version!r}")
    target = pointer_of(entry)  # refuse before the flip, not after it
    with engine.begin() as conn:
        status = lock(conn, version)
        if status == Status.ACTIVE:
            changed, previous = False, None
        else:
            if status != Status.WARMING:
                raise TransitionError(
                    f"{version} is {status}: only a warmed (warming) model can be promoted"
                )
            previous = _flip(conn, version, status, actor, reason or "promoted")
            changed = True
    if changed:  # else `reconcile` above already made Redis match
        _point(redis, target)
    return Flip(version, previous, changed)


def rollback(
    engine: Engine,
    redis: Any,
    actor: str,
    ttl: int,
    reason: str = "",
    as_of: dt.date | None = None,
    days: int | None = None,
) -> Flip:
    """Put the previous model back: re-warm its keys for the coming days, then flip.

    The keys are re-warmed first (they may have expired), so no request is sent
    to a cold model. The model rolled back from becomes `retired` (and `green`),
    so a second rollback rolls forward again. LookupError if there is nothing
    to roll back to.
    """
    reconcile(engine, redis)
    target = previous_version(engine)
    if target is None:
        raise LookupError("no retired model to roll back to")
    entry = get_model(engine, target)
    assert entry is not None
    dates = tuple(coming_days(as_of, days))
    warmed = warm(engine, redis, entry, dates, ttl)
    with engine.begin() as conn:
        status = lock(conn, target)
        if status == Status.ACTIVE:  # someone else rolled back meanwhile
            previous, changed = None, False
        else:
            previous = _flip(conn, target, status, actor, reason or "rollback")
            changed = True
    if changed:
        _point(redis, pointer_of(entry))
    else:
        reconcile(engine, redis)
    return Flip(target, previous, changed, warmed, dates)


def _flip(conn: Connection, version: str, status: str, actor: str, reason: str) -> str | None:
    """Inside a transaction: retire whatever serves, activate `version`, swap the aliases."""
    current = _serving(conn)
    serving = conn.execute(
        select(models.c.version)
        .where(models.c.status == Status.ACTIVE, models.c.version != version)
        .order_by(models.c.created_at.desc())
    ).scalars()
    for other in list(serving):
        move(conn, other, Status.ACTIVE, Status.RETIRED, actor, f"replaced by {version}")
    move(conn, version, status, Status.ACTIVE, actor, reason)
    _set_alias(conn, BLUE, version)
    previous = current.version if current and current.status == Status.ACTIVE else None
    if previous is not None and previous != version:
        _set_alias(conn, GREEN, previous)
        return previous
    return None
