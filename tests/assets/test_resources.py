"""Resources: defaults from BULLPEN_* settings, a cached migrated engine, both source kinds."""

from __future__ import annotations

import functools
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import inspect

from assets.resources import GameLogSource, StoreResource


def test_defaults_come_from_bullpen_settings(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("BULLPEN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("BULLPEN_GAMELOGS_DIR", str(tmp_path))
    monkeypatch.setenv("BULLPEN_SEASONS", "2019,2021")
    monkeypatch.delenv("BULLPEN_GAMELOGS_BASE_URL", raising=False)
    assert StoreResource().database_url == f"sqlite:///{tmp_path / 'x.db'}"
    source = GameLogSource()
    assert (source.gamelogs_dir, source.base_url) == (str(tmp_path), None)
    assert source.season_list() == [2019, 2021]


def test_engine_is_migrated_once_and_cached(sqlite_url) -> None:
    store = StoreResource(database_url=sqlite_url)
    engine = store.engine()
    try:
        assert store.engine() is engine
        assert {"games", "features", "models", "predictions"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_scan_reads_the_configured_seasons_of_a_directory(four_seasons) -> None:
    scan = GameLogSource(gamelogs_dir=str(four_seasons), seasons="2021-2023").scan()
    assert scan.seasons == [2021, 2022]
    assert scan.errors == []


@pytest.fixture
def archive_server(real_gamelogs: Path, tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server holding gl2022.zip only."""
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "gl2022.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(real_gamelogs / "GL2022.TXT", "GL2022.TXT")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_scan_downloads_when_a_base_url_is_set(archive_server, tmp_path) -> None:
    source = GameLogSource(
        gamelogs_dir=str(tmp_path / "unused"),
        base_url=archive_server,
        download_dir=str(tmp_path / "downloads"),
        seasons="2021-2022",
    )
    scan = source.scan()
    assert scan.seasons == [2022]
    assert (tmp_path / "downloads" / "gl2022.zip").is_file()
    assert [str(e) for e in scan.errors] == [
        f"gl2021.zip: not found at {archive_server}/gl2021.zip"
    ]
