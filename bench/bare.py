"""The reference for `bench.online`: a bare FastAPI route returning a constant JSON body."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

BODY = b'{"game_id":"NYA202204070","p_home":0.55,"cached":true}'
app = FastAPI()


@app.get("/v1/games/{game_id}/prediction")
async def constant(game_id: str) -> Response:
    return Response(content=BODY, media_type="application/json")
