"""A JSON-over-HTTP feed client: bounded bodies, retries on transient failures.

The adapters for HTTP feeds (the MLB Stats API, The Odds API) subclass it and add
their URLs. Connection errors, timeouts, 5xx, 408 and 429 are retried (tenacity,
exponential wait); other 4xx, a bad URL, a body past `max_bytes` or malformed JSON
fail at once with the subclass's `error` (a `SourceError`: "url: problem").
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import httpx
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bullpen.sources.errors import SourceError

log = logging.getLogger(__name__)

# Statuses where the same request may well succeed a moment later (with 5xx).
_TRANSIENT_STATUSES = frozenset({408, 429})


class _TransientError(Exception):
    """A failed attempt worth repeating: the next one may well succeed."""


class JsonHttpClient:
    """GET and decode JSON with retries.

    `timeout_s` applies to each phase of each attempt (connect, each read), as in
    httpx. Transient failures are retried `retries` times (so `retries + 1`
    attempts), waiting `retry_wait_s`, then twice that, up to `max_retry_wait_s`.
    Use as a context manager, or call `close()`, to release the connection pool (a
    given `http` client is left open).
    """

    error: ClassVar[type[SourceError]] = SourceError
    what: ClassVar[str] = "a feed"  # what a body too large is not, in the error

    def __init__(
        self,
        timeout_s: float,
        retries: int,
        *,
        retry_wait_s: float,
        max_retry_wait_s: float,
        max_bytes: int,
        http: httpx.Client | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.timeout_s = timeout_s
        self.retries = retries
        self.retry_wait_s = retry_wait_s
        self.max_retry_wait_s = max_retry_wait_s
        self.max_bytes = max_bytes
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(follow_redirects=True)

    def __enter__(self) -> JsonHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def get_json(self, url: str, shown: str | None = None) -> Any:
        """The decoded JSON at `url`; `self.error` naming `shown` (default: the URL, which
        must not be shown when it carries a secret) when it cannot be had."""
        shown = shown or url
        try:
            body = self._retrying()(self._get, url, shown)
        except _TransientError as exc:
            raise self.error(shown, f"failed after {self.retries + 1} attempts: {exc}") from exc
        return self._decode(shown, body)

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.retry_wait_s, max=self.max_retry_wait_s),
            retry=retry_if_exception_type(_TransientError),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )

    def _get(self, url: str, shown: str) -> bytes:
        """One attempt: the body of a 2xx response."""
        try:
            with self._http.stream("GET", url, timeout=self.timeout_s) as response:
                self._check_status(response, shown)
                return self._read_body(response, shown)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:  # a bad URL stays bad
            raise self.error(shown, f"cannot fetch: {_scrub(exc, url, shown)}") from exc
        except httpx.TransportError as exc:  # refused, reset, timed out, closed mid-body
            raise _TransientError(f"{type(exc).__name__}: {_scrub(exc, url, shown)}") from exc
        except httpx.RequestError as exc:  # too many redirects, undecodable body
            raise self.error(shown, f"cannot fetch: {_scrub(exc, url, shown)}") from exc

    def _check_status(self, response: httpx.Response, shown: str) -> None:
        status = response.status_code
        if status >= 500 or status in _TRANSIENT_STATUSES:
            raise _TransientError(f"HTTP {status}")
        if not response.is_success:
            raise self.error(shown, f"HTTP {status}")

    def _read_body(self, response: httpx.Response, shown: str) -> bytes:
        # Counted after content decoding, so a small gzip body cannot expand without bound.
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise self.error(
                    shown, f"response larger than {self.max_bytes} bytes: not {self.what}"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, shown: str, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
            raise self.error(shown, f"malformed JSON: {exc}") from exc
        except RecursionError as exc:
            raise self.error(shown, "malformed JSON: nested too deeply") from exc


def _scrub(exc: Exception, url: str, shown: str) -> str:
    """The error's text with the full URL (it may carry an API key) replaced by `shown`."""
    return str(exc).replace(url, shown)
