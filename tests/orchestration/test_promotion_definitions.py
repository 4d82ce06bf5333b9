"""The code location wires the gate: blocking checks on the candidate, the sensor, the job."""

from __future__ import annotations

from dagster import AssetCheckKey, AssetKey, DefaultSensorStatus

from assets.modeling.checks import CHECK_NAMES
from orchestration.definitions import defs


def test_candidate_checks_are_blocking_and_run_in_batch_job() -> None:
    batch = defs.resolve_job_def("batch_job")
    keys = set(batch.asset_layer.asset_graph.asset_check_keys)
    expected = {AssetCheckKey(AssetKey("candidate_model"), name) for name in CHECK_NAMES}
    assert expected <= keys
    graph = defs.resolve_asset_graph()
    assert all(graph.get_check_spec(key).blocking for key in expected)


def test_sensor_launches_the_promotion_job() -> None:
    sensor = defs.resolve_sensor_def("promotion_sensor")
    assert sensor.job_name == "promotion_job"
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert "passed" in (sensor.description or "")
    job = defs.resolve_job_def("promotion_job")
    assert {node.name for node in job.graph.nodes} == {"warm_green", "promote_green"}
