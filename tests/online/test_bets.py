"""`POST /v1/bets`, `GET /v1/bets`: bets per API key, refused with a reason when they cannot be
pre-game bets, settled from results, graded against the closing line.

FIXTURE prices (tests.support.odds): invented, not market data.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bullpen.domain.schedule import FinalScore, GameStatus, ScheduledGame
from bullpen.serving import clock
from bullpen.store.live import record_finals, record_schedule
from tests.support.apps import Stack, new_key
from tests.support.odds import MARKET_AT, MARKET_DAY, MARKET_GAMES

GAME, QUIET = MARKET_GAMES[0][0], MARKET_GAMES[2][0]
# The close of GAME: draftkings 1.80/2.10 and fanduel 1.90/2.00, home de-vigged
# 2.1/3.9 and 2.0/3.9: their mean is 4.1/7.8.
CLOSE_HOME = 4.1 / 7.8


def _bet(**changes: object) -> dict:
    return {"game_id": GAME, "side": "home", "price": 1.95, "book": "fanduel", "stake": 2.0,
            "placed_at": (MARKET_AT + dt.timedelta(hours=1)).isoformat(), **changes}  # fmt: skip


def test_a_bet_is_settled_and_graded_against_the_close(market: tuple[Stack, Engine]) -> None:
    stack, engine = market
    with TestClient(stack.app()) as api:
        made = api.post("/v1/bets", json=_bet(), headers=stack.headers())
        american = api.post(
            "/v1/bets",
            json=_bet(side="away", price=-110, odds_format="american"),
            headers=stack.headers(),
        )
        before = api.get("/v1/bets", headers=stack.headers()).json()
        record_finals(engine, [FinalScore(GAME, 5, 3, "test-feed")])  # the home side won
        after = api.get("/v1/bets", headers=stack.headers()).json()
        other_key, _ = new_key(stack.store.url, "someone-else")
        others = api.get("/v1/bets", headers=stack.headers(other_key)).json()

    assert made.status_code == american.status_code == 201, made.text
    bet = made.json()
    assert bet["status"] == "open" and bet["closing_p"] == pytest.approx(CLOSE_HOME)
    assert bet["clv"] == pytest.approx(CLOSE_HOME - 1 / 1.95) and bet["beat_close"] is True
    assert american.json()["price"] == pytest.approx(1 + 100 / 110)
    assert before["summary"]["open"] == 2 and before["summary"]["roi"] is None
    won, lost = after["bets"]
    assert (won["status"], won["profit"]) == ("won", pytest.approx(2.0 * 0.95))
    assert (lost["status"], lost["profit"]) == ("lost", -2.0)
    summary = after["summary"]
    assert summary["settled"] == 2 and summary["staked"] == 4.0
    assert summary["roi"] == pytest.approx((1.9 - 2.0) / 4.0)
    assert summary["beat_close"] == 1 and summary["with_close"] == 2
    assert summary["mean_clv"] == pytest.approx(
        ((CLOSE_HOME - 1 / 1.95) + ((1 - CLOSE_HOME) - 110 / 210)) / 2
    )
    assert others == {"bets": [], "summary": others["summary"]} and others["summary"]["bets"] == 0


REFUSED = [
    ({"placed_at": "2023-03-31T00:00:00+00:00"}, 409, "not before first pitch"),
    ({"placed_at": "2099-01-01T00:00:00+00:00"}, 409, "in the future"),
    ({"price": 1.0}, 422, "price"),
    ({"price": -105}, 422, "price"),
    ({"side": "over"}, 422, ""),
    ({"stake": 0}, 422, ""),
    ({"game_id": "BOS202303301"}, 404, "no game"),
]


@pytest.mark.parametrize(("changes", "status", "reason"), REFUSED)
def test_bets_that_cannot_be_pre_game_bets_are_refused(
    market: tuple[Stack, Engine], changes: dict, status: int, reason: str
) -> None:
    stack, _ = market
    with TestClient(stack.app()) as api:
        answer = api.post("/v1/bets", json=_bet(**changes), headers=stack.headers())
        listed = api.get("/v1/bets", headers=stack.headers()).json()
    assert answer.status_code == status, answer.text
    assert reason in str(answer.json()["detail"])
    assert listed["bets"] == []  # nothing half-written


def test_a_postponed_game_voids_its_bets(market: tuple[Stack, Engine]) -> None:
    stack, engine = market
    with TestClient(stack.app()) as api:
        api.post("/v1/bets", json=_bet(game_id=QUIET), headers=stack.headers())
        record_schedule(engine, [ScheduledGame(
            game_id=QUIET, date=MARKET_DAY, game_number=0, season=2023, home="CHN", away="MIL",
            home_league=None, away_league=None, day_night="n", status=GameStatus.POSTPONED,
            source="test-feed", postponed_reason="rain",
        )])  # fmt: skip
        [bet] = api.get("/v1/bets", headers=stack.headers()).json()["bets"]
        again = api.post("/v1/bets", json=_bet(game_id=QUIET, placed_at=None),
                         headers=stack.headers())  # fmt: skip
    assert (bet["status"], bet["profit"], bet["clv"]) == ("void", 0.0, None)
    assert again.status_code == 409 and "postponed" in again.json()["detail"]


def test_before_first_pitch_the_close_is_not_final(
    market: tuple[Stack, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, _ = market
    noon = MARKET_AT + dt.timedelta(hours=2)  # the game starts at 23:05 UTC
    monkeypatch.setattr(clock, "now", lambda: noon)
    with TestClient(stack.app()) as api:
        made = api.post("/v1/bets", json=_bet(placed_at=None), headers=stack.headers())
        listed = api.get("/v1/bets", headers=stack.headers()).json()
    assert made.status_code == 201, made.text
    assert made.json()["placed_at"].startswith(noon.strftime("%Y-%m-%dT%H:%M"))
    [bet] = listed["bets"]
    assert (bet["status"], bet["closing_p"], bet["clv"], bet["beat_close"]) == (
        "open", None, None, None,
    )  # fmt: skip
    assert listed["summary"]["with_close"] == 0 and listed["summary"]["mean_clv"] is None
