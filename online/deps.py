"""Dependencies the routes declare: services, the authenticated caller, the active model.

`require(scope)` authenticates (no DB hit on the hot path) and applies the
per-key rate limit; both raise `HTTPException`s with specific reasons.
They are `async def` on purpose: FastAPI runs sync dependencies in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine

from bullpen.cache.clients import sync_client
from bullpen.cache.contract import ActiveModel
from bullpen.settings import Settings
from online.active import ActivePointer
from online.auth import AuthError, Caller, KeyVerifier, extract_key
from online.canary import Canary
from online.choice import ModelChoices
from online.config import OnlineSettings
from online.metrics import Metrics
from online.models import ModelCache
from online.ratelimit import RateLimiter
from online.redis_client import SafeRedis
from online.service import PredictionService
from online.store import StoreGate

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings  # what the API shares with the batch side
    online: OnlineSettings  # the web tier's own knobs
    engine: Engine
    redis: SafeRedis
    pointer: ActivePointer
    predictions: PredictionService
    models: ModelCache
    verifier: KeyVerifier
    limiter: RateLimiter
    metrics: Metrics
    canary: Canary
    store_gate: StoreGate  # requests' store calls
    # Background work that waits on Redis as well as the store (pointer repair): a gate
    # of its own, so a frozen Redis shuts this one, never the requests' store.
    upkeep_gate: StoreGate
    choices: ModelChoices = field(default_factory=ModelChoices)  # what a request names
    _sync_redis: Any = field(default=None, repr=False)
    _sync_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def store(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` against the store in a thread, within the store deadline."""
        return await self.store_gate.call(fn, *args)

    async def upkeep(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` for background upkeep, in a thread, within the store deadline."""
        return await self.upkeep_gate.call(fn, *args)

    def sync_redis(self) -> Any:
        """The batch-style client (same configuration) for work run in a thread: the
        pointer's owner (`bullpen.serving.active`) is synchronous. Built on first use."""
        with self._sync_lock:
            if self._sync_redis is None:
                self._sync_redis = sync_client(self.settings.redis)
            return self._sync_redis

    def close_sync_redis(self) -> None:
        with self._sync_lock:
            if self._sync_redis is not None:
                self._sync_redis.close()
                self._sync_redis = None


def services(request: Request) -> Services:
    return request.app.state.services


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    async def dependency(request: Request) -> Caller:
        # Headers read here rather than through Security() sub-dependencies: each
        # sub-dependency is solved per request, a measurable share of a cache hit.
        svc: Services = request.app.state.services
        headers = request.headers
        key = extract_key(headers.get("authorization"), headers.get("x-api-key"))
        try:
            caller = await svc.verifier.verify(key, scope)
        except AuthError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            raise HTTPException(exc.status, exc.detail, headers=headers) from None
        decision = svc.limiter.take_local(caller.key_id) or await svc.limiter.check(caller.key_id)
        if decision.degraded:
            svc.metrics.rate_limit_degraded.inc()
        if not decision.allowed:
            svc.metrics.rate_limited.inc()
            raise HTTPException(
                429,
                f"rate limit exceeded for key {caller.name!r}; retry in {decision.retry_after_s}s",
                headers={"Retry-After": str(decision.retry_after_s)},
            )
        return caller

    return dependency


require_read = require("read")
require_admin = require("admin")
ReadCaller = Depends(require_read)
AdminCaller = Depends(require_admin)


def active_model(svc: Services, caller: Caller | None = None) -> ActiveModel:
    """A plain function, not a dependency: sync dependencies would cost a thread hop.

    With a canary (online/canary.py), callers in its share get the green model.
    """
    active = svc.pointer.current
    if active is None:
        raise HTTPException(503, "no active model: nothing has been promoted yet")
    return svc.canary.choose(active, caller) if svc.canary.enabled else active
