"""Loading parsed game logs: counts, idempotent reloads, quarantine and atomicity."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine

from bullpen.domain.gamelogs import GAME_COLUMNS, ParseResult, parse_lines
from bullpen.store import (
    count_games,
    load_parse_result,
    read_games,
    read_ingested_files,
    read_quarantine,
    repository,
)

SHA = "0" * 64


def test_load_real_lines(engine: Engine, gl2022: ParseResult) -> None:
    summary = load_parse_result(engine, "GL2022.TXT", gl2022, SHA)

    assert (summary.games, summary.quarantined, summary.inserted, summary.updated) == (
        300, 0, 300, 0)  # fmt: skip
    assert count_games(engine) == 300
    files = read_ingested_files(engine)
    assert files[["source", "sha256", "games", "quarantined"]].to_dict("records") == [
        {"source": "GL2022.TXT", "sha256": SHA, "games": 300, "quarantined": 0}
    ]


def test_reload_is_idempotent(engine: Engine, gl2022: ParseResult) -> None:
    load_parse_result(engine, "GL2022.TXT", gl2022, SHA)
    before = read_games(engine)

    again = load_parse_result(engine, "GL2022.TXT", gl2022, SHA)

    assert (again.games, again.inserted, again.updated, again.deleted) == (300, 0, 300, 0)
    assert count_games(engine) == 300
    assert len(read_ingested_files(engine)) == 1
    pd.testing.assert_frame_equal(read_games(engine), before)


def test_read_games_frame_shape_order_and_filters(engine: Engine, gl2022: ParseResult) -> None:
    load_parse_result(engine, "GL2022.TXT", gl2022, SHA)

    frame = read_games(engine)

    assert tuple(frame.columns) == tuple(c for c in GAME_COLUMNS if c != "source_line")
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["home_score"].dtype == "int64"
    ordered = frame.sort_values(["date", "game_number", "game_id"], ignore_index=True)
    pd.testing.assert_frame_equal(frame, ordered)
    first = gl2022.games[0]
    row = frame.set_index("game_id").loc[first.game_id]
    assert row["home"] == first.home and row["away_sp_name"] == first.away_sp_name
    assert row["outs"] == first.outs and row["date"] == pd.Timestamp(first.date)

    day = gl2022.games[-1].date
    on_day = read_games(engine, on=day)
    assert len(on_day) == sum(g.date == day for g in gl2022.games) > 0
    assert (on_day["date"] == pd.Timestamp(day)).all()
    earlier = read_games(engine, before=day)
    assert len(earlier) == sum(g.date < day for g in gl2022.games)
    assert len(read_games(engine, seasons=[2022])) == 300
    empty = read_games(engine, seasons=[1999])
    assert empty.empty and tuple(empty.columns) == tuple(frame.columns)
    assert pd.api.types.is_datetime64_any_dtype(empty["date"])


def test_bad_lines_are_quarantined_and_good_lines_kept(
    engine: Engine, gl2022_lines: list[str]
) -> None:
    lines = [
        *gl2022_lines[:20],
        "not,a,game,log\n",  # line 21
        '"2022O407"' + gl2022_lines[20][10:],  # line 22: bad date
        gl2022_lines[0],  # line 23: duplicate of line 1
        *gl2022_lines[21:40],
    ]
    result = parse_lines(lines, "bad.txt")
    summary = load_parse_result(engine, "bad.txt", result, SHA)

    assert (summary.games, summary.quarantined) == (39, 3)
    assert count_games(engine) == 39
    quarantined = read_quarantine(engine)
    assert list(quarantined["line_number"]) == [21, 22, 23]
    assert set(quarantined["source"]) == {"bad.txt"}
    assert "expected 161 fields" in quarantined["reason"][0]
    assert "bad date" in quarantined["reason"][1]
    assert "duplicate game id" in quarantined["reason"][2]
    assert quarantined["text"][0] == "not,a,game,log"

    # Reloading the same file replaces rather than duplicates the quarantine rows.
    load_parse_result(engine, "bad.txt", result, SHA)
    assert len(read_quarantine(engine)) == 3


def test_reload_of_a_changed_file_mirrors_it(engine: Engine, gl2022_lines: list[str]) -> None:
    broken = parse_lines([*gl2022_lines[:10], "garbage\n"], "GL2022.TXT")
    load_parse_result(engine, "GL2022.TXT", broken, SHA)

    fixed = parse_lines(gl2022_lines[:5], "GL2022.TXT")
    summary = load_parse_result(engine, "GL2022.TXT", fixed, "1" * 64)

    assert (summary.inserted, summary.updated, summary.deleted) == (0, 5, 5)
    assert count_games(engine) == 5
    assert read_quarantine(engine).empty
    assert read_ingested_files(engine)["sha256"].tolist() == ["1" * 64]


def test_failure_midway_writes_nothing_from_that_file(
    engine: Engine, gl2022_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = parse_lines(gl2022_lines[:10], "other.txt")
    load_parse_result(engine, "other.txt", other, SHA)
    before = read_games(engine)

    result = parse_lines([*gl2022_lines[10:], "garbage\n"], "GL2022.TXT")
    real_chunk = repository._write_games_chunk
    calls: list[int] = []

    def fail_after_first_chunk(conn, rows):  # type: ignore[no-untyped-def]
        calls.append(len(rows))
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return real_chunk(conn, rows)

    monkeypatch.setattr(repository, "CHUNK_SIZE", 50)
    monkeypatch.setattr(repository, "_write_games_chunk", fail_after_first_chunk)

    with pytest.raises(RuntimeError, match="disk full"):
        load_parse_result(engine, "GL2022.TXT", result, SHA)

    assert calls == [50, 50]
    pd.testing.assert_frame_equal(read_games(engine), before)
    assert read_quarantine(engine).empty
    assert read_ingested_files(engine)["source"].tolist() == ["other.txt"]


def test_dates_filters_accept_datetimes(engine: Engine, gl2022: ParseResult) -> None:
    load_parse_result(engine, "GL2022.TXT", gl2022, SHA)
    day = gl2022.games[0].date
    as_datetime = dt.datetime.combine(day, dt.time(19, 5))
    assert len(read_games(engine, on=as_datetime)) == len(read_games(engine, on=day)) > 0
    assert len(read_games(engine, on=pd.Timestamp(day))) == len(read_games(engine, on=day))
