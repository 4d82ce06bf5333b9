"""Reading a request body ahead of the app, and handing it on unchanged.

The shedder (size limit on a chunked body) and the fast path (a small JSON body it may
answer itself) both read the body before deciding; whatever they read is replayed, so
the app downstream sees the same messages the server sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NamedTuple

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


class Read(NamedTuple):
    messages: list[Message]  # as received, to replay
    body: bytes | None  # the whole body; None if reading stopped early
    too_large: bool  # stopped because the body passed the limit


async def read_body(receive: Receive, limit: int) -> Read:
    """Receive until the body ends, passes `limit` bytes, or the client goes away."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return Read(messages, None, False)
        size += len(message.get("body", b""))
        if size > limit:
            return Read(messages, None, True)
        if not message.get("more_body", False):
            return Read(messages, b"".join(m.get("body", b"") for m in messages), False)


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives `messages` again first, then the server's."""
    pending = iter(messages)

    async def replay() -> Message:
        return next(pending, None) or await receive()

    return replay
