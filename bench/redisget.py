"""A reference for `bench.online`: FastAPI + one Redis GET through bullpen's own client.

The same client the online tier builds (`async_client` + `SafeRedis`: blocking pool,
timeouts, retries, deadline), the same key schema, the bytes returned as stored; no
auth, no rate limit, no near-cache (each date's revision is read once and kept, as the
online tier keeps it between changes). What a cache hit costs when it has to ask Redis.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import Response

from bench.stack import MODEL_VERSION
from bullpen.cache.clients import async_client
from bullpen.cache.contract import game_revision_key, prediction_key
from bullpen.domain.features import FEATURE_VERSION
from bullpen.settings import RedisSettings
from online.redis_client import SafeRedis

settings = RedisSettings()
redis = SafeRedis(async_client(settings), settings.redis_deadline_s, settings.redis_breaker_s)
revisions: dict[str, str] = {}


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await redis.aclose()


app = FastAPI(lifespan=_lifespan)


@app.get("/v1/games/{game_id}/prediction")
async def stored(game_id: str) -> Response:
    pointer = game_revision_key(FEATURE_VERSION, game_id)
    if pointer not in revisions:
        revisions[pointer] = ((await redis.get(pointer)) or b"").decode()
    key = prediction_key(MODEL_VERSION, FEATURE_VERSION, game_id, revisions[pointer])
    body = await redis.get(key)
    return Response(content=body or b"{}", media_type="application/json")
