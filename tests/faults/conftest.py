"""Fixtures of the fault suite: the real 2022 sample, private servers, the fault table.

Every fault test appends a `FaultRow`; `pytest_terminal_summary` prints them as one table
at the end of the session (`pytest -m faults -s` is not needed: it is part of the summary).
"""

from __future__ import annotations

import _thread
import faulthandler
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bench.loopback import RedisNode
from tests.support.data import StoreData, WarmNode, prediction_rows, warm_all
from tests.support.faults import FAULT_ROWS, FaultRow, format_table
from tests.support.postgres import PostgresCluster


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FAULT_ROWS:
        return
    terminalreporter.section("fault table")
    for line in format_table(FAULT_ROWS):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def fault_rows() -> list[FaultRow]:
    return FAULT_ROWS


@pytest.fixture
def redis_node(tmp_path: Path) -> Iterator[RedisNode]:
    """A private redis-server with an fsync-always AOF, so a kill -9 loses no write."""
    try:
        node = RedisNode(
            tmp_path / "redis", None, "--appendonly", "yes", "--appendfsync", "always"
        ).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def warm(
    redis_node: RedisNode, logs2022: Any, features2022: Any, sqlite_store: StoreData
) -> Iterator[WarmNode]:
    """`redis_node` with every game and slate of the 2022 sample warmed, its model served."""
    client = redis.Redis.from_url(redis_node.url, socket_timeout=2)
    try:
        rows = prediction_rows(logs2022, features2022)
        yield WarmNode(redis_node, client, warm_all(client, rows, sqlite_store.url))
    finally:
        client.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free loopback port."""
    try:
        cluster = PostgresCluster().init()
        cluster.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Every loop here is bounded; should something still hang, dump every thread's stack
    and interrupt the session after 4 minutes instead of waiting for an outer timeout."""

    def bite() -> None:
        faulthandler.dump_traceback(all_threads=True)
        _thread.interrupt_main()

    timer = threading.Timer(240, bite)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
