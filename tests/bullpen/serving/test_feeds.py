"""Feeds applied to the store: results arrive incrementally and idempotently and re-price the
next slates; an operator's postponement moves a game to its makeup date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bullpen.serving.feeds import apply_file, apply_postponements, apply_results
from bullpen.serving.slate import slate
from bullpen.sources.dropfolder import Postponement
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import count_games
from bullpen.store.live import read_schedule
from tests.support.live import store_before

DAY = dt.date(2022, 4, 20)
NEXT = DAY + dt.timedelta(days=1)
AT = dt.datetime(2022, 4, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs) -> Iterator[Engine]:
    """Games before DAY loaded; DAY's and the next day's games only scheduled."""
    engine = store_before(tmp_path / "store.db", logs2022, DAY, (DAY, NEXT))
    yield engine
    engine.dispose()


def _lines(logs: ParsedLogs, day: dt.date) -> list[str]:
    return [g.source_line for g in logs.games if g.date == day]


def test_results_load_once_finalize_and_reprice_the_next_slate(
    store: Engine, logs2022: ParsedLogs
) -> None:
    before = count_games(store)
    lines = _lines(logs2022, DAY)

    first = apply_results(store, "gl20220420.txt", lines, "a" * 64)
    again = apply_results(store, "gl20220420.txt", lines, "a" * 64)

    assert first.results == len(lines) and again.results == 0  # only new games count
    assert count_games(store) == before + len(lines)
    assert first.dates == {NEXT}  # the next slate's features include these results
    statuses = read_schedule(store, on=DAY)["status"]
    assert set(statuses) == {"final"}
    assert slate(store, DAY).live == []


def test_a_bad_results_line_is_quarantined_and_the_rest_load(
    store: Engine, logs2022: ParsedLogs
) -> None:
    lines = _lines(logs2022, DAY)
    lines[1] = lines[1].replace('"20220420"', '"20221399"', 1)

    applied = apply_results(store, "gl20220420.txt", lines, "b" * 64)

    assert applied.results == len(lines) - 1
    assert [i.location for i in applied.issues] == ["line 2"]


def test_a_postponement_moves_the_game_to_its_makeup_date(
    store: Engine, logs2022: ParsedLogs
) -> None:
    game = next(g for g in logs2022.games if g.date == DAY)
    makeup_day = DAY + dt.timedelta(days=60)
    postponed = Postponement(game.game_id, "Rain", makeup_day, "dropfolder:p.csv", AT)
    unknown = replace(postponed, game_id="NYA202212310")

    applied = apply_postponements(store, [postponed, unknown])

    assert applied.dates == {DAY, makeup_day}
    assert [i.reason for i in applied.issues] == ["no scheduled game to postpone"]
    assert game.game_id in slate(store, DAY).postponed
    makeup = f"{game.home}{makeup_day:%Y%m%d}0"
    assert slate(store, makeup_day).live == [makeup]


def test_feed_files_are_told_apart_by_name(store: Engine, tmp_path: Path) -> None:
    bad_schedule = tmp_path / "2022schedule.csv"
    bad_schedule.write_bytes(b"")
    drop = tmp_path / "starters.csv"
    drop.write_text("game_id,side,pitcher_id,pitcher_name\nXXX,home,,\n")

    empty = apply_file(store, bad_schedule, AT)
    rejected = apply_file(store, drop, AT)

    assert [i.location for i in empty.issues] == ["file"]
    assert rejected.issues and not rejected.dates
