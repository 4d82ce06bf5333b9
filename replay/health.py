"""What the Dagster instance of a replay recorded: runs and sensor ticks, by outcome."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.scheduler.instigation import TickStatus


def dagster_failures(home: Path) -> dict[str, int]:
    """Failed runs, and sensor ticks by status (a failed tick is a failed live-loop step; a
    live tick that re-priced dates without launching a run is recorded as skipped)."""
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            counts = {
                "runs": instance.get_runs_count(),
                "failed_runs": instance.get_runs_count(
                    RunsFilter(statuses=[DagsterRunStatus.FAILURE])
                ),
            }
            for state in instance.all_instigator_state():
                for status in (TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.FAILURE):
                    ticks = instance.get_ticks(
                        state.instigator_origin_id, state.selector_id, statuses=[status]
                    )
                    key = f"{state.instigator_name}_{status.value.lower()}_ticks"
                    counts[key] = len(ticks)
            return counts
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
