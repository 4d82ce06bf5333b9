"""Helpers shared by the route modules: raw JSON responses and error mapping."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from fastapi import HTTPException
from fastapi.responses import Response

from online.lookup import GameNotFound, PredictionUnavailable
from online.models import ModelNotFound

T = TypeVar("T")


def json_bytes(body: bytes) -> Response:
    """Stored bytes as they are: no parsing, no re-encoding."""
    return Response(content=body, media_type="application/json")


async def guarded(work: Awaitable[T]) -> T:
    """Turn the miss path's domain errors into specific 4xx/503 answers."""
    try:
        return await work
    except (GameNotFound, ModelNotFound) as exc:
        raise HTTPException(404, str(exc)) from None
    except PredictionUnavailable as exc:
        raise HTTPException(409, str(exc)) from None
