"""download_gamelogs against a real loopback HTTP server (see conftest.py)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import httpx
import pytest

from bullpen.sources.gamelogs import SourceScan, download_gamelogs
from tests.support.gamelog_server import GameLogServer

FAST = {"retry_wait": 0.001, "timeout": 5.0}  # keep retries quick in tests


def download(server: GameLogServer, seasons: list[int], dest: Path, **kwargs) -> SourceScan:
    return download_gamelogs(server.base_url, seasons, dest, **{**FAST, **kwargs})


def test_downloads_two_seasons(
    server: GameLogServer, tmp_path: Path, gamelog_bytes: dict[int, bytes]
) -> None:
    scan = download(server, [2022, 2021], tmp_path)

    assert scan.errors == []
    assert [f.name for f in scan.files] == ["gl2021.zip:GL2021.TXT", "gl2022.zip:GL2022.TXT"]
    assert [len(f.lines()) for f in scan.files] == [2429, 2430]
    for file in scan.files:
        assert file.sha256 == hashlib.sha256(gamelog_bytes[file.season]).hexdigest()
        assert file.text == gamelog_bytes[file.season].decode("latin-1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gl2021.zip", "gl2022.zip"]
    assert server.requests == ["/gl2021.zip", "/gl2022.zip"]


def test_second_call_is_served_from_cache(server: GameLogServer, tmp_path: Path) -> None:
    first = download(server, [2021, 2022], tmp_path)
    requests = len(server.requests)

    second = download(server, [2021, 2022], tmp_path)

    assert len(server.requests) == requests == 2
    assert [f.sha256 for f in second.files] == [f.sha256 for f in first.files]


def test_corrupt_cached_archive_is_downloaded_again(server: GameLogServer, tmp_path: Path) -> None:
    (tmp_path / "gl2022.zip").write_bytes(b"PK\x03\x04 not really a zip")

    scan = download(server, [2022], tmp_path)

    assert scan.errors == []
    assert scan.seasons == [2022]
    assert server.count("/gl2022.zip") == 1


def test_missing_season_is_reported_and_others_still_downloaded(
    server: GameLogServer, tmp_path: Path
) -> None:
    scan = download(server, [1890, 2022], tmp_path)

    assert [str(e) for e in scan.errors] == [
        f"gl1890.zip: not found at {server.base_url}/gl1890.zip"
    ]
    assert scan.seasons == [2022]
    assert scan.missing([1890, 2022]) == [1890]
    assert server.count("/gl1890.zip") == 1  # a 404 is not retried


def test_truncated_body_is_retried(server: GameLogServer, tmp_path: Path) -> None:
    server.scripts["/gl2022.zip"] = ["truncate", "truncate"]

    scan = download(server, [2022], tmp_path)

    assert scan.errors == []
    assert [len(f.lines()) for f in scan.files] == [2430]
    assert server.count("/gl2022.zip") == 3


def test_always_truncated_gives_up_and_leaves_nothing(
    server: GameLogServer, tmp_path: Path
) -> None:
    server.scripts["/gl2022.zip"] = ["truncate"] * 10

    scan = download(server, [2022], tmp_path)

    assert scan.files == []
    [error] = scan.errors
    assert error.name == "gl2022.zip"
    assert "failed after 3 attempts" in str(error)
    assert server.count("/gl2022.zip") == 3
    assert list(tmp_path.iterdir()) == []  # no partial archive, no temp file


def test_server_error_is_retried(server: GameLogServer, tmp_path: Path) -> None:
    server.scripts["/gl2021.zip"] = ["500"]

    scan = download(server, [2021], tmp_path)

    assert scan.errors == []
    assert scan.seasons == [2021]
    assert server.count("/gl2021.zip") == 2


def test_persistent_server_error_is_reported(server: GameLogServer, tmp_path: Path) -> None:
    server.scripts["/gl2021.zip"] = ["500"] * 10

    scan = download(server, [2021, 2022], tmp_path, attempts=2)

    [error] = scan.errors
    assert str(error).startswith("gl2021.zip: download from")
    assert "HTTP 500" in str(error)
    assert server.count("/gl2021.zip") == 2
    assert scan.seasons == [2022]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gl2022.zip"]


def test_body_that_is_not_a_zip_is_rejected_without_retry(
    server: GameLogServer, tmp_path: Path
) -> None:
    server.files["/gl2022.zip"] = b"<html>maintenance</html>"

    scan = download(server, [2022], tmp_path)

    [error] = scan.errors
    assert "gl2022.zip: download is not a zip archive" in str(error)
    assert server.count("/gl2022.zip") == 1
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_is_retried_then_reported(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    scan = download_gamelogs(f"http://127.0.0.1:{port}", [2022], tmp_path / "dl", **FAST)

    [error] = scan.errors
    assert "failed after 3 attempts: ConnectError" in str(error)
    assert list((tmp_path / "dl").iterdir()) == []


def test_given_client_is_used_and_left_open(server: GameLogServer, tmp_path: Path) -> None:
    with httpx.Client() as client:
        scan = download(server, [2022], tmp_path, client=client)
        assert not client.is_closed
    assert scan.seasons == [2022]


@pytest.mark.parametrize("seasons", [[], [2022, 2022]])
def test_seasons_are_deduplicated(server: GameLogServer, tmp_path: Path, seasons) -> None:
    scan = download(server, seasons, tmp_path)

    assert scan.seasons == sorted(set(seasons))
    assert len(server.requests) == len(set(seasons))
