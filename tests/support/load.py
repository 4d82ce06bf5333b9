"""Bounded load loops on loopback, and what they measured.

* `drive` — a paced, time- and count-bounded loop that records every request; `LoadReport`
  turns it into the figures of the fault table.
* `RawClient`, `open_loop`, `closed_loop` — a lean HTTP/1.1 client (httpx costs more CPU
  than the server it loads) at a constant arrival rate, or back to back.
* `serving` — an app in process with its lifespan and an HTTP client on it (no sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI


@dataclass(frozen=True, slots=True)
class Sample:
    started: float  # seconds since the loop started
    ended: float
    status: int  # HTTP status; 0 = exception or client timeout
    full: bool  # served at full service (e.g. from the cache, not a fallback)
    error: str = ""  # the exception of a request that got no response

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass
class LoadReport:
    samples: list[Sample]
    duration: float
    marks: dict[str, float] = field(default_factory=dict)  # event name → seconds since start
    origin: float = 0.0  # the event loop's clock when the loop started

    @property
    def sent(self) -> int:
        return len(self.samples)

    @property
    def failed(self) -> int:
        return sum(not s.ok for s in self.samples)

    def failed_ratio(self) -> float:
        return self.failed / self.sent if self.sent else 0.0

    def longest_gap(self) -> float:
        """The longest time in which no request succeeded (from the loop's start to its end)."""
        ends = sorted(s.ended for s in self.samples if s.ok)
        points = [0.0, *ends, self.duration]
        return max(b - a for a, b in itertools.pairwise(points))

    def latency_percentile(self, q: float, since: float = 0.0, until: float = math.inf) -> float:
        values = sorted(s.latency for s in self.samples if since <= s.started < until)
        if not values:
            return 0.0
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]

    def recovered_after(self, mark: str) -> float | None:
        """Seconds from `mark` until every request started from then on had full service.

        None if service was still degraded at the end of the loop.
        """
        start = self.marks[mark]
        degraded = [s.started for s in self.samples if s.started >= start and not s.full]
        if not degraded:
            return 0.0
        last = max(degraded)
        after = [s for s in self.samples if s.started > last]
        if not after:
            return None
        return min(s.started for s in after) - start

    def window(self, since: float, until: float = math.inf) -> list[Sample]:
        return [s for s in self.samples if since <= s.started < until]


Request = Callable[[int], Awaitable[tuple[int, bool]]]


async def drive(
    request: Request,
    *,
    duration: float,
    workers: int = 8,
    rate: float = 400.0,
    max_requests: int = 100_000,
    timeout: float = 5.0,
    events: dict[str, tuple[float, Callable[[], object]]] | None = None,
) -> LoadReport:
    """Run `request(i)` from `workers` paced workers (`rate` req/s in all) for `duration` s.

    `request` returns (status, full service?). Each call is cut at `timeout` (a client
    timeout counts as failed). `events` are name → (at seconds, blocking callable), run
    in a thread at that time (a kill, a restart); `report.marks` records when each
    finished.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    samples: list[Sample] = []
    marks: dict[str, float] = {}
    counter = iter(range(max_requests))
    interval = workers / rate

    async def worker(offset: float) -> None:
        next_at = started + offset
        while (now := loop.time()) - started < duration:
            if now < next_at:
                await asyncio.sleep(next_at - now)
            next_at = max(next_at + interval, loop.time() - interval)
            i = next(counter, None)
            if i is None:
                return
            t0 = loop.time()
            try:
                async with asyncio.timeout(timeout):
                    status, full = await request(i)
                error = ""
            except Exception as exc:
                status, full, error = 0, False, repr(exc)[:200]
            t1 = loop.time()
            ok = 200 <= status < 300
            samples.append(Sample(t0 - started, t1 - started, status, full and ok, error))

    async def event(name: str, at: float, action: Callable[[], object]) -> None:
        await asyncio.sleep(at)
        await asyncio.to_thread(action)
        marks[name] = loop.time() - started

    tasks = [asyncio.create_task(event(n, a, f)) for n, (a, f) in (events or {}).items()]
    async with asyncio.timeout(duration + timeout + 60):  # a hung event is a failure
        await asyncio.gather(*(worker(i * interval / workers) for i in range(workers)))
        await asyncio.gather(*tasks)
    return LoadReport(
        sorted(samples, key=lambda s: s.started), loop.time() - started, marks, started
    )


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process with its lifespan, and an HTTP client on it (no sockets)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://faults") as client:
            yield client


class RawClient:
    """Keep-alive HTTP/1.1 connections to one loopback server; one request at a time each."""

    def __init__(self, base_url: str, max_connections: int = 512) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.max_connections = max_connections
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    @staticmethod
    def build(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: bullpen"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, raw: bytes, timeout: float) -> int:
        """The response status of `raw` (a whole request); raises on timeout or error."""
        async with asyncio.timeout(timeout):  # a full accept queue can stall a connect
            return await self._send(raw)

    async def _send(self, raw: bytes) -> int:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            if self.opened >= self.max_connections:
                raise RuntimeError("client connection limit")
            self.opened += 1
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except BaseException:
                self.opened -= 1
                raise
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
        except BaseException:
            writer.transport.abort()
            self.opened -= 1
            raise
        self._idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self._idle:
            writer.transport.abort()
        self._idle.clear()


@dataclass
class OpenLoopResult:
    offered_rps: float
    duration: float
    statuses: dict[int, int]
    latencies: dict[int, list[float]]  # by status; 0 = timeout or error

    def count(self, *statuses: int) -> int:
        return sum(self.statuses.get(s, 0) for s in statuses)

    def p(self, status: int, q: float) -> float:
        values = sorted(self.latencies.get(status, []))
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)] if values else 0.0


async def open_loop(
    client: RawClient, raw: bytes, rate: float, duration: float, timeout: float
) -> OpenLoopResult:
    """Send `raw` at `rate` req/s for `duration` s whatever the answers (arrivals do not
    wait for responses, as real clients do not); each request is cut at `timeout`."""
    loop = asyncio.get_running_loop()
    statuses: dict[int, int] = {}
    latencies: dict[int, list[float]] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def one() -> None:
        t0 = loop.time()
        try:
            status = await client.send(raw, timeout)
        except Exception:
            status = 0
        statuses[status] = statuses.get(status, 0) + 1
        latencies.setdefault(status, []).append(loop.time() - t0)

    started = loop.time()
    sent = 0
    while (now := loop.time()) - started < duration:
        due = int((now - started) * rate) + 1
        while sent < due:
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(0.002)
    if tasks:  # every request is cut at `timeout`, connecting included
        await asyncio.wait(tasks)
    return OpenLoopResult(rate, duration, statuses, latencies)


async def closed_loop(client: RawClient, raw: bytes, workers: int, duration: float) -> float:
    """Completed 2xx per second with `workers` back-to-back clients: the capacity."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    done = 0

    async def worker() -> None:
        nonlocal done
        while loop.time() - started < duration:
            if 200 <= await client.send(raw, 10.0) < 300:
                done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (loop.time() - started)
