"""The Odds API v4 and CSV adapters, and matching their lines to game ids.

FIXTURE prices throughout (tests.support.odds): invented, not market data.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bullpen.domain.team_names import team_code
from bullpen.sources.odds_api import OddsApiClient, OddsApiError, parse_odds_payload
from bullpen.sources.odds_csv import parse_odds_csv
from bullpen.sources.odds_lines import Slot, match_lines
from tests.support.loopback_http import serve_http
from tests.support.odds import bookmaker, event

DAY = dt.date(2022, 4, 20)
NIGHT = dt.datetime(2022, 4, 20, 23, 5, tzinfo=dt.UTC)  # 19:05 in New York
AT = dt.datetime(2022, 4, 20, 16, tzinfo=dt.UTC)


def test_full_names_and_renames_map_to_retrosheet_codes() -> None:
    assert team_code("New York Yankees") == "NYA"
    assert team_code("Cleveland Indians") == team_code("Cleveland Guardians") == "CLE"
    assert team_code("Oakland Athletics") == team_code("Athletics") == "OAK"
    assert team_code("Florida Marlins") == "FLO" and team_code("Miami Marlins") == "MIA"
    assert team_code("  los angeles   ANGELS ") == "ANA"
    assert team_code("Springfield Isotopes") is None and team_code(7) is None


def test_a_payload_gives_one_line_per_bookmaker() -> None:
    payload = [event("NYA", "BOS", NIGHT, [
        bookmaker("draftkings", "NYA", "BOS", 1.80, 2.10, AT),
        bookmaker("fanduel", "NYA", "BOS", 1.85, 2.02, AT),
    ])]  # fmt: skip
    lines, issues = parse_odds_payload(payload, "fixture.json", "decimal")
    assert issues == []
    assert [(x.book, x.home, x.away, x.home_decimal, x.away_decimal) for x in lines] == [
        ("draftkings", "NYA", "BOS", 1.80, 2.10), ("fanduel", "NYA", "BOS", 1.85, 2.02)
    ]
    assert lines[0].date == DAY and lines[0].taken_at == AT and lines[0].commence_time == NIGHT


def test_american_prices_are_converted() -> None:
    payload = [event("NYA", "BOS", NIGHT, [bookmaker("betmgm", "NYA", "BOS", -150, 130, AT)])]
    (line,), _ = parse_odds_payload(payload, "fixture.json", "american")
    assert line.home_decimal == pytest.approx(1 + 100 / 150) and line.away_decimal == 2.30


def test_a_late_game_keeps_its_us_eastern_date() -> None:
    late = dt.datetime(2022, 4, 21, 2, 10, tzinfo=dt.UTC)  # 22:10 on the 20th in New York
    payload = [event("SEA", "TEX", late, [bookmaker("draftkings", "SEA", "TEX", 1.9, 1.95, AT)])]
    (line,), _ = parse_odds_payload(payload, "fixture.json", "decimal")
    assert line.date == DAY


@pytest.mark.parametrize(("year", "code"), [(2024, "OAK"), (2025, "ATH")])
def test_the_athletics_take_the_code_the_game_logs_use_that_season(year: int, code: str) -> None:
    starts = NIGHT.replace(year=year)
    payload = [event("OAK", "SEA", starts, [bookmaker("draftkings", "OAK", "SEA", 2.1, 1.8, AT)])]
    (line,), issues = parse_odds_payload(payload, "fixture.json", "decimal")
    assert issues == [] and (line.home, line.away, line.home_decimal) == (code, "SEA", 2.1)


HOSTILE = [
    ("odds of 1.0", bookmaker("draftkings", "NYA", "BOS", 1.0, 2.1, AT), "greater than 1"),
    ("negative price", bookmaker("fanduel", "NYA", "BOS", -1.8, 2.1, AT), "greater than 1"),
    ("a string price", bookmaker("betmgm", "NYA", "BOS", "evens", 2.1, AT), "must be a number"),
    ("unknown book", bookmaker("shadybook", "NYA", "BOS", 1.8, 2.1, AT), "unknown bookmaker"),
    ("implausible margin", bookmaker("bovada", "NYA", "BOS", 3.0, 3.0, AT), "add up to"),
]


@pytest.mark.parametrize(("what", "book", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_bad_bookmaker_line_is_quarantined_and_the_rest_read(
    what: str, book: dict, reason: str
) -> None:
    good = bookmaker("lowvig", "NYA", "BOS", 1.8, 2.1, AT)
    payload = [event("NYA", "BOS", NIGHT, [book, good])]
    lines, issues = parse_odds_payload(payload, "fixture.json", "decimal")
    assert [x.book for x in lines] == ["lowvig"]
    assert len(issues) == 1 and reason in issues[0].reason
    assert issues[0].location == "[0].bookmakers[0]" and json.loads(issues[0].text) == book


def test_a_missing_outcome_is_quarantined() -> None:
    book = bookmaker("draftkings", "NYA", "BOS", 1.8, 2.1, AT)
    book["markets"][0]["outcomes"].pop()
    lines, issues = parse_odds_payload([event("NYA", "BOS", NIGHT, [book])], "f", "decimal")
    assert lines == [] and "exactly the outcomes of both teams" in issues[0].reason


@pytest.mark.parametrize(
    "payload", [{"not": "a list"}, "text", [42], [{"home_team": "Nobody", "away_team": "X"}]]
)
def test_what_is_not_an_event_is_an_issue(payload: object) -> None:
    lines, issues = parse_odds_payload(payload, "fixture.json", "decimal")
    assert lines == [] and len(issues) == 1


def test_csv_rows_read_and_bad_rows_name_their_line() -> None:
    text = (
        "date,home,away,game_number,book,home_price,away_price,format,taken_at\n"
        "2022-04-20,NYA,BOS,0,DraftKings,-150,130,american,2022-04-20T16:00:00Z\n"
        "2022-04-20,NYA,BOS,0,fanduel,1.8,2.1,decimal,2022-04-20T16:00:00\n"
        "2022-04-20,NYA,XXX,0,fanduel,1.8,2.1,decimal,2022-04-20T16:00:00Z\n"
        "2022-04-20,NYA,BOS,3,fanduel,1.8,2.1,decimal,2022-04-20T16:00:00Z\n"
        "2022-04-20,NYA,BOS,0,fanduel,1.8,2.1,fractional,2022-04-20T16:00:00Z\n"
    )
    lines, issues = parse_odds_csv(text, "lines.csv")
    assert [(x.book, x.game_number, x.taken_at) for x in lines] == [("draftkings", 0, AT)]
    assert [(i.location, i.reason.split(" ")[0]) for i in issues] == [
        ("line 3", "taken_at"), ("line 4", "away"), ("line 5", "game_number"), ("line 6", "format")
    ]  # fmt: skip


def test_csv_without_its_columns_is_one_issue() -> None:
    lines, issues = parse_odds_csv("date,home\n2022-04-20,NYA\n", "lines.csv")
    assert lines == [] and "missing columns" in issues[0].reason


def _slots() -> list[Slot]:
    return [
        Slot("NYA202204200", DAY, 0, "NYA", "BOS"),
        Slot("DET202204201", DAY, 1, "DET", "CHA"),
        Slot("DET202204202", DAY, 2, "DET", "CHA"),
    ]


def test_events_match_game_ids_and_a_doubleheader_goes_by_start_time() -> None:
    first, second = NIGHT - dt.timedelta(hours=6), NIGHT
    payload = [
        event("DET", "CHA", second, [bookmaker("fanduel", "DET", "CHA", 1.9, 1.95, AT)]),
        event("DET", "CHA", first, [bookmaker("fanduel", "DET", "CHA", 1.7, 2.2, AT)]),
        event("NYA", "BOS", NIGHT, [bookmaker("fanduel", "NYA", "BOS", 1.8, 2.1, AT)]),
        event("SEA", "TEX", NIGHT, [bookmaker("fanduel", "SEA", "TEX", 1.8, 2.1, AT)]),
    ]
    lines, _ = parse_odds_payload(payload, "fixture.json", "decimal")
    snapshots, issues = match_lines(lines, _slots())
    assert sorted((s.game_id, s.home_decimal) for s in snapshots) == [
        ("DET202204201", 1.7), ("DET202204202", 1.9), ("NYA202204200", 1.8)
    ]  # fmt: skip
    assert [i.reason for i in issues] == ["no scheduled game TEX@SEA on 2022-04-20"]


def test_one_event_of_a_doubleheader_is_ambiguous() -> None:
    payload = [event("DET", "CHA", NIGHT, [bookmaker("fanduel", "DET", "CHA", 1.9, 1.95, AT)])]
    lines, _ = parse_odds_payload(payload, "fixture.json", "decimal")
    snapshots, issues = match_lines(lines, _slots())
    assert snapshots == [] and "ambiguous" in issues[0].reason


def test_the_poller_fetches_through_a_loopback_server_and_hides_its_key() -> None:
    from http.server import BaseHTTPRequestHandler

    payload = [event("NYA", "BOS", NIGHT, [bookmaker("fanduel", "NYA", "BOS", 1.8, 2.1, AT)])]
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            status, body = (200, json.dumps(payload).encode()) if "apiKey=k1" in self.path else (
                401, b"{}")  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serve_http(Handler) as base:
        with OddsApiClient(base, "k1", retries=0) as client:
            lines, issues = client.lines(AT)
        assert [x.book for x in lines] == ["fanduel"] and issues == []
        assert seen[0].startswith("/v4/sports/baseball_mlb/odds?")
        assert "markets=h2h" in seen[0] and "oddsFormat=decimal" in seen[0]
        with OddsApiClient(base, "wrong", retries=0) as client, pytest.raises(
            OddsApiError, match="HTTP 401"
        ) as failed:
            client.fetch()
        assert "wrong" not in str(failed.value)
