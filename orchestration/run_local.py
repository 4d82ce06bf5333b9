"""The first start-up of a local deployment, through a running Dagster: every step a real run.

    python -m orchestration.run_local --ui http://127.0.0.1:3000 [--date YYYY-MM-DD]
                                      [--backtest-season YEAR] [--backtest-dir DIR]
    python -m orchestration.run_local --print-as-of

`scripts/run` starts the Dagster webserver and daemon (`dagster dev`) first; this
then launches runs through the webserver's GraphQL API, so they are queued by the
instance, started by the daemon and shown in the UI under the `bullpen` code location
like any run an operator launches:

1. `batch_job`: game logs → store → features → models, the candidate's blocking
   checks, the backtest;
2. the promotion, as every later one: the daemon's `promotion_sensor` reads the
   checks' evaluations and launches `promotion_job` (warm green, then flip); this
   waits until the candidate is `active` with alias `blue` (or was rejected);
3. `daily_predictions_job` for the as-of date (default: the last date with games),
   from the served model, warmed into Redis.

`--print-as-of` prints the last date with games in the configured game logs: the
date `scripts/run` exports as BULLPEN_PROMOTION_AS_OF before Dagster starts, so the
promotion warms days that have games.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import httpx
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient
from sqlalchemy import Engine

from assets.resources import StoreResource
from bullpen.serving import active
from bullpen.serving.lifecycle import Status
from bullpen.settings import GameLogSettings, parse_seasons
from bullpen.sources.parsed import read_gamelogs
from bullpen.store import get_model, list_models, read_games
from orchestration.jobs import date_tags

LOCATION = "bullpen"  # workspace.yaml
DONE = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
POLL_S = 2.0


LOCATIONS_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename } } } } }"""


def last_game_date() -> dt.date:
    """The last date with games in the configured game logs (no store needed)."""
    source = GameLogSettings()
    for season in reversed(parse_seasons(source.seasons)):
        games = read_gamelogs(source.gamelogs_dir, [season]).games
        if games:
            return max(game.date for game in games)
    raise SystemExit(f"no games in the game logs at {source.gamelogs_dir}")


def location_state(ui: str) -> str:
    """`loaded`, `loading`, `error: …` or `down: …` for the bullpen code location."""
    try:
        answer = httpx.post(f"{ui}/graphql", json={"query": LOCATIONS_QUERY}, timeout=10)
        entries = answer.json()["data"]["workspaceOrError"]["locationEntries"]
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
        return f"down: {exc!r}"
    for entry in entries:
        if entry["name"] == LOCATION:
            if entry["loadStatus"] != "LOADED":
                return "loading"
            kind = (entry["locationOrLoadError"] or {}).get("__typename")
            return "loaded" if kind == "RepositoryLocation" else f"error: {kind}"
    return "loading"


def client_for(ui: str, timeout: float) -> DagsterGraphQLClient:
    """A GraphQL client once the webserver answers and the code location has loaded."""
    deadline = time.monotonic() + timeout
    while (state := location_state(ui)) != "loaded":
        if state.startswith("error") or time.monotonic() > deadline:
            raise SystemExit(f"Dagster at {ui}: code location `{LOCATION}` {state}")
        time.sleep(POLL_S)
    url = urlparse(ui)
    return DagsterGraphQLClient(url.hostname or "127.0.0.1", port_number=url.port)


def run(
    client: DagsterGraphQLClient, ui: str, job: str, timeout: float,
    run_config: Mapping[str, Any] | None = None, tags: Mapping[str, str] | None = None,
) -> str:  # fmt: skip
    """Launch `job` through the instance and wait for it; its run id (exit if it failed)."""
    run_id = client.submit_job_execution(
        job, repository_location_name=LOCATION, run_config=dict(run_config or {}),
        tags=dict(tags or {}),
    )  # fmt: skip
    print(f"{job}: run {run_id} queued ({ui}/runs/{run_id})", flush=True)
    status = wait_for(lambda: client.get_run_status(run_id), timeout, f"{job} ({run_id})")
    if status != DagsterRunStatus.SUCCESS:
        raise SystemExit(f"{job} ended {status.value} (run {run_id}); its logs: {ui}/runs/{run_id}")
    return run_id


def wait_for(poll: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while (state := poll()) not in DONE:
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} still {getattr(state, 'value', state)} after {timeout:g} s")
        time.sleep(POLL_S)
    return state


def wait_for_promotion(engine: Engine, candidate: str, timeout: float) -> str:
    """Until the sensor's promotion made `candidate` blue (or it was rejected): the verdict."""
    deadline = time.monotonic() + timeout
    while True:
        entry = get_model(engine, candidate)
        status = entry.status if entry else "missing"
        if status == Status.ACTIVE and active.aliases(engine).get(active.BLUE) == candidate:
            return f"{candidate} promoted: active, alias blue"
        if status == Status.REJECTED:
            serving = active.promoted_version(engine) or "nothing"
            return f"{candidate} rejected by its checks; serving {serving}"
        if time.monotonic() > deadline:
            raise SystemExit(
                f"{candidate} is still {status} after {timeout:g} s: is the daemon running "
                "(`dagster dev`), and promotion_sensor on? See the UI's Automation page."
            )
        time.sleep(POLL_S)


def newest_candidate(engine: Engine) -> str:
    blends = [e for e in list_models(engine) if e.kind == "blend"]  # newest first
    if not blends:
        raise SystemExit("batch_job registered no candidate model")
    return blends[0].version


def metadata_of(instance: DagsterInstance, run_id: str) -> dict[str, dict[str, Any]]:
    """Materialization metadata per asset of one run, values unwrapped."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ).records
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is not None:
            key = materialization.asset_key.to_user_string()
            out[key] = {k: v.value for k, v in materialization.metadata.items()}
    return out


def summary(
    batch: dict[str, dict[str, Any]], daily: dict[str, dict[str, Any]], day: str, verdict: str
) -> str:
    games = batch.get("games", {})
    backtest = batch.get("backtest_report", {})
    lines = [
        f"games in store:      {games.get('store_total_games')}",
        f"quarantined lines:   {games.get('quarantined')}",
        f"source errors:       {batch.get('gamelog_files', {}).get('source_error_count')}",
        f"candidate model:     {batch.get('candidate_model', {}).get('version')}",
        f"promotion:           {verdict}",
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
    parser.add_argument("--ui", default="http://127.0.0.1:3000", help="the Dagster webserver")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="as-of date (YYYY-MM-DD)")
    parser.add_argument("--backtest-season", type=int, help="default: last season in the store")
    parser.add_argument(
        "--backtest-dir", help="where the backtest CSV goes (default var/backtests)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per step")
    parser.add_argument("--print-as-of", action="store_true", help="print the last game date")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_as_of:
        print(last_game_date().isoformat())
        return 0
    client = client_for(args.ui, timeout=180)
    backtest = {"season": args.backtest_season, "out_dir": args.backtest_dir}
    backtest = {key: value for key, value in backtest.items() if value is not None}
    batch = run(client, args.ui, "batch_job", args.timeout,
                {"ops": {"backtest_report": {"config": backtest}}})  # fmt: skip
    engine = StoreResource().engine()
    try:
        candidate = newest_candidate(engine)
        print(f"waiting for promotion_sensor to promote {candidate} …", flush=True)
        verdict = wait_for_promotion(engine, candidate, args.timeout)
        print(verdict, flush=True)
        day = (args.date or read_games(engine)["date"].max().date()).isoformat()
    finally:
        engine.dispose()
    daily = run(client, args.ui, "daily_predictions_job", args.timeout, tags=partition_tags(day))
    with DagsterInstance.get() as instance:
        print(summary(metadata_of(instance, batch), metadata_of(instance, daily), day, verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
