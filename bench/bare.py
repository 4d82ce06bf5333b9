"""The reference for `bench.online`: bare FastAPI routes returning constant JSON.

The bodies have the size and shape of bullpen's (one game; a 15-game slate), so the
reference pays the same bytes on the wire and differs only in the work per request.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.responses import Response

GAME = {
    "game_id": "NYA202204070", "date": "2022-04-07", "home": "NYA", "away": "BOS",
    "p_home": 0.551234, "p_away": 0.448766,
    "fair_odds": {"home": {"decimal": 1.8141, "american": -122.8},
                  "away": {"decimal": 2.2283, "american": 122.8}},
    "model_version": "bench-elo", "feature_version": "f1-0123456789ab",
    "computed_at": "2022-04-06T12:00:00.000000Z", "cached": True,
}  # fmt: skip
BODY = json.dumps(GAME, separators=(",", ":")).encode()
DAY_BODY = json.dumps(
    {"date": "2022-04-07", "model_version": "bench-elo", "feature_version": "f1-0123456789ab",
     "count": 15, "games": [GAME] * 15, "cached": True},
    separators=(",", ":"),
).encode()  # fmt: skip
app = FastAPI()


@app.get("/v1/games/{game_id}/prediction")
async def constant(game_id: str) -> Response:
    return Response(content=BODY, media_type="application/json")


@app.get("/v1/games")
async def constant_day(date: str) -> Response:
    return Response(content=DAY_BODY, media_type="application/json")
