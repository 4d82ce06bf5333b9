"""The MLB Stats API schedule: parsing payloads, and the client against a loopback fake API.

Every payload is a fixture written for these tests (see tests/support/mlb_stats_server.py),
in the documented shape of `/api/v1/schedule`; none of it is real MLB data.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bullpen.domain.mlb_teams import MLB_TEAMS, retro_team
from bullpen.domain.pitchers import PitcherIndex
from bullpen.domain.schedule import (
    GAME_ID,
    FeedBatch,
    FinalScore,
    GameStatus,
    ScheduledGame,
    StarterAnnouncement,
)
from bullpen.domain.teams import KNOWN_TEAMS
from bullpen.sources.mlb_stats import (
    DEFAULT_BASE_URL,
    StatsApiClient,
    StatsApiError,
    parse_schedule_payload,
)
from tests.support.mlb_stats_server import (
    BOS,
    CHC,
    FIXTURE_DAY,
    HOU,
    NYY,
    STL,
    TEX,
    StatsApiServer,
    fixture_day,
    game,
    partial_day,
    schedule,
    serve_stats_api,
    side,
)

SOURCE = "mlb-stats-api:2023-07-01"
NOW = dt.datetime(2023, 7, 1, 15, 0, tzinfo=dt.UTC)
DAY = dt.date(2023, 7, 1)
PITCHERS = PitcherIndex(
    [
        ("coleg001", "Gerrit Cole", "NYA", dt.date(2023, 6, 25)),
        ("salec001", "Chris Sale", "BOS", dt.date(2023, 6, 24)),
    ]
)
# Fast retries, so the retry tests take milliseconds.
FAST = {"retry_wait_s": 0.001, "max_retry_wait_s": 0.01}
NEED_UTC = "expected an ISO datetime with a UTC offset"


def parse(payload: Any, today: dt.date | None = None) -> FeedBatch:
    return parse_schedule_payload(payload, SOURCE, PITCHERS, NOW, today=today)


def one_game(**overrides: Any) -> dict[str, Any]:
    """A NYA-BOS fixture game on the fixture day, with `overrides` applied."""
    return {**game(717001, FIXTURE_DAY, side(NYY), side(BOS)), **overrides}


def reasons(batch: FeedBatch) -> dict[str, str]:
    return {issue.location: issue.reason for issue in batch.issues}


# --- team ids --------------------------------------------------------------------


def test_every_current_club_maps_to_a_distinct_known_code() -> None:
    assert len(MLB_TEAMS) == 30
    assert len(set(MLB_TEAMS.values())) == 30
    assert set(MLB_TEAMS.values()) <= KNOWN_TEAMS
    assert (retro_team(147), retro_team(158), retro_team(120)) == ("NYA", "MIL", "WAS")


@pytest.mark.parametrize(("day", "code"), [("2024-09-26", "OAK"), ("2025-03-28", "ATH")])
def test_the_athletics_take_the_code_the_game_logs_use_that_season(day: str, code: str) -> None:
    # The game logs write ATH from 2025: a live game id must be the one its log will have.
    batch = parse(schedule(game(717009, day, side(133), side(BOS))))
    assert batch.issues == ()
    (scheduled,) = batch.games
    assert scheduled.home == code
    assert scheduled.game_id == f"{code}{day.replace('-', '')}0"


@pytest.mark.parametrize("mlb_id", [999, 0, True, "147", None])
def test_unknown_team_ids(mlb_id: Any) -> None:
    assert retro_team(mlb_id) is None


# --- parsing ---------------------------------------------------------------------


def test_a_scheduled_game_with_both_starters() -> None:
    batch = parse(fixture_day())

    assert batch.issues == ()
    assert batch.games[0] == ScheduledGame(
        game_id="NYA202307010",
        date=DAY,
        game_number=0,
        season=2023,
        home="NYA",
        away="BOS",
        home_league=None,
        away_league=None,
        day_night="n",
        status=GameStatus.SCHEDULED,
        source=SOURCE,
        first_pitch=dt.datetime(2023, 7, 1, 23, 5, tzinfo=dt.UTC),
        external_id="900001",
    )
    assert batch.starters == (
        StarterAnnouncement("NYA202307010", "home", "coleg001", "Gerrit Cole", "NYA", NOW, SOURCE),
        StarterAnnouncement("NYA202307010", "away", "salec001", "Chris Sale", "BOS", NOW, SOURCE),
    )


def test_no_probable_pitcher_means_no_announcement() -> None:
    batch = parse(fixture_day())

    assert len(batch.games) == 4
    assert [s.game_id for s in batch.starters] == ["NYA202307010", "NYA202307010"]


def test_an_unknown_pitcher_is_the_explicit_unknown_starter_and_the_game_is_kept() -> None:
    payload = schedule(
        one_game(teams={"home": side(NYY, (5555, "Nobody Weknow")), "away": side(BOS)})
    )

    batch = parse(payload)

    assert batch.issues == ()
    assert len(batch.games) == 1
    (starter,) = batch.starters
    assert (starter.pitcher_id, starter.pitcher_name, starter.team) == (
        None,
        "Nobody Weknow",
        "NYA",
    )


def test_doubleheader_games_are_numbered_1_and_2() -> None:
    batch = parse(fixture_day())

    ids = [g.game_id for g in batch.games]
    assert ids == ["NYA202307010", "LAN202307010", "CHN202307011", "CHN202307012"]
    assert [g.game_number for g in batch.games] == [0, 0, 1, 2]
    assert batch.games[2].day_night == "d"
    assert all(GAME_ID.fullmatch(i) for i in ids)


def test_split_admission_doubleheader_is_numbered_too() -> None:
    batch = parse(schedule(one_game(doubleHeader="S", gameNumber=2)))
    assert [g.game_id for g in batch.games] == ["NYA202307012"]


def test_the_first_pitch_is_utc_and_keeps_the_official_date() -> None:
    # 02:10Z on July 1 is the evening of June 30 in California; officialDate decides the id.
    late = game(717002, "2023-06-30", side(119), side(137), time="02:10:00Z")
    late["gameDate"] = "2023-07-01T02:10:00Z"
    (g,) = parse(schedule(late)).games
    assert g.game_id == "LAN202306300"
    assert g.first_pitch == dt.datetime(2023, 7, 1, 2, 10, tzinfo=dt.UTC)


def test_a_start_time_to_be_decided_is_no_first_pitch() -> None:
    tbd = one_game()
    tbd["status"]["startTimeTBD"] = True
    assert parse(schedule(tbd)).games[0].first_pitch is None


def test_postponed_with_a_reschedule_date() -> None:
    status = {"abstractGameState": "Final", "codedGameState": "D", "detailedState": "Postponed"}
    postponed = one_game(
        status={**status, "reason": "Rain"},
        rescheduleDate="2023-07-02T17:05:00Z",
        rescheduleGameDate="2023-07-02",
    )

    batch = parse(schedule(postponed))

    (g,) = batch.games
    assert g.status is GameStatus.POSTPONED
    assert (g.postponed_reason, g.makeup_date) == ("Rain", dt.date(2023, 7, 2))
    assert batch.finals == ()  # "Final" as an abstract state, but postponed wins
    assert batch.issues == ()


def test_postponed_by_detailed_state_with_only_a_reschedule_datetime() -> None:
    status = {"abstractGameState": "Preview", "detailedState": "Postponed"}
    (g,) = parse(schedule(one_game(status=status, rescheduleDate="2023-08-14T23:05:00Z"))).games
    assert g.status is GameStatus.POSTPONED
    assert (g.postponed_reason, g.makeup_date) == ("Postponed", dt.date(2023, 8, 14))


def test_a_bad_makeup_date_loses_only_the_makeup_date() -> None:
    status = {"codedGameState": "D", "detailedState": "Postponed"}
    batch = parse(schedule(one_game(status=status, rescheduleGameDate="2023-06-31")))

    (g,) = batch.games
    assert (g.status, g.makeup_date) == (GameStatus.POSTPONED, None)
    reason = "bad rescheduleGameDate '2023-06-31': expected YYYY-MM-DD"
    assert reasons(batch) == {"dates[0].games[0].rescheduleGameDate": reason}


@pytest.mark.parametrize(
    "status",
    [
        {"abstractGameState": "Live", "codedGameState": "U", "detailedState": "Suspended: Rain"},
        {"abstractGameState": "Final", "codedGameState": "T", "detailedState": "Suspended"},
        {"abstractGameState": "Live", "detailedState": "Suspended: Darkness"},
    ],
)
def test_suspended(status: dict[str, str]) -> None:
    batch = parse(schedule(one_game(status=status)))
    assert [g.status for g in batch.games] == [GameStatus.SUSPENDED]
    assert batch.finals == ()


@pytest.mark.parametrize(
    "status",
    [
        ("Final", "F", "Final"),
        ("Final", "O", "Game Over"),
        ("Final", "?", "Completed Early"),
    ],
)
def test_final_with_scores(status: tuple[str, str, str]) -> None:
    final = game(717003, FIXTURE_DAY, side(NYY, score=3), side(BOS, score=5), status=status)

    batch = parse(schedule(final))

    assert [g.status for g in batch.games] == [GameStatus.FINAL]
    assert batch.finals == (FinalScore("NYA202307010", 3, 5, SOURCE),)
    assert batch.issues == ()


def test_final_without_usable_scores_keeps_the_game() -> None:
    final = game(717003, FIXTURE_DAY, side(NYY, score=3), side(BOS), status=("Final", "F", "Final"))
    batch = parse(schedule(final))
    assert [g.status for g in batch.games] == [GameStatus.FINAL]
    assert batch.finals == ()
    assert reasons(batch) == {
        "dates[0].games[0].teams": "final without usable scores (home 3, away None)"
    }


def test_in_progress_is_still_scheduled() -> None:
    live = one_game(
        status={"abstractGameState": "Live", "codedGameState": "I", "detailedState": "In Progress"}
    )
    assert parse(schedule(live)).games[0].status is GameStatus.SCHEDULED


def test_a_cancelled_game_is_an_issue_not_a_scheduled_game() -> None:
    status = {"abstractGameState": "Final", "codedGameState": "C", "detailedState": "Cancelled"}
    batch = parse(schedule(one_game(status=status)))
    assert batch.games == ()
    assert reasons(batch) == {"dates[0].games[0]": "cancelled (Cancelled): not a lifecycle state"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"teams": {"home": side(999), "away": side(BOS)}}, "unknown team id 999 (home)"),
        ({"teams": {"home": side(NYY), "away": side(160)}}, "unknown team id 160 (away)"),
        ({"teams": {"home": side(NYY), "away": side(NYY)}}, "home and away are both NYA"),
        ({"teams": {"home": side(NYY)}}, "missing teams.away.team.id"),
        ({"gamePk": None}, "missing gamePk"),
        ({"gamePk": "717001"}, "bad gamePk '717001': expected a positive integer"),
        ({"officialDate": "2023-02-30"}, "bad officialDate '2023-02-30': expected YYYY-MM-DD"),
        ({"officialDate": "20230701"}, "bad officialDate '20230701': expected YYYY-MM-DD"),
        ({"gameDate": "2023-07-01T23:05:00"}, f"bad gameDate '2023-07-01T23:05:00': {NEED_UTC}"),
        ({"gameDate": "tonight"}, f"bad gameDate 'tonight': {NEED_UTC}"),
        ({"status": None}, "missing status"),
        ({"status": {}}, "status has no state"),
        ({"doubleHeader": None}, "missing doubleHeader"),
        ({"doubleHeader": "Y", "gameNumber": 3}, "doubleheader game with gameNumber 3, not 1 or 2"),
        ({"doubleHeader": "Y", "gameNumber": True}, "doubleheader game with gameNumber True, not 1 "
                                                    "or 2"),
        ({"doubleHeader": "X"}, "unknown doubleHeader 'X'"),
    ],
)  # fmt: skip
def test_an_unusable_game_is_an_issue_and_loses_nothing_else(
    change: dict[str, Any], reason: str
) -> None:
    bad = {k: v for k, v in one_game(**change).items() if v is not None}
    payload = fixture_day()
    payload["dates"][0]["games"].insert(2, bad)

    batch = parse(payload)

    assert reasons(batch) == {"dates[0].games[2]": reason}
    assert json.loads(batch.issues[0].text) == bad  # the raw game, so nothing is lost
    assert batch.issues[0].source == SOURCE
    assert len(batch.games) == 4 and len(batch.starters) == 2


def test_a_probable_pitcher_without_a_name_loses_only_the_announcement() -> None:
    teams = {
        "home": {**side(NYY), "probablePitcher": {"id": 1}},
        "away": side(BOS, (2, "Chris Sale")),
    }
    batch = parse(schedule(one_game(teams=teams)))

    assert len(batch.games) == 1
    assert [s.side for s in batch.starters] == ["away"]
    assert reasons(batch) == {
        "dates[0].games[0].teams.home.probablePitcher": "probable pitcher without a fullName"
    }


def test_an_exact_repeat_is_kept_once() -> None:
    payload = fixture_day()
    games = payload["dates"][0]["games"]
    games.append(json.loads(json.dumps(games[0])))

    batch = parse(payload)

    assert [g.external_id for g in batch.games] == ["900001", "900002", "900003", "900004"]
    assert reasons(batch) == {
        "dates[0].games[4]": "repeats dates[0].games[0] (gamePk 900001 on 2023-07-01)"
    }


def test_conflicting_entries_for_one_gamepk_are_all_quarantined() -> None:
    payload = fixture_day()
    games = payload["dates"][0]["games"]
    games.append({**games[0], "gameDate": "2023-07-01T17:05:00Z"})

    batch = parse(payload)

    assert [g.external_id for g in batch.games] == ["900002", "900003", "900004"]
    where = "dates[0].games[0], dates[0].games[4]"
    assert reasons(batch) == {
        "dates[0].games[0]": f"conflicting entries for gamePk 900001 on 2023-07-01: {where}",
        "dates[0].games[4]": f"conflicting entries for gamePk 900001 on 2023-07-01: {where}",
    }


def test_two_games_with_one_game_id_are_both_quarantined() -> None:
    # Two NYA home games on one day, neither flagged as a doubleheader: which is which?
    twin = game(900009, FIXTURE_DAY, side(NYY), side(HOU))
    payload = fixture_day()
    payload["dates"][0]["games"].append(twin)

    batch = parse(payload)

    assert "NYA202307010" not in [g.game_id for g in batch.games]
    assert set(reasons(batch)) == {"dates[0].games[0]", "dates[0].games[4]"}
    assert all(
        r.startswith("conflicting entries for game id NYA202307010")
        for r in reasons(batch).values()
    )
    assert batch.starters == ()  # the quarantined game's starters go with it


def test_the_same_gamepk_on_another_date_is_a_makeup_not_a_duplicate() -> None:
    postponed = one_game(
        status={"codedGameState": "D", "detailedState": "Postponed"},
        rescheduleGameDate="2023-07-02",
    )
    makeup = {**one_game(), "officialDate": "2023-07-02", "gameDate": "2023-07-02T17:05:00Z"}

    batch = parse(schedule(postponed, makeup))

    assert [(g.game_id, g.status) for g in batch.games] == [
        ("NYA202307010", GameStatus.POSTPONED),
        ("NYA202307020", GameStatus.SCHEDULED),
    ]
    assert batch.issues == ()


def test_a_game_still_scheduled_before_today_is_an_issue() -> None:
    stale = game(717010, "2023-06-30", side(CHC), side(STL))
    final = game(
        717011, "2023-06-30", side(HOU, score=1), side(TEX, score=0), status=("Final", "F", "Final")
    )
    payload = schedule(stale, final, *fixture_day()["dates"][0]["games"])

    batch = parse(payload, today=DAY)

    assert reasons(batch) == {
        "dates[0].games[0]": "still scheduled on 2023-06-30, before today 2023-07-01"
    }
    assert [g.game_id for g in batch.games][:1] == ["HOU202306300"]  # the result still counts
    assert len(batch.games) == 5
    assert parse(payload).issues == ()  # no today: no check


@pytest.mark.parametrize(
    "payload", [[], None, "dates", {"dates": {}}, {"games": []}, {"message": "Object not found"}]
)
def test_a_payload_not_in_the_documented_shape_is_one_issue(payload: Any) -> None:
    batch = parse(payload)
    assert batch.games == () and batch.starters == ()
    assert [(i.location, i.reason) for i in batch.issues] == [
        ("payload", "not a schedule: expected an object with a 'dates' list")
    ]
    assert json.loads(batch.issues[0].text) == payload


def test_a_bad_day_loses_nothing_of_the_other_days() -> None:
    payload = fixture_day()
    payload["dates"][0:0] = [{"date": "2023-06-30"}, "nonsense"]

    batch = parse(payload)

    assert reasons(batch) == {
        "dates[0]": "not a day: no 'games' list",
        "dates[1]": "not a day: no 'games' list",
    }
    assert len(batch.games) == 4


def test_a_game_that_is_not_an_object() -> None:
    payload = schedule(one_game())
    payload["dates"][0]["games"].append([1, 2])
    batch = parse(payload)
    assert reasons(batch) == {"dates[0].games[1]": "not a game: expected an object"}
    assert len(batch.games) == 1


def test_issue_locations_are_unique_in_a_messy_batch() -> None:
    payload = partial_day()
    games = payload["dates"][0]["games"]
    games.append(json.loads(json.dumps(games[0])))
    games.append({**one_game(), "status": {"codedGameState": "D"}, "rescheduleGameDate": "x"})
    payload["dates"].append("nonsense")

    locations = [i.location for i in parse(payload).issues]

    assert len(locations) == len(set(locations)) == 5


def test_a_naive_announcement_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule_payload(fixture_day(), SOURCE, PITCHERS, dt.datetime(2023, 7, 1, 15))


# --- the client against the fake API ----------------------------------------------


@pytest.fixture
def api() -> Iterator[StatsApiServer]:
    with serve_stats_api({FIXTURE_DAY: fixture_day()}) as state:
        yield state


def client(api: StatsApiServer, **kwargs: Any) -> StatsApiClient:
    return StatsApiClient(api.base_url, **{"timeout_s": 2.0, **FAST, **kwargs})


def test_fetches_and_parses_a_day(api: StatsApiServer) -> None:
    with client(api) as stats:
        batch = stats.schedule(DAY, PITCHERS, NOW)

    assert len(batch.games) == 4 and len(batch.starters) == 2 and batch.issues == ()
    assert {g.source for g in batch.games} == {SOURCE}
    assert api.requests == ["/api/v1/schedule?sportId=1&date=2023-07-01&hydrate=probablePitcher"]


def test_a_day_without_games(api: StatsApiServer) -> None:
    with client(api) as stats:
        assert stats.schedule(dt.date(2023, 12, 25), PITCHERS, NOW) == FeedBatch()


def test_server_errors_are_retried_then_succeed(api: StatsApiServer) -> None:
    api.faults = ["500", "503"]
    with client(api, retries=3) as stats:
        payload = stats.fetch_day(DAY)
    assert payload == fixture_day()
    assert len(api.requests) == 3


def test_server_errors_give_up_after_the_retries(api: StatsApiServer) -> None:
    api.faults = ["503"] * 5
    with client(api, retries=2) as stats, pytest.raises(StatsApiError) as caught:
        stats.fetch_day(DAY)
    assert caught.value.url == stats.url(DAY)
    assert caught.value.problem == "failed after 3 attempts: HTTP 503"
    assert len(api.requests) == 3


def test_a_timeout_gives_up_within_a_bounded_time(api: StatsApiServer) -> None:
    api.faults, api.delay_s = ["delay", "delay"], 5.0
    started = time.monotonic()
    with client(api, timeout_s=0.2, retries=1) as stats, pytest.raises(StatsApiError) as caught:
        stats.fetch_day(DAY)
    assert time.monotonic() - started < 2.0
    assert caught.value.problem.startswith("failed after 2 attempts: ReadTimeout")
    assert len(api.requests) == 2


def test_a_timeout_then_success(api: StatsApiServer) -> None:
    api.faults, api.delay_s = ["delay"], 5.0
    with client(api, timeout_s=0.2, retries=1) as stats:
        assert stats.fetch_day(DAY) == fixture_day()


def test_a_client_error_is_not_retried(api: StatsApiServer) -> None:
    api.faults = ["404"]
    with client(api) as stats, pytest.raises(StatsApiError) as caught:
        stats.fetch_day(DAY)
    assert str(caught.value) == f"{stats.url(DAY)}: HTTP 404"
    assert len(api.requests) == 1


def test_malformed_json_names_the_url(api: StatsApiServer) -> None:
    api.faults = ["malformed"]
    with client(api) as stats, pytest.raises(StatsApiError) as caught:
        stats.fetch_day(DAY)
    assert str(caught.value).startswith(f"{api.base_url}/api/v1/schedule?sportId=1&date=2023-07-01")
    assert caught.value.problem.startswith("malformed JSON")
    assert len(api.requests) == 1


def test_a_partial_day_loses_only_the_broken_game(api: StatsApiServer) -> None:
    api.days[FIXTURE_DAY] = partial_day()
    with client(api) as stats:
        batch = stats.schedule(DAY, PITCHERS, NOW)
    assert len(batch.games) == 4
    assert reasons(batch) == {"dates[0].games[1]": "missing teams.home.team.id"}


def test_an_oversized_response_is_refused(api: StatsApiServer) -> None:
    with client(api, max_bytes=100) as stats, pytest.raises(StatsApiError, match="larger than 100"):
        stats.fetch_day(DAY)


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stats = StatsApiClient(f"http://127.0.0.1:{port}", timeout_s=1.0, retries=1, **FAST)
    with stats, pytest.raises(StatsApiError, match="failed after 2 attempts: ConnectError"):
        stats.fetch_day(DAY)


def test_the_default_url() -> None:
    with StatsApiClient() as stats:
        assert stats.base_url == DEFAULT_BASE_URL == "https://statsapi.mlb.com"
        assert stats.url(DAY) == (
            "https://statsapi.mlb.com/api/v1/schedule?sportId=1&date=2023-07-01&hydrate=probablePitcher"
        )


def test_negative_retries_are_refused() -> None:
    with pytest.raises(ValueError, match="retries"):
        StatsApiClient(retries=-1)
