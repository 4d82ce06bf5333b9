"""Schedules: when the jobs run by themselves."""

from __future__ import annotations

import datetime as dt

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from assets.resources import StoreResource
from assets.serving.partitions import add_game_dates
from bullpen.serving.slate import slate
from bullpen.settings import Settings
from orchestration.jobs import daily_predictions_job

# On one machine the schedule runs by default (its daemon is part of `scripts/run`); a
# shared deployment turns it on in the UI once it is ready to predict for real.
DEFAULT_STATUS = (
    DefaultScheduleStatus.RUNNING
    if Settings().environment == "local"
    else DefaultScheduleStatus.STOPPED
)
TIMEZONE = "America/New_York"


# 10:00 in New York: starting pitchers are announced by then for day games.
@schedule(
    name="daily_predictions_schedule",
    cron_schedule="0 10 * * *",
    execution_timezone=TIMEZONE,
    job=daily_predictions_job,
    default_status=DEFAULT_STATUS,
    description="Every morning at 10:00 New York time: predict today's games (a date with no "
    "games on its slate is skipped, and never becomes a partition).",
)
def daily_predictions_schedule(
    context: ScheduleEvaluationContext, store: StoreResource
) -> RunRequest | SkipReason:
    day: dt.date = context.scheduled_execution_time.date()
    engine = store.engine()
    try:
        today = slate(engine, day)
    finally:
        engine.dispose()
    if today.empty:
        return SkipReason(f"no games on {day}: nothing to predict")
    add_game_dates(context.instance, [day])
    return RunRequest(run_key=f"daily-{day.isoformat()}", partition_key=day.isoformat())
