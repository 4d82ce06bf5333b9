"""The recovery drills of RUNBOOK.md, end to end on private servers.

Each destroys real state (a PostgreSQL data directory; every node of a Redis Cluster),
restores it the way the runbook says, and compares fingerprints of the real rows and
keys taken before the disaster, so a restore that brings back too much, too little or
something else fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recovery import postgres_drill, redis_drill, table

pytestmark = [pytest.mark.faults]


def test_postgres_restores_to_t_exactly_and_the_api_serves_again(gamelogs_dir: Path) -> None:
    try:
        postgres_drill.postgres_bin()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")

    result = postgres_drill.run_drill(days=3)
    print(table("PostgreSQL drill", result.rows()))

    assert result.after_target != result.at_target  # the writes after T changed the tables
    assert result.restored == result.at_target  # registry, aliases and audit log as at T
    assert postgres_drill.SECOND_MODEL in result.restored_versions  # replayed from the WAL
    assert postgres_drill.AFTER_T_MODEL not in result.restored_versions
    assert result.wal_segments_archived > 0
    # Redis outlived the database and named the post-T model until it was reconciled.
    assert result.redis_pointer_before == postgres_drill.AFTER_T_MODEL
    assert result.redis_pointer_after == postgres_drill.SECOND_MODEL
    model = postgres_drill.SECOND_MODEL
    assert result.api == postgres_drill.ApiCheck(200, 200, model, 200, model)
    assert result.ok


def test_redis_cluster_comes_back_from_aof_with_every_key_and_rewarms(gamelogs_dir: Path) -> None:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli not installed")

    result = redis_drill.run_drill(days=5)
    print(table("Redis Cluster drill", result.rows()))

    assert result.nodes == 6
    assert result.keys > 100 and result.pointer_before is not None
    assert (result.keys_lost, result.keys_changed, result.keys_appeared) == (0, 0, 0)
    assert result.pointer_after == result.pointer_before
    assert result.coverage_complete, result.coverage
    assert result.aof_bytes > 0
    # The re-warm into an empty cluster writes the very same keys and values.
    assert (result.rewarm_keys, result.rewarm_lost, result.rewarm_changed) == (result.keys, 0, 0)
    assert result.ok
