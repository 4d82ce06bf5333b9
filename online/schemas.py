"""Request and response models: they document the API (OpenAPI) and validate input.

Cache hits bypass response serialisation (the stored bytes already have this
shape, see `bullpen.cache.contract`); the models still describe them for clients.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
)

from bullpen.domain.odds import check_american

GAME_ID_PATTERN = r"^[A-Z]{3}\d{8}[0-3]$"
GameIdField = Annotated[
    str,
    Field(pattern=GAME_ID_PATTERN, examples=["NYA202204070"],
          description="Retrosheet id: home team, yyyymmdd, game number 0-3."),
]  # fmt: skip


class Odds(BaseModel):
    decimal: float
    american: float


class FairOdds(BaseModel):
    home: Odds
    away: Odds


class PredictionOut(BaseModel):
    game_id: str
    date: dt.date
    home: str | None
    away: str | None
    p_home: float = Field(ge=0, le=1)
    p_away: float = Field(ge=0, le=1)
    fair_odds: FairOdds
    model_version: str
    feature_version: str
    computed_at: dt.datetime
    cached: bool


class DayOut(BaseModel):
    date: dt.date
    model_version: str
    feature_version: str
    count: int
    games: list[PredictionOut]
    cached: bool


class PredictIn(BaseModel):
    """The request shape existing load-test clients send."""

    model_config = ConfigDict(extra="forbid")
    game_id: GameIdField
    model_name: str | None = Field(
        default=None, max_length=128,
        description="Registry name or version; omitted or the active one = the served model.",
    )  # fmt: skip


def _american(value: float) -> float:
    return check_american(value)  # OddsError is a ValueError: pydantic reports it as 422


# The schema says what the validator enforces, so schema-valid odds are always accepted.
AmericanOdds = Annotated[
    float,
    AfterValidator(_american),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "maximum": -100}, {"type": "number", "minimum": 100}],
         "description": "American odds: <= -100 or >= +100.", "examples": [-150, 130]}
    ),
]  # fmt: skip
DecimalOdds = Annotated[float, Field(gt=1, description="Decimal odds (> 1).", examples=[1.8])]


class _EdgeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    game_id: GameIdField
    kelly_fraction: float = Field(default=0.25, gt=0, le=1)
    kelly_cap: float = Field(default=0.05, ge=0, le=1)


class AmericanEdgeIn(_EdgeBase):
    """The market's prices of both sides as American odds (the default format)."""

    odds_format: Literal["american"] = "american"
    home_odds: AmericanOdds
    away_odds: AmericanOdds


class DecimalEdgeIn(_EdgeBase):
    """The market's prices of both sides as decimal odds."""

    odds_format: Literal["decimal"]
    home_odds: DecimalOdds
    away_odds: DecimalOdds


def _odds_format(value: Any) -> str:
    if isinstance(value, dict):
        return "decimal" if value.get("odds_format") == "decimal" else "american"
    return getattr(value, "odds_format", "american")


# Discriminated on `odds_format` (absent means American), so a bad request gets
# the errors of the format it meant, not of both formats.
EdgeIn = Annotated[
    Annotated[AmericanEdgeIn, Tag("american")] | Annotated[DecimalEdgeIn, Tag("decimal")],
    Discriminator(_odds_format),
]


class SideOut(BaseModel):
    decimal_odds: float
    implied: float = Field(description="Market probability with the vig.")
    fair: float = Field(description="Market probability with the vig removed (proportional).")
    model: float
    edge: float = Field(description="model - fair")
    ev_per_unit: float
    kelly_stake: float = Field(description="Capped fractional Kelly share of bankroll.")


class EdgeOut(BaseModel):
    game_id: str
    model_version: str
    feature_version: str
    overround: float
    home: SideOut
    away: SideOut
    cached: bool


class ModelOut(BaseModel):
    version: str
    name: str
    kind: str
    status: str
    created_at: dt.datetime
    train_seasons: list[int]
    feature_version: str | None
    metrics: dict[str, Any]
    active: bool


class ModelsOut(BaseModel):
    active: str | None
    models: list[ModelOut]


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    ready: bool
    cache: bool
    model_pointer: bool
    model_version: str | None


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return, all `ErrorOut`."""
    return {code: {"model": ErrorOut} for code in codes}
