"""Run the whole pipeline once on this machine, recorded in the Dagster instance.

    python -m orchestration.run_local [--date YYYY-MM-DD] [--backtest-season YEAR]
                                      [--backtest-dir DIR]

Executes `batch_job`, then `daily_predictions_job` for one as-of date (default:
the last date with games in the store), on `DagsterInstance.get()`, so both
runs, their logs and metadata appear in the UI started with the same
DAGSTER_HOME. When DAGSTER_HOME is unset, `<project>/.dagster_home` is used
and seeded with the project's dagster.yaml.

The jobs run out of process through the multiprocess executor and the
filesystem IO manager, exactly as when launched from the UI, so their outputs
stay loadable by later runs (e.g. re-materializing one asset in the UI).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import (
    DagsterInstance,
    JobDefinition,
    JobExecutionResult,
    build_reconstructable_job,
    execute_job,
)

from assets.resources import StoreResource
from bullpen.settings import PROJECT_ROOT
from bullpen.store import read_games
from orchestration.jobs import date_tags

DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"


def job_named(name: str) -> JobDefinition:
    """Rebuilds a job in each step process (the reconstructor `execute_job` needs)."""
    from orchestration.definitions import defs

    return defs.resolve_job_def(name)


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to `<project>/.dagster_home` with the project's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_job(
    instance: DagsterInstance,
    name: str,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> JobExecutionResult:
    job = build_reconstructable_job("orchestration.run_local", "job_named", (name,))
    result = execute_job(job, instance, run_config=run_config, tags=tags)
    if not result.success:
        raise SystemExit(f"{name} failed (run {result.run_id}); see its logs in the Dagster UI")
    return result


def last_game_date() -> dt.date:
    """The last date with games in the configured store (the one the jobs used)."""
    engine = StoreResource().engine()
    try:
        games = read_games(engine)
    finally:
        engine.dispose()
    if games.empty:
        raise SystemExit("the store holds no games; batch_job loaded nothing")
    return games["date"].max().date()


def metadata_of(result: JobExecutionResult) -> dict[str, dict[str, Any]]:
    """Materialization metadata per asset, values unwrapped."""
    out: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        key = materialization.asset_key.to_user_string()
        out[key] = {k: v.value for k, v in materialization.metadata.items()}
    return out


def summary(batch: dict[str, dict[str, Any]], daily: dict[str, dict[str, Any]], day: str) -> str:
    games = batch.get("games", {})
    backtest = batch.get("backtest_report", {})
    lines = [
        f"games in store:      {games.get('store_total_games')}",
        f"quarantined lines:   {games.get('quarantined')}",
        f"source errors:       {batch.get('gamelog_files', {}).get('source_error_count')}",
        f"candidate model:     {batch.get('candidate_model', {}).get('version')}",
    ]
    if "skipped" in backtest:
        lines.append(f"backtest:            skipped ({backtest['skipped']})")
    else:
        lines.append(f"backtest season:     {backtest.get('season')}")
        for name in ("model", "elo", "constant"):
            lines.append(
                f"  {name:<9} brier {backtest.get(f'{name}_brier')}  "
                f"log loss {backtest.get(f'{name}_log_loss')}  "
                f"accuracy {backtest.get(f'{name}_accuracy')}"
            )
    predictions = daily.get("game_predictions", {})
    lines.append(
        f"predictions {day}: {predictions.get('games')} written "
        f"by {predictions.get('model_version', '-')}"
    )
    return "\n".join(lines)


def partition_tags(day: str) -> dict[str, str]:
    """The tags a scheduled run of `day` carries: its partition, and the date for the queue."""
    return {"dagster/partition": day, **date_tags(day)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, help="as-of date (YYYY-MM-DD)")
    parser.add_argument("--backtest-season", type=int, help="default: last season in the store")
    parser.add_argument(
        "--backtest-dir", help="where the backtest CSV goes (default var/backtests)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    home = ensure_dagster_home()
    print(f"DAGSTER_HOME={home}")
    with DagsterInstance.get() as instance:
        backtest = {"season": args.backtest_season, "out_dir": args.backtest_dir}
        backtest = {key: value for key, value in backtest.items() if value is not None}
        batch = run_job(instance, "batch_job", {"ops": {"backtest_report": {"config": backtest}}})
        day = (args.date or last_game_date()).isoformat()
        daily = run_job(instance, "daily_predictions_job", tags=partition_tags(day))
    print(summary(metadata_of(batch), metadata_of(daily), day))
    print(
        f"runs {batch.run_id} and {daily.run_id} recorded; UI: DAGSTER_HOME={home} "
        "dagster dev -w workspace.yaml"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
