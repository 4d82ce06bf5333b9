"""`POST /v1/edge`: the market's odds for both sides against the model's prediction."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request

from bullpen.domain.odds import OddsError, american_to_decimal, check_decimal, two_way_edge
from online.auth import Caller
from online.deps import ReadCaller, Services, active_model
from online.routes._common import guarded
from online.schemas import EdgeIn, EdgeOut, SideOut, errors

router = APIRouter(tags=["edge"])


def _decimal(odds: float, fmt: str, side: str) -> float:
    try:
        return american_to_decimal(odds) if fmt == "american" else check_decimal(odds)
    except OddsError as exc:
        raise HTTPException(422, f"{side}_odds: {exc}") from None


@router.post(
    "/v1/edge",
    response_model=EdgeOut,
    responses=errors(401, 403, 404, 409, 422, 429, 503),
    summary="Vig-free market probabilities, the model's edge, EV and a capped Kelly stake",
)
async def edge(request: Request, body: EdgeIn, caller: Caller = ReadCaller) -> EdgeOut:
    svc: Services = request.app.state.services
    home = _decimal(body.home_odds, body.odds_format, "home")
    away = _decimal(body.away_odds, body.odds_format, "away")
    active = active_model(svc, caller)
    prediction = json.loads(await guarded(svc.predictions.game(active, body.game_id)))
    try:
        home_side, away_side, overround = two_way_edge(
            prediction["p_home"], home, away, body.kelly_fraction, body.kelly_cap
        )
    except OddsError as exc:
        raise HTTPException(422, str(exc)) from None
    return EdgeOut(
        game_id=body.game_id,
        model_version=prediction["model_version"],
        feature_version=prediction["feature_version"],
        overround=overround,
        home=SideOut(**_fields(home_side)),
        away=SideOut(**_fields(away_side)),
        cached=prediction["cached"],
    )


def _fields(side: object) -> dict[str, float]:
    names = ("decimal_odds", "implied", "fair", "model", "edge", "ev_per_unit", "kelly_stake")
    return {name: getattr(side, name) for name in names}
