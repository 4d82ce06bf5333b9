"""Locust users that behave like bullpen's clients, and the phases of a load test.

* `SlateReader` (most users): polls the day's slate, now and then opens one game.
* `GameFollower`: follows single games of the slate.
* `EdgeHunter` (a few): reads a game, then asks for the edge against market odds.

Each user sends the API key (`--bp-api-key`, or `BULLPEN_LOADTEST_API_KEY`) as
`X-API-Key`, learns the slate's game ids from `GET /v1/games?date=` at start, and
waits a think time between requests. Requests are named by route, so the report
groups them by endpoint; any non-2xx is a failure named by its status.

`PhasedLoad` ramps users up linearly, sustains the peak, ramps down, then stops:
`--bp-users`, `--bp-ramp-up`, `--bp-sustain`, `--bp-ramp-down` (seconds).

Run through `bullpen-loadtest` (which also refuses non-loopback hosts), or directly:
`locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8000`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, events, task

# Locust imports this file by path; its helpers are plain modules beside it, kept free
# of Locust (which monkey-patches the process) so tests can import them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtest.shape import american_odds, phase_users

GAME_ROUTE = "/v1/games/{game_id}/prediction"
SLATE_ROUTE = "/v1/games?date={date}"
EDGE_ROUTE = "/v1/edge"


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--bp-api-key", env_var="BULLPEN_LOADTEST_API_KEY", default="",
                       include_in_web_ui=False, help="read-scope API key")  # fmt: skip
    parser.add_argument("--bp-dates", default="2022-04-07", help="comma-separated slate dates")
    parser.add_argument("--bp-users", type=int, default=10, help="users at the peak")
    parser.add_argument("--bp-ramp-up", type=float, default=5.0)
    parser.add_argument("--bp-sustain", type=float, default=10.0)
    parser.add_argument("--bp-ramp-down", type=float, default=3.0)
    parser.add_argument("--bp-wait-min", type=float, default=0.5)
    parser.add_argument("--bp-wait-max", type=float, default=1.5)


class BullpenUser(FastHttpUser):
    abstract = True

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        return between(options.bp_wait_min, max(options.bp_wait_min, options.bp_wait_max))(self)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.headers = {"X-API-Key": options.bp_api_key}
        self.rng = random.Random()
        self.dates = [d.strip() for d in options.bp_dates.split(",") if d.strip()]
        self.game_ids: list[str] = []
        for date in self.dates:
            self.game_ids += [g["game_id"] for g in self.slate(date).get("games", [])]

    def request(self, method: str, url: str, name: str, **kwargs: Any) -> dict[str, Any]:
        with self.client.request(
            method, url, name=name, headers=self.headers, catch_response=True, **kwargs
        ) as response:
            if not 200 <= (response.status_code or 0) < 300:
                response.failure(f"HTTP {response.status_code or 'no response'}")
                return {}
            try:
                return response.json()
            except ValueError:
                response.failure("invalid JSON body")
                return {}

    def slate(self, date: str | None = None) -> dict[str, Any]:
        date = date or self.rng.choice(self.dates)
        return self.request("GET", f"/v1/games?date={date}", SLATE_ROUTE)

    def game(self) -> dict[str, Any]:
        if not self.game_ids:
            return self.slate()
        game_id = self.rng.choice(self.game_ids)
        return self.request("GET", f"/v1/games/{game_id}/prediction", GAME_ROUTE)


class SlateReader(BullpenUser):
    weight = 6

    @task(9)
    def read_slate(self) -> None:
        self.slate()

    @task(1)
    def open_game(self) -> None:
        self.game()


class GameFollower(BullpenUser):
    weight = 3

    @task
    def follow_game(self) -> None:
        self.game()


class EdgeHunter(BullpenUser):
    weight = 1

    @task
    def hunt_edge(self) -> None:
        game = self.game()
        if not game.get("game_id"):
            return
        home, away = american_odds(self.rng)
        body = {"game_id": game["game_id"], "home_odds": home, "away_odds": away}
        self.request("POST", EDGE_ROUTE, EDGE_ROUTE, json=body)


class PhasedLoad(LoadTestShape):
    """Ramp-up, sustained load, ramp-down; the test stops when the last phase ends."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options
        peak = options.bp_users
        up, hold, down = options.bp_ramp_up, options.bp_sustain, options.bp_ramp_down
        t = self.get_run_time()
        users = phase_users(t, peak, up, hold, down)
        if users is None:
            return None
        ramp = up if t < up else down  # users started (or stopped) per second
        return users, max(1.0, peak / max(ramp, 1.0))
