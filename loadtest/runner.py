"""Run Locust headless for a bounded time against a loopback deployment; judge the result.

`run(plan)` starts `locust -f loadtest/locustfile.py --headless` in a subprocess (gevent
stays out of this process), bounded by the phases' total plus a grace period, writes
Locust's CSV and HTML reports into `plan.out_dir`, and reads the CSV back into a
`Summary`: p50/p95/p99/max, requests/second, error rate and error types, and the
verdict against the SLOs.
"""

from __future__ import annotations

import csv
import ipaddress
import math
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
GRACE_S = 60.0  # start-up, stop and report writing on top of the phases
PREFIX = "locust"


class LoadTestError(RuntimeError):
    pass


@dataclass(frozen=True)
class Plan:
    host: str
    api_key: str
    dates: list[str]
    out_dir: Path
    users: int = 50
    ramp_up_s: float = 20.0
    sustain_s: float = 60.0
    ramp_down_s: float = 10.0
    wait_min_s: float = 0.5
    wait_max_s: float = 1.5
    slo_p95_ms: float = 500.0
    slo_error_rate: float = 0.01

    @property
    def seconds(self) -> float:
        return self.ramp_up_s + self.sustain_s + self.ramp_down_s


@dataclass
class Summary:
    requests: int
    failures: int
    rps: float
    sustained_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: list[tuple[str, str, int]]  # (request name, error, occurrences)
    endpoints: list[dict[str, str]] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0


def require_loopback(host: str) -> None:
    """Refuse any target that is not this machine: every address must be loopback."""
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadTestError(f"host must be an http(s) URL, got {host!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise LoadTestError(f"cannot resolve {parts.hostname!r}: {exc}") from None
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise LoadTestError(
            f"refusing to load {host}: it resolves to {sorted(addresses)}, not loopback only"
        )


def locust_command(plan: Plan) -> list[str]:
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    if locust is None:
        raise LoadTestError("locust is not installed: pip install locust")
    prefix = plan.out_dir / PREFIX
    return [
        locust, "-f", str(LOCUSTFILE), "--headless", "--host", plan.host,
        "--csv", str(prefix), "--html", str(prefix.with_suffix(".html")),
        "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5",
        "--bp-dates", ",".join(plan.dates), "--bp-users", str(plan.users),
        "--bp-ramp-up", str(plan.ramp_up_s), "--bp-sustain", str(plan.sustain_s),
        "--bp-ramp-down", str(plan.ramp_down_s),
        "--bp-wait-min", str(plan.wait_min_s), "--bp-wait-max", str(plan.wait_max_s),
    ]  # fmt: skip


def run(plan: Plan) -> Summary:
    """One bounded headless run; raises LoadTestError if Locust produced no report."""
    require_loopback(plan.host)
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    # The key goes through the environment, never the command line (`ps` shows that).
    env = {**os.environ, "BULLPEN_LOADTEST_API_KEY": plan.api_key}
    log = plan.out_dir / "locust.log"
    with log.open("w") as out:
        try:
            subprocess.run(
                locust_command(plan), env=env, stdout=out, stderr=subprocess.STDOUT,
                timeout=plan.seconds + GRACE_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise LoadTestError(f"locust ran past {plan.seconds + GRACE_S:.0f} s") from None
    stats = plan.out_dir / f"{PREFIX}_stats.csv"
    if not stats.exists():
        tail = log.read_text()[-2000:]
        raise LoadTestError(f"locust wrote no report; its log ends with:\n{tail}")
    return read_summary(plan.out_dir, plan.users)


def read_summary(out_dir: Path, peak_users: int) -> Summary:
    prefix = out_dir / PREFIX
    rows = _rows(Path(f"{prefix}_stats.csv"))
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if total is None:
        raise LoadTestError(f"no Aggregated row in {prefix}_stats.csv")
    errors = [
        (r["Name"], r["Error"], int(r["Occurrences"]))
        for r in _rows(Path(f"{prefix}_failures.csv"))
    ]
    history = [
        r for r in _rows(Path(f"{prefix}_stats_history.csv"))
        if r.get("Name") == "Aggregated" and _int(r.get("User Count")) == peak_users
    ]  # fmt: skip
    sustained = [_float(r["Requests/s"]) for r in history]
    return Summary(
        requests=_int(total["Request Count"]),
        failures=_int(total["Failure Count"]),
        rps=_float(total["Requests/s"]),
        sustained_rps=sum(sustained) / len(sustained) if sustained else math.nan,
        p50_ms=_float(total["50%"]),
        p95_ms=_float(total["95%"]),
        p99_ms=_float(total["99%"]),
        max_ms=_float(total["Max Response Time"]),
        errors=sorted(errors, key=lambda e: -e[2]),
        endpoints=[r for r in rows if r["Name"] != "Aggregated"],
        reports=sorted(p for p in out_dir.iterdir() if p.name.startswith(PREFIX)),
    )


def verdict(summary: Summary, slo_p95_ms: float, slo_error_rate: float) -> list[str]:
    """The SLOs the run missed (empty: it passed)."""
    missed = []
    if not summary.requests:
        missed.append("no request completed")
    if not summary.p95_ms < slo_p95_ms:
        missed.append(f"p95 {summary.p95_ms:.0f} ms >= {slo_p95_ms:.0f} ms")
    if not summary.error_rate < slo_error_rate:
        missed.append(f"error rate {summary.error_rate:.2%} >= {slo_error_rate:.2%}")
    return missed


def format_summary(summary: Summary, slo_p95_ms: float, slo_error_rate: float) -> str:
    lines = [
        f"requests: {summary.requests:,}  failures: {summary.failures:,}  "
        f"error rate: {summary.error_rate:.2%}",
        f"req/s: {summary.rps:,.1f} over the run, {summary.sustained_rps:,.1f} at the peak",
        f"latency ms: p50 {summary.p50_ms:.0f}  p95 {summary.p95_ms:.0f}  "
        f"p99 {summary.p99_ms:.0f}  max {summary.max_ms:.0f}",
        "by endpoint:",
    ]
    for row in summary.endpoints:
        lines.append(
            f"  {row['Type']:5} {row['Name']:32} {_int(row['Request Count']):>8,} req  "
            f"{_int(row['Failure Count']):>6,} failed  p95 {row['95%']} ms"
        )
    lines.append("errors:" if summary.errors else "errors: none")
    lines += [f"  {count:>8,}  {name}: {error}" for name, error, count in summary.errors]
    missed = verdict(summary, slo_p95_ms, slo_error_rate)
    slo = f"p95 < {slo_p95_ms:.0f} ms, error rate < {slo_error_rate:.0%}"
    lines.append(f"verdict: {'PASS' if not missed else 'FAIL'} ({slo})")
    lines += [f"  missed: {m}" for m in missed]
    lines.append("reports: " + ", ".join(str(p) for p in summary.reports))
    return "\n".join(lines)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _float(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "", "N/A") else math.nan
    except ValueError:
        return math.nan


def _int(value: str | None) -> int:
    number = _float(value)
    return 0 if math.isnan(number) else int(number)
