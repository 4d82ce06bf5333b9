"""The stack a user starts: `bash scripts/run`, as the README says, on four real seasons.

Through Dagster's GraphQL endpoint: the scheduler, sensor and run-queue daemons report
healthy, the schedule and the promotion sensor are on, the sensor has ticked, and a run
launched through GraphQL reaches SUCCESS. Through the API: the served model was promoted
(active, alias blue, an audit row), `/docs` loads with no outside host, and the README's
examples answer from it. Ctrl-C (SIGINT to the script) stops every process it started.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from bench.loopback import free_port

PROJECT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/10"  # a DB of its own on the shared server
UP_WITHIN_S = 900.0
DAEMONS = {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"}
SELECTOR = '{repositoryLocationName: "bullpen", repositoryName: "__repository__", %s: "%s"}'

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@dataclass
class Stack:
    process: subprocess.Popen[str]
    api: str
    ui: str
    run_dir: Path
    output: list[str] = field(default_factory=list)

    def graphql(self, query: str) -> dict:
        answer = httpx.post(f"{self.ui}/graphql", json={"query": query}, timeout=30)
        answer.raise_for_status()
        body = answer.json()
        assert "errors" not in body, body
        return body["data"]

    def key(self) -> str:
        return (self.run_dir / "local-admin.key").read_text().strip()


def _read(stack: Stack, up: threading.Event) -> None:
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.output.append(line)
        if "bullpen is up" in line:
            up.set()


@pytest.fixture(scope="module")
def stack(four_seasons: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    api_port, ui_port = free_port(), free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(work / "dagster_home"),
        "BULLPEN_RUN_DIR": str(work / "run"),
        "BULLPEN_DATABASE_URL": f"sqlite:///{work / 'bullpen.db'}",
        "BULLPEN_GAMELOGS_DIR": str(four_seasons),
        "BULLPEN_SEASONS": "2019-2022",
        "BULLPEN_REDIS_URL": REDIS_URL,
        "BULLPEN_API_PORT": str(api_port),
        "BULLPEN_UI_PORT": str(ui_port),
        "BULLPEN_PROMOTION_SENSOR_INTERVAL_S": "5",
    }
    for name in ("BULLPEN_GAMELOGS_BASE_URL", "BULLPEN_PROMOTION_AS_OF"):
        env.pop(name, None)
    process = subprocess.Popen(
        ["bash", "scripts/run", "--backtest-dir", str(work / "backtests")],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    stack = Stack(process, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}",
                  work / "run")  # fmt: skip
    up = threading.Event()
    reader = threading.Thread(target=_read, args=(stack, up), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + UP_WITHIN_S
        while not up.wait(1):
            assert process.poll() is None, "".join(stack.output)[-4000:]
            assert time.monotonic() < deadline, "".join(stack.output)[-4000:]
        yield stack
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, to the script's process group
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        client.flushdb()
        client.close()


def test_the_daemons_are_healthy_and_the_automation_is_on(stack: Stack) -> None:
    data = stack.graphql(
        "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"
    )
    statuses = {d["daemonType"]: d for d in data["instance"]["daemonHealth"]["allDaemonStatuses"]}
    assert set(statuses) >= DAEMONS, statuses
    assert all(statuses[name]["healthy"] for name in DAEMONS), statuses
    sensor = stack.graphql(
        "{ sensorOrError(sensorSelector: %s) { ... on Sensor { sensorState { status "
        "ticks(limit: 20) { status } } } } }" % (SELECTOR % ("sensorName", "promotion_sensor"))
    )["sensorOrError"]["sensorState"]
    assert sensor["status"] == "RUNNING" and len(sensor["ticks"]) >= 1, sensor
    schedule = stack.graphql(
        "{ scheduleOrError(scheduleSelector: %s) { ... on Schedule { scheduleState { status } } } }"
        % (SELECTOR % ("scheduleName", "daily_predictions_schedule"))
    )["scheduleOrError"]["scheduleState"]
    assert schedule["status"] == "RUNNING"


def test_the_start_up_runs_belong_to_the_code_location(stack: Stack) -> None:
    runs = stack.graphql(
        "{ runsOrError { ... on Runs { results { jobName status "
        "repositoryOrigin { repositoryLocationName } } } } }"
    )["runsOrError"]["results"]
    by_job = {run["jobName"]: run for run in runs}
    assert {"batch_job", "promotion_job", "daily_predictions_job"} <= set(by_job), runs
    for run in by_job.values():
        assert run["status"] == "SUCCESS", run
        assert run["repositoryOrigin"]["repositoryLocationName"] == "bullpen"


def test_a_run_launched_through_graphql_succeeds(stack: Stack) -> None:
    port = int(stack.ui.rsplit(":", 1)[1])
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    day = "2022-09-30"
    run_id = client.submit_job_execution(
        "daily_predictions_job", repository_location_name="bullpen",
        tags={"dagster/partition": day, "bullpen/date": day},
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while (status := client.get_run_status(run_id)) not in (
        DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED
    ):  # fmt: skip
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status == DagsterRunStatus.SUCCESS


def test_the_served_model_was_promoted(stack: Stack) -> None:
    headers = {"Authorization": f"Bearer {stack.key()}"}
    models = httpx.get(f"{stack.api}/v1/models", headers=headers, timeout=10).json()
    served = next(m for m in models["models"] if m["active"])
    assert served["kind"] == "blend" and served["status"] == "active", served
    assert served["alias"] == "blue" and models["aliases"]["blue"] == served["version"]
    assert f"{served['version']} promoted: active, alias blue" in "".join(stack.output)
    ready = httpx.get(f"{stack.api}/ready", timeout=10).json()
    assert ready["ready"] and ready["model_version"] == served["version"]


def test_the_readme_examples_answer_from_the_served_model(stack: Stack) -> None:
    headers = {"X-API-Key": stack.key()}
    api = httpx.Client(base_url=stack.api, headers=headers, timeout=10)
    served = next(m for m in api.get("/v1/models").json()["models"] if m["active"])["version"]
    day = api.get("/v1/games", params={"date": "2022-10-05"}).json()
    assert day["model_version"] == served and day["count"] > 0 and day["cached"]
    game = day["games"][0]["game_id"]
    one = api.get(f"/v1/games/{game}/prediction").json()
    posted = api.post(
        "/api/v1/predict", json={"game_id": game, "model_name": "bullpen-win-probability"}
    ).json()
    assert one["model_version"] == posted["model_version"] == served
    assert one["in_sample"] is False  # the hold-out window: the model never saw these games
    edge = api.post("/v1/edge", json={"game_id": game, "home_odds": -110, "away_odds": -110})
    assert edge.status_code == 200 and edge.json()["model_version"] == served


def test_the_docs_load_offline(stack: Stack) -> None:
    html = httpx.get(f"{stack.api}/docs", timeout=10).text
    sources = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert httpx.get(f"{stack.api}{source}", timeout=10).status_code == 200, source


def test_the_local_key_is_kept_across_runs(stack: Stack) -> None:
    env = {**os.environ, "BULLPEN_DATABASE_URL": _database_url(stack)}
    again = subprocess.run(
        [str(PROJECT / ".venv/bin/bullpen"), "apikey", "local", "--file",
         str(stack.run_dir / "local-admin.key")],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert again.stdout.strip() == stack.key()


def _database_url(stack: Stack) -> str:
    return f"sqlite:///{stack.run_dir.parent / 'bullpen.db'}"


def test_ctrl_c_stops_everything_it_started(stack: Stack) -> None:
    """Last in the module: SIGINT to the script's process group, as a terminal's Ctrl-C."""
    os.killpg(stack.process.pid, signal.SIGINT)
    stack.process.wait(timeout=60)
    time.sleep(1)
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--port {stack.api.rsplit(':', 1)[1]}|-p {stack.ui.rsplit(':', 1)[1]}"],
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert leftovers == []
    for url in (stack.api, stack.ui):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health", timeout=2)
