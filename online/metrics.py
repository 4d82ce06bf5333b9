"""Prometheus metrics and the pure-ASGI middleware that records them.

A registry per app (not the global one) so several apps in one process, as
in tests, do not collide. Pure ASGI rather than BaseHTTPMiddleware: the
latter costs a task and a stream per request, a large share of a cache hit.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "bullpen_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "bullpen_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            "bullpen_cache_lookups", "Cache lookups by tier and result", ["tier", "result"],
            registry=r,
        )  # fmt: skip
        self.computed = Counter(
            "bullpen_predictions_computed", "Predictions computed from the store", registry=r
        )
        self.rate_limited = Counter(
            "bullpen_rate_limit_rejections", "Requests rejected by the rate limit", registry=r
        )
        self.rate_limit_degraded = Counter(
            "bullpen_rate_limit_unchecked", "Requests allowed unchecked (Redis down)", registry=r
        )
        self.model = Gauge(
            "bullpen_model_info", "The model version being served (value 1)",
            ["model_version", "feature_version"], registry=r,
        )  # fmt: skip
        self.dependency = Gauge(
            "bullpen_dependency_up", "Whether a dependency answered the last readiness check",
            ["dependency"], registry=r,
        )  # fmt: skip
        # Children resolved once per label set: `labels()` is a dict lookup plus a lock.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def serving(self, model_version: str, feature_version: str) -> None:
        self.model.clear()
        self.model.labels(model_version, feature_version).set(1)


class MetricsMiddleware:
    """Counts and times every request by method, route template and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            # The template (not the path) keeps label cardinality bounded.
            name = getattr(route, "path", "unmatched")
            self.metrics.observe(scope["method"], name, status, time.perf_counter() - started)
