"""Admin-scoped routes: `GET /v1/admin/keys` lists API keys (never the keys themselves);
`POST /v1/admin/rollback` puts the previous model back."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bullpen.serving import active
from bullpen.serving.lifecycle import TransitionError
from bullpen.store.apikeys import list_keys
from online.auth import Caller
from online.deps import AdminCaller, Services
from online.schemas import KeyOut, errors

router = APIRouter(tags=["admin"])


@router.get("/v1/admin/keys", response_model=list[KeyOut], responses=errors(401, 403, 429))
async def keys(request: Request, caller: Caller = AdminCaller) -> list[KeyOut]:
    svc: Services = request.app.state.services
    records = await svc.store(list_keys, svc.engine)
    return [
        KeyOut(id=r.id, name=r.name, prefix=r.prefix, scope=r.scope,
               created_at=r.created_at, revoked_at=r.revoked_at)
        for r in records
    ]  # fmt: skip


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo must not roll back with defaults

    reason: str = Field(default="", max_length=500, description="Why, for the audit log.")
    as_of: dt.date | None = Field(default=None, description="First day re-warmed (default today).")
    days: int | None = Field(default=None, ge=1, le=31, description="Days re-warmed.")


class RollbackOut(BaseModel):
    active: str
    previous: str | None
    changed: bool
    warmed_days: list[str]
    keys_expected: int
    keys_present: int


@router.post("/v1/admin/rollback", response_model=RollbackOut, responses=errors(401, 403, 409, 429))
async def rollback(
    request: Request, body: RollbackIn | None = None, caller: Caller = AdminCaller
) -> RollbackOut:
    """Re-warm the previous model's keys, then make it active (store, Redis, published)."""
    svc: Services = request.app.state.services
    body = body or RollbackIn()
    actor = f"api:{caller.name}"
    ttl = svc.settings.redis.cache_ttl_s
    try:
        flip = await run_in_threadpool(
            active.rollback, svc.engine, svc.sync_redis(), actor, ttl, body.reason, body.as_of,
            body.days,
        )  # fmt: skip
    except (LookupError, TransitionError) as exc:
        raise HTTPException(409, str(exc)) from None
    await svc.pointer.refresh()  # this replica now; the others on the published message
    return RollbackOut(
        active=flip.active,
        previous=flip.previous,
        changed=flip.changed,
        warmed_days=[d.isoformat() for d in flip.warmed_days],
        keys_expected=flip.warmed.expected if flip.warmed else 0,
        keys_present=flip.warmed.present if flip.warmed else 0,
    )
