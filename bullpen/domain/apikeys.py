"""API keys: generation and HMAC-SHA256 hashing under a server secret.

The store keeps only `hash_key(secret, key)`; the key itself is shown once.
HMAC rather than a bare hash so a leaked table cannot be checked offline
without the server secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

Scope = Literal["read", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "admin")
KEY_PREFIX = "bp_"
# What `list` shows of a key so a person can tell them apart; 8 of ~43 random chars.
VISIBLE_CHARS = 8


def generate_key() -> str:
    """A new key: `bp_` plus 32 random bytes, URL-safe base64 (256 bits of entropy)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(secret: str | bytes, key: str) -> str:
    """Hex HMAC-SHA256 of `key` under `secret`."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, key.encode(), hashlib.sha256).hexdigest()


def visible_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + VISIBLE_CHARS]


def scope_allows(granted: str, required: str) -> bool:
    """`admin` may do everything `read` may."""
    return granted == required or granted == "admin"
