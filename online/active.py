"""The active-model pointer as this process sees it, kept fresh by pub/sub and polling.

`bp:v1:model-changed` tells every replica at once; a slow poll of
`bp:v1:active` is the safety net for messages lost while disconnected.
On a change the near-cache is dropped (its keys name the old model anyway,
this frees the memory and stops serving the old model at once). The same
subscription carries `bp:v1:inputs-changed`: a date whose inputs changed
(`on_inputs`); its safety net is the revisions' short near-cache TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from bullpen.cache.contract import (
    ACTIVE_KEY,
    INPUTS_CHANGED_CHANNEL,
    MODEL_CHANGED_CHANNEL,
    ActiveModel,
    parse_changed,
)
from online.redis_client import FAILURES, SafeRedis

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 2.0


class ActivePointer:
    def __init__(
        self,
        redis: SafeRedis,
        on_change: Callable[[ActiveModel], None],
        on_inputs: Callable[[str, dt.date], None] | None = None,
    ) -> None:
        self.redis = redis
        self.on_change = on_change
        self.on_inputs = on_inputs
        self.current: ActiveModel | None = None
        self._tasks: list[asyncio.Task] = []
        # Run before each poll's re-read (online/promotion.py: pointer repair, green refresh).
        self.on_poll: list[Callable[[], Awaitable[None]]] = []

    def set(self, active: ActiveModel | None) -> None:
        if active is not None and active != self.current:
            self.current = active
            self.on_change(active)

    async def read(self) -> ActiveModel | None:
        """The pointer stored in Redis (None if absent or Redis unavailable)."""
        raw = await self.redis.get(ACTIVE_KEY)
        return ActiveModel.decode(raw) if raw else None

    async def refresh(self) -> None:
        self.set(await self.read())

    def start(self, pubsub_client: Redis, poll_s: float) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(pubsub_client)),
            asyncio.create_task(self._poll(poll_s)),
        ]

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Cancel the listener and the poll; a task that does not end in `timeout` (a
        client stuck closing a dead connection) is left behind rather than waited for."""
        for task in self._tasks:
            task.cancel()
        if not self._tasks:
            return
        done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in done:
            with contextlib.suppress(asyncio.CancelledError, *FAILURES):
                task.result()
        if pending:
            log.warning("%d pointer task(s) did not stop within %.1f s", len(pending), timeout)

    async def _poll(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            for hook in self.on_poll:
                try:
                    await hook()
                except Exception:  # a hook must not stop the safety-net poll
                    log.exception("pointer poll hook %r failed", hook)
            await self.refresh()

    def _dispatch(self, channel: bytes | str, data: bytes) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        if name == MODEL_CHANGED_CHANNEL:
            self.set(ActiveModel.decode(data))
        elif self.on_inputs is not None:
            try:
                self.on_inputs(*parse_changed(data))
            except ValueError:
                log.warning("ignored a malformed inputs-changed message %r", data)

    async def _listen(self, client: Redis) -> None:
        backoff = 0.1
        while True:
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(MODEL_CHANGED_CHANNEL, INPUTS_CHANGED_CHANNEL)
                    backoff = 0.1
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._dispatch(message["channel"], message["data"])
            except FAILURES as exc:
                log.warning("model-changed subscription lost (%r); retrying", exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
