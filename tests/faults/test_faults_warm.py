"""Cache warming SIGKILLed mid-way: a subprocess warms 300 model versions' keys (the real
first ten days of 2022 each, ~41k keys) into a private Redis and is killed once some have
landed. A re-run must converge to exactly the keys and bytes of an uninterrupted warm;
the pointer is only ever set after the keys, so it never points at a half-warmed model."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

from bench.loopback import RedisNode
from bullpen.cache import contract
from bullpen.cache.contract import ACTIVE_KEY
from bullpen.domain.features import FEATURE_VERSION
from bullpen.settings import PROJECT_ROOT
from tests.support.data import prediction_rows
from tests.support.faults import FaultRow

pytestmark = [pytest.mark.faults, pytest.mark.integration]
VERSIONS = [f"warm-{i:03d}" for i in range(300)]

WARM = """
import pickle, sys
import redis
from bullpen.cache import contract, writer
from bullpen.domain.features import FEATURE_VERSION

rows = pickle.loads(open(sys.argv[2], "rb").read())
revisions = dict.fromkeys((row["date"] for row in rows), "fault")
client = redis.Redis.from_url(sys.argv[1])
for version in sys.argv[3:]:
    writer.warm(client, rows, version, FEATURE_VERSION, revisions, ttl=3600)
client.set(contract.ACTIVE_KEY, contract.ActiveModel(sys.argv[-1], FEATURE_VERSION).encode())
"""


def expected_entries(rows: list[dict[str, Any]]) -> dict[bytes, bytes]:
    entries: dict[bytes, bytes] = {}
    for version in VERSIONS:
        revisions = dict.fromkeys((row["date"] for row in rows), "fault")
        for key, value in contract.warm_entries(rows, version, FEATURE_VERSION, revisions).items():
            entries[key.encode()] = value
    return entries


def snapshot(client: redis.Redis, keys: list[bytes]) -> dict[bytes, bytes | None]:
    values: list[bytes | None] = []
    for start in range(0, len(keys), 5000):
        values += client.mget(keys[start : start + 5000])
    return dict(zip(keys, values, strict=True))


def test_warm_killed_midway_converges(
    redis_node: RedisNode,
    logs2022: Any,
    features2022: pd.DataFrame,
    tmp_path: Path,
    fault_rows: list[FaultRow],
) -> None:
    rows = prediction_rows(logs2022, features2022)
    (tmp_path / "rows.pickle").write_bytes(pickle.dumps(rows))
    expected = expected_entries(rows)
    client = redis.Redis.from_url(redis_node.url)
    command = [sys.executable, "-c", WARM, redis_node.url, str(tmp_path / "rows.pickle"),
               *VERSIONS]  # fmt: skip
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while client.dbsize() < len(expected) // 5:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.kill()  # SIGKILL by PID, mid-way through the versions
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    at_kill = client.dbsize()
    assert at_kill < len(expected)
    assert client.get(ACTIVE_KEY) is None  # never pointed at a partly warmed model
    started = time.monotonic()
    rerun = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, timeout=120)
    rerun_s = time.monotonic() - started
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    keys = sorted(expected)
    after = snapshot(client, keys)
    wrong = [k for k in keys if after[k] != expected[k]]
    fault_rows.append(FaultRow(
        "cache warm SIGKILLed mid-way", None, None, None, rerun_s, len(wrong),
        f"{at_kill} of {len(expected)} keys in at the kill, no pointer; the re-run (recover) "
        f"left {len(expected) - len(wrong)} keys byte-identical to an uninterrupted warm",
    ))  # fmt: skip
    assert wrong == []
    assert client.dbsize() == len(expected) + 1  # and the pointer
    assert client.get(ACTIVE_KEY) == contract.ActiveModel(VERSIONS[-1], FEATURE_VERSION).encode()
    client.close()
