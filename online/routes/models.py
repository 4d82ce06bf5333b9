"""`GET /v1/models`: the registry (versions, metrics, status, blue/green) and what serves."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request

from bullpen.serving.active import aliases
from bullpen.store import list_models
from online.auth import Caller
from online.deps import ReadCaller, Services
from online.schemas import ModelOut, ModelsOut, errors

router = APIRouter(tags=["models"])


def _finite(value: Any) -> Any:
    """Registry metrics may hold NaN/inf, which JSON cannot carry: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@router.get("/v1/models", response_model=ModelsOut, responses=errors(401, 403, 429))
async def models(request: Request, caller: Caller = ReadCaller) -> ModelsOut:
    svc: Services = request.app.state.services
    entries = await svc.store(list_models, svc.engine)
    slots = await svc.store(aliases, svc.engine)
    alias_of = {version: alias for alias, version in slots.items()}
    active = svc.pointer.current.model_version if svc.pointer.current else None
    return ModelsOut(
        active=active,
        aliases=slots,
        models=[
            ModelOut(
                version=e.version,
                name=e.name,
                kind=e.kind,
                status=e.status,
                created_at=e.created_at,
                train_seasons=[e.train_seasons_from, e.train_seasons_to],
                feature_version=e.feature_version,
                metrics=_finite(e.metrics),
                active=e.version == active,
                alias=alias_of.get(e.version),
            )
            for e in entries
        ],
    )
