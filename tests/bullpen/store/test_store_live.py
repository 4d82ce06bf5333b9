"""The live tables: schedule lifecycle, starter history, feed issues (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import Engine

from bullpen.domain.gamelogs import ParseResult
from bullpen.domain.schedule import GameStatus, ScheduledGame, StarterAnnouncement
from bullpen.store import load_parse_result
from bullpen.store.live import (
    read_feed_issues,
    read_pitchers,
    read_schedule,
    read_starter_history,
    record_schedule,
    record_starters,
)

DAY = dt.date(2023, 7, 1)
T0 = dt.datetime(2023, 7, 1, 12, 0, tzinfo=dt.UTC)
GAME = ScheduledGame(
    game_id="NYA202307010", date=DAY, game_number=0, season=2023, home="NYA", away="SLN",
    home_league="AL", away_league="NL", day_night="d", status=GameStatus.SCHEDULED,
    source="test-feed",
)  # fmt: skip


def _starter(side: str, pitcher: str | None, name: str, at: dt.datetime) -> StarterAnnouncement:
    team = GAME.home if side == "home" else GAME.away
    return StarterAnnouncement(GAME.game_id, side, pitcher, name, team, at, "test-feed")


def test_schedule_is_idempotent_and_follows_the_lifecycle(engine: Engine) -> None:
    first = record_schedule(engine, [GAME])
    again = record_schedule(engine, [GAME])
    postponed = record_schedule(
        engine, [replace(GAME, status=GameStatus.POSTPONED, postponed_reason="Rain")]
    )

    assert (first.added, again.changed, again.unchanged) == (["NYA202307010"], [], 1)
    assert postponed.status_changed == ["NYA202307010"]
    row = read_schedule(engine, on=DAY).iloc[0]
    assert (row["status"], row["postponed_reason"]) == ("postponed", "Rain")


def test_a_refused_move_is_an_issue_and_the_rest_of_the_batch_lands(engine: Engine) -> None:
    record_schedule(engine, [replace(GAME, status=GameStatus.SUSPENDED)])
    other = replace(GAME, game_id="BOS202307010", home="BOS", away="TOR")

    changes = record_schedule(engine, [replace(GAME, status=GameStatus.POSTPONED), other])

    assert changes.added == ["BOS202307010"]
    assert [i.reason for i in changes.issues] == [
        "NYA202307010: a suspended game cannot become postponed"
    ]
    assert list(read_feed_issues(engine)["location"]) == ["NYA202307010"]
    assert read_schedule(engine, on=DAY).set_index("game_id")["status"].to_dict() == {
        "BOS202307010": "scheduled", "NYA202307010": "suspended"}  # fmt: skip


def test_a_feed_that_changes_a_games_teams_is_an_issue(engine: Engine) -> None:
    record_schedule(engine, [GAME])

    changes = record_schedule(engine, [replace(GAME, away="BOS", source="other-feed")])

    assert [i.reason for i in changes.issues] == [
        "NYA202307010: the feed says BOS@NYA, the schedule has SLN@NYA"
    ]
    assert read_schedule(engine).iloc[0]["away"] == "SLN"


def test_a_duplicate_in_one_batch_is_an_issue(engine: Engine) -> None:
    changes = record_schedule(engine, [GAME, replace(GAME, day_night="n")])

    assert changes.added == ["NYA202307010"] and len(changes.issues) == 1
    assert read_schedule(engine).iloc[0]["day_night"] == "d"


def test_a_loaded_game_log_makes_the_game_final(engine: Engine, gl2022: ParseResult) -> None:
    played = gl2022.games[0]
    scheduled = replace(GAME, game_id=played.game_id, date=played.date, season=2022,
                        home=played.home, away=played.away)  # fmt: skip
    record_schedule(engine, [scheduled])

    load_parse_result(engine, "GL2022.TXT", gl2022, "0" * 64)
    late_feed = record_schedule(engine, [scheduled])  # a feed that lags the result

    assert late_feed.issues == []
    assert read_schedule(engine).iloc[0]["status"] == "final"


def test_starters_keep_their_history_and_the_latest_is_current(engine: Engine) -> None:
    record_schedule(engine, [GAME])
    announced = [_starter("home", "coleg001", "Gerrit Cole", T0),
                 _starter("away", None, "Some Debutant", T0)]  # fmt: skip
    scratch = _starter("home", "schmc001", "Clarke Schmidt", T0 + dt.timedelta(hours=3))

    first, _ = record_starters(engine, announced)
    repeat, _ = record_starters(engine, announced)
    changed, issues = record_starters(engine, [scratch])

    assert (len(first), repeat, len(changed), issues) == (2, [], 1, [])
    history = read_starter_history(engine, GAME.game_id)
    assert list(history["pitcher_name"]) == ["Gerrit Cole", "Some Debutant", "Clarke Schmidt"]
    row = read_schedule(engine, on=DAY).iloc[0]
    assert (row["home_sp_id"], row["home_sp_name"]) == ("schmc001", "Clarke Schmidt")
    assert (row["away_sp_id"], row["away_sp_name"]) == ("", "Some Debutant")  # unknown starter


def test_starters_that_do_not_fit_the_schedule_are_issues(engine: Engine) -> None:
    record_schedule(engine, [GAME])
    wrong_team = replace(_starter("home", "x001", "X", T0), team="BOS")
    no_game = replace(_starter("home", "y001", "Y", T0), game_id="NYA202307020")

    changed, issues = record_starters(engine, [wrong_team, no_game])

    assert changed == []
    assert sorted(i.reason for i in issues) == [
        "X announced for BOS, but the home team of NYA202307010 is NYA",
        "no scheduled game NYA202307020",
    ]
    assert len(read_feed_issues(engine)) == 2


def test_read_pitchers_lists_the_game_logs_starters(engine: Engine, gl2022: ParseResult) -> None:
    load_parse_result(engine, "GL2022.TXT", gl2022, "0" * 64)
    first = gl2022.games[0]

    pitchers = {(p[0], p[2]): p for p in read_pitchers(engine)}

    _, name, _, last = pitchers[(first.home_sp_id, first.home)]
    assert name == first.home_sp_name and isinstance(last, dt.date) and last >= first.date
