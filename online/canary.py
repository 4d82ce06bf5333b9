"""Canary and shadow: the green candidate beside blue, with metrics per model version.

Green here is a *warmed candidate* — the `green` alias while its model is
`warming` (e.g. after running only `warm_green` of the promotion job), or the
version in `BULLPEN_GREEN_VERSION` — re-read from the store on every pointer
poll. Without one, both settings are inert and every caller gets blue.

* `canary_percent` — a fixed share of API keys is served green. The share is
  chosen by a hash of the key id, so a client sees one model, not a mix, and
  the same keys stay in the canary as the percentage grows.
* `shadow` — for each blue answer, green's answer to the same request is
  computed in the background and compared (|p_blue - p_green| histogram,
  outcome counter, a debug log line); the client only ever gets blue's.

Both decide per request, which the raw-ASGI fast path does not, so
`online.app.create_app` turns the fast path off while either is set.
Per-version counters therefore count every answer whenever they matter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import Engine

from bullpen.cache.contract import ActiveModel
from bullpen.serving.active import green_candidate, pointer_of
from bullpen.store import get_model

if TYPE_CHECKING:
    from online.auth import Caller
    from online.deps import Services

log = logging.getLogger("bullpen.shadow")
BUCKETS = 10_000  # canary resolution: 0.01 %
MAX_SHADOW_INFLIGHT = 64  # beyond this, comparisons are dropped (and counted), never queued
DIFF_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def canary_bucket(key_id: int) -> int:
    """A stable bucket in [0, BUCKETS) per API key id (same on every replica and restart)."""
    digest = hashlib.sha256(f"bullpen-canary:{key_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


class Canary:
    def __init__(
        self,
        canary_percent: float,
        shadow: bool,
        green_version: str | None,
        registry: CollectorRegistry,
    ) -> None:
        self.threshold = round(canary_percent * BUCKETS / 100)
        self.shadow_on = shadow
        self.green_version = green_version
        self.green: ActiveModel | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.served = Counter(
            "bullpen_served_by_model", "Answers served, by model version and role (blue/green)",
            ["model_version", "role"], registry=registry,
        )  # fmt: skip
        self.shadowed = Counter(
            "bullpen_shadow_comparisons", "Shadow comparisons of green with blue, by outcome",
            ["model_version", "outcome"], registry=registry,
        )  # fmt: skip
        self.diff = Histogram(
            "bullpen_shadow_abs_diff", "|p_home blue - p_home green| per shadowed game",
            ["model_version"], buckets=DIFF_BUCKETS, registry=registry,
        )  # fmt: skip

    @property
    def enabled(self) -> bool:
        return self.threshold > 0 or self.shadow_on

    def refresh(self, engine: Engine) -> ActiveModel | None:
        """Re-read green from the store (sync: run it in a thread)."""
        if not self.enabled:
            return None
        if self.green_version:
            entry = get_model(engine, self.green_version)
            green = pointer_of(entry) if entry else None
        else:
            green = green_candidate(engine)
        if green != self.green:
            log.info("green is now %s", green.model_version if green else "none")
        self.green = green
        return green

    def choose(self, blue: ActiveModel, caller: Caller | None) -> ActiveModel:
        """Blue, or green for a caller whose key falls in the canary share."""
        green = self.green
        if (
            green is not None
            and caller is not None
            and green != blue
            and canary_bucket(caller.key_id) < self.threshold
        ):
            self.served.labels(green.model_version, "green").inc()
            return green
        self.served.labels(blue.model_version, "blue").inc()
        return blue

    def shadow(
        self, svc: Services, served: ActiveModel, game_id: str | None = None,
        date: dt.date | None = None,
    ) -> None:  # fmt: skip
        """Compare green's answer with the one just served, in the background."""
        green = self.green
        if not self.shadow_on or green is None or green == served:
            return
        if len(self._tasks) >= MAX_SHADOW_INFLIGHT:
            self.shadowed.labels(green.model_version, "dropped").inc()
            return
        task = asyncio.create_task(self._compare(svc, served, green, game_id, date))
        self._tasks.add(task)  # a strong reference until done, or the task may vanish
        task.add_done_callback(self._tasks.discard)

    async def _compare(
        self, svc: Services, blue: ActiveModel, green: ActiveModel, game_id: str | None,
        date: dt.date | None,
    ) -> None:  # fmt: skip
        try:
            if game_id is not None:
                pair = [await svc.predictions.game(m, game_id) for m in (blue, green)]
            else:
                assert date is not None
                pair = [await svc.predictions.day(m, date) for m in (blue, green)]
            diffs = _diffs(*(json.loads(body) for body in pair))
        except Exception as exc:  # a shadow must never hurt: count it and move on
            self.shadowed.labels(green.model_version, "error").inc()
            log.debug("shadow of %s failed: %r", game_id or date, exc)
            return
        for diff in diffs:
            self.diff.labels(green.model_version).observe(diff)
        self.shadowed.labels(green.model_version, "compared").inc()
        log.debug(
            "shadow %s: blue %s vs green %s, max |dp| %.4f", game_id or date,
            blue.model_version, green.model_version, max(diffs, default=0.0),
        )  # fmt: skip


def _diffs(blue: dict[str, Any], green: dict[str, Any]) -> list[float]:
    if "games" not in blue:
        return [abs(float(blue["p_home"]) - float(green["p_home"]))]
    theirs = {g["game_id"]: float(g["p_home"]) for g in green["games"]}
    return [
        abs(float(g["p_home"]) - theirs[g["game_id"]])
        for g in blue["games"]
        if g["game_id"] in theirs
    ]


def shadow(
    svc: Services, served: ActiveModel, game_id: str | None = None, date: dt.date | None = None
) -> None:
    """Shadow the request just answered with `served`, if shadow mode is on (else nothing)."""
    if svc.canary.shadow_on:
        svc.canary.shadow(svc, served, game_id=game_id, date=date)
