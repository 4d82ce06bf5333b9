"""`GET /v1/edges`: the board served from the warmed cache, equal to the core's, agreeing with
`POST /v1/edge`, re-pointed on every replica when new lines arrive.

FIXTURE prices (tests.support.odds): invented, not market data.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient
from redis.cluster import RedisCluster
from sqlalchemy import Engine

from bullpen.domain.market import OddsSnapshot
from bullpen.serving.odds import current_board, refresh_boards
from bullpen.store.odds import record_odds
from tests.support.apps import Stack
from tests.support.odds import MARKET_AT, MARKET_DAY, MARKET_GAMES

DAY, GAMES, AT = MARKET_DAY, MARKET_GAMES, MARKET_AT
DEADLINE_S = 5.0


def test_the_board_is_served_from_the_cache_as_the_core_builds_it(
    market: tuple[Stack, Engine],
) -> None:
    stack, engine = market
    app = stack.app()
    with TestClient(app) as api:
        first = api.get(f"/v1/edges?date={DAY}", headers=stack.headers())
        second = api.get(f"/v1/edges?date={DAY}", headers=stack.headers())
        computed = app.state.services.predictions.computations
    assert first.status_code == 200, first.text
    assert first.content == second.content
    board = first.json()
    assert board == current_board(engine, DAY, 0.25, 0.05)
    assert [g["game_id"] for g in board["games"]][-1] == GAMES[2][0]  # no odds: last
    assert board["games"][-1]["sides"] is None
    assert computed == 0  # warmed: nothing computed


def test_kelly_parameters_change_only_the_stakes_and_are_bounded(
    market: tuple[Stack, Engine],
) -> None:
    stack, _ = market
    with TestClient(stack.app()) as api:
        plain = api.get(f"/v1/edges?date={DAY}", headers=stack.headers()).json()
        full = api.get(f"/v1/edges?date={DAY}&kelly_fraction=1&kelly_cap=1",
                       headers=stack.headers()).json()  # fmt: skip
        bad = api.get(f"/v1/edges?date={DAY}&kelly_cap=1.5", headers=stack.headers())
        none = api.get(f"/v1/edges?date={DAY}&kelly_fraction=0", headers=stack.headers())
    assert bad.status_code == none.status_code == 422
    for a, b in zip(plain["games"], full["games"], strict=True):
        if a["sides"] is None:
            continue
        for side in ("home", "away"):
            s, f = a["sides"][side], b["sides"][side]
            assert {k: v for k, v in s.items() if k != "kelly"} == {
                k: v for k, v in f.items() if k != "kelly"
            }
            expected = max(0.0, (f["model_p"] * f["best_decimal"] - 1) / (f["best_decimal"] - 1))
            assert f["kelly"] == pytest.approx(expected, abs=1e-12)


def test_the_board_agrees_with_post_edge_at_its_best_prices(market: tuple[Stack, Engine]) -> None:
    stack, _ = market
    with TestClient(stack.app()) as api:
        board = api.get(f"/v1/edges?date={DAY}", headers=stack.headers()).json()
        game = next(g for g in board["games"] if g["game_id"] == GAMES[1][0])  # one book
        sides = game["sides"]
        edge = api.post("/v1/edge", headers=stack.headers(), json={
            "game_id": game["game_id"], "odds_format": "decimal",
            "home_odds": sides["home"]["best_decimal"], "away_odds": sides["away"]["best_decimal"],
        }).json()  # fmt: skip
    for side in ("home", "away"):
        assert sides[side]["consensus_p"] == pytest.approx(edge[side]["fair"], abs=1e-9)
        assert sides[side]["ev"] == pytest.approx(edge[side]["ev_per_unit"], abs=1e-9)
        assert sides[side]["kelly"] == pytest.approx(edge[side]["kelly_stake"], abs=1e-9)
        assert sides[side]["edge"] == pytest.approx(edge[side]["edge"], abs=1e-9)


def test_new_lines_reach_every_replica(market: tuple[Stack, Engine]) -> None:
    stack, engine = market
    replicas = [stack.app(pointer_poll_s=60), stack.app(pointer_poll_s=60)]
    path = f"/v1/edges?date={DAY}"
    with TestClient(replicas[0]) as one, TestClient(replicas[1]) as two:
        for api in (one, two):  # the old board in every near-cache
            for _ in range(2):
                assert _best_home(api.get(path, headers=stack.headers()).json()) == 1.90
        later = AT + dt.timedelta(hours=2)
        record_odds(engine, [OddsSnapshot(GAMES[0][0], "betmgm", later, 2.05, 1.85, "fixture")])
        published = time.monotonic()
        refresh_boards(engine, stack.redis, [DAY], ttl=600)
        deadline = published + 2 * DEADLINE_S
        while time.monotonic() < deadline:
            seen = {_best_home(api.get(path, headers=stack.headers()).json()) for api in (one, two)}
            if seen == {2.05}:
                break
            time.sleep(0.02)
        switched = time.monotonic()
    assert seen == {2.05} and switched - published <= DEADLINE_S


def _best_home(board: dict) -> float:
    game = next(g for g in board["games"] if g["game_id"] == GAMES[0][0])
    return game["sides"]["home"]["best_decimal"]


def test_a_board_is_built_on_a_miss_and_its_date_is_checked(market: tuple[Stack, Engine]) -> None:
    stack, engine = market
    # A cluster client's KEYS asks one node only: every primary must be asked.
    where = {"target_nodes": RedisCluster.PRIMARIES} if stack.cluster else {}
    boards = stack.redis.keys("bp:v1:board:*", **where)
    assert boards  # the fixture warmed the day's board: the miss below is made here
    for key in boards:
        stack.redis.delete(key)
    app = stack.app()
    with TestClient(app) as api:
        board = api.get(f"/v1/edges?date={DAY}", headers=stack.headers())
        computed = app.state.services.predictions.computations
        far = api.get("/v1/edges?date=2099-01-01", headers=stack.headers())
        anonymous = api.get(f"/v1/edges?date={DAY}")
    assert board.json() == current_board(engine, DAY, 0.25, 0.05)
    assert computed == 1  # the board; the day's slate was warm
    assert far.status_code == 404 and anonymous.status_code == 401
