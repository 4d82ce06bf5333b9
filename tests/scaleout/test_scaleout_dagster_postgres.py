"""Dagster on the real PostgreSQL, configured by deploy/dagster-postgres.yaml.

A fresh database `bullpen_dagster_<random>` is created on 127.0.0.1:5432 for the
module and dropped afterwards. The instance is built exactly as a deployment
would build it: the file copied into a DAGSTER_HOME, credentials from the
DAGSTER_PG_* environment variables. On it:

- materializations of a cheap test-local asset, one and four at once (runs and
  event logs in PostgreSQL; concurrent writers are what exhausts connections);
- the scheduler and sensor daemons' own iterations (Dagster's daemon code, with
  the test-local definitions in a code server subprocess): ticks land in the
  schedule storage, and the runs they request wait in the queue with their tags;
- the project's own daily schedule (orchestration/definitions.py) evaluated for
  a date against this instance.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, materialize
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
PROBE_DEFS = HERE.parent / "support" / "dagster_probe.py"
ROOT = HERE.parents[1]
INSTANCE_FILE = ROOT / "deploy" / "dagster-postgres.yaml"
SERVER_URL = os.environ.get(
    "BULLPEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DATE_TAG = "bullpen/date"
PROMOTION_TAG = "bullpen/promotion"


@pytest.fixture(scope="module")
def pg_database() -> Iterator[URL]:
    server = make_url(SERVER_URL)
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    maintenance = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        maintenance.dispose()
        pytest.skip(f"PostgreSQL not reachable at {server.host}:{server.port}: {exc}")
    name = f"bullpen_dagster_{uuid.uuid4().hex[:12]}"
    with maintenance.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


@pytest.fixture(scope="module")
def instance(
    pg_database: URL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterInstance]:
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(INSTANCE_FILE, home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": pg_database.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(pg_database.port or 5432),
        "DAGSTER_PG_USERNAME": pg_database.username or "postgres",
        "DAGSTER_PG_PASSWORD": pg_database.password or "",
        "DAGSTER_PG_DB": pg_database.database or "",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        dagster_instance = DagsterInstance.from_config(str(home))
        try:
            yield dagster_instance
        finally:
            dagster_instance.dispose()


@pytest.fixture(scope="module")
def sql(pg_database: URL) -> Iterator[object]:
    """Straight SQL on the Dagster database: proof the rows are in PostgreSQL."""
    engine = create_engine(pg_database)

    def query(statement: str, **params: object) -> list[tuple]:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(statement), params)]

    yield query
    engine.dispose()


def test_instance_is_postgres_with_a_bounded_queue(instance: DagsterInstance, sql) -> None:  # type: ignore[no-untyped-def]
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    queue = instance.get_concurrency_config().run_queue_config
    assert queue.max_concurrent_runs == 4
    assert queue.tag_concurrency_limits == [
        {"key": DATE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
        {"key": PROMOTION_TAG, "limit": 1},
    ]
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 4
    tables = {row[0] for row in sql("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"runs", "event_logs", "jobs", "job_ticks"} <= tables


def test_materializations_are_stored_in_postgres(instance: DagsterInstance, sql) -> None:  # type: ignore[no-untyped-def]
    from tests.support.dagster_probe import (
        PROBE,
        materialize_probe_in_fresh_process,
        scaleout_probe,
    )

    result = materialize([scaleout_probe], instance=instance, tags={DATE_TAG: "2023-07-04"})
    assert result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == DagsterRunStatus.SUCCESS
    assert sql("SELECT status FROM runs WHERE run_id = :id", id=result.run_id) == [("SUCCESS",)]
    records = instance.fetch_materializations(PROBE, limit=10).records
    assert [r.run_id for r in records] == [result.run_id]

    # Four at once, each in its own process like run workers: concurrent writers
    # to the run and event-log tables. (Not threads: in-process execution shares
    # the logging machinery and is not thread-safe.)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=spawn) as pool:
        futures = [pool.submit(materialize_probe_in_fresh_process, f"d{i}") for i in range(4)]
        run_ids = [future.result(timeout=240) for future in futures]
    assert all(run_ids)
    statuses = sql("SELECT status FROM runs WHERE run_id = ANY(:ids)", ids=run_ids)
    assert statuses == [("SUCCESS",)] * 4
    assert len(instance.fetch_materializations(PROBE, limit=10).records) == 5
    (count,) = sql(
        "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
    )
    assert count[0] == 5


def test_daemon_schedule_and_sensor_ticks_on_postgres(instance: DagsterInstance, sql) -> None:  # type: ignore[no-untyped-def]
    from tests.support.dagster_daemon import (
        PythonFileTarget,
        create_test_daemon_workspace_context,
        execute_sensor_iteration,
        launch_scheduled_runs,
    )
    from tests.support.dagster_probe import scaleout_probe

    logger = logging.getLogger("bullpen.tests.scaleout")
    target = PythonFileTarget(
        python_file=str(PROBE_DEFS),
        attribute="defs",
        working_directory=str(ROOT),
        location_name="scaleout",
    )
    with create_test_daemon_workspace_context(target, instance) as context:
        location = next(iter(context.create_request_context().get_code_location_entries().values()))
        assert location.load_error is None, location.load_error

        # Scheduler: the first iteration records the running schedule; a later one
        # (two minutes on) fires the ticks due in between.
        now = dt.datetime.now(dt.UTC)
        list(launch_scheduled_runs(context, logger, end_datetime_utc=now, iteration_times={}))
        list(
            launch_scheduled_runs(
                context, logger, end_datetime_utc=now + dt.timedelta(minutes=2), iteration_times={}
            )
        )
        # Sensor: reads the event log for materializations after its cursor.
        assert materialize([scaleout_probe], instance=instance).success
        list(execute_sensor_iteration(context, logger, None, None))
        # A second evaluation (after the sensor's 1 s minimum interval) with
        # nothing new: skipped, cursor kept.
        time.sleep(1.5)
        list(execute_sensor_iteration(context, logger, None, None))

    ticks = sql("SELECT type, status FROM job_ticks ORDER BY id")
    assert ("SCHEDULE", "SUCCESS") in ticks, ticks
    assert ("SENSOR", "SUCCESS") in ticks, ticks
    assert ("SENSOR", "SKIPPED") in ticks, ticks
    # Instigator state (status, sensor cursor) in the `jobs` table, read back.
    states = {state.name: state for state in instance.all_instigator_state()}
    assert {"probe_schedule", "probe_sensor"} <= set(states)
    assert sql("SELECT count(*) FROM jobs") == [(len(states),)]
    assert int(states["probe_sensor"].instigator_data.cursor) > 0  # type: ignore[union-attr]

    # The requested runs wait in the queue (QueuedRunCoordinator), tagged by date.
    scheduled = instance.get_runs(
        filters=RunsFilter(tags={"dagster/schedule_name": "probe_schedule"})
    )
    assert scheduled and all(r.status == DagsterRunStatus.QUEUED for r in scheduled)
    assert all(DATE_TAG in r.tags for r in scheduled)
    sensed = instance.get_runs(filters=RunsFilter(tags={"dagster/sensor_name": "probe_sensor"}))
    # Every probe materialization so far (5 earlier + 1 here when run in order) got one run.
    assert sensed and all(r.status == DagsterRunStatus.QUEUED for r in sensed)
    assert len({r.tags["dagster/run_key"] for r in sensed}) == len(sensed)


def test_project_daily_schedule_evaluates_on_this_instance(
    instance: DagsterInstance, tmp_path: Path
) -> None:
    from dagster import build_schedule_context

    from assets.resources import StoreResource

    # Imported here, not skipped on failure: definitions that do not load are a defect.
    from orchestration.definitions import defs
    from tests.support.live import store_with_a_game_on

    names = {s.name for s in defs.schedules or []}
    assert "daily_predictions_schedule" in names, names
    schedule = defs.get_schedule_def("daily_predictions_schedule")
    when = dt.datetime(2023, 7, 4, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    store = StoreResource(database_url=store_with_a_game_on(tmp_path / "s.db", when.date()))
    with build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"store": store},
        repository_def=defs.get_repository_def(),
    ) as context:  # fmt: skip
        result = schedule.evaluate_tick(context)
    (request,) = result.run_requests or []
    assert request.partition_key == "2023-07-04"
    job = defs.resolve_job_def(schedule.job_name)
    tags = job.partitioned_config.get_tags_for_partition_key("2023-07-04")  # type: ignore[union-attr]
    assert tags[DATE_TAG] == "2023-07-04"
