"""Games not played yet, served; a scratched starter re-priced on every replica at once.

A 2023 game is scheduled on a store that only knows 2022: it is priced before first pitch
from the announced starters (one of them unknown to the store), served by the API, and
listed in its date's slate. Then the home starter is scratched: the live loop's step
(`bullpen.serving.refresh`) re-prices and re-warms the date, and two replicas that had
the old price in their near-caches serve the new starter within the deadline, and never
the old one again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bullpen.domain.schedule import GameStatus, ScheduledGame, StarterAnnouncement
from bullpen.serving import clock
from bullpen.serving.feeds import apply_results
from bullpen.serving.refresh import refresh
from bullpen.sources.parsed import ParsedLogs, read_gamelogs
from bullpen.store import make_engine
from bullpen.store.live import read_pitchers, record_schedule, record_starters
from tests.support.apps import Stack
from tests.support.data import MODEL_VERSION, fill_store

DAY = dt.date(2023, 3, 30)
GAME = "BOS202303300"
AT = dt.datetime(2023, 3, 30, 12, tzinfo=dt.UTC)  # 08:00 Eastern
DEADLINE_S = 5.0


@pytest.fixture
def live(
    stack: Stack, tmp_path: Path, logs2022: ParsedLogs, features2022: pd.DataFrame
) -> Iterator[tuple[Stack, Engine]]:
    """A store of its own (the schedule below changes it), with BAL @ BOS on DAY scheduled."""
    stack = stack.on(fill_store(f"sqlite:///{tmp_path / 'live.db'}", logs2022, features2022))
    engine = make_engine(stack.store.url)
    record_schedule(engine, [ScheduledGame(
        game_id=GAME, date=DAY, game_number=0, season=2023, home="BOS", away="BAL",
        home_league="AL", away_league="AL", day_night="d", status=GameStatus.SCHEDULED,
        source="test-feed",
    )])  # fmt: skip
    yield stack, engine
    engine.dispose()


def _starter(engine: Engine, team: str, rank: int = 0) -> tuple[str, str]:
    """A pitcher who started for `team` in 2022 (by id, the `rank`-th)."""
    pitchers = sorted((p for p in read_pitchers(engine) if p[2] == team), key=lambda p: p[0])
    return pitchers[rank][0], pitchers[rank][1]


def _announce(engine: Engine, home: tuple[str | None, str], at: dt.datetime) -> None:
    record_starters(engine, [
        StarterAnnouncement(GAME, "home", home[0], home[1], "BOS", at, "test-feed"),
        StarterAnnouncement(GAME, "away", None, "A. Debutant", "BAL", AT, "test-feed"),
    ])  # fmt: skip


def test_an_unplayed_game_is_priced_from_its_announced_starters(
    live: tuple[Stack, Engine],
) -> None:
    stack, engine = live
    first = _starter(engine, "BOS")
    _announce(engine, first, AT)
    with TestClient(stack.app()) as api:
        before = api.get(f"/v1/games/{GAME}/prediction", headers=stack.headers())
        refresh(engine, stack.redis, [DAY], ttl=600)
        game = api.get(f"/v1/games/{GAME}/prediction", headers=stack.headers())
        day = api.get(f"/v1/games?date={DAY}", headers=stack.headers())

    assert before.status_code == 404  # no features before the live loop priced it
    assert game.status_code == 200, game.text
    body = game.json()
    assert (body["home"], body["away"], body["in_sample"]) == ("BOS", "BAL", False)
    assert body["starters"] == {
        "home": {"id": first[0], "name": first[1]},
        "away": {"id": None, "name": "A. Debutant"},  # unknown to the store: the prior
    }
    assert 0 < body["p_home"] < 1
    assert [g["game_id"] for g in day.json()["games"]] == [GAME]


def test_a_scratch_reprices_every_replica_and_no_layer_serves_the_old_starter(
    live: tuple[Stack, Engine],
) -> None:
    stack, engine = live
    first, second = _starter(engine, "BOS", 0), _starter(engine, "BOS", 1)
    _announce(engine, first, AT)
    refresh(engine, stack.redis, [DAY], ttl=600)
    paths = [f"/v1/games/{GAME}/prediction", f"/v1/games?date={DAY}"]
    replicas = [stack.app(pointer_poll_s=60), stack.app(pointer_poll_s=60)]
    with TestClient(replicas[0]) as one, TestClient(replicas[1]) as two:
        for api in (one, two):  # the old price in every near-cache
            for _ in range(2):
                for path in paths:
                    assert _home_starter(api.get(path, headers=stack.headers()).json()) == first[0]

        _announce(engine, second, AT + dt.timedelta(hours=2))  # the scratch
        published = time.monotonic()
        refresh(engine, stack.redis, [DAY], ttl=600)
        switched = _until_switched([one, two], paths, stack, second[0])
        after = [
            _home_starter(api.get(path, headers=stack.headers()).json())
            for _ in range(20)
            for api in (one, two)
            for path in paths
        ]

    assert switched - published <= DEADLINE_S
    assert set(after) == {second[0]}  # never the scratched starter again


def _home_starter(body: dict) -> str | None:
    game = body["games"][0] if "games" in body else body
    return game["starters"]["home"]["id"]


def _until_switched(apis: list[TestClient], paths: list[str], stack: Stack, want: str) -> float:
    deadline = time.monotonic() + 2 * DEADLINE_S
    while time.monotonic() < deadline:
        seen = {_home_starter(api.get(p, headers=stack.headers()).json()) for api in apis
                for p in paths}  # fmt: skip
        if seen == {want}:
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"replicas still serve {seen} after {2 * DEADLINE_S} s")


def test_the_scorecard_grades_the_price_published_before_first_pitch(
    live: tuple[Stack, Engine], gamelogs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, engine = live
    _announce(engine, _starter(engine, "BOS"), AT)
    monkeypatch.setattr(clock, "now", lambda: AT)  # 08:00 Eastern on opening day
    refresh(engine, stack.redis, [DAY], ttl=600)
    played = next(g for g in read_gamelogs(gamelogs_dir, [2023]).games if g.game_id == GAME)
    apply_results(engine, "gl20230330.txt", [played.source_line], "d" * 64)

    with TestClient(stack.app()) as api:
        card = api.get("/v1/scorecard?season=2023", headers=stack.headers())
        bad = api.get("/v1/scorecard?season=1492", headers=stack.headers())

    assert card.status_code == 200, card.text
    body = card.json()
    assert (body["graded_games"], body["excluded_after_first_pitch"]) == (1, 0)
    [(version, scores)] = body["models"].items()
    assert version == MODEL_VERSION and scores["games"] == 1
    assert scores["brier"] == scores["elo_brier"]  # the served model is Elo
    assert body["days"][0]["date"] == DAY.isoformat()
    assert bad.status_code == 422
