"""Tiny definitions for the PostgreSQL-instance test: cheap enough to run anywhere,
shaped like bullpen's own (a date-tagged job, a schedule, a materialization sensor).

Loaded by a Dagster code server in a subprocess (as a Python file), so they live in a
file of their own.
"""

from __future__ import annotations

from dagster import (
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    schedule,
    sensor,
)

PROBE = AssetKey("scaleout_probe")
DATE_TAG = "bullpen/date"


@asset(key=PROBE)
def scaleout_probe() -> MaterializeResult:
    return MaterializeResult(metadata={"rows": 1})


probe_job = define_asset_job("probe_job", selection=[PROBE])


@schedule(
    job=probe_job,
    cron_schedule="* * * * *",
    execution_timezone="America/New_York",
    default_status=DefaultScheduleStatus.RUNNING,
)
def probe_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    day = context.scheduled_execution_time.date().isoformat()
    return RunRequest(
        run_key=f"schedule-{context.scheduled_execution_time.isoformat()}", tags={DATE_TAG: day}
    )


@sensor(job=probe_job, minimum_interval_seconds=1, default_status=DefaultSensorStatus.RUNNING)
def probe_sensor(context: SensorEvaluationContext):
    """One run per new materialization of the probe, read from the instance's event log."""
    after = int(context.cursor or 0)
    records = context.instance.fetch_materializations(PROBE, limit=100).records
    new = sorted((r for r in records if r.storage_id > after), key=lambda r: r.storage_id)
    if not new:
        yield SkipReason(f"no materialization after {after}")
        return
    for record in new:
        yield RunRequest(run_key=f"materialization-{record.storage_id}", tags={DATE_TAG: "sensor"})
    context.update_cursor(str(new[-1].storage_id))


defs = Definitions(
    assets=[scaleout_probe], jobs=[probe_job], schedules=[probe_schedule], sensors=[probe_sensor]
)


def materialize_probe_in_fresh_process(tag: str) -> str:
    """Entry point for a spawned process: one run on the instance DAGSTER_HOME
    points at, as a run worker would do it. Returns the run id ('' on failure)."""
    from dagster import DagsterInstance, materialize

    with DagsterInstance.get() as instance:
        result = materialize([scaleout_probe], instance=instance, tags={DATE_TAG: tag})
        return result.run_id if result.success else ""
