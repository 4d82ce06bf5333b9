"""Capacity plan by simulation: a game day's traffic replayed through the HPA.

The online tier's HorizontalPodAutoscaler (`k8s/base/online/hpa.yaml`) is
replayed as the Kubernetes controller runs it (autoscaling/v2, pkg/controller/
podautoscaler): every sync period each metric proposes
``desired = ceil(ready x value / target)`` (unchanged within the 10% tolerance),
the largest proposal wins, then the behaviour stanza applies:

1. stabilisation — a scale-up goes no higher than the *lowest* recommendation of
   the scale-up window, a scale-down no lower than the *highest* recommendation
   of the scale-down window (300 s here);
2. rate limits — each policy allows, from the replica count at the start of its
   period, ``+value`` pods or ``ceil(+value%)`` up, ``-value`` pods or
   ``floor(-value%)`` down; ``selectPolicy: Max`` takes the policy allowing the
   largest change;
3. min/max replicas.

The numbers are read from the manifest, so the plan cannot drift from what is
deployed. Simplifications, stated: pods that are not ready yet serve nothing and
report no metrics; a pod's CPU is proportional to the requests it serves (100% of
its request at `throughput_rps`); the requests-per-second metric is a trailing
average (prometheus-adapter's `rate(...[1m])`); removed pods stop serving at once.
Pods report what they *serve*: a saturated pod shows 100% CPU and its throughput,
not the offered load, so in a surge the HPA scales by (throughput / target) per
step — one reason the targets leave 30% headroom.

Everything here is pure except `load_hpa` (reads the manifest) and `write_plot`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HPA_MANIFEST = PROJECT_ROOT / "k8s" / "base" / "online" / "hpa.yaml"

# The controller's defaults (kube-controller-manager flags).
DEFAULT_TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
DEFAULT_SYNC_PERIOD_S = 15  # --horizontal-pod-autoscaler-sync-period

# One pod (one uvicorn worker pinned to one core) behind nginx, the design's request mix,
# open loop: the highest offered rate that held p95 < 500 ms and errors < 1%
# (`bullpen-bench balanced`, PERFORMANCE.md: 1,250 held in 2 of 3 runs, 1,500 failed in 3 of 4).
MEASURED_THROUGHPUT_RPS = 1250.0

MetricKind = Literal["cpu", "memory", "rps", "queue"]
UNITS: dict[str, str] = {"cpu": "%", "memory": "%", "rps": " req/s/pod", "queue": " s/pod"}
# The HPA's Pods metrics by the name prometheus-adapter serves them under.
POD_METRICS: dict[str, MetricKind] = {
    "bullpen_http_requests_per_second": "rps",
    "bullpen_queue_seconds": "queue",
}
PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]


# ---------------------------------------------------------------------------
# The HPA as configured


@dataclass(frozen=True)
class ScalingPolicy:
    type: PolicyType
    value: int
    period_s: int


@dataclass(frozen=True)
class ScalingRules:
    stabilization_window_s: int
    select_policy: SelectPolicy
    policies: tuple[ScalingPolicy, ...]


@dataclass(frozen=True)
class MetricTarget:
    """A CPU or memory utilisation target (percent of the request) or a Pods
    metric's average value (requests per second per pod; queue seconds per pod)."""

    kind: MetricKind
    target: float


@dataclass(frozen=True)
class HpaSpec:
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricTarget, ...]
    scale_up: ScalingRules
    scale_down: ScalingRules
    tolerance: float = DEFAULT_TOLERANCE

    @classmethod
    def from_manifest(cls, doc: Mapping[str, Any]) -> HpaSpec:
        """Read an autoscaling/v2 HorizontalPodAutoscaler (as parsed YAML)."""
        if (
            doc.get("apiVersion") != "autoscaling/v2"
            or doc.get("kind") != "HorizontalPodAutoscaler"
        ):
            raise ValueError("not an autoscaling/v2 HorizontalPodAutoscaler")
        spec = doc["spec"]
        metrics = tuple(_metric_target(m) for m in spec["metrics"])
        behavior = spec.get("behavior", {})
        return cls(
            min_replicas=int(spec.get("minReplicas", 1)),
            max_replicas=int(spec["maxReplicas"]),
            metrics=metrics,
            scale_up=_rules(behavior.get("scaleUp"), up=True),
            scale_down=_rules(behavior.get("scaleDown"), up=False),
        )

    def target(self, kind: MetricKind) -> float | None:
        for metric in self.metrics:
            if metric.kind == kind:
                return metric.target
        return None


def _metric_target(metric: Mapping[str, Any]) -> MetricTarget:
    if metric["type"] == "Resource":
        name = metric["resource"]["name"]
        target = metric["resource"]["target"]
        if name not in ("cpu", "memory") or target["type"] != "Utilization":
            raise ValueError(f"unsupported resource metric {name} {target['type']}")
        return MetricTarget(name, float(target["averageUtilization"]))
    if metric["type"] == "Pods":
        target = metric["pods"]["target"]
        name = metric["pods"]["metric"]["name"]
        if target["type"] != "AverageValue" or name not in POD_METRICS:
            raise ValueError(f"unsupported Pods metric {name} {target['type']}")
        return MetricTarget(POD_METRICS[name], _quantity(target["averageValue"]))
    raise ValueError(f"unsupported metric type {metric['type']}")


def _quantity(value: str | int | float) -> float:
    """A Kubernetes quantity as a number ("700", "700m" = 0.7, "1k")."""
    text = str(value)
    suffixes = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
    if text and text[-1] in suffixes:
        return float(text[:-1]) * suffixes[text[-1]]
    return float(text)


def _rules(rules: Mapping[str, Any] | None, *, up: bool) -> ScalingRules:
    # The API server's defaults for an omitted direction (autoscaling/v2).
    if rules is None:
        if up:
            return ScalingRules(
                0,
                "Max",
                (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)),
            )
        return ScalingRules(300, "Max", (ScalingPolicy("Percent", 100, 15),))
    default_window = 0 if up else 300
    return ScalingRules(
        stabilization_window_s=int(rules.get("stabilizationWindowSeconds", default_window)),
        select_policy=rules.get("selectPolicy", "Max"),
        policies=tuple(
            ScalingPolicy(p["type"], int(p["value"]), int(p["periodSeconds"]))
            for p in rules.get("policies", ())
        ),
    )


# What k8s/base/online/hpa.yaml says, for when the manifest is not on disk (an
# installed package, the container image). tests/capacity checks the two agree.
DEFAULT_HPA = HpaSpec(
    min_replicas=5,
    max_replicas=50,
    metrics=(
        MetricTarget("cpu", 70.0),
        MetricTarget("memory", 80.0),
        MetricTarget("rps", 875.0),
        MetricTarget("queue", 0.1),
    ),
    scale_up=ScalingRules(
        0, "Max", (ScalingPolicy("Percent", 50, 60), ScalingPolicy("Pods", 5, 60))
    ),
    scale_down=ScalingRules(300, "Max", (ScalingPolicy("Percent", 10, 60),)),
)


def load_hpa(path: Path | None = None) -> HpaSpec:
    """The HPA from its manifest (default: the kustomize base's `hpa.yaml`)."""
    import yaml

    with (path or HPA_MANIFEST).open() as handle:
        return HpaSpec.from_manifest(yaml.safe_load(handle))


# ---------------------------------------------------------------------------
# One pod


@dataclass(frozen=True)
class PodModel:
    """How one online pod behaves under load."""

    throughput_rps: float = MEASURED_THROUGHPUT_RPS  # at 100% of its CPU request
    startup_s: float = 30.0  # scheduled → ready (image cached, /ready passing)
    memory_idle_pct: float = 45.0  # of the memory request, interpreter + near cache
    memory_busy_pct: float = 15.0  # more at saturation (in-flight requests, buffers)
    max_queue_s: float = 0.25  # the shedder's limit (BULLPEN_MAX_QUEUE_S)

    def cpu_pct(self, rps_per_pod: float) -> float:
        # The CPU limit equals the request: utilisation cannot pass 100%.
        return min(100.0, 100.0 * rps_per_pod / self.throughput_rps)

    def memory_pct(self, rps_per_pod: float) -> float:
        load = min(1.0, rps_per_pod / self.throughput_rps)
        return self.memory_idle_pct + self.memory_busy_pct * load

    def queue_s(self, offered_per_pod: float) -> float:
        """Event-loop lag at an offered rate: an M/M/1 wait below saturation, and at or
        past it the shedder's limit (it sheds rather than let the queue grow further)."""
        load = offered_per_pod / self.throughput_rps
        if load >= 1.0:
            return self.max_queue_s
        return min(self.max_queue_s, load / (1.0 - load) / self.throughput_rps)


# ---------------------------------------------------------------------------
# The controller


@dataclass
class _Event:
    time_s: float
    change: int


@dataclass
class Autoscaler:
    """The HPA controller's state for one target: recommendation history and
    scale events (what the stabilisation windows and policies look back on)."""

    hpa: HpaSpec
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    up_events: list[_Event] = field(default_factory=list)
    down_events: list[_Event] = field(default_factory=list)

    def proposal(self, current: int, ready: int, values: Mapping[MetricKind, float]) -> int:
        """Largest replica count any metric asks for (before behaviours)."""
        if ready == 0:
            return current
        proposals = []
        for metric in self.hpa.metrics:
            ratio = values[metric.kind] / metric.target
            if abs(ratio - 1.0) <= self.hpa.tolerance:
                proposals.append(current)
            else:
                proposals.append(math.ceil(ratio * ready))
        return max(proposals)

    def decide(self, now_s: float, current: int, desired: int) -> int:
        """The replica count after stabilisation, rate limits and min/max."""
        # Out of range: the controller goes straight to the bound, without
        # consulting (or recording) a recommendation.
        if current > self.hpa.max_replicas:
            return self._record(now_s, current, self.hpa.max_replicas, None)
        if current < self.hpa.min_replicas:
            return self._record(now_s, current, self.hpa.min_replicas, None)
        stabilised = self._stabilise(now_s, current, desired)
        return self._record(now_s, current, self._limit_rate(now_s, current, stabilised), desired)

    def _stabilise(self, now_s: float, current: int, desired: int) -> int:
        up_cutoff = now_s - self.hpa.scale_up.stabilization_window_s
        down_cutoff = now_s - self.hpa.scale_down.stabilization_window_s
        up, down = desired, desired
        for time_s, recommendation in self.recommendations:
            if time_s > up_cutoff:
                up = min(up, recommendation)
            if time_s > down_cutoff:
                down = max(down, recommendation)
        result = current
        if result < up:
            result = up
        if result > down:
            result = down
        return result

    def _limit_rate(self, now_s: float, current: int, desired: int) -> int:
        if desired > current:
            limit = max(current, self._scale_up_limit(now_s, current))
            return min(desired, min(self.hpa.max_replicas, limit))
        if desired < current:
            limit = min(current, self._scale_down_limit(now_s, current))
            return max(desired, max(self.hpa.min_replicas, limit))
        return desired

    def _period_start(self, now_s: float, current: int, period_s: int) -> int:
        added = sum(e.change for e in self.up_events if e.time_s > now_s - period_s)
        removed = sum(e.change for e in self.down_events if e.time_s > now_s - period_s)
        return current - added + removed

    def _scale_up_limit(self, now_s: float, current: int) -> int:
        rules = self.hpa.scale_up
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now_s, current, policy.period_s)
            if policy.type == "Pods":
                proposals.append(start + policy.value)
            else:
                proposals.append(math.ceil(start * (1 + policy.value / 100)))
        if not proposals:
            return current
        return min(proposals) if rules.select_policy == "Min" else max(proposals)

    def _scale_down_limit(self, now_s: float, current: int) -> int:
        rules = self.hpa.scale_down
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now_s, current, policy.period_s)
            if policy.type == "Pods":
                proposals.append(start - policy.value)
            else:
                proposals.append(int(start * (1 - policy.value / 100)))
        if not proposals:
            return current
        # For scaling down the largest change is the *lowest* count.
        return max(proposals) if rules.select_policy == "Min" else min(proposals)

    def _record(self, now_s: float, current: int, new: int, raw: int | None) -> int:
        horizon = max(
            self.hpa.scale_up.stabilization_window_s, self.hpa.scale_down.stabilization_window_s
        )
        self.recommendations = [(t, r) for t, r in self.recommendations if t > now_s - horizon]
        if raw is not None:
            self.recommendations.append((now_s, raw))
        longest = max(
            [p.period_s for p in self.hpa.scale_up.policies + self.hpa.scale_down.policies],
            default=0,
        )
        self.up_events = [e for e in self.up_events if e.time_s > now_s - longest]
        self.down_events = [e for e in self.down_events if e.time_s > now_s - longest]
        if new > current:
            self.up_events.append(_Event(now_s, new - current))
        elif new < current:
            self.down_events.append(_Event(now_s, current - new))
        return new


# ---------------------------------------------------------------------------
# A replay


@dataclass(frozen=True)
class Replay:
    """One value per step of the trace; rates in requests per second."""

    step_s: float
    time_s: np.ndarray
    offered: np.ndarray
    served: np.ndarray
    replicas: np.ndarray  # what the HPA set (spec.replicas)
    ready: np.ndarray  # pods serving
    capacity: np.ndarray  # ready x per-pod throughput
    hpa: HpaSpec
    pod: PodModel

    @property
    def overflow(self) -> np.ndarray:
        return self.offered - self.served

    @property
    def requests_over_capacity(self) -> float:
        """Requests offered beyond what the ready pods could serve, in total."""
        return float(self.overflow.sum() * self.step_s)

    @property
    def seconds_over_capacity(self) -> float:
        return float((self.overflow > 0).sum() * self.step_s)

    @property
    def total_requests(self) -> float:
        return float(self.offered.sum() * self.step_s)

    @property
    def seconds_at_max(self) -> float:
        return float((self.replicas >= self.hpa.max_replicas).sum() * self.step_s)


def simulate(
    offered_rps: Sequence[float],
    hpa: HpaSpec,
    pod: PodModel | None = None,
    *,
    step_s: float = DEFAULT_SYNC_PERIOD_S,
    initial_replicas: int | None = None,
    rps_window_s: float = 60.0,
) -> Replay:
    """Replay `offered_rps` (one value per `step_s`, = the HPA's sync period)."""
    pod = pod or PodModel()
    autoscaler = Autoscaler(hpa)
    replicas = initial_replicas if initial_replicas is not None else hpa.min_replicas
    # Ready times of the pods that exist; the initial ones are already serving.
    pods: list[float] = [-math.inf] * replicas
    window: deque[float] = deque(maxlen=max(1, round(rps_window_s / step_s)))
    n = len(offered_rps)
    out = {k: np.zeros(n) for k in ("served", "replicas", "ready", "capacity")}
    for i, load in enumerate(offered_rps):
        now = i * step_s
        ready = sum(1 for t in pods if t <= now)
        capacity = ready * pod.throughput_rps
        served = min(float(load), capacity)
        window.append(served)
        out["served"][i] = served
        out["replicas"][i] = replicas
        out["ready"][i] = ready
        out["capacity"][i] = capacity
        # The HPA's view at the end of this step.
        per_pod_now = served / ready if ready else 0.0
        per_pod_avg = (sum(window) / len(window)) / ready if ready else 0.0
        values: dict[MetricKind, float] = {
            "cpu": pod.cpu_pct(per_pod_now),
            "memory": pod.memory_pct(per_pod_now),
            "rps": per_pod_avg,
            "queue": pod.queue_s(float(load) / ready if ready else 0.0),
        }
        desired = autoscaler.proposal(replicas, ready, values)
        new = autoscaler.decide(now, replicas, desired)
        if new > replicas:
            pods.extend([now + pod.startup_s] * (new - replicas))
        elif new < replicas:
            # A ReplicaSet removes not-ready pods first, then the newest.
            pods.sort()
            del pods[new:]
        replicas = new
    return Replay(
        step_s=step_s,
        time_s=np.arange(n) * step_s,
        offered=np.asarray(offered_rps, dtype=float),
        served=out["served"],
        replicas=out["replicas"],
        ready=out["ready"],
        capacity=out["capacity"],
        hpa=hpa,
        pod=pod,
    )


# ---------------------------------------------------------------------------
# A game day


# (hour of the day in US Eastern time, share of the evening peak). Quiet night
# and morning; the 10:00 predictions bring a first wave; a surge in the hour
# before the 13:05 first pitches; day games; then the evening surge before the
# 19:05 first pitches and the evening peak during the night games.
GAME_DAY_SHAPE: tuple[tuple[float, float], ...] = (
    (0.0, 0.05), (3.0, 0.015), (7.0, 0.015), (9.5, 0.04), (10.25, 0.10), (11.5, 0.10),
    (12.25, 0.20), (12.75, 0.35), (13.05, 0.50), (13.25, 0.40), (15.0, 0.25), (17.0, 0.25),
    (18.25, 0.40), (18.75, 0.60), (18.95, 0.75), (19.05, 1.00), (19.25, 0.90), (21.5, 0.75),
    (23.0, 0.30), (24.0, 0.05),
)  # fmt: skip


def game_day_trace(
    peak_rps: float = 12000.0,
    *,
    step_s: float = DEFAULT_SYNC_PERIOD_S,
    noise: float = 0.05,
    seed: int = 2024,
) -> np.ndarray:
    """Offered requests per second over 24 hours, one value per `step_s`.

    Piecewise linear through `GAME_DAY_SHAPE` scaled to `peak_rps`, with ±`noise`
    relative jitter (seeded: the same arguments give the same trace).
    """
    hours = np.arange(0.0, 24.0 * 3600, step_s) / 3600
    anchors_h, shares = zip(*GAME_DAY_SHAPE, strict=True)
    base = np.interp(hours, anchors_h, shares) * peak_rps
    jitter = np.random.default_rng(seed).uniform(-noise, noise, size=len(hours))
    return np.maximum(0.0, base * (1 + jitter))


# ---------------------------------------------------------------------------
# Sizing


@dataclass(frozen=True)
class Sizing:
    rps: float
    pods_at_target: int  # where the HPA settles: every metric at or under target
    pods_at_saturation: int  # the bare minimum: every pod at 100%
    capped: bool  # pods_at_target is above maxReplicas


def pods_needed(rps: float, hpa: HpaSpec, pod: PodModel) -> Sizing:
    """Replicas the HPA keeps for a steady `rps` (no tolerance slack)."""
    per_pod_limits = [pod.throughput_rps]  # nothing above saturation
    cpu = hpa.target("cpu")
    if cpu is not None:
        per_pod_limits.append(pod.throughput_rps * min(cpu, 100.0) / 100.0)
    rps_target = hpa.target("rps")
    if rps_target is not None:
        per_pod_limits.append(rps_target)
    at_target = max(hpa.min_replicas, math.ceil(rps / min(per_pod_limits)))
    return Sizing(
        rps=rps,
        pods_at_target=at_target,
        pods_at_saturation=max(1, math.ceil(rps / pod.throughput_rps)),
        capped=at_target > hpa.max_replicas,
    )


def users_to_rps(users: int, request_interval_s: float) -> float:
    """Concurrent users, each sending a request every `request_interval_s` seconds
    (think time plus response time, Little's law), as requests per second."""
    return users / request_interval_s


# ---------------------------------------------------------------------------
# Reporting


def hourly_table(replay: Replay, every_s: float = 3600.0) -> list[dict[str, float]]:
    """One row per `every_s`: peak offered load, replicas, capacity, overflow."""
    per_row = max(1, round(every_s / replay.step_s))
    rows = []
    for start in range(0, len(replay.offered), per_row):
        sl = slice(start, start + per_row)
        rows.append(
            {
                "hour": replay.time_s[start] / 3600,
                "offered_peak": float(replay.offered[sl].max()),
                "replicas_min": float(replay.replicas[sl].min()),
                "replicas_max": float(replay.replicas[sl].max()),
                "capacity_min": float(replay.capacity[sl].min()),
                "over_capacity": float(replay.overflow[sl].sum() * replay.step_s),
            }
        )
    return rows


def format_report(replay: Replay, sizings: Sequence[tuple[str, Sizing]]) -> str:
    hpa, pod = replay.hpa, replay.pod
    lines = [
        f"HPA: {hpa.min_replicas}-{hpa.max_replicas} replicas; targets "
        + ", ".join(f"{m.kind} {m.target:g}{UNITS[m.kind]}" for m in hpa.metrics),
        f"per-pod throughput {pod.throughput_rps:g} req/s, pod start-up {pod.startup_s:g} s",
        "",
        f"{'hour':>5} {'peak req/s':>11} {'replicas':>9} {'min capacity':>13} "
        f"{'requests over capacity':>23}",
    ]
    for row in hourly_table(replay):
        replicas = (
            f"{row['replicas_min']:.0f}"
            if row["replicas_min"] == row["replicas_max"]
            else f"{row['replicas_min']:.0f}-{row['replicas_max']:.0f}"
        )
        lines.append(
            f"{row['hour']:>5.0f} {row['offered_peak']:>11.0f} {replicas:>9} "
            f"{row['capacity_min']:>13.0f} {row['over_capacity']:>23.0f}"
        )
    share = replay.requests_over_capacity / replay.total_requests if replay.total_requests else 0
    lines += [
        "",
        f"requests over capacity: {replay.requests_over_capacity:,.0f} of "
        f"{replay.total_requests:,.0f} ({share:.3%}), during {replay.seconds_over_capacity:,.0f} s",
        f"peak replicas: {replay.replicas.max():.0f}; time at maxReplicas: "
        f"{replay.seconds_at_max:,.0f} s",
        "",
        f"{'goal':<34} {'req/s':>8} {'pods (HPA targets)':>19} {'pods (100% busy)':>17}",
    ]
    for label, sizing in sizings:
        note = " (above maxReplicas!)" if sizing.capped else ""
        lines.append(
            f"{label:<34} {sizing.rps:>8,.0f} {sizing.pods_at_target:>19} "
            f"{sizing.pods_at_saturation:>17}{note}"
        )
    return "\n".join(lines)


def write_plot(
    replay: Replay, path: Path, title: str = "bullpen online tier: game-day replay"
) -> Path:
    """Offered load against ready capacity, and replicas, over the day (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = replay.time_s / 3600
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, height_ratios=(3, 2))
    top.plot(hours, replay.offered, color="tab:blue", lw=1, label="offered load")
    top.plot(hours, replay.capacity, color="tab:green", lw=1.2, label="capacity of ready pods")
    rps_target = replay.hpa.target("rps")
    if rps_target is not None:
        top.plot(
            hours, replay.ready * rps_target, color="tab:green", lw=0.8, ls="--",
            label=f"HPA target ({rps_target:g} req/s per pod)",
        )  # fmt: skip
    top.fill_between(
        hours, replay.served, replay.offered, where=replay.overflow > 0, color="tab:red",
        alpha=0.5, label="over capacity",
    )  # fmt: skip
    top.set_ylabel("requests per second")
    top.set_title(title)
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.step(hours, replay.replicas, where="post", color="tab:orange", label="replicas (HPA)")
    bottom.step(
        hours, replay.ready, where="post", color="tab:purple", lw=0.8, ls="--", label="ready pods"
    )
    bottom.axhline(replay.hpa.max_replicas, color="grey", ls=":", lw=1, label="min / max")
    bottom.axhline(replay.hpa.min_replicas, color="grey", ls=":", lw=1)
    bottom.set_ylabel("pods")
    bottom.set_xlabel("hour of the day (US Eastern)")
    bottom.set_xlim(0, 24)
    bottom.set_xticks(range(0, 25, 3))
    bottom.legend(loc="upper left", fontsize=8)
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
