"""Helpers shared by the route modules: raw JSON responses and error mapping."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bullpen.serving.active import ModelNotFound, ModelNotServable
from bullpen.serving.predictions import GameNotFound, PredictionUnavailable

if TYPE_CHECKING:
    from online.deps import Services

T = TypeVar("T")
log = logging.getLogger(__name__)
# The store is down or unreachable (connection refused or lost, pool exhausted), as
# opposed to a query that is wrong: the former is a 503 worth retrying.
STORE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)


def check_served_date(svc: Services, date: dt.date) -> None:
    """404 for a date outside the served range: well formed, but there is no slate for it."""
    settings = svc.online
    latest = dt.date.today() + dt.timedelta(days=settings.max_days_ahead)
    if not settings.min_date <= date <= latest:
        raise HTTPException(
            404, f"date {date} out of range: must be between {settings.min_date} and {latest}"
        )


def json_bytes(body: bytes) -> Response:
    """Stored bytes as they are: no parsing, no re-encoding."""
    return Response(content=body, media_type="application/json")


async def guarded(work: Awaitable[T]) -> T:
    """Turn the miss path's domain errors into specific 4xx/503 answers."""
    try:
        return await work
    except (GameNotFound, ModelNotFound) as exc:
        raise HTTPException(404, str(exc)) from None
    except (PredictionUnavailable, ModelNotServable) as exc:
        raise HTTPException(409, str(exc)) from None


STORE_UNAVAILABLE = {"detail": "the prediction store is unavailable; retry shortly"}


async def store_timeout(_request: Request, exc: Exception) -> JSONResponse:
    """The store did not answer within the deadline (online/store.py): 503, at once."""
    log.warning("prediction store too slow: %s", exc)
    return JSONResponse(STORE_UNAVAILABLE, status_code=503, headers={"Retry-After": "1"})


async def store_error(_request: Request, exc: Exception) -> JSONResponse:
    """Any route that needed the SQL store when it failed: a clear 503, never a trace.

    Warmed predictions never get here (they are served from Redis); this is a cache
    miss, a store-backed route or an API key not in the key cache while the store is down.
    """
    assert isinstance(exc, SQLAlchemyError)
    if isinstance(exc, STORE_DOWN):
        cause = getattr(exc, "orig", None) or exc
        log.warning("prediction store unavailable: %s", type(cause).__name__)
        return JSONResponse(STORE_UNAVAILABLE, status_code=503, headers={"Retry-After": "1"})
    log.error("store error", exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)
