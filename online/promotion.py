"""The online tier's part in promotions: pointer repair on every poll, the green model's refresh.

`install(services)` hooks onto the active-pointer poll:

* pointer repair — `bullpen.serving.active.PointerWatch`, the pointer's owner,
  run in a thread with the sync client, through the upkeep gate (it waits on Redis too,
  and a frozen Redis must not shut the requests' store gate): if the Redis pointer lags the store's
  serving model on two consecutive polls (a flip killed between its store write
  and its Redis write), it writes and publishes the store's choice;
* canary/shadow — green is re-read from the store (`online.canary`).

Rollback (`POST /v1/admin/rollback`) is `bullpen.serving.active.rollback` itself.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from bullpen.serving.active import PointerWatch
from online.store import StoreTimeout

if TYPE_CHECKING:
    from online.deps import Services

log = logging.getLogger(__name__)


class PointerRepair:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.watch = PointerWatch()

    async def __call__(self) -> None:
        if not self.svc.redis.available:  # the breaker is open: a look would only wait
            return
        svc = self.svc
        try:
            repaired = await svc.upkeep(self.watch.repair, svc.engine, svc.sync_redis())
        except StoreTimeout:
            return  # the store is away: nothing to compare Redis with; the next poll will
        if repaired is not None:
            log.warning("pointer repaired: Redis now names %s", repaired.model_version)


def install(svc: Services) -> None:
    """Attach pointer repair and, with canary or shadow on, the green refresh to the poll."""
    if svc.online.pointer_repair:
        svc.pointer.on_poll.append(PointerRepair(svc))
    canary = svc.canary
    if canary.enabled:

        async def refresh_green() -> None:
            with contextlib.suppress(StoreTimeout):  # keeps the green it has until the next poll
                await svc.upkeep(canary.refresh, svc.engine)

        svc.pointer.on_poll.append(refresh_green)
