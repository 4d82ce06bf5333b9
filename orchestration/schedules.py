"""Schedules: when the jobs run by themselves."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, build_schedule_from_partitioned_job

from bullpen.settings import Settings
from orchestration.jobs import daily_predictions_job

# On one machine the schedule runs by default (its daemon is part of `scripts/run`); a
# shared deployment turns it on in the UI once it is ready to predict for real.
DEFAULT_STATUS = (
    DefaultScheduleStatus.RUNNING
    if Settings().environment == "local"
    else DefaultScheduleStatus.STOPPED
)

# 10:00 in the partitions' timezone (America/New_York): starting pitchers are
# announced by then for day games. The partitions' end_offset=1 makes the
# schedule's target today's date rather than yesterday's.
daily_predictions_schedule = build_schedule_from_partitioned_job(
    daily_predictions_job,
    name="daily_predictions_schedule",
    hour_of_day=10,
    minute_of_hour=0,
    default_status=DEFAULT_STATUS,
    description="Every morning at 10:00 New York time: predict today's games.",
)
