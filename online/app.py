"""The FastAPI application factory: `create_app(settings, online)`; uvicorn: `online.app:app`.

`settings` is the core's (`bullpen.settings`: store, Redis, the API-key secret),
`online` the web tier's own. The lifespan opens the SQL engine and the Redis
client (single node or cluster), reads the active-model pointer and keeps it
fresh; it closes them all on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from bullpen.cache.clients import async_client, pubsub_client
from bullpen.cache.contract import ActiveModel
from bullpen.serving.active import ModelNotFound, serving_pointer
from bullpen.settings import Settings, get_settings
from bullpen.store import make_engine, upgrade
from online import promotion
from online.active import ActivePointer
from online.auth import KeyVerifier
from online.canary import Canary
from online.config import OnlineSettings, get_online_settings
from online.deps import Services
from online.fastpath import FastPath
from online.metrics import Metrics, MetricsMiddleware
from online.models import ModelCache
from online.nearcache import NearCache
from online.ratelimit import RateLimiter
from online.redis_client import FAILURES, SafeRedis
from online.routes import (
    admin,
    bets,
    edge,
    edges,
    games,
    health,
    models,
    predictions,
    scorecard,
)
from online.routes._common import store_error, store_timeout
from online.service import PredictionService
from online.shedding import Shedder
from online.store import StoreGate, StoreTimeout

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 2.0


def build_services(settings: Settings, online: OnlineSettings, metrics: Metrics) -> Services:
    """Every long-lived object of one app instance (nothing connects yet)."""
    import bullpen.store.apikeys  # noqa: F401 - its table must be in the metadata

    engine = make_engine(settings.store.database_url, settings.store)
    cache = settings.redis
    redis = SafeRedis(async_client(cache), cache.redis_deadline_s, cache.redis_breaker_s)
    near: NearCache[bytes] = NearCache(online.near_cache_size, online.near_cache_ttl_s)
    model_cache = ModelCache(engine)
    gate = StoreGate(online.store_deadline_s, online.store_breaker_s, online.threads)

    predictions = PredictionService(
        engine, redis, near, model_cache, metrics, cache.cache_ttl_s, online.lock_ms, gate,
        revision_ttl=online.revision_ttl_s,
    )  # fmt: skip

    def on_change(active: ActiveModel) -> None:
        near.clear()
        metrics.serving(active.model_version, active.feature_version)
        log.info("serving model %s (features %s)", active.model_version, active.feature_version)

    return Services(
        settings=settings,
        online=online,
        engine=engine,
        redis=redis,
        pointer=ActivePointer(redis, on_change, on_inputs=predictions.inputs_changed),
        predictions=predictions,
        models=model_cache,
        verifier=KeyVerifier(
            engine,
            settings.auth.api_key_secret.get_secret_value(),
            online.key_cache_ttl_s,
            gate,
        ),
        limiter=RateLimiter(
            redis, online.rate_limit_per_s, online.rate_limit_burst, online.rate_limit_lease
        ),
        metrics=metrics,
        store_gate=gate,
        upkeep_gate=StoreGate(online.store_deadline_s, online.store_breaker_s, threads=1),
        canary=Canary(online.canary_percent, online.shadow, online.green_version, metrics.registry),
    )


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: Services = app.state.services
    online = svc.online
    anyio.to_thread.current_default_thread_limiter().total_tokens = online.threads
    if online.migrate_on_start:
        await run_in_threadpool(upgrade, svc.settings.store.database_url)
    await svc.pointer.refresh()
    if svc.pointer.current is None:  # no pointer in Redis (or Redis down): the store's choice
        svc.pointer.set(await run_in_threadpool(serving_pointer, svc.engine))
    pubsub = pubsub_client(svc.settings.redis)
    svc.pointer.start(pubsub, online.pointer_poll_s)
    await _preload(svc)
    # Everything loaded so far (pandas, LightGBM, SQLAlchemy…) lives as long as the
    # process; freezing it keeps full GC passes from rescanning it mid-request.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await svc.pointer.stop()
        for client in (pubsub, svc.redis):  # a dead Redis must not hold up the shutdown
            with contextlib.suppress(TimeoutError, *FAILURES):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await client.aclose()
        svc.close_sync_redis()
        svc.engine.dispose()


async def _preload(svc: Services) -> None:
    """Load the serving model before the first request, so the first misses pay for
    their rows only. Best effort: a store that is down now answers the misses 503 later."""
    active = svc.pointer.current
    if active is not None:
        with contextlib.suppress(StoreTimeout, ModelNotFound, SQLAlchemyError):
            await svc.predictions.model(active.model_version)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with one readable reason ("path.game_id: String should match pattern …")."""
    assert isinstance(exc, RequestValidationError)
    reasons = [
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
        for err in exc.errors()
    ]
    return JSONResponse({"detail": "; ".join(reasons) or "invalid request"}, status_code=422)


SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer"},
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema plus the API-key schemes (declared here, not as per-request dependencies)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema["paths"].items():
            if path.startswith(("/v1/", "/api/")):
                for operation in operations.values():
                    operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None, online: OnlineSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    online = online or get_online_settings()
    metrics = Metrics()
    # FastAPI's own /docs load Swagger UI from a CDN: a blank page without internet.
    # fastapi-offline serves the same pages with their assets from the package.
    app = FastAPIOffline(
        title="bullpen",
        version="1",
        description="MLB win probabilities, fair odds and betting edge, served from a cache.",
        lifespan=_lifespan,
        # No validator badge: Swagger UI would fetch it from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    services = app.state.services = build_services(settings, online, metrics)
    promotion.install(services)  # pointer repair; the green model's refresh when needed
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SQLAlchemyError, store_error)  # store down: 503, not 500
    app.add_exception_handler(StoreTimeout, store_timeout)  # store frozen: 503 at the deadline
    for module in (predictions, games, edge, edges, bets, models, scorecard, admin, health):
        app.include_router(module.router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Plain near-cache hits never reach FastAPI. Canary and shadow decide per request,
    # which the fast path does not: it would answer blue without asking.
    if online.fast_path and not services.canary.enabled:
        app.add_middleware(FastPath, services=services)
    app.add_middleware(  # outermost: overload is refused before any work. Cache hits count
        # too: the completion rate they make is what says a burst of misses can wait.
        Shedder, max_in_flight=online.max_in_flight, max_queue_s=online.max_queue_s,
        max_body_bytes=online.max_body_bytes, registry=metrics.registry,
    )  # fmt: skip
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn online.app:app` builds the app from the environment on first access only,
    # so importing this module (tests, tools) never connects anything.
    if name == "app":
        return create_app()
    raise AttributeError(name)
