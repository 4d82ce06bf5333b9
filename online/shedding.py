"""Load shedding and request-size limits, ahead of everything else (pure ASGI).

* At most `max_in_flight` requests are inside the app at once; past that a request is
  answered 503 with `Retry-After: 1` at once, instead of queueing in the event loop
  or the thread pool until every request times out. Overload then costs the excess
  requests a fast rejection, and the admitted ones keep their latency.
* A request body over `max_body_bytes` is answered 413 before the app reads it
  (by `Content-Length`, or while a chunked body streams in), so a client cannot make
  a replica buffer megabytes of JSON. Every route's body is a few hundred bytes.

`/health`, `/ready` and `/metrics` are never shed: an overloaded replica is alive and
observable. 0 disables either limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NEVER_SHED = frozenset({"/health", "/ready", "/metrics"})
_OVERLOADED = b'{"detail":"overloaded: too many requests in flight; retry shortly"}'
_TOO_LARGE = b'{"detail":"request body too large"}'


class Shedder:
    def __init__(
        self, app: ASGIApp, max_in_flight: int, max_body_bytes: int, registry: CollectorRegistry
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_body_bytes = max_body_bytes
        self.in_flight = 0
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
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            self._shed.inc()
            await _answer(send, 503, _OVERLOADED, [(b"retry-after", b"1")])
            return
        self.in_flight += 1
        try:
            await self._bounded(scope, receive, send)
        finally:
            self.in_flight -= 1

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
