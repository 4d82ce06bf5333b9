"""Prediction bodies: near-cache → Redis → compute from the store, once per stampede.

Every key carries the revision of its date's inputs (`bullpen.cache.contract`):
the revision is looked up first (near-cache for at most `revision_ttl` seconds,
dropped at once when `bp:v1:inputs-changed` names the date; then Redis; then the
store), so a changed starter changes the key and no layer serves the old price.
Hits return the stored bytes untouched. A miss takes a short Redis lock
(SET NX PX) so that across replicas one computes and the others wait for the
value; within a process, concurrent misses share one future. What a miss
computes is the core's policy (`bullpen.serving.predictions`), the same rows
warming writes. A game's explanation (`bullpen.serving.explanations`) takes the same
way under a key of its own, computed on demand and never warmed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine

from bullpen.cache import contract as cache
from bullpen.cache.contract import ActiveModel
from bullpen.domain.board import board_body
from bullpen.domain.model import WinModel
from bullpen.serving.board import stored_odds_revision
from bullpen.serving.explanations import explain_game
from bullpen.serving.predictions import GameNotFound, row_for_game, rows_for
from bullpen.store import read_revision
from bullpen.store.odds import latest_odds
from online.metrics import Metrics
from online.models import ModelCache
from online.nearcache import NearCache
from online.redis_client import SafeRedis
from online.store import StoreGate

LOCK_POLL_S = 0.02
EMPTY_DAY_TTL_S = 60  # an empty slate may just not be warmed yet
Body = dict[str, Any]
Compute = Callable[[], Awaitable[Body]]  # a miss's body, from the store


class PredictionService:
    def __init__(
        self,
        engine: Engine,
        redis: SafeRedis,
        near: NearCache[bytes],
        models: ModelCache,
        metrics: Metrics,
        ttl: int,
        lock_ms: int,
        store: StoreGate | None = None,
        revision_ttl: float = 2.0,
    ) -> None:
        self.engine = engine
        self.redis = redis
        self.near = near
        self.models = models
        self.metrics = metrics
        self.ttl = ttl
        self.lock_ms = lock_ms
        self.store = store or StoreGate(deadline=1.0, breaker=0.0)
        self.revision_ttl = revision_ttl
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self.computations = 0  # how many misses were computed (tests check single-flight)

    def near_hit(self, key: str) -> bytes | None:
        """The synchronous fast path: no await, no parsing."""
        value = self.near.get(key)
        if value is not None:
            self.metrics.cache.labels("near", "hit").inc()
        return value

    def near_game(self, active: ActiveModel, game_id: str) -> bytes | None:
        """A game's body from the near-cache alone (its date's revision included), or None."""
        return self._counted(self.peek_game(active, game_id))

    def near_day(self, active: ActiveModel, date: dt.date) -> bytes | None:
        return self._counted(self.peek_day(active, date))

    def peek_game(self, active: ActiveModel, game_id: str) -> bytes | None:
        """`near_game` without counting a hit (the fast path counts its own)."""
        revision = self.near.get(cache.game_revision_key(active.feature_version, game_id))
        if revision is None:
            return None
        return self.near.get(self._game_key(active, game_id, revision.decode()))

    def peek_day(self, active: ActiveModel, date: dt.date) -> bytes | None:
        revision = self.near.get(cache.revision_key(active.feature_version, date))
        if revision is None:
            return None
        return self.near.get(self._day_key(active, date, revision.decode()))

    def _counted(self, value: bytes | None) -> bytes | None:
        if value is not None:
            self.metrics.cache.labels("near", "hit").inc()
        return value

    async def game(self, active: ActiveModel, game_id: str) -> bytes:
        day = _game_date(game_id)
        key = self._game_key(active, game_id, await self.revision(active.feature_version, day))
        return self.near_hit(key) or await self._lookup(
            key, lambda: self._computed(active, self._compute_game, active, game_id)
        )

    async def explanation(self, active: ActiveModel, game_id: str, top: int) -> bytes:
        """A game's explanation with its `top` contributions, under a key of its own
        (same revision as the game's prediction key) and through the same tiers."""
        day = _game_date(game_id)
        revision = await self.revision(active.feature_version, day)
        key = cache.explanation_key(active.model_version, active.feature_version, game_id, revision)
        raw = self.near_hit(key) or await self._lookup(
            key, lambda: self._computed(active, self._compute_explanation, active, game_id)
        )
        return cache.top_contributions(raw, top)

    async def day(self, active: ActiveModel, date: dt.date) -> bytes:
        key = self._day_key(active, date, await self.revision(active.feature_version, date))
        return self.near_hit(key) or await self._lookup(
            key, lambda: self._computed(active, self._compute_day, active, date)
        )

    @staticmethod
    def _game_key(active: ActiveModel, game_id: str, revision: str) -> str:
        return cache.prediction_key(active.model_version, active.feature_version, game_id, revision)

    @staticmethod
    def _day_key(active: ActiveModel, date: dt.date, revision: str) -> str:
        return cache.day_key(active.model_version, active.feature_version, date, revision)

    async def revision(self, feature_version: str, date: dt.date) -> str:
        """The revision of `date`'s inputs: near-cache, else Redis, else the store (then
        claimed in Redis unless another server set it first, whose value wins)."""
        key = cache.revision_key(feature_version, date)
        return await self._pointer(
            key, functools.partial(read_revision, self.engine, feature_version, date)
        )

    async def odds_revision(self, date: dt.date) -> str:
        """The revision of `date`'s lines, the same way (`bullpen.serving.board`)."""
        key = cache.odds_revision_key(date)
        return await self._pointer(key, functools.partial(stored_odds_revision, self.engine, date))

    async def _pointer(self, key: str, load: Callable[[], str]) -> str:
        raw = self.near.get(key)
        if raw is None:
            raw = await self._single_flight(key, lambda: self._read_pointer(key, load))
        return raw.decode()

    async def _read_pointer(self, key: str, load: Callable[[], str]) -> bytes:
        raw = await self.redis.get(key)
        if raw is None:
            raw = (await self.store.call(load)).encode()
            earlier = await self.redis.call("set", key, raw, nx=True, ex=self.ttl, get=True)
            raw = earlier or raw
        self.near.put(key, raw, ttl=self.revision_ttl)
        return raw

    # --- the best-bet board ------------------------------------------------------------

    def peek_board(self, active: ActiveModel, date: dt.date) -> bytes | None:
        """A date's board from the near-cache alone (both revisions included), or None."""
        revision = self.near.get(cache.revision_key(active.feature_version, date))
        odds = self.near.get(cache.odds_revision_key(date))
        if revision is None or odds is None:
            return None
        return self.near.get(self._board_key(active, date, revision.decode(), odds.decode()))

    async def board(self, active: ActiveModel, date: dt.date) -> bytes:
        """The board with the default Kelly stakes: near-cache, Redis, else built from the
        day's slate and the store's latest lines (no lock: it is cheap and deterministic)."""
        revision = await self.revision(active.feature_version, date)
        key = self._board_key(active, date, revision, await self.odds_revision(date))
        return self.near_hit(key) or await self._single_flight(
            key, lambda: self._read_board(key, active, date)
        )

    async def _read_board(self, key: str, active: ActiveModel, date: dt.date) -> bytes:
        raw = await self.redis.get(key)
        if raw is not None:
            self.metrics.cache.labels("redis", "hit").inc()
        else:
            self.metrics.cache.labels("redis", "miss").inc()
            day = json.loads(await self.day(active, date))
            books = await self.store.call(latest_odds, self.engine, date)
            raw = cache.encode(board_body(date, active.model_version, day["games"], books))
            self.computations += 1
            self.metrics.computed.inc()
            await self.redis.set(key, raw, self.ttl)
        self.near.put(key, raw)
        return raw

    @staticmethod
    def _board_key(active: ActiveModel, date: dt.date, revision: str, odds: str) -> str:
        return cache.board_key(active.model_version, active.feature_version, date, revision, odds)

    def inputs_changed(self, feature_version: str, date: dt.date) -> None:
        """`bp:v1:inputs-changed` named this date: forget its revision."""
        self.near.pop(cache.revision_key(feature_version, date))

    async def model(self, version: str) -> WinModel:
        """The loaded model: its artifact read within the store's deadline, then
        deserialized in a thread without one (CPU time is not a dead store)."""
        model = self.models.get(version)
        if model is None:
            entry = await self.store.call(self.models.fetch, version)
            model = await anyio.to_thread.run_sync(self.models.add, entry)
        return model

    async def _computed(
        self, active: ActiveModel, compute: Callable[..., Body], *args: Any
    ) -> Body:
        """`compute(*args, model=…)` in the store's gate, after the model is loaded."""
        model = await self.model(active.model_version)
        return await self.store.call(functools.partial(compute, model=model), *args)

    async def _lookup(self, key: str, compute: Compute) -> bytes:
        # The Redis read is single-flight too: when a hot key's near-cache entry
        # expires, the requests waiting on it share one GET instead of each taking a
        # pooled connection (at 256+ connections that herd made p99 ~10x worse).
        return await self._single_flight(key, lambda: self._read(key, compute))

    async def _read(self, key: str, compute: Compute) -> bytes:
        raw = await self.redis.get(key)
        if raw is not None:
            self.metrics.cache.labels("redis", "hit").inc()
            self.near.put(key, raw)
            return raw
        self.metrics.cache.labels("redis", "miss").inc()
        return await self._fill(key, compute)

    async def _single_flight(self, key: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await work()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters may be none
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def _fill(self, key: str, compute: Compute) -> bytes:
        lock, token = cache.lock_key(key), uuid.uuid4().hex
        acquired = await self.redis.acquire(lock, token, self.lock_ms)
        if acquired is False:  # another replica computes it: wait for its value
            raw = await self._wait_for(key)
            if raw is not None:
                self.near.put(key, raw)
                return raw
        try:
            body = await compute()
            self.computations += 1
            self.metrics.computed.inc()
            stored = cache.encode(body)
            ttl = self.ttl if body.get("count", 1) else min(self.ttl, EMPTY_DAY_TTL_S)
            await self.redis.set(key, stored, ttl)
            self.near.put(key, stored)
            return cache.encode(_uncached(body))
        finally:
            if acquired:
                await self.redis.release(lock, token)

    async def _wait_for(self, key: str) -> bytes | None:
        deadline = asyncio.get_running_loop().time() + self.lock_ms / 1000
        while asyncio.get_running_loop().time() < deadline and self.redis.available:
            await asyncio.sleep(LOCK_POLL_S)
            raw = await self.redis.get(key)
            if raw is not None:
                return raw
        return None

    def _compute_game(self, active: ActiveModel, game_id: str, *, model: WinModel) -> Body:
        row = row_for_game(self.engine, model, active, game_id)
        return self._body(active, row)

    def _compute_explanation(self, active: ActiveModel, game_id: str, *, model: WinModel) -> Body:
        return explain_game(self.engine, model, active, game_id)

    def _compute_day(self, active: ActiveModel, date: dt.date, *, model: WinModel) -> Body:
        games = [self._body(active, r) for r in rows_for(self.engine, model, active, on=date).rows]
        return cache.day_body(
            date, games, active.model_version, active.feature_version, cached=True
        )

    def _body(self, active: ActiveModel, row: dict[str, Any]) -> dict[str, Any]:
        return cache.prediction_body(
            row, active.model_version, active.feature_version, cached=True,
            trained_until=self.models.trained_until(active.model_version),
        )  # fmt: skip


def _game_date(game_id: str) -> dt.date:
    try:
        return cache.game_date(game_id)
    except ValueError as exc:
        raise GameNotFound(f"{game_id} has no valid date (yyyymmdd after the team)") from exc


def _uncached(body: dict[str, Any]) -> dict[str, Any]:
    """The body as first computed: the same values, flagged as not from the cache."""
    if "games" in body:
        return {**body, "games": [{**g, "cached": False} for g in body["games"]], "cached": False}
    return {**body, "cached": False}
