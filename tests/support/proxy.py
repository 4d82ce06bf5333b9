"""A TCP fault proxy on loopback: latency, blackhole, reset, or stop at one command."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from bench.loopback import free_port


class FaultProxy:
    """A loopback TCP proxy (its own event loop in a thread) between a client and `upstream`.

    Modes, switchable at any time: `pass`; `latency` (each chunk is delivered `delay` s
    after it arrived, both directions, without serialising chunks); `blackhole`
    (connections stay open, nothing is forwarded: the peer sees silence); `reset`
    (every connection, open or new, is aborted with an RST). With `hold_on` set, the
    first chunk containing those bytes switches to `blackhole` before it is forwarded
    and sets `held`: the client is stopped exactly at one command.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.mode = "pass"
        self.delay = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.hold_on: bytes | None = None
        self.held = threading.Event()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._accept, "127.0.0.1", self.port), self._loop
        )
        self._server = future.result(timeout=5)
        return self

    def set(self, mode: str, delay: float = 0.0) -> None:
        assert mode in ("pass", "latency", "blackhole", "reset")
        self.mode, self.delay = mode, delay
        if mode == "reset":
            self._loop.call_soon_threadsafe(self._abort_all)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "reset":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.hold_on is not None and self.hold_on in data:
                    self.mode = "blackhole"
                    self.held.set()
                if self.mode == "blackhole":
                    continue  # swallowed
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                delay = self.delay if self.mode == "latency" else 0.0
                queue.put_nowait((time.monotonic() + delay, data))
        finally:
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(Exception):
                await sender
            writer.transport.abort()

    def close(self) -> None:
        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            self._abort_all()

        self._loop.call_soon_threadsafe(shutdown)
        time.sleep(0.05)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
