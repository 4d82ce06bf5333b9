"""`/health` (liveness), `/ready` (this replica can serve), `/metrics` (Prometheus).

* `/health` touches nothing: it fails only when the process cannot answer at all, so a
  liveness probe restarts a wedged process and never a healthy one that lost Redis.
* `/ready` is "this replica can serve": it knows which model serves, and at least one
  of Redis (warmed answers) and the SQL store (computed answers) responds. A replica
  with only one of them keeps its place behind the Service and says so in `degraded`
  (and in `bullpen_dependency_up`); a Redis outage must not take every replica out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from bullpen.serving.active import serving_pointer
from bullpen.store import ping
from online.deps import Services
from online.schemas import HealthOut, ReadyOut
from online.store import StoreTimeout

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut)
async def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def ready(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    cache_ok = await svc.redis.ping()
    if cache_ok:
        svc.pointer.set(await svc.pointer.read())
    store_ok = await _store_answers(svc)
    if svc.pointer.current is None and store_ok:  # no pointer in Redis: the store's choice
        svc.pointer.set(await svc.store(serving_pointer, svc.engine))
    up = {"cache": cache_ok, "store": store_ok}
    for name, ok in up.items():
        svc.metrics.dependency.labels(name).set(1 if ok else 0)
    current = svc.pointer.current
    body = ReadyOut(
        ready=current is not None and (cache_ok or store_ok),
        cache=cache_ok,
        store=store_ok,
        model_pointer=current is not None,
        model_version=current.model_version if current else None,
        degraded=[name for name, ok in up.items() if not ok],
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


async def _store_answers(svc: Services) -> bool:
    try:
        await svc.store(ping, svc.engine)
    except (StoreTimeout, SQLAlchemyError):
        return False
    return True


# Not in the public schema (nor behind the Ingress): Prometheus scrapes it inside the cluster.
@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request) -> Response:
    svc: Services = request.app.state.services
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
