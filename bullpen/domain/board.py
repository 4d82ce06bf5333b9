"""The best-bet board: for each game of a date, where the served model and the market disagree.

Per game, from each book's latest line (`bullpen.domain.market`):

* best price per side: the highest decimal price across books, with the book;
* consensus fair probability: each book's line de-vigged proportionally (1/decimal per
  side, scaled to sum to 1), averaged over books;
* model: the served prediction's p_home and p_away (as the prediction body has them);
* edge = model p - consensus p; EV per unit at the best price = p x d - 1;
* Kelly stake = min(cap, fraction x max(0, (p x d - 1)/(d - 1))), the same function as
  ``POST /v1/edge`` (`bullpen.domain.odds.capped_kelly`).

Games are sorted by their better side's EV, highest first; games without odds come
last with ``sides`` null. A side is recommended only when its EV is above 0, which is
exactly when its Kelly stake is above 0: sides at or below 0 are shown with stake 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from bullpen.domain.market import SIDES, OddsSnapshot, best_price, consensus
from bullpen.domain.odds import capped_kelly, expected_value

DEFAULT_KELLY_FRACTION = 0.25
DEFAULT_KELLY_CAP = 0.05
Body = dict[str, Any]


def board_body(
    date: dt.date,
    model_version: str,
    games: Sequence[Mapping[str, Any]],
    books: Sequence[OddsSnapshot],
    fraction: float = DEFAULT_KELLY_FRACTION,
    cap: float = DEFAULT_KELLY_CAP,
) -> Body:
    """The board of `games` (prediction bodies: game_id, home, away, p_home, p_away) against
    `books` (one latest snapshot per game and book)."""
    by_game: dict[str, list[OddsSnapshot]] = {}
    for snap in books:
        by_game.setdefault(snap.game_id, []).append(snap)
    rows = [_game(g, by_game.get(str(g["game_id"]), []), fraction, cap) for g in games]
    return {"date": date.isoformat(), "model_version": model_version, "games": _ranked(rows)}


def _game(game: Mapping[str, Any], books: list[OddsSnapshot], fraction: float, cap: float) -> Body:
    sides = None
    if books:
        fair = dict(zip(SIDES, consensus(books), strict=True))
        model = {"home": float(game["p_home"]), "away": float(game["p_away"])}
        sides = {side: _side(model[side], fair[side], books, side, fraction, cap) for side in SIDES}
    return {"game_id": game["game_id"], "home": game["home"], "away": game["away"], "sides": sides}


def _side(
    model_p: float, consensus_p: float, books: list[OddsSnapshot], side: str, fraction: float,
    cap: float,
) -> Body:  # fmt: skip
    best = best_price(books, side)
    return {
        "best_decimal": best.decimal,
        "best_book": best.book,
        "consensus_p": consensus_p,
        "model_p": model_p,
        "edge": model_p - consensus_p,
        "ev": expected_value(model_p, best.decimal),
        "kelly": capped_kelly(model_p, best.decimal, fraction, cap),
    }


def _ranked(rows: list[Body]) -> list[Body]:
    def order(row: Body) -> tuple[int, float, str]:
        if row["sides"] is None:
            return (1, 0.0, row["game_id"])
        return (0, -max(s["ev"] for s in row["sides"].values()), row["game_id"])

    return sorted(rows, key=order)


def with_kelly(body: Body, fraction: float, cap: float) -> Body:
    """The same board with stakes for another Kelly fraction and cap (nothing else moves)."""
    games = []
    for game in body["games"]:
        sides = game["sides"]
        if sides is not None:
            sides = {
                name: {**s, "kelly": capped_kelly(s["model_p"], s["best_decimal"], fraction, cap)}
                for name, s in sides.items()
            }
        games.append({**game, "sides": sides})
    return {**body, "games": games}


def recommended(body: Body) -> list[tuple[str, str, Body]]:
    """(game_id, side, side) of every side with EV above 0, in board order."""
    return [
        (game["game_id"], name, side)
        for game in body["games"]
        if game["sides"] is not None
        for name, side in game["sides"].items()
        if side["ev"] > 0
    ]
