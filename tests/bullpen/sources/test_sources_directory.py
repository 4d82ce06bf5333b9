"""read_directory and GameLogFile on game logs built from the shared Retrosheet data."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest

from bullpen.domain.gamelogs import parse_lines
from bullpen.sources.gamelogs import GameLogFile, GameLogSourceError, read_directory
from tests.support.gamelog_server import make_zip


def copy_logs(gamelogs_dir: Path, dest: Path, *seasons: int) -> None:
    for season in seasons:
        shutil.copyfile(gamelogs_dir / f"GL{season}.TXT", dest / f"GL{season}.TXT")


def test_reads_txt_game_logs_sorted_by_season(gamelogs_dir: Path, tmp_path: Path) -> None:
    copy_logs(gamelogs_dir, tmp_path, 2022, 2021)
    (tmp_path / "README.txt").write_text("not a game log")
    (tmp_path / "GL2022.TXT.bak").write_text("not a game log either")

    scan = read_directory(tmp_path)

    assert scan.errors == []
    assert [(f.name, f.season) for f in scan.files] == [("GL2021.TXT", 2021), ("GL2022.TXT", 2022)]
    assert [len(f.lines()) for f in scan.files] == [2429, 2430]
    raw = (gamelogs_dir / "GL2022.TXT").read_bytes()
    assert scan.files[1].sha256 == hashlib.sha256(raw).hexdigest()


def test_lines_feed_the_parser(gamelogs_dir: Path, tmp_path: Path) -> None:
    copy_logs(gamelogs_dir, tmp_path, 2022)
    [file] = read_directory(tmp_path).files

    result = parse_lines(file.lines(), file.name)

    assert len(result.games) + len(result.quarantined) == 2430


def test_reads_lowercase_names_and_zips(
    gamelog_zips: dict[int, bytes], gamelog_bytes: dict[int, bytes], tmp_path: Path
) -> None:
    (tmp_path / "gl2021.txt").write_bytes(gamelog_bytes[2021])
    (tmp_path / "gl2022.zip").write_bytes(gamelog_zips[2022])

    scan = read_directory(tmp_path)

    assert scan.errors == []
    assert [f.name for f in scan.files] == ["gl2021.txt", "gl2022.zip:GL2022.TXT"]
    assert scan.files[1].sha256 == hashlib.sha256(gamelog_bytes[2022]).hexdigest()


def test_season_filter(gamelogs_dir: Path, tmp_path: Path) -> None:
    copy_logs(gamelogs_dir, tmp_path, 2021, 2022, 2023)

    assert read_directory(tmp_path, [2022]).seasons == [2022]
    assert read_directory(tmp_path, iter([2023, 2021, 1999])).seasons == [2021, 2023]
    assert read_directory(tmp_path, []).files == []
    assert read_directory(tmp_path, [2021, 1999]).missing([2021, 1999]) == [1999]


def test_txt_is_preferred_over_zip(gamelogs_dir: Path, tmp_path: Path) -> None:
    copy_logs(gamelogs_dir, tmp_path, 2022)
    make_zip(tmp_path / "gl2022.zip", {"GL2022.TXT": b"stale,archive\n"})

    scan = read_directory(tmp_path)

    assert scan.errors == []
    assert [f.name for f in scan.files] == ["GL2022.TXT"]
    assert len(scan.files[0].lines()) == 2430


def test_zip_without_game_log_is_an_error(gamelog_bytes: dict[int, bytes], tmp_path: Path) -> None:
    make_zip(tmp_path / "gl2022.zip", {"README.TXT": b"nothing here"})
    (tmp_path / "GL2021.TXT").write_bytes(gamelog_bytes[2021])

    scan = read_directory(tmp_path)

    assert [str(e) for e in scan.errors] == ["gl2022.zip: archive holds no GL*.TXT game log"]
    assert scan.seasons == [2021]  # one bad archive does not stop the others


def test_zip_with_another_seasons_log_is_an_error(tmp_path: Path) -> None:
    make_zip(tmp_path / "gl2022.zip", {"GL2021.TXT": b"x\n"})

    [error] = read_directory(tmp_path).errors

    assert str(error) == "gl2022.zip: archive holds GL2021.TXT, not the 2022 game log"


def test_corrupt_zip_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "gl2022.zip").write_bytes(b"this is not a zip archive")

    [error] = read_directory(tmp_path).errors

    assert str(error).startswith("gl2022.zip: corrupt archive:")


def test_zip_with_bad_crc_is_an_error(gamelog_bytes: dict[int, bytes], tmp_path: Path) -> None:
    path = tmp_path / "gl2022.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("GL2022.TXT", gamelog_bytes[2022])
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF  # inside the stored member: only the CRC check notices
    path.write_bytes(bytes(data))

    scan = read_directory(tmp_path)

    assert scan.files == []
    [error] = scan.errors
    assert str(error).startswith("gl2022.zip: corrupt archive:")
    assert "CRC" in str(error)


def test_empty_file_is_an_error(gamelog_bytes: dict[int, bytes], tmp_path: Path) -> None:
    (tmp_path / "GL2021.TXT").write_bytes(b"")
    (tmp_path / "GL2022.TXT").write_bytes(gamelog_bytes[2022])
    make_zip(tmp_path / "gl2023.zip", {"GL2023.TXT": b""})

    scan = read_directory(tmp_path)

    assert [str(e) for e in scan.errors] == [
        "GL2021.TXT: file is empty",
        "gl2023.zip:GL2023.TXT: file is empty",
    ]
    assert scan.seasons == [2022]


def test_two_txt_logs_for_one_season_are_reported(tmp_path: Path) -> None:
    (tmp_path / "GL2022.TXT").write_bytes(b"a\n")
    (tmp_path / "gl2022.txt").write_bytes(b"b\n")
    if len(list(tmp_path.iterdir())) < 2:
        pytest.skip("case-insensitive file system")

    scan = read_directory(tmp_path)

    assert [f.name for f in scan.files] == ["GL2022.TXT"]
    assert [str(e) for e in scan.errors] == [
        "gl2022.txt: ignored: GL2022.TXT is also the 2022 game log"
    ]


def test_missing_directory_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    with pytest.raises(GameLogSourceError, match="directory does not exist") as info:
        read_directory(missing)

    assert info.value.name == str(missing)


def test_file_instead_of_directory_raises(tmp_path: Path) -> None:
    path = tmp_path / "GL2022.TXT"
    path.write_text("x")

    with pytest.raises(GameLogSourceError, match="is not a directory"):
        read_directory(path)


def test_lines_split_only_on_newlines() -> None:
    # U+0085 is latin-1 byte 0x85; str.splitlines would break the line there.
    file = GameLogFile.from_bytes("GL2022.TXT", 2022, b"a\x85b\r\nc\n\nd")

    assert file.lines() == ["a\x85b", "c", "", "d"]
    assert GameLogFile.from_bytes("GL2022.TXT", 2022, b"").lines() == []


def test_error_keeps_name_and_problem_through_pickle() -> None:
    error = pickle.loads(pickle.dumps(GameLogSourceError("gl2022.zip", "file is empty")))

    assert (error.name, error.problem, str(error)) == (
        "gl2022.zip",
        "file is empty",
        "gl2022.zip: file is empty",
    )
