"""Blocking asset checks on `candidate_model`: the gate a model passes before promotion.

Four checks, each recorded in the registry (`bullpen.serving.lifecycle.record_check`):
a failure rejects the candidate with its reasons, and once all four passed it is
`checked`. They are blocking, so in a run that also materializes downstream
assets (the backtest) those wait for them and do not run when one fails. The
promotion itself is a separate job that `orchestration.sensors` launches after
reading these checks' evaluations: blocking does not reach across runs.

The window they judge on is the last `holdout_days` of decided games (which
`training_set` keeps out of training), moved later if blue trained on part of
it, so neither model has seen a game of it.
"""

import datetime as dt

import numpy as np
import pandas as pd
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetKey, asset_check
from sqlalchemy import Engine

from assets.metadata import markdown_table
from assets.resources import StoreResource
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.model import WinModel, elo_model
from bullpen.domain.training import outcomes
from bullpen.serving import gates
from bullpen.serving.active import promoted_version
from bullpen.serving.gates import Gate, holdout_start
from bullpen.serving.lifecycle import record_check
from bullpen.serving.slate import slate_features
from bullpen.settings import get_settings
from bullpen.store import ModelEntry, get_model, read_features, read_games

CANDIDATE = AssetKey("candidate_model")
QUALITY, SANITY, LEAKAGE, LATENCY = "quality_vs_blue", "sanity", "leakage_guard", "latency_budget"
CHECK_NAMES: tuple[str, ...] = (QUALITY, SANITY, LEAKAGE, LATENCY)
MISMATCH_SAMPLE = 10


def _entry(engine: Engine, version: str) -> ModelEntry:
    entry = get_model(engine, version)
    if entry is None:
        raise LookupError(f"candidate {version} is not in the registry")
    return entry


def _blue(engine: Engine) -> tuple[str, WinModel, ModelEntry | None]:
    """The serving model; before any promotion, the Elo baseline stands in for it."""
    version = promoted_version(engine)
    if version is None:
        return "elo (no active model yet)", elo_model(), None
    entry = _entry(engine, version)
    return version, WinModel.from_bytes(entry.artifact, threads=1), entry


def _decided(engine: Engine) -> pd.DataFrame:
    games = read_games(engine)
    y = outcomes(games)
    return games.assign(y=games["game_id"].map(y).to_numpy()).dropna(subset=["y"])


def _window(engine: Engine, start: dt.date, decided: pd.DataFrame) -> pd.DataFrame:
    """Stored features and outcome `y` of the decided games from `start` on."""
    games = decided[decided["date"] >= pd.Timestamp(start)]
    feats = read_features(engine, FEATURE_VERSION, game_ids=games["game_id"].tolist())
    return feats.merge(games[["game_id", "y"]], on="game_id", validate="1:1")


def _holdout(engine: Engine) -> tuple[dt.date, pd.DataFrame]:
    decided = _decided(engine)
    return holdout_start(decided["date"], get_settings().promotion.holdout_days), decided


def _result(
    context: AssetCheckExecutionContext,
    store: StoreResource,
    entry: ModelEntry,
    name: str,
    gate: Gate,
) -> AssetCheckResult:
    """Record the gate in the registry and report it as the check's result."""
    status = record_check(
        store.engine(), entry.version, name, gate.passed, gate.reasons, CHECK_NAMES,
        actor=f"check:{name}",
    )  # fmt: skip
    verdict = "passed" if gate.passed else "failed: " + "; ".join(gate.reasons)
    context.log.info(f"{name} on {entry.version} {verdict} (registry: {status})")
    return AssetCheckResult(
        passed=gate.passed,
        metadata={
            **gate.metrics,
            "model_version": entry.version,
            "reasons": "; ".join(gate.reasons) or "none",
            "registry_status": str(status),
        },
        description=None if gate.passed else "; ".join(gate.reasons),
    )


@asset_check(
    asset=CANDIDATE,
    blocking=True,
    description="Brier and log loss ≤ blue's + tolerance, calibration error below the bar, "
    "on recent games neither model trained on.",
)
def quality_vs_blue(
    context: AssetCheckExecutionContext, candidate_model: str, store: StoreResource
) -> AssetCheckResult:
    engine = store.engine()
    settings = get_settings().promotion
    entry = _entry(engine, candidate_model)
    blue_name, blue, blue_entry = _blue(engine)
    holdout, decided = _holdout(engine)
    start = gates.window_start([e for e in (entry, blue_entry) if e is not None], holdout)
    window = _window(engine, start, decided)
    gate = gates.quality(WinModel.from_bytes(entry.artifact, threads=1), blue, window, settings)
    gate.metrics |= {"blue_version": blue_name, "window_from": start.isoformat()}
    return _result(context, store, entry, QUALITY, gate)


@asset_check(
    asset=CANDIDATE,
    blocking=True,
    description="No NaN, a plausible spread of probabilities, and the feature names and "
    "version the online tier sends.",
)
def sanity(
    context: AssetCheckExecutionContext, candidate_model: str, store: StoreResource
) -> AssetCheckResult:
    engine = store.engine()
    entry = _entry(engine, candidate_model)
    holdout, decided = _holdout(engine)
    model = WinModel.from_bytes(entry.artifact, threads=1)
    gate = gates.sanity(entry, model, _window(engine, holdout, decided), get_settings().promotion)
    return _result(context, store, entry, SANITY, gate)


@asset_check(
    asset=CANDIDATE,
    blocking=True,
    description="Stored features equal features rebuilt as of each game's morning (history "
    "truncated, results blanked), and the model did not train on its judging window.",
)
def leakage_guard(
    context: AssetCheckExecutionContext, candidate_model: str, store: StoreResource
) -> AssetCheckResult:
    engine = store.engine()
    settings = get_settings().promotion
    entry = _entry(engine, candidate_model)
    holdout, decided = _holdout(engine)
    dates = _spread_dates(decided[decided["date"] >= pd.Timestamp(holdout)], settings.leakage_dates)
    problems: list[str] = []
    games = 0
    for day in dates:
        rebuilt = slate_features(engine, day)[["game_id", *FEATURE_NAMES]]
        stored = read_features(engine, FEATURE_VERSION, on=day)
        games += len(rebuilt)
        problems += gates.feature_mismatches(stored, rebuilt)
    reasons = []
    if problems:
        sample = "; ".join(problems[:MISMATCH_SAMPLE])
        reasons.append(f"{len(problems)} stored features differ from pre-game ones: {sample}")
    until = gates.trained_until(entry)
    if until is not None and until > holdout:
        reasons.append(f"trained on games until {until}, into its judging window from {holdout}")
    metrics: dict[str, float | int | str] = {
        "dates": ", ".join(d.isoformat() for d in dates),
        "games_rebuilt": games,
        "mismatches": len(problems),
        "trained_until": until.isoformat() if until else "untrained",
        "window_from": holdout.isoformat(),
    }
    if problems:
        metrics["sample"] = markdown_table(["mismatch"], [(p,) for p in problems[:MISMATCH_SAMPLE]])
    return _result(context, store, entry, LEAKAGE, Gate(not reasons, reasons, metrics))


def _spread_dates(games: pd.DataFrame, count: int) -> list[dt.date]:
    """`count` game dates spread evenly over the window (first and last included)."""
    dates = sorted({pd.Timestamp(d).date() for d in games["date"]})
    if len(dates) <= count:
        return dates
    picks = np.linspace(0, len(dates) - 1, count).round().astype(int)
    return [dates[i] for i in sorted(set(picks))]


@asset_check(
    asset=CANDIDATE,
    blocking=True,
    description="Single-game predict p99 within the budget: one LightGBM thread, numpy rows.",
)
def latency_budget(
    context: AssetCheckExecutionContext, candidate_model: str, store: StoreResource
) -> AssetCheckResult:
    engine = store.engine()
    entry = _entry(engine, candidate_model)
    holdout, decided = _holdout(engine)
    rows = _window(engine, holdout, decided)[list(FEATURE_NAMES)].to_numpy(dtype=float)
    model = WinModel.from_bytes(entry.artifact, threads=1)
    gate = gates.latency(model, rows, get_settings().promotion)
    return _result(context, store, entry, LATENCY, gate)
