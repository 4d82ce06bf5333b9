"""The live scorecard: how the published prices did, by day and season to date.

Each final game is graded once per model version, on the last price that version
published **before the game's first pitch** (the schedule's time, else 13:05 / 19:05
Eastern); prices published at or after first pitch are excluded and counted. The
Elo baseline is graded on the same games, from the `elo_p_home` frozen with the
same publication. Ties (suspended then abandoned) are not graded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from bullpen.domain.metrics import brier, log_loss
from bullpen.domain.schedule import default_first_pitch
from bullpen.store import read_games
from bullpen.store.live import read_finals, read_publications, read_schedule


def scorecard(engine: Engine, season: int) -> dict[str, Any]:
    graded, excluded = graded_prices(engine, season)
    days = []
    for (day, version), group in graded.groupby(["date", "model_version"], sort=True):
        to_date = graded[(graded["model_version"] == version) & (graded["date"] <= day)]
        days.append({"date": day.isoformat(), "model_version": version, **_scores(group),
                     "season_to_date": _scores(to_date)})  # fmt: skip
    models = {v: _scores(g) for v, g in graded.groupby("model_version", sort=True)}
    return {
        "season": season,
        "graded_games": int(graded["game_id"].nunique()) if len(graded) else 0,
        "excluded_after_first_pitch": excluded,
        "models": models,
        "days": days,
    }


def graded_prices(engine: Engine, season: int) -> tuple[pd.DataFrame, int]:
    """One row per (final game, model version): its last pre-pitch price and the outcome;
    and how many publications came at or after first pitch."""
    published = read_publications(engine, season)
    if published.empty:
        return _empty(), 0
    results = _results(engine, season)
    pitch = first_pitches(engine, season)
    published = published[published["game_id"].isin(results.index)].copy()
    starts = published["game_id"].map(pitch)
    late = published["published_at"] >= starts
    on_time = published[~late].sort_values(["published_at", "id"])
    last = on_time.groupby(["game_id", "model_version"], as_index=False).last()
    last["y"] = last["game_id"].map(results)
    last["date"] = [d.date() for d in pd.to_datetime(last["date"])]
    return last[["game_id", "date", "model_version", "p_home", "elo_p_home", "y"]], int(late.sum())


def _results(engine: Engine, season: int) -> pd.Series:
    """game_id → 1.0 home win / 0.0 home loss for the season's decided games: the game
    logs', else a schedule feed's final score."""
    logged = read_games(engine, seasons=[season])[["game_id", "home_score", "away_score"]]
    reported = read_finals(engine, season)
    reported = reported[~reported["game_id"].isin(logged["game_id"])]
    games = pd.concat([logged, reported], ignore_index=True)
    decided = games[games["home_score"] != games["away_score"]]
    y = (decided["home_score"] > decided["away_score"]).astype(float)
    return pd.Series(y.to_numpy(), index=decided["game_id"])


def first_pitches(engine: Engine, season: int) -> dict[str, pd.Timestamp]:
    """game_id → first pitch (UTC) of the season's scheduled games: the feed's, else the
    day/night default."""
    rows = read_schedule(engine, season=season)
    out = {}
    for row in rows.itertuples(index=False):
        known = row.first_pitch if not pd.isna(row.first_pitch) else None
        start = known or default_first_pitch(row.date.date(), row.day_night)
        out[row.game_id] = pd.Timestamp(start).tz_convert("UTC")
    return out


def _scores(frame: pd.DataFrame) -> dict[str, Any]:
    y = frame["y"].to_numpy(dtype=float)
    elo = frame["elo_p_home"].to_numpy(dtype=float)
    with_elo = ~np.isnan(elo)
    return {
        "games": len(frame),
        "brier": _round(brier(y, frame["p_home"].to_numpy(float))) if len(frame) else None,
        "log_loss": _round(log_loss(y, frame["p_home"].to_numpy(float))) if len(frame) else None,
        "elo_brier": _round(brier(y[with_elo], elo[with_elo])) if with_elo.any() else None,
        "elo_log_loss": _round(log_loss(y[with_elo], elo[with_elo])) if with_elo.any() else None,
    }


def _round(value: float) -> float:
    return round(float(value), 5)


def _empty() -> pd.DataFrame:
    columns = ["game_id", "date", "model_version", "p_home", "elo_p_home", "y"]
    return pd.DataFrame(columns=columns).astype({"p_home": float, "elo_p_home": float, "y": float})
