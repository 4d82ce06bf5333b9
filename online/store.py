"""Calls into the SQL store from the event loop: in a worker thread, within a deadline.

A store that stops answering (a frozen server, a cut network) must not hold a request
past `store_deadline_s`. At the deadline the call is abandoned: the request gets a 503
with `Retry-After` at once, and the thread finishes whenever the server answers or the
engine's own timeouts fire (`bullpen.settings.StoreSettings`). After a timeout the gate
stays shut for `store_breaker_s`, letting one probe through at a time: a request never
pays two deadlines (a key lookup, then a miss), and a dead store costs nothing per
request. Warmed predictions never come here, so they keep being served meanwhile.

The deadline starts when a worker thread is free, not when the request arrives: waiting
for one of `threads` slots is queueing, which the load shedder bounds (online/shedding.py).
Counting it here would take an overloaded replica for a dead store.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class StoreTimeout(Exception):
    """The store did not answer within the deadline (or is known not to, just now)."""


class StoreGate:
    def __init__(self, deadline: float, breaker: float, threads: int = 4) -> None:
        self.deadline = deadline
        self.breaker = breaker
        self.threads = threads
        self._shut_until = 0.0
        self._probing = False
        # Made in (and for) the running event loop: a test may run one app in several.
        self._loop: object = None
        self._slots: anyio.CapacityLimiter
        self._unbounded: anyio.CapacityLimiter

    @property
    def open(self) -> bool:
        return time.monotonic() >= self._shut_until

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a worker thread; StoreTimeout past the deadline, or at
        once while the gate is shut (one caller at a time probes it after `breaker` s)."""
        if not self.open:  # shut: no need to queue for a slot first
            raise StoreTimeout("the prediction store is not answering; retry shortly")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._slots = anyio.CapacityLimiter(self.threads)
            # The slots above are the limit: an abandoned thread must not hold one.
            self._unbounded = anyio.CapacityLimiter(1_000_000)
        work = functools.partial(fn, *args, **kwargs)
        async with self._slots:
            return await self._run(work, self._unbounded)

    async def _run(self, work: Callable[[], T], threads: anyio.CapacityLimiter) -> T:
        probe = self._shut_until > 0
        if not self.open or (probe and self._probing):
            raise StoreTimeout("the prediction store is not answering; retry shortly")
        self._probing = probe
        try:
            with anyio.fail_after(self.deadline):
                result = await anyio.to_thread.run_sync(
                    work, abandon_on_cancel=True, limiter=threads
                )
        except TimeoutError:
            if self.open:
                log.warning("the store did not answer in %g s (%s): shut for %g s",
                            self.deadline, _name(work), self.breaker)  # fmt: skip
            self._shut_until = time.monotonic() + self.breaker
            raise StoreTimeout(
                f"the prediction store did not answer within {self.deadline:g} s"
            ) from None
        finally:
            self._probing = False
        self._shut_until = 0.0
        return result


def _name(work: Callable[[], object]) -> str:
    fn = getattr(work, "func", work)
    return getattr(fn, "__qualname__", repr(fn))
