"""Load shedding and request-size limits, ahead of FastAPI (pure ASGI).

* A request is answered 503 with `Retry-After: 1` at once when admitting it would mean
  a queue: more requests inside the app than it completes in `max_queue_s` (its recent
  completion rate, measured here, times `max_queue_s`), or more than `max_in_flight`, or
  an event loop running late by more than `max_queue_s`. The last is the queue
  nobody counts in flight: requests parsed but not yet run, because the loop itself is
  the bottleneck (cheap requests at a rate one core cannot keep up with, or a machine
  whose other work takes the CPU). A refusal costs a fraction of an answer, so shedding
  then frees the loop for the requests it admits.
  Overload then costs the excess requests a fast rejection, and the admitted ones keep
  their latency, instead of every request waiting until it times out. The limit follows
  what requests cost: cheap cache reads completing at thousands per second are never
  shed at 1,024 connections, store-backed misses at a few hundred per second are.
  Below `FLOOR` requests in flight nothing is shed (a rate measured on a trickle of
  traffic says nothing about capacity).
* A request body over `max_body_bytes` is answered 413 before the app reads it
  (by `Content-Length`, or while a chunked body streams in), so a client cannot make
  a replica buffer megabytes of JSON. Every route's body is a few hundred bytes.

`/health`, `/ready` and `/metrics` are never shed: an overloaded replica is alive and
observable. 0 disables a limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from online.asgi_body import read_body, replaying

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NEVER_SHED = frozenset({"/health", "/ready", "/metrics"})
FLOOR = 64
# The loop's lateness is sampled every LAG_TICK_S; a late tick counts at once, then the
# figure halves per on-time tick (a GC pause sheds for a few ticks, not for seconds).
LAG_TICK_S = 0.01
# The completion rate is sampled over windows this long; it rises at once and decays by
# DECAY per window, so a burst after a quiet spell is not judged by the quiet rate.
WINDOW_S = 0.25
DECAY = 0.8
_OVERLOADED = b'{"detail":"overloaded: too many requests in flight; retry shortly"}'
_TOO_LARGE = b'{"detail":"request body too large"}'


class CompletionRate:
    """Requests completed per second: the peak of recent windows, decaying slowly."""

    def __init__(self) -> None:
        self.per_s = 0.0
        self._count = 0
        self._since = time.monotonic()

    def completed(self) -> None:
        self._count += 1

    def current(self) -> float:
        now = time.monotonic()
        elapsed = now - self._since
        if elapsed >= WINDOW_S:
            self.per_s = max(self._count / elapsed, self.per_s * DECAY ** (elapsed / WINDOW_S))
            self._count, self._since = 0, now
        return self.per_s


class LoopLag:
    """How late the event loop runs a timer: the wait of everything queued in it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    def watch(self) -> None:
        """Start sampling in the running loop (once per loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_TICK_S)
            late = max(0.0, loop.time() - started - LAG_TICK_S)
            self.seconds = late if late > self.seconds else (self.seconds + late) / 2


class Shedder:
    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int,
        max_queue_s: float,
        max_body_bytes: int,
        registry: CollectorRegistry,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_queue_s = max_queue_s
        self.max_body_bytes = max_body_bytes
        self.in_flight = 0
        self.rate = CompletionRate()
        self.lag = LoopLag()
        self.rejected = Counter(
            "bullpen_requests_shed", "Requests refused before the app: overload or size",
            ["reason"], registry=registry,
        )  # fmt: skip
        # Read at scrape time, nothing per request: the HPA's queue signal (via
        # prometheus-adapter) and the dashboards' view of what the shedder decides on.
        Gauge(
            "bullpen_event_loop_lag_seconds",
            "How late the event loop runs a timer: the wait of everything queued in it",
            registry=registry,
        ).set_function(lambda: self.lag.seconds)
        Gauge(
            "bullpen_requests_in_flight", "Requests inside the app (admitted, not answered)",
            registry=registry,
        ).set_function(lambda: self.in_flight)  # fmt: skip
        self._shed = self.rejected.labels("overload")
        self._large = self.rejected.labels("body_too_large")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NEVER_SHED:
            await self.app(scope, receive, send)
            return
        self.lag.watch()
        if self._overloaded():
            self._shed.inc()
            await _answer(send, 503, _OVERLOADED, [(b"retry-after", b"1")])
            return
        self.in_flight += 1
        try:
            await self._bounded(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.rate.completed()

    def _overloaded(self) -> bool:
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            return True
        if not self.max_queue_s:
            return False
        if self.lag.seconds > self.max_queue_s:
            return True
        if self.in_flight < FLOOR:
            return False
        return self.in_flight >= self.rate.current() * self.max_queue_s

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        if not limit or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            self._large.inc()
            await _answer(send, 413, _TOO_LARGE)
            return
        if declared is not None:  # the server holds the client to its Content-Length
            await self.app(scope, receive, send)
            return
        # No length (chunked): read the body here, up to the limit, then replay it.
        read = await read_body(receive, limit)
        if read.too_large:
            self._large.inc()
            await _answer(send, 413, _TOO_LARGE)
            return
        await self.app(scope, replaying(read.messages, receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *(headers or [])],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
