"""A game's explanation under a model: its stored features, decomposed, as a cache value.

The features are read exactly as the API's miss path reads them to price the game
(`bullpen.serving.predictions.game_features`), and `p_home` is the model's score of
them, so the explanation's number is the plain answer's. The decomposition is
`bullpen.domain.explain`'s; the value's shape is `bullpen.cache.contract`'s.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine

from bullpen.cache.contract import ActiveModel, explanation_body
from bullpen.domain.explain import explain, method
from bullpen.domain.model import WinModel
from bullpen.serving.predictions import game_features, unscorable
from bullpen.store.schema import utcnow


def explain_game(
    engine: Engine, model: WinModel, active: ActiveModel, game_id: str
) -> dict[str, Any]:
    """The explanation value of `game_id` (every non-zero contribution, ``cached: true``).

    GameNotFound without stored features; PredictionUnavailable when they cannot be
    scored, as for the plain answer.
    """
    game = game_features(engine, model, active, game_id)
    explanation = explain(model, game.x)
    if not math.isfinite(explanation.p_home):
        raise unscorable(game_id)
    row = {"game_id": game_id, "date": game.date, "computed_at": utcnow(), **game.inputs}
    return explanation_body(
        row, explanation.p_home, explanation.base, method(model),
        [asdict(c) for c in explanation.ranked()],
        active.model_version, active.feature_version, cached=True,
    )  # fmt: skip
