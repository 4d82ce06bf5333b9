"""The constant-rate generator (`bench/openloop/main.go`), built and run from Python.

Locust (and wrk) are closed-loop: a slow server makes them send less, which hides the
queueing an offered rate causes, and Python cannot offer 5,000 req/s on 2 cores
anyway. The generator is Go's standard library only (Debian's golang-go, no module
downloads); it is built once into `var/bin` and measures latency from each request's
due time.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loopback import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "bench" / "openloop"
BINARY = PROJECT_ROOT / "var" / "bin" / "openloop"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: dict[str, Any] | None = None
    expect: int = 200  # the right answer: e.g. 404 for a game that does not exist


@dataclass
class Run:
    offered: float
    achieved: float  # expected answers within the timeout, per second of the run
    served: float  # HTTP responses of any status and lateness, per second: the servers' pace
    sent: int
    ok: int
    errors: int  # a wrong status, failed, timed out, or skipped by the generator
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    upstreams: dict[str, int] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def error_rate(self) -> float:
        return self.errors / max(1, self.sent + self.detail.get("skipped", 0))


def build() -> Path:
    """Compile the generator when its source is newer than the binary."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("go not found: `bash scripts/tools go` installs Debian's golang-go")
    source = SOURCE / "main.go"
    if not BINARY.exists() or BINARY.stat().st_mtime < source.stat().st_mtime:
        BINARY.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
        subprocess.run([go, "build", "-o", str(BINARY), "."], cwd=SOURCE, env=env,
                       check=True, capture_output=True, timeout=300)  # fmt: skip
    return BINARY


def write_requests(requests: Sequence[Request], seed: int = 7) -> Path:
    """The mix, shuffled (seeded) so every stretch of the run sees the same proportions."""
    order = list(requests)
    random.Random(seed).shuffle(order)
    fd, name = tempfile.mkstemp(prefix="bullpen-openloop-", suffix=".jsonl")
    with os.fdopen(fd, "w") as out:
        for r in order:
            line: dict[str, Any] = {"method": r.method, "path": r.path}
            if r.body is not None:
                line["body"] = r.body
            if r.expect != 200:
                line["expect"] = r.expect
            out.write(json.dumps(line) + "\n")
    return Path(name)


def run(target: str, requests_file: Path, rate: float, seconds: float, key: str,
        timeout_s: float = 2.0, connections: int = 128) -> Run:  # fmt: skip
    """Offer `rate` req/s to `target` for `seconds`; bounded by seconds + timeout + 30."""
    out = subprocess.run(
        [str(build()), "-target", target, "-rate", str(rate), "-duration", f"{seconds}s",
         "-timeout", f"{timeout_s}s", "-requests", str(requests_file),
         "-connections", str(connections), "-header", f"X-API-Key: {key}"],
        capture_output=True, text=True, check=True, timeout=seconds + timeout_s + 30,
    ).stdout  # fmt: skip
    return parse(json.loads(out))


def parse(raw: dict[str, Any]) -> Run:
    latency = raw["latency_ms"] or {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    errors = raw["completed"] - raw["ok"] + raw["skipped"] + (raw["sent"] - raw["completed"])
    return Run(
        offered=raw["offered_rate"], achieved=raw["achieved_rate"],
        served=raw["responded_rate"], sent=raw["sent"],
        ok=raw["ok"], errors=errors, p50_ms=latency["p50"], p95_ms=latency["p95"],
        p99_ms=latency["p99"], max_ms=latency["max"], upstreams=raw["upstreams"], detail=raw,
    )  # fmt: skip
