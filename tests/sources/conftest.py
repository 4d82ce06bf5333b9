"""Fixtures for the game-log source: real game logs, zipped at test time, and a
loopback HTTP server that can misbehave on cue."""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bullpen.settings import Settings

SEASONS = (2021, 2022)


@pytest.fixture(scope="session")
def gamelogs_dir() -> Path:
    """The shared Retrosheet game logs; never copied into the repo."""
    path = Settings().gamelogs_dir
    if not all((path / f"GL{season}.TXT").is_file() for season in SEASONS):
        pytest.skip(f"Retrosheet game logs for {SEASONS} not found in {path}")
    return path


@pytest.fixture(scope="session")
def gamelog_bytes(gamelogs_dir: Path) -> dict[int, bytes]:
    return {season: (gamelogs_dir / f"GL{season}.TXT").read_bytes() for season in SEASONS}


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


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


@dataclass
class GameLogServer:
    """What the loopback server serves, what it did, and how it should fail.

    `scripts[path]` lists what the next requests for `path` get ("500",
    "truncate"), one per request; once used up, the file is served normally.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    scripts: dict[str, list[str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def count(self, path: str) -> int:
        return self.requests.count(path)


def _handler(state: GameLogServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and Content-Length is binding

        def do_GET(self) -> None:
            state.requests.append(self.path)
            script = state.scripts.get(self.path)
            action = script.pop(0) if script else "serve"
            body = state.files.get(self.path)
            if body is None:
                self._reply(404, b"not found")
            elif action == "500":
                self._reply(500, b"server error")
            elif action == "truncate":
                self._truncated(body)
            else:
                self._reply(200, body)

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _truncated(self, body: bytes) -> None:
            # Promise the whole body, send half, then hang up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler


@pytest.fixture
def server(gamelog_zips: dict[int, bytes]) -> Iterator[GameLogServer]:
    state = GameLogServer(files={f"/gl{s}.zip": data for s, data in gamelog_zips.items()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    host, port = httpd.server_address[:2]
    state.base_url = f"http://{host}:{port}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
