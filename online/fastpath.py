"""A raw ASGI fast path for the hottest reads, mounted ahead of FastAPI.

`GET /v1/games/{game_id}/prediction`, `GET /v1/games?date=YYYY-MM-DD`,
`GET /v1/edges?date=YYYY-MM-DD` (the board with the default stakes) and
`POST /api/v1/predict` naming no model or the serving model's name (a JSON body of at
most 1 KB; the name already resolved once by the route, `online.choice`) are answered
here with the near-cache's stored bytes (no routing, no dependency solving, no
validation objects; no await unless a rate-limit lease is due) when *everything* about the
request is the plain case:

* the path is in the canonical form the routes accept (ASCII game id and no query
  string, which may ask for another body, e.g. `?explain=true`; exactly
  `date=YYYY-MM-DD`, a real date within the served range), with no root path;
* the API key was verified by the normal path within the key-cache TTL
  (`KeyVerifier.cached`: raw key → caller, no HMAC) and its scope allows `read`;
* the rate limiter grants the request (the local lease; renewing it is the only
  await, one Redis call per key at a time);
* the body for the active model is in the near-cache.

Anything else (a missing, unknown or revoked key, a wrong scope, a rate-limit
denial, a near-cache miss, any unusual path or method) goes to FastAPI
untouched, so every error, status code and header still comes from the one
implementation in `online/routes/` and `online/deps.py`. A request handed on has
not spent a rate-limit token (a denial spends none, and is remembered locally).
Served requests are recorded as `MetricsMiddleware` and the route would record
them (same route label, same near-cache counter).

If a route gains per-request logic (e.g. choosing a model per caller), the same
decision must be made here, or this path must hand such requests on;
`BULLPEN_FAST_PATH=false` turns it off.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bullpen.domain.apikeys import scope_allows
from online.asgi_body import read_body, replaying
from online.auth import Caller, extract_key
from online.deps import Services

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GAME_PREFIX, GAME_SUFFIX = "/v1/games/", "/prediction"
GAME_ROUTE, DAY_ROUTE = "/v1/games/{game_id}/prediction", "/v1/games"
EDGES_ROUTE = "/v1/edges"
PREDICT_ROUTE = "/api/v1/predict"
MAX_PREDICT_BODY = 1024  # {game_id, model_name, model_version}: a few hundred bytes at most
PREDICT_FIELDS = frozenset({"game_id", "model_name", "model_version"})
# Stricter than the routes' pattern (ASCII digits only): whatever matches here
# matches there, everything else takes the normal path.
_GAME_ID = re.compile(r"[A-Z]{3}[0-9]{8}[0-3]")
_DAY_QUERY = re.compile(rb"date=([0-9]{4})-([0-9]{2})-([0-9]{2})")
_JSON = b"application/json"


def request_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The API key exactly as `deps.require` reads it (first header of each name)."""
    authorization = x_api_key = None
    for name, value in headers:
        if name == b"x-api-key":
            if x_api_key is None:
                x_api_key = value.decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    return extract_key(authorization, x_api_key)


class FastPath:
    """ASGI middleware: serve plain near-cache hits, hand everything else to `app`."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.svc = services
        self.near_hits = services.metrics.cache.labels("near", "hit")
        self.served = 0  # requests answered here (tests and benchmarks read it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            started = time.perf_counter()
            found = None
            if scope["method"] == "GET":
                found = self._hit(scope)
            elif scope["method"] == "POST" and scope["path"] == PREDICT_ROUTE:
                found, receive = await self._predict_hit(scope, receive)
            if found is not None and await self._allowed(found[2]):
                body, route, _ = found
                await send({
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode()),
                                (b"content-type", _JSON)],
                })  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                self.served += 1
                self.near_hits.inc()
                self.svc.metrics.observe(scope["method"], route, 200, time.perf_counter() - started)
                return
        await self.app(scope, receive, send)

    async def _predict_hit(
        self, scope: Scope, receive: Receive
    ) -> tuple[tuple[bytes, str, Caller] | None, Receive]:
        """`POST /api/v1/predict` naming nothing or the serving model's name: the same body
        as the game's GET. Returns the hit (or None) and a `receive` that replays the body
        for FastAPI when the request is handed on."""
        read = await read_body(receive, MAX_PREDICT_BODY)
        raw, replay = read.body, replaying(read.messages, receive)
        active = self.svc.pointer.current
        if active is None or raw is None or scope["query_string"]:
            return None, replay
        if not _is_json(scope["headers"]):
            return None, replay
        game_id = _plain_predict(raw, lambda name: self.svc.choices.names_serving(active, name))
        if game_id is None:
            return None, replay
        body = self.svc.predictions.peek_game(active, game_id)
        caller = self._read_caller(scope) if body is not None else None
        return ((body, PREDICT_ROUTE, caller) if caller and body else None), replay

    def _read_caller(self, scope: Scope) -> Caller | None:
        key_text = request_key(scope["headers"])
        caller = self.svc.verifier.cached(key_text) if key_text else None
        if caller is None or not scope_allows(caller.scope, "read"):
            return None
        return caller

    def _hit(self, scope: Scope) -> tuple[bytes, str, Caller] | None:
        """Stored body, route label and caller, if this request may be answered here."""
        svc = self.svc
        active = svc.pointer.current
        if active is None:
            return None
        path: str = scope["path"]
        if path.startswith(GAME_PREFIX) and path.endswith(GAME_SUFFIX):
            game_id = path[len(GAME_PREFIX) : -len(GAME_SUFFIX)]
            # Any query (`explain`, `top`, ...) is the route's to read: the near-cache
            # holds only the plain body.
            if scope["query_string"] or _GAME_ID.fullmatch(game_id) is None:
                return None
            body = svc.predictions.peek_game(active, game_id)
            route = GAME_ROUTE
        elif path == DAY_ROUTE:
            date = self._date(scope["query_string"])
            if date is None:
                return None
            body = svc.predictions.peek_day(active, date)
            route = DAY_ROUTE
        elif path == EDGES_ROUTE:  # the board with the default stakes: `date=` alone
            date = self._date(scope["query_string"])
            if date is None:
                return None
            body = svc.predictions.peek_board(active, date)
            route = EDGES_ROUTE
        else:
            return None
        if body is None:
            return None
        caller = self._read_caller(scope)
        return None if caller is None else (body, route, caller)

    async def _allowed(self, caller: Caller) -> bool:
        """Spend a rate-limit token as `deps.require` would; a denial takes the normal path."""
        limiter = self.svc.limiter
        decision = limiter.take_local(caller.key_id)
        if decision is None:  # the lease is spent: renew it (one Redis call per key at a time)
            decision = await limiter.check(caller.key_id)
            if decision.degraded:
                self.svc.metrics.rate_limit_degraded.inc()
        return decision.allowed

    def _date(self, query: bytes) -> dt.date | None:
        """The date of an exact `date=YYYY-MM-DD` query within the routes' range."""
        match = _DAY_QUERY.fullmatch(query)
        if match is None:
            return None
        try:
            date = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
        settings = self.svc.online
        latest = dt.date.today() + dt.timedelta(days=settings.max_days_ahead)
        return date if settings.min_date <= date <= latest else None


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == _JSON
    return False


def _plain_predict(raw: bytes, serving_name: Callable[[str], bool]) -> str | None:
    """The game id of a body that asks for exactly the served model's plain answer (what
    the route would serve for it), else None: the route decides everything else."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict) or not set(body) <= PREDICT_FIELDS:
        return None
    game_id, name = body.get("game_id"), body.get("model_name")
    if body.get("model_version") is not None or not isinstance(game_id, str):
        return None
    if _GAME_ID.fullmatch(game_id) is None:
        return None
    if name is not None and not (isinstance(name, str) and serving_name(name)):
        return None
    return game_id
