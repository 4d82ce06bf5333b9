"""`GET /v1/edges?date=`: the best-bet board, one GET of pre-encoded bytes like the slate.

The board with the default Kelly fraction and cap is what the cache holds
(`bullpen.domain.board`); other stakes are recomputed from it per request (only the
`kelly` numbers change), never from the store.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bullpen.cache.contract import encode
from bullpen.domain.board import DEFAULT_KELLY_CAP, DEFAULT_KELLY_FRACTION, with_kelly
from online.auth import Caller
from online.deps import ReadCaller, Services, active_model
from online.routes._common import check_served_date, guarded, json_bytes
from online.schemas import EXAMPLE_DATE, EdgesOut, errors

router = APIRouter(tags=["edge"])


@router.get(
    "/v1/edges",
    response_model=EdgesOut,
    responses=errors(401, 403, 404, 409, 422, 429, 503),
    summary="The best-bet board of a date: best prices, consensus, model, edge, EV and Kelly",
    description="For each game, each book's latest line: the best price per side (with its "
    "book), the consensus fair probability (proportional de-vig per book, mean over books), "
    "the served model's probability, edge = model - consensus, EV = p x d - 1 at the best "
    "price and a capped fractional Kelly stake. Sorted by EV; a side with EV <= 0 is shown "
    "with stake 0 (never recommended). A game without odds has `sides` null.",
)
async def edges(
    request: Request,
    date: Annotated[dt.date, Query(description="YYYY-MM-DD", examples=[EXAMPLE_DATE])],
    kelly_fraction: Annotated[float, Query(gt=0, le=1, description="Share of full Kelly.")] = (
        DEFAULT_KELLY_FRACTION
    ),
    kelly_cap: Annotated[float, Query(ge=0, le=1, description="Largest stake, of bankroll.")] = (
        DEFAULT_KELLY_CAP
    ),
    caller: Caller = ReadCaller,
) -> Response:
    svc: Services = request.app.state.services
    check_served_date(svc, date)
    active = active_model(svc, caller)
    board = await guarded(svc.predictions.board(active, date))
    if (kelly_fraction, kelly_cap) == (DEFAULT_KELLY_FRACTION, DEFAULT_KELLY_CAP):
        return json_bytes(board)
    return json_bytes(encode(with_kelly(json.loads(board), kelly_fraction, kelly_cap)))
