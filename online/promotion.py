"""The online tier's part in promotions: pointer repair, canary/shadow refresh, rollback.

`install(services)` hooks two jobs onto the active-pointer poll:

* pointer repair — if the store's `blue` differs from the Redis pointer on two
  consecutive polls (a promotion or rollback killed between its store write and
  its Redis write), the replica writes the store's pointer to Redis and publishes
  it. Waiting for a second poll keeps a replica that read the store just before a
  flip from pushing the old model back over the new one.
* canary/shadow — green is re-read from the store (`online.canary`).

`rollback_now` is what `POST /v1/admin/rollback` runs (sync; in a thread).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from bullpen import promotion
from bullpen.cache import ACTIVE_KEY, MODEL_CHANGED_CHANNEL, ActiveModel
from bullpen.redis_client import make_sync_redis
from bullpen.warming import coming_days, warm_model
from online.canary import Canary

if TYPE_CHECKING:
    from online.deps import Services

log = logging.getLogger(__name__)


class PointerRepair:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._behind: ActiveModel | None = None  # the store's pointer Redis lagged at last poll

    async def __call__(self) -> None:
        svc = self.svc
        # Redis first, then the store: the store is written first in a flip, so a
        # mismatch seen in this order means Redis is behind, never ahead.
        current = await svc.pointer.read()
        wanted = await run_in_threadpool(promotion.store_pointer, svc.engine)
        if wanted is None or wanted == current or not svc.redis.available:
            self._behind = None
            return
        if self._behind != wanted:  # first sighting: the flip may be under way
            self._behind = wanted
            return
        payload = wanted.encode()
        await svc.redis.call("set", ACTIVE_KEY, payload)
        await svc.redis.call("publish", MODEL_CHANGED_CHANNEL, payload)
        log.warning(
            "pointer repaired: Redis had %s, the store's blue is %s",
            current.model_version if current else None, wanted.model_version,
        )  # fmt: skip
        self._behind = None


def install(svc: Services) -> Canary:
    """Attach canary/shadow (as `svc.extra["canary"]`) and the poll hooks to a service set."""
    settings = svc.settings
    canary = Canary(
        settings.canary_percent, settings.shadow, settings.green_version, svc.metrics.registry
    )
    svc.extra["canary"] = canary
    if canary.enabled and settings.fast_path:
        # Canary and shadow decide per request; the raw fast path would answer from the
        # near-cache for blue without asking, so it stays off while either is on.
        log.info("canary/shadow on: the raw fast path is off")
        settings.fast_path = False
    if settings.pointer_repair:
        svc.pointer.on_poll.append(PointerRepair(svc))
    if canary.enabled:

        async def refresh_green() -> None:
            await run_in_threadpool(canary.refresh, svc.engine)

        svc.pointer.on_poll.append(refresh_green)
    return canary


def rollback_now(
    svc: Services, actor: str, reason: str, as_of: dt.date | None, days: int | None
) -> dict[str, Any]:
    """Roll back to the previous model, re-warming its keys for the coming days first."""
    settings = svc.settings
    redis = make_sync_redis(settings.redis_url, settings.redis_cluster)
    dates = coming_days(as_of, days)
    try:
        flip = promotion.rollback(
            svc.engine, redis, actor,
            warm=lambda entry: warm_model(svc.engine, redis, entry, dates, settings.cache_ttl_s),
            reason=reason,
        )  # fmt: skip
    finally:
        redis.close()
    coverage = flip.warmed
    return {
        "active": flip.active,
        "previous": flip.previous,
        "changed": flip.changed,
        "warmed_days": [d.isoformat() for d in dates],
        "keys_expected": coverage.expected if coverage else 0,
        "keys_present": coverage.present if coverage else 0,
    }
