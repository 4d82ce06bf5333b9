"""Schedules: when the jobs run by themselves."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, build_schedule_from_partitioned_job

from orchestration.jobs import daily_predictions_job

# 10:00 in the partitions' timezone (America/New_York): starting pitchers are
# announced by then for day games. The partitions' end_offset=1 makes the
# schedule's target today's date rather than yesterday's.
daily_predictions_schedule = build_schedule_from_partitioned_job(
    daily_predictions_job,
    name="daily_predictions_schedule",
    hour_of_day=10,
    minute_of_hour=0,
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every morning at 10:00 New York time: predict today's games.",
)
