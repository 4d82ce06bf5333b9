"""A date's slate: `GET /v1/games?date=YYYY-MM-DD`, one GET of pre-encoded bytes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from online.auth import Caller
from online.canary import shadow
from online.deps import ReadCaller, Services, active_model
from online.routes._common import check_served_date, guarded, json_bytes
from online.schemas import EXAMPLE_DATE, DayOut, errors

router = APIRouter(tags=["games"])


@router.get(
    "/v1/games",
    response_model=DayOut,
    responses=errors(401, 403, 404, 409, 422, 429, 503),
    summary="Every scheduled game of a date with its prediction",
)
async def games_of_day(
    request: Request,
    date: Annotated[dt.date, Query(description="YYYY-MM-DD", examples=[EXAMPLE_DATE])],
    caller: Caller = ReadCaller,
) -> Response:
    svc: Services = request.app.state.services
    check_served_date(svc, date)
    active = active_model(svc, caller)
    shadow(svc, active, date=date)
    return json_bytes(await guarded(svc.predictions.day(active, date)))
