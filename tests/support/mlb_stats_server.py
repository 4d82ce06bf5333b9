"""A fake MLB Stats API for the tests: schedule payloads and a loopback server that misbehaves.

Every payload here is a FIXTURE WRITTEN FOR THE TESTS in the documented shape of
`GET /api/v1/schedule?sportId=1&date=YYYY-MM-DD&hydrate=probablePitcher`; the
gamePks, times, scores and pitcher ids are made up, not real MLB data.

The server binds 127.0.0.1 on a free port. `faults` scripts what the next
requests get, one entry per request ("500", "503", "404", "delay", "malformed");
once used up, days are served normally.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback_http import serve_http

SCHEDULE_PATH = "/api/v1/schedule"
# Stats API team ids used by the fixtures.
NYY, BOS, CHC, STL, LAD, SF, HOU, TEX = 147, 111, 112, 138, 119, 137, 117, 140
_NAMES = {
    NYY: "New York Yankees", BOS: "Boston Red Sox", CHC: "Chicago Cubs",
    STL: "St. Louis Cardinals", LAD: "Los Angeles Dodgers", SF: "San Francisco Giants",
    HOU: "Houston Astros", TEX: "Texas Rangers",
}  # fmt: skip
# Never wait longer than this on a "delay" fault, whatever the test asked.
_MAX_DELAY_S = 10.0


def side(
    team_id: int, pitcher: tuple[int, str] | None = None, score: int | None = None
) -> dict[str, Any]:
    """One side of a fixture game: the team, a probable pitcher (MLB id, name), a score."""
    entry: dict[str, Any] = {"team": {"id": team_id, "name": _NAMES.get(team_id, "Fixture Club")}}
    if pitcher is not None:
        entry["probablePitcher"] = {"id": pitcher[0], "fullName": pitcher[1]}
    if score is not None:
        entry["score"] = score
    return entry


def game(
    pk: int,
    date: str,
    home: dict[str, Any],
    away: dict[str, Any],
    *,
    time: str = "23:05:00Z",
    status: tuple[str, str, str] = ("Preview", "S", "Scheduled"),
    double_header: str = "N",
    game_number: int = 1,
    day_night: str = "night",
    **extra: Any,
) -> dict[str, Any]:
    """A fixture game; `status` is (abstractGameState, codedGameState, detailedState)."""
    abstract, coded, detailed = status
    return {
        "gamePk": pk,
        "gameDate": f"{date}T{time}",
        "officialDate": date,
        "status": {
            "abstractGameState": abstract,
            "codedGameState": coded,
            "detailedState": detailed,
        },
        "doubleHeader": double_header,
        "gameNumber": game_number,
        "dayNight": day_night,
        "teams": {"home": home, "away": away},
        **extra,
    }


def schedule(*games: dict[str, Any]) -> dict[str, Any]:
    """A fixture payload: the games grouped under their officialDate, as the API does."""
    dates: dict[str, list[dict[str, Any]]] = {}
    for g in games:
        dates.setdefault(str(g.get("officialDate")), []).append(g)
    return {
        "totalGames": len(games),
        "dates": [{"date": d, "games": gs} for d, gs in dates.items()],
    }


FIXTURE_DAY = "2023-07-01"


def fixture_day() -> dict[str, Any]:
    """A made-up day: a game with both starters, one with none announced, a doubleheader."""
    cole, sale = (1001, "Gerrit Cole"), (1002, "Chris Sale")
    first = {"double_header": "Y", "game_number": 1, "time": "17:20:00Z", "day_night": "day"}
    return schedule(
        game(900001, FIXTURE_DAY, side(NYY, cole), side(BOS, sale)),
        game(900002, FIXTURE_DAY, side(LAD), side(SF), time="02:10:00Z"),
        game(900003, FIXTURE_DAY, side(CHC), side(STL), **first),
        game(900004, FIXTURE_DAY, side(CHC), side(STL), double_header="Y", game_number=2),
    )


def partial_day() -> dict[str, Any]:
    """The fixture day with one more game that lacks its teams: a feed glitch."""
    payload = fixture_day()
    broken = game(900005, FIXTURE_DAY, side(HOU), side(TEX))
    del broken["teams"]
    payload["dates"][0]["games"].insert(1, broken)
    return payload


@dataclass
class StatsApiServer:
    """What the fake API serves (`days`: "YYYY-MM-DD" → payload), what it was asked, its faults."""

    days: dict[str, Any] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    delay_s: float = 1.0
    requests: list[str] = field(default_factory=list)
    base_url: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)

    def next_action(self) -> str:
        return self.faults.pop(0) if self.faults else "serve"


def _handler(state: StatsApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.requests.append(self.path)
            url = urlsplit(self.path)
            action = state.next_action()
            if url.path != SCHEDULE_PATH or action == "404":
                self._reply(404, b'{"message": "Object not found"}')
            elif action in ("500", "503"):
                self._reply(int(action), b"upstream trouble")
            elif action == "malformed":
                self._reply(200, b'{"dates": [{"date": "2023-07-01", "games": [')
            else:
                if action == "delay":  # past the client's timeout; ends early on shutdown
                    state.stopping.wait(min(state.delay_s, _MAX_DELAY_S))
                self._serve_day(parse_qs(url.query).get("date", [""])[0])

        def _serve_day(self, day: str) -> None:
            payload = state.days.get(day, {"totalGames": 0, "dates": []})
            self._reply(200, json.dumps(payload).encode())

        def _reply(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler


@contextlib.contextmanager
def serve_stats_api(days: dict[str, Any]) -> Iterator[StatsApiServer]:
    """`days` on 127.0.0.1 and a free port until the block ends."""
    state = StatsApiServer(days=days)
    # Wake delayed handlers at the end, so nothing outlives the test.
    with serve_http(_handler(state), on_stop=state.stopping.set) as base_url:
        state.base_url = base_url
        yield state
