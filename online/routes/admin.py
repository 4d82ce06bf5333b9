"""Admin-scoped routes: `GET /v1/admin/keys` lists API keys (never the keys themselves)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from bullpen.store.apikeys import list_keys
from online.auth import Caller
from online.deps import AdminCaller, Services
from online.schemas import KeyOut, errors

router = APIRouter(tags=["admin"])


@router.get("/v1/admin/keys", response_model=list[KeyOut], responses=errors(401, 403, 429))
async def keys(request: Request, caller: Caller = AdminCaller) -> list[KeyOut]:
    svc: Services = request.app.state.services
    records = await run_in_threadpool(list_keys, svc.engine)
    return [
        KeyOut(id=r.id, name=r.name, prefix=r.prefix, scope=r.scope,
               created_at=r.created_at, revoked_at=r.revoked_at)
        for r in records
    ]  # fmt: skip
