"""The model's own closing-line value: did its recommendations beat the close?

For each game and model version, the price graded is the scorecard's: the last one
published before first pitch (`publications`). The market it was published into is
each book's latest line taken at or before that moment; a side is a recommendation
when its EV at the best price is above `threshold` (the board's rule with threshold
0). Its CLV is the closing line's de-vigged probability of the side minus 1/price,
the same measure as a tracked bet's (`bullpen.domain.bets.clv`). A game needs a
closing line, final once its first pitch is past, to be graded; one without is counted
as waiting.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from bullpen.domain.bets import clv
from bullpen.domain.market import SIDES, OddsSnapshot, best_price, consensus, latest_per_book
from bullpen.domain.odds import expected_value
from bullpen.serving import clock
from bullpen.serving.scorecard import first_pitches
from bullpen.store.live import read_publications
from bullpen.store.odds import closing_lines, read_odds


def model_clv(
    engine: Engine, season: int, threshold: float = 0.0, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Recommendations of each model version and their CLV, by model and by day; games
    whose first pitch is not past at `now` (default: the live clock) wait for their close."""
    published = _last_before_first_pitch(engine, season)
    ids = sorted(set(published["game_id"]))
    history: dict[str, list[OddsSnapshot]] = defaultdict(list)
    for snap in read_odds(engine, game_ids=ids):
        history[snap.game_id].append(snap)
    closes = closing_lines(engine, ids, now or clock.now())
    picks, waiting = [], 0
    for row in published.itertuples(index=False):
        for pick in _recommended(row, history.get(row.game_id, []), threshold):
            books = closes.get(row.game_id)
            if not books:
                waiting += 1
                continue
            close = dict(zip(SIDES, consensus(books), strict=True))[pick["side"]]
            picks.append({**pick, "closing_p": close, "clv": clv(pick["price"], close)})
    return _report(season, threshold, picks, waiting)


def _last_before_first_pitch(engine: Engine, season: int) -> pd.DataFrame:
    published = read_publications(engine, season)
    if published.empty:
        return published
    starts = published["game_id"].map(first_pitches(engine, season))
    on_time = published[published["published_at"] < starts].sort_values(["published_at", "id"])
    return on_time.groupby(["game_id", "model_version"], as_index=False).last()


def _recommended(row: Any, history: list[OddsSnapshot], threshold: float) -> list[dict]:
    market = latest_per_book(s for s in history if s.taken_at <= row.published_at)
    if not market:
        return []
    model = {"home": float(row.p_home), "away": 1.0 - float(row.p_home)}
    picks = []
    for side in SIDES:
        best = best_price(market, side)
        ev = expected_value(model[side], best.decimal)
        if ev > threshold:
            picks.append({
                "game_id": row.game_id, "date": pd.Timestamp(row.date).date(),
                "model_version": row.model_version, "side": side, "price": best.decimal,
                "book": best.book, "model_p": model[side], "ev": ev,
            })  # fmt: skip
    return picks


def _report(season: int, threshold: float, picks: list[dict], waiting: int) -> dict[str, Any]:
    frame = pd.DataFrame(picks, columns=["game_id", "date", "model_version", "side", "price",
                                         "book", "model_p", "ev", "closing_p", "clv"])  # fmt: skip
    models = {v: _stats(g) for v, g in frame.groupby("model_version", sort=True)}
    days = []
    for (day, version), group in frame.groupby(["date", "model_version"], sort=True):
        to_date = frame[(frame["model_version"] == version) & (frame["date"] <= day)]
        days.append({"date": _iso(day), "model_version": version, **_stats(group),
                     "season_to_date": _stats(to_date)})  # fmt: skip
    return {"season": season, "ev_threshold": threshold, **_stats(frame),
            "waiting_for_close": waiting, "models": models, "days": days}  # fmt: skip


def _stats(frame: pd.DataFrame) -> dict[str, Any]:
    values = frame["clv"].astype(float)
    return {
        "recommendations": len(frame),
        "mean_clv": round(float(values.mean()), 6) if len(frame) else None,
        "beat_close": int((values > 0).sum()),
    }


def _iso(day: dt.date) -> str:
    return day.isoformat()
