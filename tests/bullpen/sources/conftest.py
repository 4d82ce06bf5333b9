"""Fixtures for the game-log source: real game logs, zipped at test time, and a
loopback HTTP server that can misbehave on cue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bullpen.settings import GameLogSettings
from tests.support.gamelog_server import GameLogServer, make_zip, serve_gamelogs

SEASONS = (2021, 2022)


@pytest.fixture(scope="session")
def gamelogs_dir() -> Path:
    """The shared Retrosheet game logs; never copied into the repo."""
    path = GameLogSettings().gamelogs_dir
    if not all((path / f"GL{season}.TXT").is_file() for season in SEASONS):
        pytest.skip(f"Retrosheet game logs for {SEASONS} not found in {path}")
    return path


@pytest.fixture(scope="session")
def gamelog_bytes(gamelogs_dir: Path) -> dict[int, bytes]:
    return {season: (gamelogs_dir / f"GL{season}.TXT").read_bytes() for season in SEASONS}


@pytest.fixture(scope="session")
def gamelog_zips(
    tmp_path_factory: pytest.TempPathFactory, gamelog_bytes: dict[int, bytes]
) -> dict[int, bytes]:
    """Retrosheet-style archives: gl2022.zip holding GL2022.TXT, as bytes."""
    root = tmp_path_factory.mktemp("zips")
    return {
        season: make_zip(root / f"gl{season}.zip", {f"GL{season}.TXT": data}).read_bytes()
        for season, data in gamelog_bytes.items()
    }


@pytest.fixture
def server(gamelog_zips: dict[int, bytes]) -> Iterator[GameLogServer]:
    files = {f"/gl{s}.zip": data for s, data in gamelog_zips.items()}
    with serve_gamelogs(files) as state:
        yield state
