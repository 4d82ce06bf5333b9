"""Game-log files for the source tests: zips made at test time, and a loopback HTTP server
that serves them and misbehaves on cue (5xx, a body cut short)."""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.loopback_http import serve_http


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


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


@contextlib.contextmanager
def serve_gamelogs(files: dict[str, bytes]) -> Iterator[GameLogServer]:
    """`files` (URL path → bytes) on 127.0.0.1 and a free port until the block ends."""
    state = GameLogServer(files=files)
    with serve_http(_handler(state)) as base_url:
        state.base_url = base_url
        yield state
