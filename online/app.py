"""The FastAPI application factory: `create_app(settings)`; uvicorn: `online.app:app`.

The lifespan opens the SQL engine and the Redis client (single node or
cluster), reads the active-model pointer and keeps it fresh; it closes them
all on shutdown.
"""

from __future__ import annotations

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
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from bullpen.cache import ActiveModel
from bullpen.store import make_engine, upgrade
from online import promotion
from online.active import ActivePointer
from online.auth import KeyVerifier
from online.config import OnlineSettings, get_online_settings
from online.deps import Services
from online.fastpath import FastPath
from online.metrics import Metrics, MetricsMiddleware
from online.models import ModelCache, default_active
from online.nearcache import NearCache
from online.ratelimit import RateLimiter
from online.redis_client import SafeRedis, make_pubsub_client, make_redis
from online.routes import admin, edge, games, health, models, predictions
from online.routes._common import store_error
from online.service import PredictionService
from online.shedding import Shedder

log = logging.getLogger(__name__)


def build_services(settings: OnlineSettings, metrics: Metrics) -> Services:
    """Every long-lived object of one app instance (nothing connects yet)."""
    import bullpen.store.apikeys  # noqa: F401 - its table must be in the metadata

    engine = make_engine(settings.database_url)
    redis = SafeRedis(make_redis(settings), settings.redis_deadline_s, settings.redis_breaker_s)
    near: NearCache[bytes] = NearCache(settings.near_cache_size, settings.near_cache_ttl_s)
    model_cache = ModelCache(engine)

    def on_change(active: ActiveModel) -> None:
        near.clear()
        metrics.serving(active.model_version, active.feature_version)
        log.info("serving model %s (features %s)", active.model_version, active.feature_version)

    return Services(
        settings=settings,
        engine=engine,
        redis=redis,
        pointer=ActivePointer(redis, on_change),
        predictions=PredictionService(
            engine, redis, near, model_cache, metrics, settings.cache_ttl_s, settings.lock_ms
        ),
        models=model_cache,
        verifier=KeyVerifier(
            engine, settings.api_key_secret.get_secret_value(), settings.key_cache_ttl_s
        ),
        limiter=RateLimiter(
            redis, settings.rate_limit_per_s, settings.rate_limit_burst, settings.rate_limit_lease
        ),
        metrics=metrics,
        extra={},
    )


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: Services = app.state.services
    settings = svc.settings
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
    if settings.migrate_on_start:
        await run_in_threadpool(upgrade, settings.database_url)
    await svc.pointer.refresh()
    if svc.pointer.current is None:  # no pointer in Redis (or Redis down): the registry's
        svc.pointer.set(await run_in_threadpool(default_active, svc.engine, settings.model_version))
    pubsub = make_pubsub_client(settings)
    svc.pointer.start(pubsub, settings.pointer_poll_s)
    # Everything loaded so far (pandas, LightGBM, SQLAlchemy…) lives as long as the
    # process; freezing it keeps full GC passes from rescanning it mid-request.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await svc.pointer.stop()
        await pubsub.aclose()
        await svc.redis.aclose()
        svc.engine.dispose()


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


def create_app(settings: OnlineSettings | None = None) -> FastAPI:
    settings = settings or get_online_settings()
    metrics = Metrics()
    app = FastAPI(
        title="bullpen",
        version="1",
        description="MLB win probabilities, fair odds and betting edge, served from a cache.",
        lifespan=_lifespan,
    )
    app.state.services = build_services(settings, metrics)
    promotion.install(app.state.services)  # pointer repair; canary and shadow when set
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SQLAlchemyError, store_error)  # store down: 503, not 500
    for module in (predictions, games, edge, models, admin, health):
        app.include_router(module.router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.fast_path:  # plain near-cache hits never reach FastAPI
        app.add_middleware(FastPath, services=app.state.services)
    app.add_middleware(  # outermost: overload is refused before any work. Cache hits count
        # too: the completion rate they make is what says a burst of misses can wait.
        Shedder, max_in_flight=settings.max_in_flight, max_queue_s=settings.max_queue_s,
        max_body_bytes=settings.max_body_bytes, registry=metrics.registry,
    )  # fmt: skip
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn online.app:app` builds the app from the environment on first access only,
    # so importing this module (tests, tools) never connects anything.
    if name == "app":
        return create_app()
    raise AttributeError(name)
