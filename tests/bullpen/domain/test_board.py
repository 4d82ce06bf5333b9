"""The board's numbers, checked on worked examples against the formulas of issue 14.

FIXTURE prices: invented for the arithmetic, not market data.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bullpen.domain.board import board_body, recommended, with_kelly
from bullpen.domain.market import (
    OddsSnapshot,
    best_price,
    closing_per_book,
    consensus,
    latest_per_book,
    odds_revision,
)
from bullpen.domain.odds import OddsError, two_way_edge

DAY = dt.date(2022, 4, 20)
T0 = dt.datetime(2022, 4, 20, 15, tzinfo=dt.UTC)
GAME = "NYA202204200"


def snap(book: str, home: float, away: float, minutes: int = 0, game: str = GAME) -> OddsSnapshot:
    return OddsSnapshot(game, book, T0 + dt.timedelta(minutes=minutes), home, away, "fixture")


def body(game: str = GAME, p_home: float = 0.56) -> dict:
    return {"game_id": game, "home": game[:3], "away": "BOS", "p_home": p_home,
            "p_away": round(1 - p_home, 6)}  # fmt: skip


def test_consensus_is_the_mean_of_each_books_proportional_devig() -> None:
    # Book a: 1/1.8 and 1/2.1 scaled to 1 -> home 2.1/3.9; book b: home 2.0/3.9.
    books = [snap("a", 1.80, 2.10), snap("b", 1.90, 2.00)]
    home, away = consensus(books)
    assert home == pytest.approx((2.1 / 3.9 + 2.0 / 3.9) / 2, abs=1e-12)
    assert away == pytest.approx((1.8 / 3.9 + 1.9 / 3.9) / 2, abs=1e-12)
    assert home + away == pytest.approx(1.0, abs=1e-12)


def test_best_price_per_side_names_its_book() -> None:
    books = [snap("a", 1.80, 2.10), snap("b", 1.90, 2.00), snap("c", 1.90, 1.95)]
    assert (best_price(books, "home").decimal, best_price(books, "home").book) == (1.90, "b")
    assert (best_price(books, "away").decimal, best_price(books, "away").book) == (2.10, "a")


def test_worked_board() -> None:
    books = [snap("a", 1.80, 2.10), snap("b", 1.90, 2.00)]
    board = board_body(DAY, "m1", [body()], books)
    home, away = board["games"][0]["sides"]["home"], board["games"][0]["sides"]["away"]
    consensus_home = 4.1 / 7.8
    assert home == pytest.approx({
        "best_decimal": 1.90, "best_book": "b", "consensus_p": consensus_home, "model_p": 0.56,
        "edge": 0.56 - consensus_home, "ev": 0.56 * 1.90 - 1,
        "kelly": 0.25 * (0.56 * 1.90 - 1) / (1.90 - 1),
    }, abs=1e-12)  # fmt: skip
    assert away["best_book"] == "a" and away["ev"] == pytest.approx(0.44 * 2.10 - 1)
    assert away["kelly"] == 0.0  # EV <= 0: shown, never staked
    assert [(g, s) for g, s, _ in recommended(board)] == [(GAME, "home")]


def test_kelly_is_capped_and_configurable() -> None:
    books = [snap("a", 2.50, 1.60)]
    board = board_body(DAY, "m1", [body(p_home=0.60)], books)
    full = (0.60 * 2.50 - 1) / (2.50 - 1)  # 0.3333: a quarter of it is above the 0.05 cap
    assert board["games"][0]["sides"]["home"]["kelly"] == 0.05
    half = with_kelly(board, 0.5, 1.0)["games"][0]["sides"]["home"]
    assert half["kelly"] == pytest.approx(0.5 * full)
    assert {k: v for k, v in half.items() if k != "kelly"} == {
        k: v for k, v in board["games"][0]["sides"]["home"].items() if k != "kelly"
    }
    with pytest.raises(OddsError):
        with_kelly(board, 0.0, 0.05)


def test_board_agrees_with_post_edge_on_one_book() -> None:
    books = [snap("a", 1.95, 1.95)]
    side = board_body(DAY, "m1", [body(p_home=0.53)], books)["games"][0]["sides"]
    home, away, _ = two_way_edge(0.53, 1.95, 1.95)
    assert side["home"]["consensus_p"] == pytest.approx(home.fair, abs=1e-12)
    assert side["home"]["ev"] == pytest.approx(home.ev_per_unit, abs=1e-12)
    assert side["home"]["kelly"] == pytest.approx(home.kelly_stake, abs=1e-12)
    assert side["away"]["ev"] == pytest.approx(away.ev_per_unit, abs=1e-12)
    assert side["away"]["edge"] == pytest.approx(away.edge, abs=1e-12)


def test_games_sort_by_best_ev_and_games_without_odds_come_last() -> None:
    other, quiet = "BOS202204200", "CHA202204200"
    books = [snap("a", 1.80, 2.10), snap("a", 2.40, 1.62, game=other)]
    board = board_body(DAY, "m1", [body(), body(other, 0.50), body(quiet, 0.5)], books)
    assert [g["game_id"] for g in board["games"]] == [other, GAME, quiet]
    assert board["games"][-1]["sides"] is None


def test_latest_and_closing_lines_per_book() -> None:
    history = [snap("a", 1.80, 2.10, 0), snap("a", 1.85, 2.02, 30), snap("b", 1.9, 2.0, 10),
               snap("a", 1.70, 2.25, 300)]  # fmt: skip
    assert [s.home_decimal for s in latest_per_book(history)] == [1.70, 1.9]
    close = closing_per_book(history, T0 + dt.timedelta(minutes=240))
    assert [(s.book, s.home_decimal) for s in close] == [("a", 1.85), ("b", 1.9)]


def test_odds_revision_changes_with_any_line() -> None:
    books = [snap("a", 1.80, 2.10), snap("b", 1.90, 2.00)]
    assert odds_revision(books) == odds_revision(list(reversed(books)))
    assert odds_revision(books) != odds_revision([books[0], snap("b", 1.91, 2.00)])


@pytest.mark.parametrize("prices", [(1.0, 2.0), (-1.5, 2.0), (float("nan"), 2.0)])
def test_impossible_snapshots_cannot_be_made(prices: tuple[float, float]) -> None:
    with pytest.raises(OddsError):
        snap("a", *prices)
