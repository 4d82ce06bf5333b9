"""API-key verification with an in-process cache, so a request costs no DB hit.

A key is HMAC'd (the store holds only HMACs) and the record found by HMAC is
cached for `key_cache_ttl_s`, unknown HMACs too (so a client with a wrong key
cannot hammer the database). A revocation therefore takes effect within that
TTL on every replica.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bullpen.domain.apikeys import hash_key, scope_allows
from bullpen.store.apikeys import KeyRecord, lookup_key
from online.nearcache import NearCache
from online.routes._common import STORE_DOWN
from online.store import StoreGate, StoreTimeout

MAX_CACHED_KEYS = 10_000
# While the store is down a key's last answer from it stays in force this long, so
# known keys keep reading warmed predictions through an outage longer than the TTL.
# (No revocation can be written while the store is down.)
STALE_IF_ERROR_S = 900.0


class AuthError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: int
    name: str
    scope: str


def extract_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key from `X-API-Key` or `Authorization: Bearer <key>`."""
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


class KeyVerifier:
    def __init__(
        self, engine: Engine, secret: str, ttl: float, store: StoreGate | None = None
    ) -> None:
        self.engine = engine
        self.store = store or StoreGate(deadline=1.0, breaker=0.0)
        self.secret = secret.encode()
        # Values are 1-tuples so a cached "no such key" differs from a cache miss.
        self._cache: NearCache[tuple[Caller | None]] = NearCache(MAX_CACHED_KEYS, ttl)
        # Keys the database vouched for, by raw value, living exactly as long as the
        # record above (filled only when it was loaded): the fast path's no-HMAC check.
        self._verified: NearCache[Caller] = NearCache(MAX_CACHED_KEYS, ttl)
        self._known: NearCache[tuple[Caller | None]] = NearCache(MAX_CACHED_KEYS, STALE_IF_ERROR_S)

    def cached(self, key: str) -> Caller | None:
        """The caller of a key verified within the TTL, without an HMAC.

        Only keys that passed `verify` are stored, so an unknown key always misses
        here and then pays the HMAC; a dict lookup compares per-process-randomised
        hashes before any bytes of a key, so its timing tells an attacker nothing.
        """
        return self._verified.get(key)

    async def verify(self, key: str | None, scope: str) -> Caller:
        if not key:
            raise AuthError(401, "missing API key: send Authorization: Bearer <key> or X-API-Key")
        digest = hash_key(self.secret, key)
        cached = self._cache.get(digest)
        caller = cached[0] if cached is not None else await self._lookup(digest)
        if caller is None:
            raise AuthError(401, "invalid or revoked API key")
        if cached is None:
            self._verified.put(key, caller)
        if not scope_allows(caller.scope, scope):
            raise AuthError(403, f"this API key's scope {caller.scope!r} does not allow {scope!r}")
        return caller

    async def _lookup(self, digest: str) -> Caller | None:
        """The store's answer within the deadline; past it, the key's last answer if known
        (the store is unreachable, as far as this request can tell)."""
        try:
            return await self.store.call(self._load, digest)
        except StoreTimeout:
            known = self._known.get(digest)
            if known is None:  # never seen: the app answers 503 (online/routes/_common.py)
                raise
            return known[0]

    def _load(self, digest: str) -> Caller | None:
        try:
            record: KeyRecord | None = lookup_key(self.engine, digest)
        except STORE_DOWN:
            known = self._known.get(digest)
            if known is None:  # never seen: the app answers 503 (online/routes/_common.py)
                raise
            self._cache.put(digest, known)
            return known[0]
        caller = (
            Caller(record.id, record.name, record.scope)
            if record is not None and record.active
            else None
        )
        self._cache.put(digest, (caller,))
        self._known.put(digest, (caller,))
        return caller
