"""The replay obeys the HPA's rules on small, hand-checkable traces."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from capacity.simulate import (
    DEFAULT_HPA,
    HPA_MANIFEST,
    Autoscaler,
    HpaSpec,
    MetricTarget,
    PodModel,
    ScalingPolicy,
    ScalingRules,
    game_day_trace,
    load_hpa,
    pods_needed,
    simulate,
    users_to_rps,
)

STEP = 15.0
POD = PodModel(throughput_rps=1250.0, startup_s=0.0)  # as measured (bench balanced)


def steps(seconds: float) -> int:
    return round(seconds / STEP)


def test_manifest_and_builtin_copy_agree() -> None:
    assert HPA_MANIFEST.is_file()
    assert load_hpa() == DEFAULT_HPA


def test_manifest_parsing() -> None:
    hpa = DEFAULT_HPA
    assert (hpa.min_replicas, hpa.max_replicas) == (5, 50)
    assert hpa.target("rps") == 875.0 and hpa.target("cpu") == 70.0
    with pytest.raises(ValueError):
        HpaSpec.from_manifest({"apiVersion": "apps/v1", "kind": "Deployment"})


def test_never_above_max_nor_below_min() -> None:
    trace = [100.0] * steps(600) + [1e6] * steps(1800) + [0.0] * steps(3600)
    replay = simulate(trace, DEFAULT_HPA, POD, step_s=STEP)
    assert replay.replicas.max() == 50
    assert replay.replicas.min() == 5
    assert (replay.replicas <= 50).all() and (replay.replicas >= 5).all()


def test_scale_up_is_bounded_by_50_percent_or_5_pods_per_minute() -> None:
    # Pods that never saturate report the whole load, so the metrics ask for far
    # more than the policies allow and only the policies bind.
    roomy = PodModel(throughput_rps=1e9, startup_s=0.0)
    replay = simulate([1e6] * steps(600), DEFAULT_HPA, roomy, step_s=STEP)
    # One decision per minute can add max(+5, ceil(+50%)) from the count a minute ago.
    changes = [int(r) for r in replay.replicas]
    distinct = [changes[0]] + [b for a, b in pairwise(changes) if b != a]
    assert distinct == [5, 10, 15, 23, 35, 50]
    for i in range(len(changes)):
        earlier = changes[max(0, i - steps(60))]
        assert changes[i] <= max(earlier + 5, math.ceil(earlier * 1.5))


def test_saturated_pods_under_report_demand_and_the_queue_signal_sees_it() -> None:
    """A pod at 100% CPU serves (and reports) its throughput, not the offered load: on
    requests per second alone the HPA sees 1250/875 of target and scales by that ratio.
    The queue signal sees the shedder's 250 ms lag against its 100 ms target (2.5x) and
    takes the policy's limit instead (+5 pods on 5)."""
    rps_only = replace(DEFAULT_HPA, metrics=tuple(
        m for m in DEFAULT_HPA.metrics if m.kind != "queue"))  # fmt: skip
    replay = simulate([1e6] * steps(120), rps_only, POD, step_s=STEP)
    assert int(replay.replicas[1]) == math.ceil(5 * 1250 / 875)
    replay = simulate([1e6] * steps(120), DEFAULT_HPA, POD, step_s=STEP)
    assert int(replay.replicas[1]) == 10


def test_the_queue_signal_is_quiet_below_saturation() -> None:
    """At 60% of a pod's throughput the modelled wait is ~1.2 ms: far under 100 ms, so
    the queue metric never asks for more pods than the others do."""
    assert POD.queue_s(750.0) == pytest.approx(0.6 / 0.4 / 1250)
    assert POD.queue_s(1250.0) == POD.queue_s(5000.0) == POD.max_queue_s
    steady = simulate([8000.0] * steps(1800), DEFAULT_HPA, POD, step_s=STEP)
    assert int(steady.replicas[-1]) == math.ceil(8000 / 875)  # as on req/s alone


def test_scale_down_waits_for_the_window_then_10_percent_per_minute() -> None:
    start = 20
    trace = [17_500.0] * steps(120) + [100.0] * steps(1200)
    replay = simulate(trace, DEFAULT_HPA, POD, step_s=STEP, initial_replicas=start)
    drop = steps(120)
    replicas = [int(r) for r in replay.replicas]
    assert replicas[drop - 1] == start
    # Still 20 for the 300 s after the load fell: the window keeps the highest recommendation.
    first_down = next(i for i in range(drop, len(replicas)) if replicas[i] < start)
    assert (first_down - drop) * STEP >= 300
    # Then at most 10% (rounded down) per minute, never below minReplicas.
    distinct = [start] + [b for a, b in pairwise(replicas) if b != a]
    assert distinct[:4] == [20, 18, 16, 14]
    for a, b in pairwise(distinct):
        assert b >= max(5, int(a * 0.9))
    assert replicas[-1] == 5


def test_a_short_dip_does_not_scale_down() -> None:
    trace = [17_500.0] * steps(120) + [100.0] * steps(240) + [17_500.0] * steps(300)
    replay = simulate(trace, DEFAULT_HPA, POD, step_s=STEP, initial_replicas=20)
    assert replay.replicas.min() == 20


def test_within_tolerance_nothing_moves() -> None:
    # 5 pods at 919 req/s each: 5% over the 875 target, inside the 10% tolerance.
    replay = simulate([5 * 919.0] * steps(900), DEFAULT_HPA, POD, step_s=STEP)
    assert set(replay.replicas) == {5}


def test_the_largest_metric_wins() -> None:
    hpa = HpaSpec(
        min_replicas=1, max_replicas=100,
        metrics=(MetricTarget("rps", 1000.0), MetricTarget("cpu", 50.0)),
        scale_up=ScalingRules(0, "Max", (ScalingPolicy("Pods", 100, 60),)),
        scale_down=DEFAULT_HPA.scale_down,
    )  # fmt: skip
    autoscaler = Autoscaler(hpa)
    # 4 pods at 500 req/s: rps says 2 pods, CPU (50% at 500 of 1000) is on target.
    desired = autoscaler.proposal(4, 4, {"rps": 500.0, "cpu": 50.0, "memory": 0.0})
    assert desired == 4
    desired = autoscaler.proposal(4, 4, {"rps": 500.0, "cpu": 100.0, "memory": 0.0})
    assert desired == 8


def test_select_policy_min_and_disabled() -> None:
    up = ScalingRules(0, "Min", (ScalingPolicy("Percent", 50, 60), ScalingPolicy("Pods", 5, 60)))
    hpa = HpaSpec(5, 50, DEFAULT_HPA.metrics, up, DEFAULT_HPA.scale_down)
    # From 20: +50% allows 30, +5 allows 25; Min takes 25 (Max would take 30).
    assert Autoscaler(hpa).decide(0.0, 20, 50) == 25
    assert Autoscaler(DEFAULT_HPA).decide(0.0, 20, 50) == 30
    frozen = ScalingRules(0, "Disabled", up.policies)
    assert Autoscaler(HpaSpec(5, 50, DEFAULT_HPA.metrics, frozen, frozen)).decide(0.0, 20, 50) == 20


def test_rate_limit_counts_earlier_scale_events_in_the_period() -> None:
    autoscaler = Autoscaler(DEFAULT_HPA)
    assert autoscaler.decide(0.0, 10, 40) == 15  # +50% of 10
    # 30 s later the period still starts at 10: no further step allowed.
    assert autoscaler.decide(30.0, 15, 40) == 15
    # A minute after the first step the period starts at 15: up to 23.
    assert autoscaler.decide(61.0, 15, 40) == 23


def test_new_pods_serve_only_once_ready() -> None:
    slow = PodModel(throughput_rps=1000.0, startup_s=120.0)
    trace = [2000.0] * steps(120) + [20_000.0] * steps(600)
    replay = simulate(trace, DEFAULT_HPA, slow, step_s=STEP)
    assert (replay.ready <= replay.replicas).all()
    surge = steps(120)
    # Replicas rise at once, capacity two minutes later: that gap is overflow.
    assert replay.replicas[surge + 1] > replay.ready[surge + 1]
    assert replay.requests_over_capacity > 0
    assert np.allclose(replay.served + replay.overflow, replay.offered)


def test_sizing_for_the_design_goals() -> None:
    sizing = pods_needed(5000.0, DEFAULT_HPA, POD)
    assert sizing.pods_at_target == math.ceil(5000 / 875)  # the rps target binds
    assert sizing.pods_at_saturation == 4
    assert not sizing.capped
    assert users_to_rps(10_000, 2.0) == 5000.0
    assert pods_needed(100.0, DEFAULT_HPA, POD).pods_at_target == 5  # never below min
    assert pods_needed(60_000.0, DEFAULT_HPA, POD).capped


def test_game_day_trace_shape() -> None:
    trace = game_day_trace(12_000.0, step_s=STEP)
    assert len(trace) == 24 * 3600 / STEP
    np.testing.assert_array_equal(trace, game_day_trace(12_000.0, step_s=STEP))
    hour = lambda h: int(h * 3600 / STEP)  # noqa: E731
    morning = trace[hour(6) : hour(9)].mean()
    before_day_games = trace[hour(12.75) : hour(13.1)].max()
    evening = trace[hour(18.9) : hour(19.3)].max()
    assert morning < 0.05 * evening
    assert morning < before_day_games < evening
    assert evening == pytest.approx(12_000.0, rel=0.06)
