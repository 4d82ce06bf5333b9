"""One game's prediction: `GET /v1/games/{game_id}/prediction`, `POST /api/v1/predict`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from bullpen.domain.features import FEATURE_NAMES
from online.auth import Caller
from online.canary import shadow
from online.deps import ReadCaller, Services, active_model
from online.routes._common import guarded, json_bytes
from online.schemas import (
    EXAMPLE_GAME,
    GAME_ID_PATTERN,
    ExplanationOut,
    PredictIn,
    PredictionOut,
    errors,
)

router = APIRouter(tags=["predictions"])
ERRORS = errors(401, 403, 404, 409, 422, 429, 503)
DEFAULT_TOP = 8


@router.get(
    "/v1/games/{game_id}/prediction",
    response_model=PredictionOut | ExplanationOut,
    responses=ERRORS,
    summary="Win probabilities and fair odds of one game; with explain=true, why",
    description="Plain: the prediction (`PredictionOut`). With `explain=true`: the same "
    "p_home split into per-feature contributions in log-odds (`ExplanationOut`), the `top` "
    "largest listed with plain names, cached apart from the plain answer.",
)
async def game_prediction(
    request: Request,
    game_id: Annotated[str, Path(pattern=GAME_ID_PATTERN, examples=[EXAMPLE_GAME])],
    caller: Caller = ReadCaller,
    explain: Annotated[
        bool, Query(description="Return the explanation instead of the plain prediction.")
    ] = False,
    top: Annotated[
        int,
        Query(ge=1, le=len(FEATURE_NAMES), description="How many contributions to list."),
    ] = DEFAULT_TOP,
) -> Response:
    svc: Services = request.app.state.services
    active = active_model(svc, caller)
    shadow(svc, active, game_id=game_id)
    if explain:
        return json_bytes(await guarded(svc.predictions.explanation(active, game_id, top)))
    # Hot path: a near-cache hit returns without a single await.
    hit = svc.predictions.near_game(active, game_id)
    if hit is not None:
        return json_bytes(hit)
    return json_bytes(await guarded(svc.predictions.game(active, game_id)))


@router.post(
    "/api/v1/predict",
    response_model=PredictionOut,
    responses=ERRORS,
    summary="The same body, for clients that POST {game_id, model_name, model_version}",
    description="Without `model_name` and `model_version`, or with the served model's name, "
    "the served model answers (as `GET /v1/games/{game_id}/prediction`). A `model_version` "
    "must be the served model or a retired one: another status is 409, an unknown model 404.",
)
async def predict(request: Request, body: PredictIn, caller: Caller = ReadCaller) -> Response:
    svc: Services = request.app.state.services
    serving = active_model(svc, caller)
    chosen = serving
    if body.model_name is not None or body.model_version is not None:
        chosen = await guarded(
            svc.choices.choose(svc, serving, body.model_name, body.model_version)
        )
    if chosen == serving:
        shadow(svc, serving, game_id=body.game_id)
    return json_bytes(await guarded(svc.predictions.game(chosen, body.game_id)))
