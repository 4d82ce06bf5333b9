"""`GET /v1/scorecard?season=`: how the published prices did (`bullpen.serving.scorecard`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from bullpen.serving.scorecard import scorecard
from online.auth import Caller
from online.deps import ReadCaller, Services
from online.schemas import ScorecardOut, errors

router = APIRouter(tags=["scorecard"])


@router.get(
    "/v1/scorecard",
    response_model=ScorecardOut,
    responses=errors(401, 403, 422, 429, 503),
    summary="Daily and season-to-date Brier and log loss of the published prices, beside Elo",
    description="Each final game is graded per model version on the last price published "
    "before its first pitch; later prices are excluded and counted.",
)
async def season_scorecard(
    request: Request,
    season: Annotated[int, Query(ge=1871, le=2100, examples=[2023])],
    caller: Caller = ReadCaller,
) -> Any:
    svc: Services = request.app.state.services
    return await svc.store(scorecard, svc.engine, season)
