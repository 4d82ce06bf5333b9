"""Request and response models: they document the API (OpenAPI) and validate input.

Cache hits bypass response serialisation (the stored bytes already have this
shape, see `bullpen.cache.contract`); the models still describe them for clients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
# Examples are real games of the bundled data's last date, the one `scripts/run` serves:
# "Try it out" in /docs answers instead of 404 (tests/online/test_docs.py checks them).
EXAMPLE_GAME = "ANA202310010"
EXAMPLE_DATE = "2023-10-01"
GameIdField = Annotated[
    str,
    Field(pattern=GAME_ID_PATTERN, examples=[EXAMPLE_GAME],
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
    in_sample: bool = Field(
        description="True when the game's date is inside the model's training window: the "
        "model saw its result, so this number is a fit, not a forecast. For an honest "
        "out-of-sample number, run the walk-forward backtest (`bullpen backtest`)."
    )
    cached: bool


class ContributionOut(BaseModel):
    feature: str = Field(description="The feature's column name (`bullpen.domain.features`).")
    name: str = Field(description="What the feature measures, in plain words.")
    value: float | None = Field(
        description="The game's value of the feature (null: missing, which the trees handle)."
    )
    logit: float = Field(description="Its contribution to the log-odds of p_home.")
    p_without: float = Field(
        ge=0, le=1, description="p_home with this contribution removed, every other one kept."
    )


class ExplanationOut(BaseModel):
    """`?explain=true`: why the model gives this p_home (`bullpen.domain.explain`)."""

    game_id: str
    date: dt.date
    model_version: str
    feature_version: str
    inputs: str | None = Field(description="The inputs hash the features carry.")
    computed_at: dt.datetime
    p_home: float = Field(ge=0, le=1, description="The same number as the plain answer's.")
    base_logit: float = Field(
        description="Log-odds no feature accounts for: intercepts, the trees' average, "
        "the calibration's intercept."
    )
    method: str = Field(description="The decomposition, in short.")
    contributions: list[ContributionOut] = Field(
        description="The largest contributions by |logit|, at most `top`; features that did "
        "not move this prediction (contribution exactly 0) are never listed."
    )
    other_logit: float = Field(
        description="The sum of the contributions not listed: base_logit + the listed "
        "logits + other_logit = logit(p_home), up to the 6-place rounding."
    )
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
        default=None, max_length=128, examples=["bullpen-win-probability"],
        description="Registry name: the served model of that name (omitted: the served model).",
    )  # fmt: skip
    model_version: str | None = Field(
        default=None, max_length=128,
        description="A registry version: the served model, or a retired one (else 409).",
    )  # fmt: skip


# The widest prices any book posts are far inside these; beyond them a price is a typo,
# and its implied probability would round to 0 or 1 (no edge can be computed from it).
MAX_AMERICAN = 100_000.0
MAX_DECIMAL = 1_001.0  # the decimal price of +100000


def _american(value: float) -> float:
    check_american(value)  # OddsError is a ValueError: pydantic reports it as 422
    if abs(value) > MAX_AMERICAN:
        raise ValueError(
            f"American odds must be between -{MAX_AMERICAN:,.0f} and +{MAX_AMERICAN:,.0f}, "
            f"got {value:g}"
        )
    return value


# The schema says what the validator enforces, so schema-valid odds are always accepted.
AmericanOdds = Annotated[
    float,
    AfterValidator(_american),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": -MAX_AMERICAN, "maximum": -100},
                   {"type": "number", "minimum": 100, "maximum": MAX_AMERICAN}],
         "description": "American odds: -100000 to -100, or +100 to +100000.",
         "examples": [-150, 130]}
    ),
]  # fmt: skip
DecimalOdds = Annotated[
    float,
    Field(gt=1, le=MAX_DECIMAL, description="Decimal odds: above 1, at most 1001.",
          examples=[1.8]),
]  # fmt: skip


class _EdgeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    game_id: GameIdField
    kelly_fraction: float = Field(
        default=0.25, gt=0, le=1,
        description="Share of the full Kelly stake to bet, above 0 and at most 1 (0.25: quarter "
        "Kelly).",
    )  # fmt: skip
    kelly_cap: float = Field(
        default=0.05, ge=0, le=1, description="Largest stake as a share of bankroll, 0 to 1."
    )


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


def _odds_format(default: str) -> Callable[[Any], str]:
    """The body's `odds_format`, `default` when absent; anything else fails naming both."""

    def of(value: Any) -> str:
        if isinstance(value, dict):
            given = value.get("odds_format", default)
            return given if isinstance(given, str) else repr(given)
        return getattr(value, "odds_format", default)

    return of


# Discriminated on `odds_format` (absent means American), so a bad request gets
# the errors of the format it meant, not of both formats.
EdgeIn = Annotated[
    Annotated[AmericanEdgeIn, Tag("american")] | Annotated[DecimalEdgeIn, Tag("decimal")],
    Discriminator(_odds_format("american")),
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


class BoardSideOut(BaseModel):
    best_decimal: float = Field(description="The highest decimal price across books.")
    best_book: str = Field(description="The book offering it (The Odds API's key).")
    consensus_p: float = Field(
        description="Mean over books of each book's proportionally de-vigged probability."
    )
    model_p: float = Field(description="The served model's probability of this side.")
    edge: float = Field(description="model_p - consensus_p")
    ev: float = Field(description="Expected profit per unit at the best price: p x d - 1.")
    kelly: float = Field(
        description="min(cap, fraction x max(0, (p x d - 1)/(d - 1))): 0 unless EV > 0."
    )


class BoardSidesOut(BaseModel):
    home: BoardSideOut
    away: BoardSideOut


class BoardGameOut(BaseModel):
    game_id: str
    home: str | None
    away: str | None
    sides: BoardSidesOut | None = Field(description="null: no book has a line for the game.")


class EdgesOut(BaseModel):
    date: str
    model_version: str
    games: list[BoardGameOut] = Field(description="By the better side's EV, highest first.")


class _BetBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    game_id: GameIdField
    side: Literal["home", "away"]
    book: str = Field(min_length=1, max_length=64, examples=["draftkings"])
    stake: float = Field(gt=0, le=1_000_000, description="Units staked.", examples=[1.0])
    placed_at: dt.datetime | None = Field(
        default=None, description="When it was placed (ISO 8601 with offset); default: now."
    )


class DecimalBetIn(_BetBase):
    """A pre-game moneyline bet at a decimal price (the default format)."""

    odds_format: Literal["decimal"] = "decimal"
    price: DecimalOdds


class AmericanBetIn(_BetBase):
    """The same bet at an American price."""

    odds_format: Literal["american"]
    price: AmericanOdds


# Absent means decimal here: bet slips and The Odds API's default.
BetIn = Annotated[
    Annotated[DecimalBetIn, Tag("decimal")] | Annotated[AmericanBetIn, Tag("american")],
    Discriminator(_odds_format("decimal")),
]


class BetOut(BaseModel):
    id: int
    game_id: str
    side: str
    price: float = Field(description="Decimal.")
    book: str
    stake: float
    placed_at: dt.datetime
    status: Literal["open", "won", "lost", "void"]
    profit: float = Field(description="Won: stake x (price - 1); lost: -stake; else 0.")
    closing_p: float | None = Field(
        description="The close's de-vigged probability of the side (consensus of each "
        "book's last line before first pitch); null until a close exists."
    )
    clv: float | None = Field(description="closing_p - 1/price: above 0 beat the close.")
    beat_close: bool | None


class BetSummaryOut(BaseModel):
    bets: int
    open: int
    settled: int
    staked: float = Field(description="On settled bets.")
    profit: float
    roi: float | None = Field(description="profit / staked; null before a bet settles.")
    with_close: int
    mean_clv: float | None
    beat_close: int = Field(description="Bets whose price beat the closing line (CLV > 0).")


class BetsOut(BaseModel):
    bets: list[BetOut]
    summary: BetSummaryOut


class ModelOut(BaseModel):
    version: str
    name: str
    kind: str
    status: str
    created_at: dt.datetime
    train_seasons: list[int]
    feature_version: str | None
    metrics: dict[str, Any]
    active: bool = Field(description="This replica serves it.")
    alias: str | None = Field(description="`blue` (serving) or `green` (the other slot).")


class ModelsOut(BaseModel):
    active: str | None
    aliases: dict[str, str] = Field(description="Slot → model version (blue serves).")
    models: list[ModelOut]


class Scores(BaseModel):
    games: int
    brier: float | None
    log_loss: float | None
    elo_brier: float | None = Field(description="The Elo baseline on the same games.")
    elo_log_loss: float | None


class ScorecardDay(Scores):
    date: dt.date
    model_version: str
    season_to_date: Scores


class ScorecardOut(BaseModel):
    season: int
    graded_games: int = Field(description="Final games graded on a price published before them.")
    excluded_after_first_pitch: int = Field(
        description="Prices published at or after first pitch: not graded, counted."
    )
    models: dict[str, Scores] = Field(description="Model version → the season so far.")
    days: list[ScorecardDay]


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
    ready: bool = Field(
        description="This replica can serve: a model known, and Redis or the "
        "store answering (both gone is the only other reason for false)."
    )
    cache: bool = Field(description="Redis answered.")
    store: bool = Field(description="The SQL store answered.")
    model_pointer: bool = Field(description="This replica knows which model serves.")
    model_version: str | None
    degraded: list[str] = Field(
        description="Dependencies down while the replica still serves, e.g. ['cache']."
    )


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return, all `ErrorOut`."""
    return {code: {"model": ErrorOut} for code in codes}
