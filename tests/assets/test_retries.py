"""A step that meets a cache fault is retried by Dagster, and fails visibly if it stays."""

import socket
import threading
from pathlib import Path

import pytest
import redis
from dagster import DagsterEventType, OpExecutionContext, job, op
from redis.backoff import NoBackoff
from redis.retry import Retry

from assets import retries
from assets.retries import cache_retries
from bench.loopback import RedisNode, free_port

pytestmark = pytest.mark.integration
PORT = free_port()


@op
def write_one(context: OpExecutionContext) -> int:
    # No client-side retries: the first attempt meets the fault, Dagster retries the step.
    client = redis.Redis(port=PORT, socket_connect_timeout=0.5, socket_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))  # fmt: skip
    with cache_retries(context):
        client.set("bp:test:retried", b"1")
    return context.retry_number


@job
def warm_job() -> None:
    write_one()


def retried(result) -> int:  # type: ignore[no-untyped-def]
    return sum(e.event_type == DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def test_a_cache_that_stays_down_fails_the_run_after_the_retries(monkeypatch) -> None:
    monkeypatch.setattr(retries, "FIRST_WAIT_S", 0.05)
    result = warm_job.execute_in_process(raise_on_error=False)
    assert not result.success
    assert retried(result) == retries.MAX_RETRIES
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    assert "ConnectionError" in str(failure.event_specific_data)


def test_a_cache_back_within_the_retries_lets_the_run_succeed(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(retries, "FIRST_WAIT_S", 0.5)
    node = RedisNode(tmp_path / "redis", PORT)
    server = socket.create_server(("127.0.0.1", PORT))

    def restart() -> None:  # the first connection is cut, then a real Redis comes up
        connection, _ = server.accept()
        connection.close()
        server.close()
        node.start()

    restarting = threading.Thread(target=restart)
    restarting.start()
    try:
        result = warm_job.execute_in_process(raise_on_error=False)
    finally:
        restarting.join(timeout=30)
        node.stop()
    assert result.success
    assert result.output_for_node("write_one") >= 1 and retried(result) >= 1
