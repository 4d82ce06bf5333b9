"""A Dagster run SIGKILLed mid-ingestion, on SQLite and on a private PostgreSQL.

A subprocess materialises `gamelog_files` and `games` for 24 seasons; once a few files
have landed it is killed by its PID. What is in the store must then be whole files only
(one transaction per file), and a re-run must converge to the row counts of an
uninterrupted run into a fresh store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from dagster import materialize
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from assets.ingestion.gamelogs import gamelog_files, games
from assets.resources import GameLogSource, StoreResource
from bullpen.settings import PROJECT_ROOT
from bullpen.store import make_engine
from bullpen.store.schema import games as games_table
from bullpen.store.schema import ingested_files, quarantine
from tests.support.faults import FaultRow
from tests.support.postgres import PostgresCluster

pytestmark = [pytest.mark.faults, pytest.mark.integration]
SEASONS = "2000-2023"
KILL_AFTER_FILES = 3

RUN = """
import sys
from dagster import materialize
from assets.ingestion.gamelogs import gamelog_files, games
from assets.resources import GameLogSource, StoreResource

result = materialize(
    [gamelog_files, games],
    resources={"store": StoreResource(database_url=sys.argv[1]),
               "gamelogs": GameLogSource(gamelogs_dir=sys.argv[2], seasons=sys.argv[3])},
)
sys.exit(0 if result.success else 1)
"""


def ingest(url: str, directory: Path) -> bool:
    result = materialize(
        [gamelog_files, games],
        resources={
            "store": StoreResource(database_url=url),
            "gamelogs": GameLogSource(gamelogs_dir=str(directory), seasons=SEASONS),
        },
        raise_on_error=False,
    )
    return result.success


def files_landed(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ingested_files)).scalar_one())
    except (OperationalError, ProgrammingError):  # the tables are not created yet
        return 0


def state(engine: Engine) -> dict[str, Any]:
    """Rows per source in every table the ingestion writes, and the recorded file sizes."""
    with engine.connect() as conn:
        files = {r.source: (r.games, r.quarantined) for r in conn.execute(select(ingested_files))}
        per_source = {
            table.name: dict(conn.execute(
                select(table.c.source, func.count()).group_by(table.c.source)
            ).all())
            for table in (games_table, quarantine)
        }  # fmt: skip
    return {"files": files, **per_source}


def whole_files_only(snapshot: dict[str, Any]) -> list[str]:
    """Sources whose rows do not match their `ingested_files` record (a half-written file)."""
    bad = []
    sources = set(snapshot["files"]) | set(snapshot["games"]) | set(snapshot["quarantine"])
    for source in sorted(sources):
        recorded = snapshot["files"].get(source)
        actual = (snapshot["games"].get(source, 0), snapshot["quarantine"].get(source, 0))
        if recorded != actual:
            bad.append(f"{source}: recorded {recorded}, stored {actual}")
    return bad


@pytest.fixture(scope="module")
def all_seasons(gamelogs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("all-seasons")
    for path in sorted(gamelogs_dir.glob("GL*.TXT")):
        (directory / path.name).symlink_to(path)
    return directory


@pytest.fixture(scope="module")
def reference(all_seasons: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The store after one uninterrupted run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'bullpen.db'}"
    assert ingest(url, all_seasons)
    engine = make_engine(url)
    try:
        return state(engine)
    finally:
        engine.dispose()


def postgres_url(cluster: PostgresCluster, name: str) -> str:
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return cluster.url(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_run_killed_mid_ingestion_converges(
    backend: str,
    request: pytest.FixtureRequest,
    all_seasons: Path,
    reference: dict[str, Any],
    tmp_path: Path,
    fault_rows: list[FaultRow],
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'bullpen.db'}"
    else:
        url = postgres_url(request.getfixturevalue("pg_cluster"), "bullpen_killed_run")
    engine = make_engine(url)
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, url, str(all_seasons), SEASONS],
        cwd=PROJECT_ROOT, env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while files_landed(engine) < KILL_AFTER_FILES:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no file landed in time"
            time.sleep(0.005)
        proc.kill()  # SIGKILL, by PID: no cleanup, no rollback in the process
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    killed = state(engine)
    half_written = whole_files_only(killed)
    landed = len(killed["files"])
    started = time.monotonic()
    assert ingest(url, all_seasons)  # the re-run
    rerun_s = time.monotonic() - started
    after = state(engine)
    engine.dispose()
    expected_games = sum(reference["games"].values())
    missing = expected_games - sum(after["games"].values())
    fault_rows.append(FaultRow(
        f"dagster run SIGKILLed mid-ingestion ({backend})", None, None, None, rerun_s,
        abs(missing) + len(whole_files_only(after)),
        f"killed with {landed} of {len(reference['files'])} files in, {len(half_written)} "
        f"half-written; the re-run (recover) converged to {sum(after['games'].values())} games",
    ))  # fmt: skip
    assert half_written == []
    assert 0 < landed < len(reference["files"])
    assert after == reference
