"""Odds in: files recorded once, hostile payloads quarantined, boards warmed and re-pointed.

FIXTURE prices (tests.support.odds): invented, not market data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from bullpen.cache import contract
from bullpen.domain.schedule import EASTERN
from bullpen.serving.odds import current_board, import_lines, read_odds_file, refresh_boards
from bullpen.serving.refresh import refresh
from bullpen.serving.revisions import revisions
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import register_model
from bullpen.store.live import mark_final, read_feed_issues, read_schedule
from bullpen.store.odds import closing_lines, read_odds
from tests.support.data import elo_entry
from tests.support.live import store_before
from tests.support.odds import BOOKS, bookmaker, event, spread_prices
from tests.support.promotion import make_active

DAY = dt.date(2022, 4, 20)
MORNING = dt.datetime.combine(DAY, dt.time(9), tzinfo=EASTERN).astimezone(dt.UTC)
LATE = MORNING + dt.timedelta(days=1)  # every game of DAY has started


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs) -> Iterator[Engine]:
    engine = store_before(tmp_path / "store.db", logs2022, DAY, (DAY,))
    yield engine
    engine.dispose()


def _payload(engine: Engine, at: dt.datetime, books: int = 2, shift: int = 0) -> list[dict]:
    games = read_schedule(engine, on=DAY)
    events = []
    for i, g in enumerate(games.itertuples()):
        # A doubleheader's events are told apart by their start times.
        local = dt.time(13, 5) if g.game_number == 1 else dt.time(19, 5)
        starts = dt.datetime.combine(DAY, local, tzinfo=EASTERN)
        lines = [bookmaker(BOOKS[b], g.home, g.away, *spread_prices(i + shift, b), at)
                 for b in range(books)]  # fmt: skip
        events.append(event(g.home, g.away, starts, lines))
    return events


def _write(tmp_path: Path, payload: object, name: str = "odds.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload))
    return path


def _import(engine: Engine, path: Path, fmt: str = "the-odds-api"):
    lines, issues = read_odds_file(path, fmt)
    return import_lines(engine, path.name, lines, issues)


def test_the_same_snapshot_twice_stores_once(store: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, _payload(store, MORNING))
    first, again = _import(store, path), _import(store, path)
    games = len(read_schedule(store, on=DAY))
    assert first.stored == 2 * games and first.issues == [] and first.dates == {DAY}
    assert (again.stored, again.repeated, again.dates) == (0, 2 * games, set())
    assert len(read_odds(store, on=DAY)) == 2 * games


def test_a_later_snapshot_adds_to_the_history_and_the_close_is_before_first_pitch(
    store: Engine, tmp_path: Path
) -> None:
    _import(store, _write(tmp_path, _payload(store, MORNING)))
    later = MORNING + dt.timedelta(hours=3)
    _import(store, _write(tmp_path, _payload(store, later, shift=1), "later.json"))
    game = read_schedule(store, on=DAY)["game_id"].iloc[0]
    history = [s for s in read_odds(store, game_ids=[game])]
    assert [s.taken_at for s in history] == [MORNING, MORNING, later, later]
    assert {s.taken_at for s in closing_lines(store, [game], LATE)[game]} == {later}
    assert closing_lines(store, [game], later) == {}  # before first pitch the line can move


def test_final_postponed_and_in_play_lines_are_quarantined(store: Engine, tmp_path: Path) -> None:
    games = read_schedule(store, on=DAY)
    final, other = games["game_id"].iloc[0], games["game_id"].iloc[1]
    mark_final(store, [final])
    in_play = dt.datetime.combine(DAY, dt.time(20, 30), tzinfo=EASTERN).astimezone(dt.UTC)
    lines, issues = read_odds_file(_write(tmp_path, _payload(store, MORNING)), "the-odds-api")
    result = import_lines(store, "odds.json", lines, issues)
    late = _write(tmp_path, _payload(store, in_play), "late.json")
    result_late = _import(store, late)
    reasons = {i.location.split(":")[0]: i.reason for i in result.issues}
    assert "is final" in reasons[final] and other not in reasons
    assert result_late.stored == 0
    late_reasons = {i.location.split(":")[0]: i.reason for i in result_late.issues}
    assert "is final" in late_reasons.pop(final)
    assert all("not before first pitch" in reason for reason in late_reasons.values())
    stored = read_feed_issues(store)
    assert {"odds.json", "late.json"} <= set(stored["source"])


def test_a_ten_megabyte_body_is_one_issue(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b"[" + b" " * (10 * 1024 * 1024) + b"]")
    result = _import(store, path)
    assert result.stored == 0 and [i.location for i in result.issues] == ["file"]
    assert "larger than" in result.issues[0].reason


def test_malformed_json_is_one_issue(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"id": ')
    result = _import(store, path)
    assert result.stored == 0 and "malformed JSON" in result.issues[0].reason


def test_a_csv_imports_like_the_api(store: Engine, tmp_path: Path) -> None:
    g = read_schedule(store, on=DAY).iloc[0]
    path = tmp_path / "lines.csv"
    path.write_text(
        "date,home,away,game_number,book,home_price,away_price,format,taken_at\n"
        f"2022-04-20,{g.home},{g.away},{g.game_number},fanduel,-120,110,american,"
        f"{MORNING.isoformat()}\n"
        f"2022-04-20,{g.away},{g.home},{g.game_number},fanduel,-120,110,american,"
        f"{MORNING.isoformat()}\n"
    )
    result = _import(store, path, "csv")
    assert result.stored == 1 and "no scheduled game" in result.issues[0].reason
    [snap] = read_odds(store, on=DAY)
    assert snap.game_id == g.game_id and snap.home_decimal == pytest.approx(1 + 100 / 120)


@pytest.mark.integration
def test_boards_are_warmed_with_the_predictions_and_re_pointed_by_new_lines(
    store: Engine, tmp_path: Path, cache: redis.Redis
) -> None:
    entry = register_model(store, elo_entry())
    make_active(store, cache, entry.version)
    _import(store, _write(tmp_path, _payload(store, MORNING)))
    refresh(store, cache, [DAY], ttl=600)  # prices the slate and warms it, boards included
    pointer = contract.odds_revision_key(DAY)
    before = cache.get(pointer).decode()
    revision = revisions(store, entry.feature_version, [DAY])[DAY]
    key = contract.board_key(entry.version, entry.feature_version, DAY, revision, before)
    board = json.loads(cache.get(key))
    assert board == current_board(store, DAY, 0.25, 0.05)
    assert len(board["games"]) == len(read_schedule(store, on=DAY))
    assert all(g["sides"] is not None for g in board["games"])

    later = MORNING + dt.timedelta(hours=2)
    result = _import(store, _write(tmp_path, _payload(store, later, shift=3), "later.json"))
    [done] = refresh_boards(store, cache, result.dates, ttl=600)
    after = cache.get(pointer).decode()
    assert after != before and done.priced == done.games
    new_key = contract.board_key(entry.version, entry.feature_version, DAY, revision, after)
    assert json.loads(cache.get(new_key)) == current_board(store, DAY, 0.25, 0.05)
