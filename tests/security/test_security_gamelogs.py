"""Game-log ingestion survives hostile files: huge lines, binary junk, zip bombs (bounded
expansion: `bullpen.sources.gamelogs.MAX_GAME_LOG_BYTES`), archives whose headers lie. The good
seasons beside them are still read, parsed and stored."""

from __future__ import annotations

import os
import shutil
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from bullpen.sources.gamelogs import MAX_GAME_LOG_BYTES, read_directory
from bullpen.sources.parsed import parse_scan, read_gamelogs
from bullpen.store import count_games, load_parse_result, make_engine, upgrade

CAP = 4 * 1024 * 1024  # a small cap for the tests; the default is MAX_GAME_LOG_BYTES


@pytest.fixture
def good(gamelogs_dir: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    shutil.copy(gamelogs_dir / "GL2022.TXT", directory / "GL2022.TXT")
    return directory


def zip_bomb(path: Path, member: str, size: int) -> None:
    """A real zip whose one member inflates `size` zero bytes from a few kilobytes."""
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open(member, "w", force_zip64=True) as out,
    ):
        for _ in range(size // len(block)):
            out.write(block)


def lying_zip(path: Path, member: str, real: bytes, claimed: int) -> None:
    """A stored zip whose headers claim `claimed` bytes for `real` deflated bytes."""
    zip_bomb(path, member, 0)
    data = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = data.compress(real) + data.flush()
    name = member.encode()
    crc = zlib.crc32(real)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), claimed,
                        len(name), 0) + name  # fmt: skip
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(body), claimed, len(name), 0, 0, 0, 0, 0, 0) + name  # fmt: skip
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central),
                      len(local) + len(body), 0)  # fmt: skip
    path.write_bytes(local + body + central + end)


def test_zip_bomb_is_cut_off_not_expanded(good: Path) -> None:
    zip_bomb(good / "gl2021.zip", "GL2021.TXT", 64 * 1024 * 1024)  # 64 MB in ~65 KB
    assert (good / "gl2021.zip").stat().st_size < 1024 * 1024
    tracemalloc.start()
    try:
        scan = read_directory(good, max_bytes=CAP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scan.seasons == [2022]
    assert [e.name for e in scan.errors] == ["gl2021.zip"]
    assert "larger than" in str(scan.errors[0])
    assert peak < 4 * CAP  # never the 64 MB the archive expands to


def test_a_lying_zip_header_is_counted_not_trusted(good: Path) -> None:
    """The directory says 10 bytes; the stream inflates to more: still cut at the cap."""
    lying_zip(good / "gl2020.zip", "GL2020.TXT", b"x" * (CAP + 4096), claimed=10)
    scan = read_directory(good, max_bytes=CAP)
    assert scan.seasons == [2022]
    assert [e.name for e in scan.errors] == ["gl2020.zip"]


def test_default_cap_is_far_above_a_real_season(gamelogs_dir: Path) -> None:
    biggest = max(p.stat().st_size for p in gamelogs_dir.glob("GL*.TXT"))
    assert 8 * biggest < MAX_GAME_LOG_BYTES < 1024 * 1024 * 1024


def test_oversized_plain_file_is_refused(good: Path) -> None:
    with (good / "GL2019.TXT").open("wb") as out:
        out.truncate(CAP + 1)  # sparse: no disk used
    scan = read_directory(good, max_bytes=CAP)
    assert scan.seasons == [2022] and [e.name for e in scan.errors] == ["GL2019.TXT"]


def test_huge_lines_and_binary_junk_are_quarantined_and_stored(
    good: Path, gamelogs_dir: Path, tmp_path: Path
) -> None:
    real = (gamelogs_dir / "GL2021.TXT").read_bytes().splitlines(keepends=True)
    junk = os.urandom(200_000)
    huge_line = b'"' + b"A" * 2_000_000 + b'",1,2\r\n'  # one 2 MB CSV field, no quote close
    (good / "GL2021.TXT").write_bytes(b"".join(real[:50]) + huge_line + junk + b"\n"
                                      + b"".join(real[50:100]))  # fmt: skip
    (good / "GL2020.TXT").write_bytes(os.urandom(300_000))  # nothing but junk
    (good / "GL2019.TXT").write_bytes(b"\x00" * 1000)  # NULs only
    (good / "GL2018.TXT").write_bytes(b"\r\n" * 1000)  # blank
    logs = read_gamelogs(good)
    by_season = {f.file.season: f.result for f in logs.files}
    assert len(by_season[2022].games) > 2000
    assert len(by_season[2021].games) == 100  # the good lines around the junk
    assert by_season[2021].quarantined and all(q.reason for q in by_season[2021].quarantined)
    assert not by_season[2020].games
    # and they load into the store, one transaction each
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        for parsed in logs.files:
            load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        assert count_games(engine) == sum(len(r.games) for r in by_season.values())
    finally:
        engine.dispose()
    assert {e.name for e in logs.errors} >= {"GL2018.TXT"}  # blank file: an error, not a crash


def test_corrupt_and_wrong_archives(good: Path) -> None:
    (good / "gl2017.zip").write_bytes(b"PK\x03\x04" + os.urandom(5000))  # truncated junk
    with zipfile.ZipFile(good / "gl2016.zip", "w") as z:  # path traversal in a member name
        z.writestr("../../etc/GL2016.TXT", "x")
    with zipfile.ZipFile(good / "gl2015.zip", "w") as z:  # encrypted-flag junk member
        z.writestr("GL2015.TXT", b"\xff" * 100)
    scan = parse_scan(read_directory(good, max_bytes=CAP))
    assert [f.file.season for f in scan.files][-1] == 2022
    assert {e.name for e in scan.errors} >= {"gl2017.zip"}
    assert not (good.parent.parent / "etc").exists()  # nothing is ever extracted to disk
