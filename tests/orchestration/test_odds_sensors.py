"""The odds sensors: a dropped odds file and a poll of The Odds API (a loopback fake) become
stored lines and a re-warmed board in the tick, reported as `odds_boards`; nothing twice.

FIXTURE prices (tests.support.odds): invented, not market data.
"""

from __future__ import annotations

import datetime as dt
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from dagster import DagsterInstance

from assets.resources import LiveFeeds
from bullpen.cache import contract
from bullpen.domain.schedule import EASTERN
from bullpen.store import make_engine
from bullpen.store.odds import read_odds
from orchestration.live import feed_folder_sensor
from orchestration.odds import odds_api_sensor, odds_folder_sensor
from tests.support.live_sensors import DAY, SCHEDULE, Live, tick
from tests.support.loopback_http import serve_http
from tests.support.odds import bookmaker, event

AT = dt.datetime.combine(DAY, dt.time(9), tzinfo=EASTERN).astimezone(dt.UTC)
STARTS = dt.datetime.combine(DAY, dt.time(13, 5), tzinfo=EASTERN)


def _payload(at: dt.datetime, price: float = 1.8) -> list[dict[str, Any]]:
    return [
        event("BOS", "BAL", STARTS, [bookmaker("draftkings", "BOS", "BAL", price, 2.1, at)]),
        event("NYA", "SFN", STARTS, [bookmaker("fanduel", "NYA", "SFN", 1.6, 2.45, at)]),
    ]


def _scheduled(live: Live, instance: DagsterInstance) -> None:
    (live.folder / "2023schedule.csv").write_text(SCHEDULE)
    tick(feed_folder_sensor, live, instance)


def _metadata(result: Any) -> list[dict[str, Any]]:
    return [{k: v.value for k, v in e.metadata.items()} for e in result.asset_events]


def test_a_dropped_odds_file_warms_the_board_once(live: Live, instance: DagsterInstance) -> None:
    _scheduled(live, instance)
    (live.odds_folder / "morning.json").write_text(json.dumps(_payload(AT)))
    (live.odds_folder / "junk.csv").write_text("not,an,odds,file\n")

    first = tick(odds_folder_sensor, live, instance)

    [report] = _metadata(first)
    assert (report["date"], report["new_snapshots"], report["games_with_odds"]) == (
        DAY.isoformat(), 2, 2,
    )  # fmt: skip
    pointer = live.redis.get(contract.odds_revision_key(DAY))
    assert pointer is not None
    again = tick(odds_folder_sensor, live, instance, first.cursor)
    assert not again.asset_events and "0 new odds files" in again.skip_message

    (live.odds_folder / "noon.json").write_text(json.dumps(_payload(AT + dt.timedelta(hours=2),
                                                                    1.75)))  # fmt: skip
    moved = tick(odds_folder_sensor, live, instance, again.cursor)
    assert _metadata(moved)[0]["new_snapshots"] == 2
    assert live.redis.get(contract.odds_revision_key(DAY)) != pointer
    engine = make_engine(live.store_url)
    assert len(read_odds(engine, on=DAY)) == 4
    engine.dispose()


def test_the_odds_api_sensor_polls_a_loopback_fake(live: Live, instance: DagsterInstance) -> None:
    _scheduled(live, instance)
    body = json.dumps(_payload(AT)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    off = tick(odds_api_sensor, live, instance)
    assert "not set" in off.skip_message
    with serve_http(Handler) as base:
        live.resources["feeds"] = LiveFeeds(feed_dir=str(live.folder), odds_api_url=base,
                                            odds_dir=str(live.odds_folder))  # fmt: skip
        polled = tick(odds_api_sensor, live, instance)
        repeated = tick(odds_api_sensor, live, instance)
    assert _metadata(polled)[0]["games_with_odds"] == 2
    assert not repeated.asset_events and "no board changed" in repeated.skip_message
