"""`/health` (liveness, no dependency), `/ready` (pointer + cache), `/metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from online.deps import Services
from online.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut)
async def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def ready(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    cache_ok = await svc.redis.ping()
    pointer = await svc.pointer.read() if cache_ok else None
    if pointer is not None:
        svc.pointer.set(pointer)
    body = ReadyOut(
        ready=cache_ok and pointer is not None,
        cache=cache_ok,
        model_pointer=pointer is not None,
        model_version=svc.pointer.current.model_version if svc.pointer.current else None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request) -> Response:
    svc: Services = request.app.state.services
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
