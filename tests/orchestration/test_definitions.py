"""The code location loads, and its jobs, schedule and instance config are what we mean."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import DagsterInstance, build_schedule_context, instance_for_test

from assets.resources import StoreResource
from assets.serving.partitions import GAME_DATES
from orchestration.definitions import defs
from tests.support.live import store_with_a_game_on

PROJECT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"


def test_workspace_validates(tmp_path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _asset_names(job_name: str) -> set[str]:
    job = defs.resolve_job_def(job_name)
    return {key.to_user_string() for key in job.asset_layer.executable_asset_keys}


def test_jobs_split_batch_from_daily() -> None:
    assert _asset_names("batch_job") == {
        "gamelog_files",
        "games",
        "game_features",
        "training_set",
        "candidate_model",
        "elo_baseline_model",
        "backtest_report",
    }
    assert _asset_names("daily_predictions_job") == {
        "scheduled_games",
        "game_predictions",
        "prediction_cache",
    }


def test_schedule_targets_todays_games_at_ten_in_new_york(tmp_path: Path) -> None:
    schedule = defs.resolve_schedule_def("daily_predictions_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 10 * * *",
        "America/New_York",
    )
    store = StoreResource(database_url=store_with_a_game_on(tmp_path / "s.db", dt.date(2024, 4, 2)))
    ticks = [dt.datetime(2024, 4, d, 10, 0, tzinfo=ZoneInfo("America/New_York")) for d in (2, 3)]
    with instance_for_test() as instance:
        results = []
        for tick in ticks:
            with build_schedule_context(
                instance=instance,
                scheduled_execution_time=tick,
                resources={"store": store},
                repository_def=defs.get_repository_def(),
            ) as context:
                results.append(schedule.evaluate_tick(context))
        partitions = instance.get_dynamic_partitions(GAME_DATES)
    assert [r.partition_key for r in results[0].run_requests] == ["2024-04-02"]
    assert not results[1].run_requests and "no games on 2024-04-03" in results[1].skip_message
    assert partitions == ["2024-04-02"]  # a date joins the partitions only with games


def test_every_run_of_a_date_carries_the_date_tag() -> None:
    job = defs.resolve_job_def("daily_predictions_job")
    assert job.partitioned_config is not None
    tags = job.partitioned_config.get_tags_for_partition_key("2024-04-02")
    assert tags["bullpen/date"] == "2024-04-02"


def test_instance_config_queues_runs_one_per_date(tmp_path) -> None:
    (tmp_path / "dagster.yaml").write_text((PROJECT / "dagster.yaml").read_text())
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert queue is not None and queue.max_concurrent_runs == 2
    assert {"key": "bullpen/date", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in (
        queue.tag_concurrency_limits
    )
    # One promotion at a time: every promotion_job run carries the limited tag.
    assert {"key": "bullpen/promotion", "limit": 1} in queue.tag_concurrency_limits
    assert defs.resolve_job_def("promotion_job").tags["bullpen/promotion"] == "true"
