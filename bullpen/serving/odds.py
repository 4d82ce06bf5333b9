"""Odds in: read a feed (a file, The Odds API), record its lines, re-warm the boards it changed.

Every odds source ends here, the CLI's import, the drop-folder sensor and the
Odds API poller alike: lines are matched to the schedule's games
(`bullpen.sources.odds_lines.match_lines`), recorded once each
(`bullpen.store.odds.record_odds`: unknown, final, postponed or in-play games are
quarantined with the reason), and the boards of the dates whose lines changed are
written and their odds pointers moved (`refresh_boards`). Re-importing the same
snapshot stores nothing and moves no pointer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bullpen.cache.contract import ActiveModel
from bullpen.domain.board import board_body
from bullpen.domain.model import WinModel
from bullpen.domain.schedule import FeedIssue
from bullpen.serving.active import pointer_of, serving_entry
from bullpen.serving.board import point_odds, prediction_bodies, warm_boards
from bullpen.serving.predictions import rows_for
from bullpen.serving.registry import trained_until
from bullpen.serving.revisions import revisions
from bullpen.settings import get_settings
from bullpen.sources.odds_api import MAX_PAYLOAD_BYTES, parse_odds_payload
from bullpen.sources.odds_csv import parse_odds_csv
from bullpen.sources.odds_lines import OddsLine, Slot, match_lines
from bullpen.store.live import read_schedule, record_feed_issues
from bullpen.store.odds import latest_odds, record_odds

FORMATS = ("the-odds-api", "csv")


@dataclass
class OddsImport:
    source: str
    lines: int = 0  # read from the feed
    stored: int = 0  # new snapshots
    repeated: int = 0  # snapshots the store already had
    dates: set[dt.date] = field(default_factory=set)  # whose boards changed
    issues: list[FeedIssue] = field(default_factory=list)


def read_odds_file(
    path: Path, fmt: str, price_format: str = "decimal"
) -> tuple[list[OddsLine], list[FeedIssue]]:
    """Lines and issues of an odds file; a file too large or not decodable is one issue."""
    name = path.name
    data = path.read_bytes()[: MAX_PAYLOAD_BYTES + 1]
    if len(data) > MAX_PAYLOAD_BYTES:
        return [], [FeedIssue(name, "file", f"larger than {MAX_PAYLOAD_BYTES} bytes", "")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [FeedIssue(name, "file", f"not UTF-8: {exc}", "")]
    if fmt == "csv":
        return parse_odds_csv(text, name)
    if fmt != "the-odds-api":
        raise ValueError(f"odds format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [], [FeedIssue(name, "file", f"malformed JSON: {exc}", text[:2000])]
    return parse_odds_payload(payload, name, price_format)


def format_of(path: Path) -> str:
    """A drop file's format by its suffix: ``.json`` The Odds API, ``.csv`` the plain CSV."""
    return "csv" if path.suffix.lower() == ".csv" else "the-odds-api"


def import_lines(
    engine: Engine, source: str, lines: Sequence[OddsLine], issues: Sequence[FeedIssue]
) -> OddsImport:
    """Match, record and quarantine; the boards are the caller's (`refresh_boards`)."""
    snapshots, unmatched = match_lines(lines, _slots(engine, {line.date for line in lines}))
    record_feed_issues(engine, [*issues, *unmatched])
    recorded = record_odds(engine, snapshots)
    return OddsImport(source, len(lines), recorded.stored, recorded.repeated, recorded.dates,
                      [*issues, *unmatched, *recorded.issues])  # fmt: skip


def _slots(engine: Engine, dates: Iterable[dt.date]) -> list[Slot]:
    found = []
    for day in sorted(dates):
        rows = read_schedule(engine, on=day)
        found += [Slot(r.game_id, day, int(r.game_number), r.home, r.away)
                  for r in rows.itertuples(index=False)]  # fmt: skip
    return found


@dataclass(frozen=True)
class BoardRefresh:
    day: dt.date
    model_version: str
    games: int
    priced: int  # games with odds


@dataclass(frozen=True)
class Served:
    """The serving model's prediction bodies of some dates, as the day slates hold them."""

    version: str
    active: ActiveModel
    bodies: dict[dt.date, list[dict[str, Any]]]


def served_bodies(engine: Engine, days: Sequence[dt.date]) -> Served:
    """LookupError when no model serves yet."""
    entry = serving_entry(engine)
    if entry is None:
        raise LookupError("no model serves yet: run batch_job and promote one first")
    active = pointer_of(entry)
    model = WinModel.from_bytes(entry.artifact, threads=get_settings().model_threads)
    rows = [r for day in days for r in rows_for(engine, model, active, on=day).rows]
    bodies = prediction_bodies(rows, active, trained_until(entry))
    return Served(entry.version, active, {day: bodies.get(day, []) for day in days})


def refresh_boards(
    engine: Engine, redis: Any, days: Iterable[dt.date], ttl: int
) -> list[BoardRefresh]:
    """Write the boards of `days` for the serving model and move their odds pointers; no
    model serving yet: nothing to write (the lines are kept for when one does)."""
    days = sorted(set(days))
    if not days or serving_entry(engine) is None:
        return []
    served = served_bodies(engine, days)
    revs = revisions(engine, served.active.feature_version, days)
    point_odds(redis, warm_boards(engine, redis, served.active, served.bodies, revs, ttl), ttl)
    return [_refreshed(engine, day, served.version, served.bodies[day]) for day in days]


def _refreshed(
    engine: Engine, day: dt.date, version: str, games: list[dict[str, Any]]
) -> BoardRefresh:
    priced = {s.game_id for s in latest_odds(engine, day)}
    return BoardRefresh(day, version, len(games), sum(g["game_id"] in priced for g in games))


def current_board(engine: Engine, day: dt.date, fraction: float, cap: float) -> dict[str, Any]:
    """A date's board from the store alone (the CLI's): the serving model's predictions,
    each book's latest line. LookupError when no model serves."""
    served = served_bodies(engine, [day])
    books = latest_odds(engine, day)
    return board_body(day, served.version, served.bodies[day], books, fraction, cap)
