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
    from tests.support.odds import bookmaker, event, spread_prices

    starts = dt.datetime.combine(DAY, dt.time(23, 5), tzinfo=dt.UTC)
    at = dt.datetime.combine(DAY, dt.time(15), tzinfo=dt.UTC)
    games = [(TEAMS[2 * i], TEAMS[2 * i + 1]) for i in range(15)]
    return [
        event(home, away, starts, [bookmaker(b, home, away, *spread_prices(i, k), at)
                                   for k, b in enumerate(BOOKS)])
        for i, (home, away) in enumerate(games)
    ]  # fmt: skip


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
