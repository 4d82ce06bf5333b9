"""Drive a loopback URL with `wrk` for a bounded time and parse what it prints.

Every run is bounded: `-d` seconds, and a subprocess timeout on top. Requests cycle
through a list of paths (`BP_PATHS`) with the API key of `BP_KEY`; each wrk thread
walks its own segment of the list.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

LUA = """
local paths = {}
for p in string.gmatch(os.getenv("BP_PATHS"), "[^,]+") do paths[#paths + 1] = p end
local headers = {}
if os.getenv("BP_KEY") ~= "" then headers["X-API-Key"] = os.getenv("BP_KEY") end
local threads = 0
setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
init = function(args)
  -- disjoint segments: no two threads ask for the same path until one wraps around
  local offset = tonumber(wrk.thread:get("offset")) or 0
  i = offset * math.floor(#paths / tonumber(os.getenv("BP_THREADS")))
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
"""
# One wrk thread: it drives >50k req/s alone, and on two cores a second one only takes
# CPU from the server under test.
THREADS = 1
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int  # socket errors (connect, read, write, timeout) plus non-2xx/3xx

    @staticmethod
    def median(runs: Sequence[WrkResult]) -> WrkResult:
        """Field-wise median of several runs (the median run's figures, per column)."""
        return WrkResult(
            rps=statistics.median(r.rps for r in runs),
            p50_ms=statistics.median(r.p50_ms for r in runs),
            p99_ms=statistics.median(r.p99_ms for r in runs),
            max_ms=statistics.median(r.max_ms for r in runs),
            requests=int(statistics.median(r.requests for r in runs)),
            errors=int(statistics.median(r.errors for r in runs)),
        )


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    return path


def run(
    base_url: str, paths: Sequence[str], key: str, seconds: float, connections: int
) -> WrkResult:
    """One wrk run of `seconds` against `base_url` on loopback."""
    if urlsplit(base_url).hostname not in LOOPBACK:
        raise ValueError(f"refusing to load a non-loopback host: {base_url}")
    threads = min(THREADS, connections)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    env = {**os.environ, "BP_PATHS": ",".join(paths), "BP_KEY": key, "BP_THREADS": str(threads)}
    try:
        out = subprocess.run(
            [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
             "--timeout", "5s", "--latency", "-s", script.name, base_url],
            env=env, capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    return parse(out)


def parse(out: str) -> WrkResult:
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return WrkResult(
        rps=float(_find(r"Requests/sec:\s+([\d.]+)", out)),
        p50_ms=_ms(_find(r"50%\s+([\d.]+\w+)", out)),
        p99_ms=_ms(_find(r"99%\s+([\d.]+\w+)", out)),
        max_ms=_ms(_find(r"Latency\s+\S+\s+\S+\s+([\d.]+\w+)", out)),
        requests=int(_find(r"(\d+) requests in", out)),
        errors=errors + (int(non2xx.group(1)) if non2xx else 0),
    )


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{text}")
    return match.group(1)


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(\w+)", text)
    if match is None:
        raise RuntimeError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def median_of(repeat: int, once: Callable[[], WrkResult]) -> WrkResult:
    return WrkResult.median([once() for _ in range(repeat)])
