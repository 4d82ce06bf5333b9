"""The operator's drop folder: starters and postponements as CSV or JSON, strictly checked.

The pitchers and files are fixtures written for these tests (made-up ids and dates).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from bullpen.domain.pitchers import PitcherIndex
from bullpen.domain.schedule import StarterAnnouncement
from bullpen.sources.dropfolder import (
    MAX_FILE_BYTES,
    DropFile,
    Postponement,
    parse_drop_bytes,
    read_drop_file,
    scan_drop_folder,
)

NOW = dt.datetime(2023, 7, 1, 15, 0, tzinfo=dt.UTC)
PITCHERS = PitcherIndex(
    [
        ("coleg001", "Gerrit Cole", "NYA", dt.date(2023, 6, 25)),
        ("salec001", "Chris Sale", "BOS", dt.date(2023, 6, 24)),
        ("germd001", "Domingo German", "NYA", dt.date(2023, 6, 27)),
        ("ramij001", "José Ramírez", "CLE", dt.date(2023, 6, 20)),
        ("smitj001", "Joe Smith", "SEA", dt.date(2023, 6, 1)),
        ("smitj002", "Joe Smith", "SEA", dt.date(2023, 6, 2)),
    ]
)
STARTERS_HEADER = "game_id,side,pitcher_id,pitcher_name,team"
NO_COAL = "no pitcher named 'Gerrit Coal' has been seen: give pitcher_id"
TWO_SMITHS = (
    "2 pitchers named 'Joe Smith' last pitched for SEA: smitj001, smitj002: give pitcher_id"
)


def starters_csv(*rows: str, header: str = STARTERS_HEADER) -> bytes:
    return "\n".join([header, *rows, ""]).encode()


def parse(name: str, data: bytes) -> DropFile:
    return parse_drop_bytes(name, data, PITCHERS, NOW)


def reasons(drop: DropFile) -> dict[str, str]:
    return {issue.location: issue.reason for issue in drop.batch.issues}


def starter(
    gid: str, side: str, pid: str, name: str, team: str, source: str
) -> StarterAnnouncement:
    return StarterAnnouncement(gid, side, pid, name, team, NOW, f"dropfolder:{source}")


# --- starters --------------------------------------------------------------------


def test_starters_by_id_and_by_name() -> None:
    drop = parse(
        "fix.csv",
        starters_csv(
            "NYA202307010,home,coleg001,Gerrit Cole,",  # by id and name
            "NYA202307010,away,,Chris Sale,BOS",  # by name with the away team
            "CLE202307010,home,,jose ramirez,",  # by name: the home team is in the id
            "BOS202307020,away,coleg001,,",  # by id alone: the away team is his last team
        ),
    )

    assert drop.kind == "starters"
    assert drop.batch.issues == ()
    assert drop.batch.starters == (
        starter("NYA202307010", "home", "coleg001", "Gerrit Cole", "NYA", "fix.csv"),
        starter("NYA202307010", "away", "salec001", "Chris Sale", "BOS", "fix.csv"),
        starter("CLE202307010", "home", "ramij001", "jose ramirez", "CLE", "fix.csv"),
        starter("BOS202307020", "away", "coleg001", "Gerrit Cole", "NYA", "fix.csv"),
    )
    assert drop.postponements == ()


def test_the_team_column_is_optional() -> None:
    drop = parse(
        "fix.csv", starters_csv("NYA202307010,home,,Gerrit Cole", header=STARTERS_HEADER[:-5])
    )
    assert [s.pitcher_id for s in drop.batch.starters] == ["coleg001"]


def test_a_traded_pitcher_is_announced_with_moved_true() -> None:
    """The store last saw Cole with NYA; a trade is the operator's word, never a guess."""
    header = f"{STARTERS_HEADER},moved"
    drop = parse("fix.csv", starters_csv(
        "BOS202307010,home,coleg001,Gerrit Cole,BOS,true",
        "TEX202307010,away,salec001,Chris Sale,SEA,maybe",
        header=header,
    ))  # fmt: skip
    assert drop.batch.starters == (
        starter("BOS202307010", "home", "coleg001", "Gerrit Cole", "BOS", "fix.csv"),
    )
    assert reasons(drop) == {"line 3": "moved 'maybe': expected true or false"}


def test_a_debut_needs_the_name_and_the_team() -> None:
    drop = parse(
        "fix.csv",
        starters_csv(
            "NYA202307010,home,newgu001,Nuevo Guy,",
            "NYA202307010,away,newgu002,,BOS",
        ),
    )
    assert drop.batch.starters == (
        starter("NYA202307010", "home", "newgu001", "Nuevo Guy", "NYA", "fix.csv"),
    )
    assert reasons(drop) == {
        "line 3": "pitcher newgu002 has never been seen: give pitcher_name and team"
    }


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "NYA202307010,away,coleg001,Gerrit Cole,BOS",
            "pitcher coleg001 last pitched for NYA, not BOS (if he moved, say moved=true)",
        ),
        (
            "BOS202307010,home,coleg001,Gerrit Cole,",
            "pitcher coleg001 last pitched for NYA, not BOS (if he moved, say moved=true)",
        ),
        (
            "BOS202307010,away,,Gerrit Cole,TEX",
            "pitcher coleg001 (Gerrit Cole) last pitched for NYA, not TEX",
        ),
        (
            "NYA202307010,home,coleg001,Chris Sale,",
            "pitcher_id coleg001 is 'Gerrit Cole', not 'Chris Sale'",
        ),
        ("NYA202307010,home,,Gerrit Coal,", f"pitcher_name 'Gerrit Coal' unmatched: {NO_COAL}"),
        ("SEA202307010,home,,Joe Smith,", f"pitcher_name 'Joe Smith' unmatched: {TWO_SMITHS}"),
        (
            "NYA202307010,away,,Chris Sale,",
            "an away starter given by name needs a team or a pitcher_id",
        ),
        ("NYA202307010,home,,,", "give pitcher_id or pitcher_name"),
        (
            "NYA202307010,home,Cole,Gerrit Cole,",
            "bad pitcher_id 'Cole': expected a Retrosheet id (coleg001)",
        ),
        (
            "NYA202307010,away,salec001,Chris Sale,NYA",
            "away team NYA is the home team of the game id",
        ),
        (
            "BOS202307010,away,salec001,Chris Sale,",
            "pitcher salec001 last pitched for BOS, the home team",
        ),
        (
            "NYA202307010,home,coleg001,Gerrit Cole,BOS",
            "team BOS is not NYA, the home team of the game id",
        ),
        ("NYA202307010,away,salec001,Chris Sale,XYZ", "unknown team 'XYZ'"),
        ("NYA202307010,visitor,coleg001,Gerrit Cole,", "side 'visitor': expected home or away"),
        (
            "NYA20230701,home,coleg001,Gerrit Cole,",
            "bad game_id 'NYA20230701': expected e.g. NYA202307010",
        ),
        (
            "nya202307010,home,coleg001,Gerrit Cole,",
            "bad game_id 'nya202307010': expected e.g. NYA202307010",
        ),
        (
            "XYZ202307010,home,coleg001,Gerrit Cole,",
            "unknown home team XYZ in game_id XYZ202307010",
        ),
        ("NYA202302300,home,coleg001,Gerrit Cole,", "bad date 20230230 in game_id NYA202302300"),
        ("NYA202307010,home,coleg001", "3 fields, the header has 5"),
    ],
)
def test_a_bad_starter_row_is_an_issue_and_loses_nothing_else(row: str, reason: str) -> None:
    before, after = "CLE202307010,home,ramij001,José Ramírez,", "NYA202307020,home,,Gerrit Cole,"
    drop = parse("fix.csv", starters_csv(before, row, after))

    assert reasons(drop) == {"line 3": reason}
    assert drop.batch.issues[0].source == "dropfolder:fix.csv"
    assert drop.batch.issues[0].text == row
    assert [s.game_id for s in drop.batch.starters] == ["CLE202307010", "NYA202307020"]


def test_an_exact_repeat_is_kept_once() -> None:
    row = "NYA202307010,home,coleg001,Gerrit Cole,"
    drop = parse("fix.csv", starters_csv(row, row, "NYA202307010,home,,Gerrit Cole,"))

    assert len(drop.batch.starters) == 1
    assert reasons(drop) == {
        "line 3": "repeats line 2 (NYA202307010 home)",
        "line 4": "repeats line 2 (NYA202307010 home)",
    }


def test_conflicting_rows_are_all_rejected() -> None:
    drop = parse(
        "fix.csv",
        starters_csv(
            "NYA202307010,home,coleg001,Gerrit Cole,",
            "NYA202307010,away,salec001,Chris Sale,",
            "NYA202307010,home,,Domingo German,",
        ),
    )
    assert [s.side for s in drop.batch.starters] == ["away"]
    conflict = "conflicting rows for NYA202307010 home: line 2, line 4"
    assert reasons(drop) == {"line 2": conflict, "line 4": conflict}


def test_line_numbers_count_blank_lines_and_quoted_newlines() -> None:
    data = (
        f"{STARTERS_HEADER}\n\n"
        'NYA202307010,home,coleg001,"Chris\nSale",\n'
        "NYA202307010,away,bad,Chris Sale,BOS\n"
    ).encode()
    drop = parse("fix.csv", data)
    assert set(reasons(drop)) == {"line 3", "line 5"}


# --- postponements ---------------------------------------------------------------


def test_postponements_csv() -> None:
    data = b"game_id,reason,makeup_date\nNYA202307010,Rain,2023-07-02\nBOS202307010,Power outage,\n"

    drop = parse("ppd.csv", data)

    assert drop.kind == "postponements"
    assert drop.batch.issues == () and drop.batch.starters == ()
    assert drop.postponements == (
        Postponement("NYA202307010", "Rain", dt.date(2023, 7, 2), "dropfolder:ppd.csv", NOW),
        Postponement("BOS202307010", "Power outage", None, "dropfolder:ppd.csv", NOW),
    )


def test_the_makeup_date_column_is_optional() -> None:
    drop = parse("ppd.csv", b"reason,game_id\nRain,NYA202307010\n")
    assert [p.game_id for p in drop.postponements] == ["NYA202307010"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("NYA202307010,Rain,2023-07-32", "bad makeup_date '2023-07-32': expected YYYY-MM-DD"),
        ("NYA202307010,Rain,7/2/2023", "bad makeup_date '7/2/2023': expected YYYY-MM-DD"),
        (
            "NYA202307010,Rain,2023-06-30",
            "makeup_date 2023-06-30 is before the game's date 2023-07-01",
        ),
        ("NYA202307010,,2023-07-02", "reason is empty"),
        ("NYA2023070,Rain,", "bad game_id 'NYA2023070': expected e.g. NYA202307010"),
    ],
)
def test_a_bad_postponement_row(row: str, reason: str) -> None:
    drop = parse("ppd.csv", f"game_id,reason,makeup_date\n{row}\nBOS202307010,Rain,\n".encode())
    assert reasons(drop) == {"line 2": reason}
    assert [p.game_id for p in drop.postponements] == ["BOS202307010"]


def test_two_postponements_of_one_game_that_disagree() -> None:
    data = (
        b"game_id,reason,makeup_date\nNYA202307010,Rain,2023-07-02\nNYA202307010,Rain,2023-07-03\n"
    )
    drop = parse("ppd.csv", data)
    assert drop.postponements == ()
    assert set(reasons(drop)) == {"line 2", "line 3"}


# --- JSON --------------------------------------------------------------------------


def test_json_starters_and_postponements() -> None:
    starters = [
        {
            "game_id": "NYA202307010",
            "side": "home",
            "pitcher_id": None,
            "pitcher_name": "Gerrit Cole",
        },
        {
            "game_id": "NYA202307010",
            "side": "away",
            "pitcher_id": "salec001",
            "pitcher_name": "",
            "team": "BOS",
        },
    ]
    ppd = [{"game_id": "NYA202307020", "reason": "Rain", "makeup_date": None}]

    read_starters = parse("s.json", json.dumps(starters).encode())
    read_ppd = parse("p.json", json.dumps(ppd).encode())

    assert read_starters.kind == "starters" and read_starters.batch.issues == ()
    assert [(s.pitcher_id, s.pitcher_name) for s in read_starters.batch.starters] == [
        ("coleg001", "Gerrit Cole"),
        ("salec001", "Chris Sale"),
    ]
    assert read_ppd.postponements == (
        Postponement("NYA202307020", "Rain", None, "dropfolder:p.json", NOW),
    )


def test_bad_json_items_are_issues_by_index() -> None:
    items = [
        {
            "game_id": "NYA202307010",
            "side": "home",
            "pitcher_id": "coleg001",
            "pitcher_name": "Gerrit Cole",
        },
        "NYA202307010,away",
        {"game_id": "NYA202307010", "side": "away", "pitcher_id": 7, "pitcher_name": "x"},
        {"game_id": "NYA202307010", "side": "away", "pitcher_name": "Chris Sale", "team": "BOS"},
    ]
    drop = parse("s.json", json.dumps(items).encode())

    assert len(drop.batch.starters) == 1
    assert reasons(drop) == {
        "[1]": "not an object",
        "[2]": "pitcher_id must be a string or null, not int",
        "[3]": "missing pitcher_id",
    }
    assert json.loads(drop.batch.issues[0].text) == "NYA202307010,away"


def test_an_empty_json_list_is_nothing_to_do() -> None:
    drop = parse("s.json", b"[]")
    assert (drop.kind, drop.batch.issues, drop.postponements) == (None, (), ())


# --- whole files -----------------------------------------------------------------


def test_the_kind_comes_from_the_columns_not_the_name() -> None:
    drop = parse("starters-0701.csv", b"game_id,reason\nNYA202307010,Rain\n")
    assert drop.kind == "postponements"
    assert len(drop.postponements) == 1


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "x.csv",
            b"game_id,side,pitcher\nNYA202307010,home,x\n",
            "columns ['game_id', 'pitcher', 'side'] fit no kind of drop file",
        ),
        (
            "x.csv",
            b"game_id,side,reason\n",
            "columns ['game_id', 'reason', 'side'] fit no kind of drop file",
        ),
        ("x.csv", b"game_id,reason,reason\n", "repeated column in header"),
        ("x.csv", b"\n,\n", "no header on line 1"),
        ("x.csv", b"game_id,reason\n\xff\xfeNYA", "not UTF-8 text: undecodable byte at offset 15"),
        ("x.csv", b"  \n", "empty file"),
        ("x.json", b'{"game_id": "NYA202307010"}', "expected a JSON list of objects"),
        ("x.json", b'[{"game_id": ', "not JSON: "),
        ("x.json", b"[" * 100_000, "not JSON: "),
        ("x.txt", b"game_id,reason\n", "not a drop file: expected a name ending in .csv, .json"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_issue(name: str, data: bytes, reason: str) -> None:
    drop = parse(name, data)

    assert (drop.kind, drop.batch.starters, drop.postponements) == (None, (), ())
    ((location, got),) = reasons(drop).items()
    assert location == "file"
    assert got.startswith(reason)


def test_a_byte_order_mark_is_fine() -> None:
    drop = parse("ppd.csv", "\ufeffgame_id,reason\nNYA202307010,Rain\n".encode())
    assert len(drop.postponements) == 1


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as out:
        out.write(b"game_id,reason\n")
        out.truncate(MAX_FILE_BYTES * 3)  # sparse: cheap to make

    drop = read_drop_file(path, PITCHERS, NOW)

    assert reasons(drop) == {"file": f"larger than {MAX_FILE_BYTES} bytes: not a drop file"}


def test_read_drop_file_reports_an_unreadable_file(tmp_path: Path) -> None:
    drop = read_drop_file(tmp_path / "missing.csv", PITCHERS, NOW)
    assert reasons(drop)["file"].startswith("cannot read: ")


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_drop_bytes("x.csv", b"game_id,reason\n", PITCHERS, dt.datetime(2023, 7, 1))


# --- scanning the folder ---------------------------------------------------------


def test_scan_reads_only_new_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"game_id,reason\nNYA202307010,Rain\n")
    (tmp_path / "b.json").write_text(json.dumps([{"game_id": "BOS202307010", "reason": "Rain"}]))
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".a.csv.swp").write_text("ignored")
    (tmp_path / "dir.csv").mkdir()
    os.symlink(tmp_path / "a.csv", tmp_path / "link.csv")

    first = scan_drop_folder(tmp_path, PITCHERS, NOW, set())
    seen = {f.key for f in first}
    again = scan_drop_folder(tmp_path, PITCHERS, NOW, seen)
    (tmp_path / "a.csv").write_bytes(b"game_id,reason\nNYA202307010,Fog\n")
    changed = scan_drop_folder(tmp_path, PITCHERS, NOW, seen)

    assert [f.name for f in first] == ["a.csv", "b.json"]
    assert all(f.key.startswith(f"{f.name}:") and len(f.sha256) == 64 for f in first)
    assert again == []
    assert [(f.name, f.postponements[0].reason) for f in changed] == [("a.csv", "Fog")]


def test_scan_of_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        scan_drop_folder(tmp_path / "nope", PITCHERS, NOW, set())
