"""Benchmark: importing a full day of The Odds API (15 games x 10 books) into the store.

Run: `python -m bench.odds [--repeat 5]` (or `bullpen-bench odds`).

Not a test. A SQLite store with 15 games scheduled on one date; a FIXTURE payload in
The Odds API v4 shape (invented prices: not market data) written to a file; the
import as the CLI and the sensor run it (read, parse, match, record) timed as the
median of `--repeat` fresh stores, beside the reference of the same run: decoding
the same file's JSON alone. Target (issue 14): < 1 s per import.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import machine, save
from bench.stack import fixture_prices

DAY = dt.date(2023, 7, 4)
TEAMS = ["NYA", "BOS", "TBA", "TOR", "BAL", "CLE", "MIN", "DET", "CHA", "KCA", "HOU", "SEA",
         "TEX", "ANA", "OAK", "ATL", "PHI", "MIA", "NYN", "WAS", "MIL", "CHN", "CIN", "PIT",
         "SLN", "LAN", "SDN", "SFN", "ARI", "COL"]  # fmt: skip
BOOKS = ["draftkings", "fanduel", "betmgm", "caesars", "pointsbetus", "betrivers", "bovada",
         "betonlineag", "lowvig", "mybookieag"]  # fmt: skip


def _store(path: Path) -> Any:
    from bullpen.domain.schedule import GameStatus, ScheduledGame
    from bullpen.store import make_engine, upgrade
    from bullpen.store.live import record_schedule

    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    record_schedule(engine, [ScheduledGame(
        game_id=f"{TEAMS[2 * i]}{DAY:%Y%m%d}0", date=DAY, game_number=0, season=DAY.year,
        home=TEAMS[2 * i], away=TEAMS[2 * i + 1], home_league=None, away_league=None,
        day_night="n", status=GameStatus.SCHEDULED, source="bench",
    ) for i in range(15)])  # fmt: skip
    return engine


def _payload() -> list[dict[str, Any]]:
    """The Odds API v4 shape with FIXTURE prices (`bench.stack.fixture_prices`)."""
    starts = f"{DAY:%Y-%m-%d}T23:05:00Z"
    at = f"{DAY:%Y-%m-%d}T15:00:00Z"
    events = []
    for i in range(15):
        home, away = _name(TEAMS[2 * i]), _name(TEAMS[2 * i + 1])
        books = []
        for k, book in enumerate(BOOKS):
            home_price, away_price = fixture_prices(i, k)
            outcomes = [{"name": home, "price": home_price}, {"name": away, "price": away_price}]
            books.append(
                {
                    "key": book,
                    "title": book,
                    "last_update": at,
                    "markets": [{"key": "h2h", "last_update": at, "outcomes": outcomes}],
                }
            )
        events.append(
            {
                "id": f"bench-{i}",
                "sport_key": "baseball_mlb",
                "commence_time": starts,
                "home_team": home,
                "away_team": away,
                "bookmakers": books,
            }
        )
    return events  # fmt: skip


def _name(code: str) -> str:
    """A full club name The Odds API would write for a Retrosheet code (its first listed)."""
    from bullpen.domain.team_names import TEAM_NAMES

    return next(name.title() for name, team in TEAM_NAMES.items() if team == code)


def main(argv: list[str] | None = None) -> None:
    from bullpen.serving.odds import import_lines, read_odds_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="merge results into this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-odds-"))
    try:
        path = workdir / "odds.json"
        path.write_text(json.dumps(_payload()))
        imports, decodes, stored = [], [], 0
        for run in range(args.repeat):
            engine = _store(workdir / f"store-{run}.db")
            started = time.perf_counter()
            json.loads(path.read_bytes())
            decodes.append(time.perf_counter() - started)
            started = time.perf_counter()
            lines, issues = read_odds_file(path, "the-odds-api")
            stored = import_lines(engine, path.name, lines, issues).stored
            imports.append(time.perf_counter() - started)
            engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    imported, decoded = sorted(imports)[len(imports) // 2], sorted(decodes)[len(decodes) // 2]
    print(f"setup: {machine()}; SQLite; 15 games x {len(BOOKS)} books; median of {args.repeat}")
    print(
        f"import (read, parse, match, record {stored} snapshots): {imported * 1000:.1f} ms "
        f"(target < 1000 ms)"
    )
    print(
        f"reference, json.loads of the same file: {decoded * 1000:.2f} ms "
        f"(import ÷ decode: {imported / decoded:.0f}x)"
    )
    save(args.json, "odds", {"import_ms": imported * 1000, "decode_ms": decoded * 1000,
                             "snapshots": stored})  # fmt: skip


if __name__ == "__main__":
    main()
