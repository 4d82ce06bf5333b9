"""Load shedding and request-size limits, ahead of FastAPI (pure ASGI).

* A request is answered 503 with `Retry-After: 1` at once when admitting it would mean
  a queue: more requests inside the app than it completes in `max_queue_s` (its recent
  completion rate, measured here, times `max_queue_s`), or more than `max_in_flight`.
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

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NEVER_SHED = frozenset({"/health", "/ready", "/metrics"})
FLOOR = 64
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
        self.rejected = Counter(
            "bullpen_requests_shed", "Requests refused before the app: overload or size",
            ["reason"], registry=registry,
        )  # fmt: skip
        self._shed = self.rejected.labels("overload")
        self._large = self.rejected.labels("body_too_large")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NEVER_SHED:
            await self.app(scope, receive, send)
            return
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
        if not self.max_queue_s or self.in_flight < FLOOR:
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
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                self._large.inc()
                await _answer(send, 413, _TOO_LARGE)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


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
