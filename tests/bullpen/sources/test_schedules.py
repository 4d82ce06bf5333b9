"""The Retrosheet schedule adapter: the real 2023 file checked against the 2023 game log,
and hostile files (synthetic rows, written here) that must each cost one row, named."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from bullpen.domain.gamelogs import GameRecord
from bullpen.domain.schedule import FeedBatch, GameStatus, ScheduledGame
from bullpen.sources.parsed import read_gamelogs
from bullpen.sources.schedules import (
    MAX_SCHEDULE_BYTES,
    ScheduleFileError,
    first_pitch_default,
    parse_schedule,
    read_schedule,
)

SOURCE = "retrosheet:test.csv"
HEADER = "Date,Num,Day,Visitor,League,Game,Home,League,Game,Day/Night,Postponed,Makeup"
HEADER_2024 = (
    "Date,Num,Day,Visitor,League,Game,Home,League,Game,Day/Night,Location,Postponed,Makeup"
)
SCHEDULED, POSTPONED = GameStatus.SCHEDULED, GameStatus.POSTPONED


def row(
    date: str = "20230401",
    num: str = "0",
    away: str = "NYA",
    home: str = "BOS",
    day_night: str = "n",
    postponed: str = "",
    makeup: str = "",
    *,
    games: tuple[str, str] = ("1", "1"),
    location: str | None = None,
) -> str:
    """A synthetic row quoted as Retrosheet does (the team game numbers bare)."""
    optional = [location] if location is not None else []
    fields = [date, num, "Sat", away, "AL", games[0], home, "AL", games[1], day_night,
              *optional, postponed, makeup]  # fmt: skip
    bare = {5, 8}
    return ",".join(f if i in bare else f'"{f}"' for i, f in enumerate(fields))


def rain(makeup: str) -> str:
    """A game of 2023-04-01 rained out, with `makeup` in the Makeup field."""
    return row("20230401", postponed="Rain", makeup=makeup)


def parse(*rows: str, header: str | None = HEADER) -> FeedBatch:
    return parse_schedule([*([header] if header else []), *rows], SOURCE)


def ids(batch: FeedBatch) -> list[str]:
    return [g.game_id for g in batch.games]


def by_id(batch: FeedBatch) -> dict[str, ScheduledGame]:
    return {g.game_id: g for g in batch.games}


def issues(batch: FeedBatch) -> list[tuple[str, str]]:
    return [(i.location, i.reason) for i in batch.issues]


# --- the real 2023 file -------------------------------------------------------------


@pytest.fixture(scope="module")
def schedule_path(gamelogs_dir: Path) -> Path:
    """The shared schedule file, next to the shared game logs; never copied into the repo."""
    path = gamelogs_dir.parent / "schedules" / "2023schedule.csv"
    if not path.is_file():
        pytest.skip(f"Retrosheet 2023 schedule not found at {path}")
    return path


@pytest.fixture(scope="module")
def batch2023(schedule_path: Path) -> FeedBatch:
    return read_schedule(schedule_path)


@pytest.fixture(scope="module")
def gl2023(gamelogs_dir: Path) -> dict[str, GameRecord]:
    if not (gamelogs_dir / "GL2023.TXT").is_file():
        pytest.skip(f"GL2023.TXT not found in {gamelogs_dir}")
    logs = read_gamelogs(gamelogs_dir, [2023])
    assert not logs.errors and not logs.quarantined
    return {g.game_id: g for g in logs.games}


def postponed(batch: FeedBatch) -> list[ScheduledGame]:
    return [g for g in batch.games if g.status is POSTPONED]


def makeups(batch: FeedBatch) -> list[ScheduledGame]:
    """The games that are no row of the file: one per postponed game with a makeup date."""
    wanted = Counter((g.home, g.away, g.makeup_date) for g in postponed(batch))
    found = [
        g
        for g in batch.games
        if g.status is SCHEDULED and g.day_night is None and (g.home, g.away, g.date) in wanted
    ]
    assert Counter((g.home, g.away, g.date) for g in found) == wanted
    return found


def test_every_2023_row_loads(batch2023: FeedBatch) -> None:
    assert batch2023.issues == ()
    assert len(batch2023.games) == 2430 + 42  # every row, and a makeup per postponement
    assert Counter(g.status for g in batch2023.games) == {SCHEDULED: 2430, POSTPONED: 42}
    assert {g.source for g in batch2023.games} == {"retrosheet:2023schedule.csv"}
    assert all(g.first_pitch is None and g.season == 2023 for g in batch2023.games)
    assert len(set(ids(batch2023))) == len(batch2023.games)


def test_2023_postponements_and_notes(batch2023: FeedBatch) -> None:
    games = postponed(batch2023)
    assert len(games) == 42 and all(g.makeup_date for g in games)
    assert Counter((g.postponed_reason or "").split(" (")[0] for g in games) == {
        "Rain": 31, "Air Quality": 3, "Hurricane Hilary": 3, "Wet Grounds": 2, "Wind": 1,
        "Cold": 1, "Postponed": 1,
    }  # fmt: skip
    hilary = by_id(batch2023)["SDN202308200"]
    # Moved a day *earlier*: accepted because the note says so, and the note is kept.
    assert hilary.makeup_date == dt.date(2023, 8, 19)
    assert hilary.postponed_reason == "Hurricane Hilary (makeup: game played a day early; 20230819)"


def test_2023_scheduled_doubleheaders_and_day_night(batch2023: FeedBatch) -> None:
    games = by_id(batch2023)
    for home, date in (("BOS", "20230603"), ("PHI", "20230715"), ("COL", "20230926")):
        first, second = games[f"{home}{date}1"], games[f"{home}{date}2"]
        assert (first.day_night, second.day_night) == ("d", "n")
    file_games = [g for g in batch2023.games if g not in makeups(batch2023)]
    assert len(file_games) == 2430
    unknown = sorted(g.game_id for g in file_games if g.day_night is None)
    assert unknown == ["BOS202307230", "BOS202308270", "HOU202304050"]


def test_2023_july_postponements_move_to_their_makeup_date(batch2023: FeedBatch) -> None:
    july = [g for g in postponed(batch2023) if g.date.month == 7]
    assert [(g.game_id, g.makeup_date) for g in july] == [
        ("CHA202307050", dt.date(2023, 7, 6)),
        ("KCA202307140", dt.date(2023, 7, 15)),
        ("DET202307260", dt.date(2023, 7, 27)),
    ]
    for game in july:
        teams = (game.home, game.away)
        on = [(g.date, g.status) for g in batch2023.games if (g.home, g.away) == teams]
        assert (game.date, SCHEDULED) not in on
        assert (game.date, POSTPONED) in on
        assert (game.makeup_date, SCHEDULED) in on


def test_2023_makeups_have_the_game_log_ids(
    batch2023: FeedBatch, gl2023: dict[str, GameRecord]
) -> None:
    """42 of 42: every makeup's id (single game or its half of a doubleheader) was played,
    by the same teams, the home team at home. 10 are single games, 32 form doubleheaders."""
    found = makeups(batch2023)
    played = [g for g in found if g.game_id in gl2023]
    assert len(played) == 42
    assert all((gl2023[g.game_id].home, gl2023[g.game_id].away) == (g.home, g.away) for g in found)
    assert Counter(g.game_number == 0 for g in found) == {True: 10, False: 32}


def test_2023_games_played_as_scheduled_have_the_game_log_ids(
    batch2023: FeedBatch, gl2023: dict[str, GameRecord]
) -> None:
    """2,388 of 2,388 rows that were not postponed have an id in GL2023; 32 of them only
    because a makeup joined their date (the file's `...0` id became `...1`/`...2`).
    Together with the 42 makeups that is exactly the 2,430 games of the game log. The six
    2023 suspended games (e.g. WAS202305130, finished the next day) keep their start date's
    id in the game log, as here: the schedule knows nothing of the suspension."""
    added = makeups(batch2023)
    scheduled = [g for g in batch2023.games if g.status is SCHEDULED]
    from_file = [g for g in scheduled if g not in added]
    assert len(from_file) == 2388
    assert sum(g.game_id in gl2023 for g in from_file) == 2388
    assert sum(g.game_number == 0 or g.game_id[-1] != "0" for g in from_file) == 2388
    makeup_days = {(m.home, m.date) for m in added}
    renumbered = [g for g in from_file if (g.home, g.date) in makeup_days]
    assert len(renumbered) == 32
    assert {g.game_id for g in scheduled} == set(gl2023)


def upper(day_night: str | None) -> str:
    return (day_night or "").upper()


def test_2023_doubleheader_order_agrees_with_game_log_day_night(
    batch2023: FeedBatch, gl2023: dict[str, GameRecord]
) -> None:
    """The order rule (a day game keeps game 1, else the makeup goes first) cannot be read
    from the ids: both halves exist either way. The game log's day/night can tell: of the
    32 game-log doubleheaders a makeup formed, 19 have one day and one night game, and in
    all 19 the file's game sits in the half with its own day/night (makeup-always-first
    would contradict 7: the day games at DET and WAS 04-29, SLN 07-01, PIT 08-13, SDN 08-19,
    ANA 08-23, WAS 09-24). The other 13 are day-day or night-night, so they cannot tell.
    Four file night games were played as a day game 2 (CHA and DET 04-18, CLE 04-22,
    CHA 09-12): no numbering could match their day/night."""
    joined = {(m.home, m.date) for m in makeups(batch2023) if m.game_number}
    originals = [g for g in batch2023.games if g.status is SCHEDULED and (g.home, g.date) in joined]
    originals = [g for g in originals if g.day_night is not None]
    assert len(originals) == 32

    def halves(g: ScheduledGame) -> tuple[str, str]:
        stem = g.game_id[:-1]
        return gl2023[f"{stem}1"].day_night, gl2023[f"{stem}2"].day_night

    split = [g for g in originals if len(set(halves(g))) == 2]
    assert len(split) == 19
    assert all(gl2023[g.game_id].day_night == upper(g.day_night) for g in split)
    # The day games that stayed game 1: what a makeup-always-first rule would get wrong.
    assert sorted(g.game_id for g in split if g.day_night == "d") == [
        "ANA202308231", "DET202304291", "PIT202308131", "SDN202308191", "SLN202307011",
        "WAS202304291", "WAS202309241",
    ]  # fmt: skip
    mismatched = [g.game_id for g in originals if gl2023[g.game_id].day_night != upper(g.day_night)]
    assert sorted(mismatched) == ["CHA202304182", "CHA202309122", "CLE202304222", "DET202304182"]


def test_lf_only_file_reads_like_the_crlf_original(
    batch2023: FeedBatch, schedule_path: Path, tmp_path: Path
) -> None:
    lf = tmp_path / "2023schedule.csv"
    lf.write_bytes(schedule_path.read_bytes().replace(b"\r\n", b"\n"))
    assert read_schedule(lf) == batch2023


# --- synthetic rows ----------------------------------------------------------------


def test_makeup_joining_a_night_game_goes_first_and_renumbers_it() -> None:
    batch = parse(
        row("20230401", postponed="Rain", makeup="20230402"),
        row("20230402", day_night="n"),
    )
    games = by_id(batch)
    assert batch.issues == ()
    assert games["BOS202304010"].status is POSTPONED
    assert games["BOS202304021"].day_night is None  # the makeup: the file gives no time
    assert games["BOS202304022"].day_night == "n"  # the file's ...0 game, renumbered
    assert "BOS202304020" not in games


def test_makeup_joining_a_day_game_goes_second() -> None:
    batch = parse(
        row("20230401", postponed="Rain", makeup="20230402"),
        row("20230402", day_night="d"),
    )
    games = by_id(batch)
    assert (games["BOS202304021"].day_night, games["BOS202304022"].day_night) == ("d", None)


def test_makeup_on_a_free_date_is_a_single_game() -> None:
    batch = parse(row("20230401", postponed="Rain", makeup="20230403"))
    makeup = by_id(batch)["BOS202304030"]
    assert (makeup.status, makeup.postponed_reason, makeup.makeup_date) == (SCHEDULED, None, None)
    assert (makeup.home, makeup.away, makeup.source) == ("BOS", "NYA", SOURCE)


def test_two_makeups_on_a_free_date_go_in_postponement_order() -> None:
    batch = parse(
        row("20230402", postponed="Rain", makeup="20230405"),
        row("20230401", num="0", postponed="Rain", makeup="20230405", away="TBA"),
    )
    games = by_id(batch)
    assert (games["BOS202304051"].away, games["BOS202304052"].away) == ("TBA", "NYA")


def test_a_makeup_that_would_be_a_third_game_is_an_issue_and_loses_nothing() -> None:
    batch = parse(
        row("20230401", postponed="Rain", makeup="20230402"),
        row("20230402", num="1", day_night="d"),
        row("20230402", num="2", day_night="n", games=("2", "2")),
    )
    assert ids(batch) == ["BOS202304010", "BOS202304021", "BOS202304022"]
    assert issues(batch) == [
        ("line 2", "makeup on 2023-04-02 would be BOS's third game that day; not scheduled")
    ]
    assert batch.issues[0].text == row("20230401", postponed="Rain", makeup="20230402")


@pytest.mark.parametrize("note", ["to be determined", "20230801 or 20230802"])
def test_makeup_note_without_one_date_is_kept_in_the_reason(note: str) -> None:
    batch = parse(row(postponed="Rain", makeup=note))
    (game,) = batch.games
    assert (game.status, game.makeup_date) == (POSTPONED, None)
    assert game.postponed_reason == f"Rain (makeup: {note})"


def test_2024_layout_with_a_location_column() -> None:
    # Synthetic rows in the 2024+ layout (a 13th field, Location, before Postponed).
    batch = parse(
        row("20240420", location="LON01"),
        row("20240421", location=""),
        row("20240422", location="", postponed="Rain", makeup="20240423"),
        header=HEADER_2024,
    )
    games = by_id(batch)
    assert batch.issues == ()
    assert games["BOS202404200"].location == "LON01"
    assert games["BOS202404210"].location is None
    assert games["BOS202404220"].makeup_date == dt.date(2024, 4, 23)
    assert games["BOS202404230"].status is SCHEDULED


def test_layout_without_header_comes_from_the_rows() -> None:
    twelve = parse(row("20230401"), row("20230402"), header=None)
    assert ids(twelve) == ["BOS202304010", "BOS202304020"] and twelve.issues == ()
    thirteen = parse(row("20240401", location="X"), "garbage", header=None)
    assert ids(thirteen) == ["BOS202404010"]
    assert issues(thirteen) == [("line 2", "expected 13 fields (the file's layout), found 1")]


def test_blank_lines_are_skipped_and_numbering_kept() -> None:
    batch = parse_schedule(["", HEADER + "\r\n", "  \n", row("20230401") + "\n", row("x")], SOURCE)
    assert ids(batch) == ["BOS202304010"]
    assert issues(batch) == [("line 5", "bad date 'x': expected yyyymmdd")]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (row()[: row().rindex(",")], "expected 12 fields (the file's layout), found 11"),
        (row() + ',"extra"', "expected 12 fields (the file's layout), found 13"),
        (row(home="XYZ"), "unknown home team code 'XYZ'"),
        (row(away="nya"), "unknown visitor team code 'nya'"),
        (row(home="NYA"), "home and visiting team are both 'NYA'"),
        (row("20230231"), "bad date '20230231': day is out of range for month"),
        (row("2023-04-01"), "bad date '2023-04-01': expected yyyymmdd"),
        (row("20220401"), "date 2022-04-01 is outside the 2023 season"),
        (row(num="3"), "field 2 (Num) must be 0, 1 or 2, found '3'"),
        (row(num="x"), "field 2 (Num) must be 0, 1 or 2, found 'x'"),
        (row(games=("1.5", "1")), "field 6 (team game number) is not a positive integer: '1.5'"),
        (row(games=("1", "a")), "field 9 (team game number) is not a positive integer: 'a'"),
        (row(day_night="x"), "Day/Night must be 'd', 'n' or empty, found 'x'"),
        (row(makeup="20230402"), "makeup '20230402' given for a game that was not postponed"),
        (rain("20230331"), "makeup date 2023-03-31 is before the original date 2023-04-01"),
        (rain("20230401"), "makeup date 2023-04-01 is the original date"),
        (rain("20231301"), "bad makeup date '20231301': month must be in 1..12"),
        (rain("20240402"), "makeup date 2024-04-02 is outside the 2023 season"),
        ('"20230401","0",\x00"Sat"', "line contains a NUL byte: not a schedule row"),
        ('"20230401","0","Sat"x"', "malformed CSV: ',' expected after '\"'"),
        ("#!@ garbage", "expected 12 fields (the file's layout), found 1"),
    ],
)  # fmt: skip
def test_a_bad_row_is_an_issue_naming_line_and_reason(bad: str, reason: str) -> None:
    batch = parse(row("20230330"), bad, row("20230405"))
    assert ids(batch) == ["BOS202303300", "BOS202304050"]  # the neighbours lose nothing
    ((location, got),) = issues(batch)
    assert (location, got) == ("line 3", reason)
    assert batch.issues[0].text == bad and batch.issues[0].source == SOURCE


def test_a_duplicate_game_keeps_the_first() -> None:
    batch = parse(row("20230401", away="TBA"), row("20230402"), row("20230401"))
    assert by_id(batch)["BOS202304010"].away == "TBA"
    assert issues(batch) == [("line 4", "duplicate game id BOS202304010 (first on line 2)")]


def test_header_with_a_wrong_width_is_an_issue_and_rows_still_load() -> None:
    batch = parse(row("20230401"), header="Date,Num,Day")
    assert ids(batch) == ["BOS202304010"]
    assert issues(batch) == [("line 1", "header has 3 fields, expected 12 or 13; using 12")]


# --- files -------------------------------------------------------------------------


def test_read_schedule_names_the_source_and_takes_the_season_from_the_name(tmp_path: Path) -> None:
    path = tmp_path / "2023schedule.csv"
    lines = [HEADER, row("20230401", postponed="Pluie verglac\xe9e", makeup="20230402"),
             row("20220401")]  # fmt: skip
    path.write_bytes("\r\n".join(lines).encode("latin-1") + b"\r\n")
    batch = read_schedule(path)
    assert {g.source for g in batch.games} == {"retrosheet:2023schedule.csv"}
    assert by_id(batch)["BOS202304010"].postponed_reason == "Pluie verglac\xe9e"
    assert issues(batch) == [("line 3", "date 2022-04-01 is outside the 2023 season")]


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "2023schedule.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_SCHEDULE_BYTES + 1)  # sparse: no 16 MiB written
    with pytest.raises(ScheduleFileError, match="larger than 16777216 bytes"):
        read_schedule(path)
    path.write_text(HEADER + "\n" + row() + "\n")
    with pytest.raises(ScheduleFileError, match=r"2023schedule\.csv: larger than 10 bytes"):
        read_schedule(path, max_bytes=10)


def test_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"\r\n")
    with pytest.raises(ScheduleFileError, match=r"empty\.csv: file is empty"):
        read_schedule(tmp_path / "empty.csv")
    with pytest.raises(ScheduleFileError, match=r"nope\.csv: cannot read"):
        read_schedule(tmp_path / "nope.csv")


# --- first pitch -------------------------------------------------------------------


def _game(date: dt.date, day_night: str | None) -> ScheduledGame:
    (game,) = parse(row(f"{date:%Y%m%d}", day_night=day_night or "")).games
    return game


@pytest.mark.parametrize(
    ("date", "day_night", "utc"),
    [
        (dt.date(2023, 7, 1), "d", dt.datetime(2023, 7, 1, 17, 5, tzinfo=dt.UTC)),
        (dt.date(2023, 7, 1), "n", dt.datetime(2023, 7, 1, 23, 5, tzinfo=dt.UTC)),
        (dt.date(2023, 7, 1), None, dt.datetime(2023, 7, 1, 23, 5, tzinfo=dt.UTC)),
        # Before daylight saving time (2023-03-12) Eastern is UTC-5.
        (dt.date(2023, 3, 10), "d", dt.datetime(2023, 3, 10, 18, 5, tzinfo=dt.UTC)),
        (dt.date(2023, 3, 10), "n", dt.datetime(2023, 3, 11, 0, 5, tzinfo=dt.UTC)),
    ],
)
def test_first_pitch_default(date: dt.date, day_night: str | None, utc: dt.datetime) -> None:
    assert first_pitch_default(_game(date, day_night)) == utc
