"""`python -m orchestration.run_local` runs both jobs out of process and records them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_run_local_records_both_runs(four_seasons, tmp_path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'store' / 'bullpen.db'}"
    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BULLPEN_DATABASE_URL": sqlite_url,
        "BULLPEN_GAMELOGS_DIR": str(four_seasons),
        "BULLPEN_SEASONS": "2021-2022",
        "BULLPEN_REDIS_URL": "redis://127.0.0.1:6379/12",  # never the machine's DB 0
    }
    env.pop("BULLPEN_GAMELOGS_BASE_URL", None)
    command = [sys.executable, "-m", "orchestration.run_local", "--date", "2022-07-04"]
    command += ["--backtest-dir", str(tmp_path / "backtests")]
    result = subprocess.run(
        command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "games in store:      4859" in result.stdout
    assert "predictions 2022-07-04: 14 written by blend-" in result.stdout
    assert (tmp_path / "backtests" / "backtest-2022.csv").is_file()

    with DagsterInstance.from_config(str(home)) as instance:
        runs = {run.job_name: run for run in instance.get_runs()}
    assert set(runs) == {"batch_job", "daily_predictions_job"}
    assert all(run.status == DagsterRunStatus.SUCCESS for run in runs.values())
    assert runs["daily_predictions_job"].tags["dagster/partition"] == "2022-07-04"
    assert runs["daily_predictions_job"].tags["bullpen/date"] == "2022-07-04"
