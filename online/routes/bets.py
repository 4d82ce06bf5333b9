"""`POST /v1/bets` and `GET /v1/bets`: bets tracked per API key, settled, with CLV.

The rules are the core's (`bullpen.serving.bets`); here a malformed bet is a 422 with
its reason, a bet the game's state or the clock rules out a 409, an unknown game a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from bullpen.domain.odds import OddsError, american_to_decimal
from bullpen.serving import clock
from bullpen.serving.bets import BetConflict, BetGameNotFound, BetRefused, place, tracked
from online.auth import Caller
from online.deps import ReadCaller, Services
from online.schemas import BetIn, BetOut, BetsOut, errors

router = APIRouter(tags=["bets"])


@router.post(
    "/v1/bets",
    response_model=BetOut,
    status_code=201,
    responses=errors(401, 403, 404, 409, 422, 429, 503),
    summary="Track a pre-game moneyline bet under this API key",
    description="A malformed bet is 422 with the reason; a bet its game rules out (placed at "
    "or after first pitch, a postponed game) or placed in the future is 409; an unknown game "
    "is 404.",
)
async def record(request: Request, body: BetIn, caller: Caller = ReadCaller) -> Any:
    svc: Services = request.app.state.services
    try:
        price = american_to_decimal(body.price) if body.odds_format == "american" else body.price
    except OddsError as exc:
        raise HTTPException(422, f"price: {exc}") from None
    try:
        bet = await svc.store(
            place, svc.engine, caller.key_id, body.game_id, body.side, price, body.book,
            body.stake, body.placed_at, clock.now(),
        )  # fmt: skip
    except BetConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except BetRefused as exc:
        raise HTTPException(422, str(exc)) from None
    except BetGameNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    rows, _ = await svc.store(tracked, svc.engine, caller.key_id, clock.now())
    return next(row for row in rows if row["id"] == bet.id)


@router.get(
    "/v1/bets",
    response_model=BetsOut,
    responses=errors(401, 403, 429, 503),
    summary="This API key's bets with status, profit and closing-line value, and a summary",
    description="Status and profit come from the results (a postponed game voids a bet); "
    "CLV = the close's de-vigged probability of the side - 1/price, once first pitch is past. "
    "The summary has ROI (profit over settled stakes), mean CLV and how many bets beat the "
    "close.",
)
async def list_bets(request: Request, caller: Caller = ReadCaller) -> Any:
    svc: Services = request.app.state.services
    rows, summary = await svc.store(tracked, svc.engine, caller.key_id, clock.now())
    return {"bets": rows, "summary": summary}
