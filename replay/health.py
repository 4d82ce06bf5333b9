"""What the Dagster instance of a replay recorded: runs and sensor ticks, by outcome."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.scheduler.instigation import TickStatus

IN_PROGRESS = [
    DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]  # fmt: skip


def wait_for_runs(home: Path, expected: int, timeout: float = 300.0, quiet_s: float = 12.0) -> None:
    """Until `expected` runs exist and none has been queued or running for `quiet_s` (a
    sensor may still request one: the promotion after a retrain's checks), or the timeout:
    runs must finish before the stack goes away."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    with _instance(home) as instance:
        while time.monotonic() < deadline:
            started = instance.get_runs_count()
            running = instance.get_runs_count(RunsFilter(statuses=IN_PROGRESS))
            idle = started >= expected and running == 0
            quiet_since = (quiet_since or time.monotonic()) if idle else None
            if quiet_since is not None and time.monotonic() - quiet_since >= quiet_s:
                return
            time.sleep(0.5)


@contextlib.contextmanager
def _instance(home: Path) -> Iterator[DagsterInstance]:
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def dagster_failures(home: Path) -> dict[str, int]:
    """Runs (all, failed), and sensor ticks by status (a failed tick is a failed live-loop
    step; a tick that re-priced dates without launching a run is recorded as skipped)."""
    with _instance(home) as instance:
        counts = {
            "runs": instance.get_runs_count(),
            "succeeded_runs": _runs(instance, DagsterRunStatus.SUCCESS),
            "failed_runs": _runs(instance, DagsterRunStatus.FAILURE),
        }
        for state in instance.all_instigator_state():
            for status in (TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.FAILURE):
                ticks = instance.get_ticks(
                    state.instigator_origin_id, state.selector_id, statuses=[status]
                )
                counts[f"{state.instigator_name}_{status.value.lower()}_ticks"] = len(ticks)
        return counts


def _runs(instance: DagsterInstance, status: DagsterRunStatus) -> int:
    return instance.get_runs_count(RunsFilter(statuses=[status]))
