"""The promotion gate's tests of a candidate model, as plain functions (no Dagster).

Each returns a `Gate`: passed or not, the reasons it failed (readable, one per
problem), and the numbers it measured, which the asset checks show as metadata.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.metrics import score
from bullpen.domain.model import WinModel
from bullpen.serving.registry import trained_until
from bullpen.settings import PromotionSettings
from bullpen.store import ModelEntry

FEATURE_ATOL = 1e-9


@dataclass
class Gate:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float | int | str] = field(default_factory=dict)


def _gate(reasons: list[str], metrics: dict[str, float | int | str]) -> Gate:
    return Gate(not reasons, reasons, metrics)


def holdout_start(decided_dates: pd.Series, days: int) -> dt.date:
    """First date of the window: the last `days` days up to the last decided game."""
    last = pd.Timestamp(decided_dates.max()).date()
    return last - dt.timedelta(days=days - 1)


def window_start(entries: Sequence[ModelEntry], holdout: dt.date) -> dt.date:
    """The window neither model trained on: from the latest of their training ends."""
    ends = [d for d in (trained_until(e) for e in entries) if d is not None]
    return max([holdout, *ends])


def quality(
    candidate: WinModel, blue: WinModel, window: pd.DataFrame, settings: PromotionSettings
) -> Gate:
    """Brier and log loss no worse than blue's plus tolerances; calibration error below a bar."""
    y = window["y"].to_numpy(dtype=float)
    metrics: dict[str, float | int | str] = {"window_games": len(window)}
    if len(window) < settings.min_window_games:
        reason = (
            f"only {len(window)} decided games in a window neither model trained on "
            f"(need {settings.min_window_games})"
        )
        return _gate([reason], metrics)
    mine, theirs = score(y, candidate.predict(window)), score(y, blue.predict(window))
    for name in ("brier", "log_loss", "calibration_error", "accuracy"):
        metrics[f"candidate_{name}"] = round(mine[name], 5)
        metrics[f"blue_{name}"] = round(theirs[name], 5)
    reasons = []
    for name, tolerance in (
        ("brier", settings.brier_tolerance),
        ("log_loss", settings.log_loss_tolerance),
    ):
        if not mine[name] <= theirs[name] + tolerance:  # `not <=` also catches NaN
            reasons.append(
                f"{name} {mine[name]:.4f} > blue {theirs[name]:.4f} + tolerance {tolerance}"
            )
    if not mine["calibration_error"] < settings.max_calibration_error:
        reasons.append(
            f"calibration error {mine['calibration_error']:.4f} ≥ {settings.max_calibration_error}"
        )
    return _gate(reasons, metrics)


def sanity(
    entry: ModelEntry, model: WinModel, window: pd.DataFrame, settings: PromotionSettings
) -> Gate:
    """Finite probabilities with a plausible spread, and the online tier's feature schema."""
    reasons = []
    if tuple(entry.feature_names) != FEATURE_NAMES or tuple(model.feature_names) != FEATURE_NAMES:
        reasons.append("feature names differ from bullpen.domain.features.FEATURE_NAMES")
    if entry.feature_version != FEATURE_VERSION or model.feature_version != FEATURE_VERSION:
        reasons.append(f"feature version {entry.feature_version} != online {FEATURE_VERSION}")
    if reasons:  # scoring columns that mean something else proves nothing
        return _gate(reasons, {"feature_version": str(entry.feature_version)})
    if window.empty:
        return _gate(["no games in the window to score"], {"games": 0})
    p = model.predict(window)
    finite = np.isfinite(p)
    metrics: dict[str, float | int | str] = {
        "games": len(p),
        "nan_or_inf": int((~finite).sum()),
        "feature_version": str(entry.feature_version),
    }
    if not finite.all():
        reasons.append(f"{int((~finite).sum())} of {len(p)} probabilities are NaN or infinite")
        return _gate(reasons, metrics)
    std, low, high = float(p.std()), float(p.min()), float(p.max())
    metrics |= {"std": round(std, 4), "min": round(low, 4), "max": round(high, 4)}
    if not settings.min_spread <= std <= settings.max_spread:
        reasons.append(
            f"spread (std) {std:.4f} outside [{settings.min_spread}, {settings.max_spread}]"
        )
    if low < settings.min_probability or high > settings.max_probability:
        reasons.append(
            f"probabilities span [{low:.3f}, {high:.3f}], beyond "
            f"[{settings.min_probability}, {settings.max_probability}]"
        )
    return _gate(reasons, metrics)


def feature_mismatches(
    stored: pd.DataFrame, rebuilt: pd.DataFrame, names: Sequence[str] = FEATURE_NAMES
) -> list[str]:
    """Games whose stored features differ from features rebuilt as of the game's morning."""
    merged = stored.merge(rebuilt, on="game_id", how="outer", suffixes=("_s", "_r"), indicator=True)
    side = merged["_merge"]
    problems = [f"{g}: no stored features" for g in merged.loc[side == "right_only", "game_id"]]
    problems += [
        f"{g}: not rebuilt as of its morning" for g in merged.loc[side == "left_only", "game_id"]
    ]
    both = merged[side == "both"]
    for name in names:
        s, r = both[f"{name}_s"].to_numpy(float), both[f"{name}_r"].to_numpy(float)
        differs = ~(np.isclose(s, r, rtol=0, atol=FEATURE_ATOL) | (np.isnan(s) & np.isnan(r)))
        games = both["game_id"].to_numpy()[differs]
        problems += [
            f"{g}: {name} stored {a} vs pre-game {b}"
            for g, a, b in zip(games, s[differs], r[differs], strict=True)
        ]
    return problems


def latency(model: WinModel, rows: np.ndarray, settings: PromotionSettings) -> Gate:
    """p99 of single-row predicts on numpy rows with one thread, best of a few rounds.

    The best round is kept because a busy neighbour on a shared machine slows
    every model alike, while a slow model is slow in every round. GC is paused
    while timing, as the online tier freezes its long-lived objects.
    """
    n = len(rows)
    if n == 0:
        return _gate(["no feature rows to time predictions on"], {"samples": 0})
    one = WinModel.from_bytes(model.to_bytes(), threads=1)
    for i in range(min(100, n)):  # load the booster, warm caches
        one.predict(rows[i : i + 1])
    rounds = []
    for _ in range(settings.latency_rounds):
        timings = np.empty(settings.latency_samples)
        gc.collect()
        gc.disable()
        try:
            for i in range(settings.latency_samples):
                row = rows[i % n : i % n + 1]
                started = time.perf_counter()
                one.predict(row)
                timings[i] = time.perf_counter() - started
        finally:
            gc.enable()
        rounds.append((float(np.percentile(timings, 99)), float(np.percentile(timings, 50))))
    p99, p50 = min(rounds)
    metrics: dict[str, float | int | str] = {
        "p50_ms": round(p50 * 1e3, 4),
        "p99_ms": round(p99 * 1e3, 4),
        "budget_ms": settings.latency_p99_ms,
        "samples": settings.latency_samples,
        "rounds": settings.latency_rounds,
        "threads": 1,
    }
    reasons = []
    if not (math.isfinite(p99) and p99 * 1e3 <= settings.latency_p99_ms):
        reasons.append(f"p99 {p99 * 1e3:.3f} ms > budget {settings.latency_p99_ms} ms")
    return _gate(reasons, metrics)
