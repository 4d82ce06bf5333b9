"""A promotion run SIGKILLed mid-warm and mid-flip, by its PID.

A subprocess runs the real `promotion_job` (Dagster, execute_in_process) against a store
and a private Redis reached through a loopback proxy. The proxy stops the run at one exact
command: green's first warm batch (mid-warm), or the pointer SET that follows the store's
flip (mid-flip, the store already says green). The test then kills the process. Readers
must still see blue with all its keys, nothing of a half-done flip, and a re-run must end
in the state of an uninterrupted run: the same pointer, aliases, statuses, audit and keys.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from bench.loopback import RedisNode
from bullpen.cache.contract import ActiveModel
from bullpen.domain.features import FEATURE_VERSION
from bullpen.serving import active, lifecycle
from bullpen.serving.active import read_pointer
from bullpen.serving.warming import coming_days, coverage, keys_for_days
from bullpen.settings import PROJECT_ROOT
from bullpen.store import get_model, make_engine
from tests.support.faults import FaultRow
from tests.support.promotion import (
    AS_OF,
    WARM_DAYS,
    build_base_store,
    copy_store,
    make_active,
    register_blend,
    register_elo,
)
from tests.support.proxy import FaultProxy

pytestmark = [pytest.mark.faults, pytest.mark.integration]
BLUE = ActiveModel("elo-blue", FEATURE_VERSION)
GREEN = "blend-green"

RUN = """
import sys
from dagster import DagsterInstance
from orchestration.definitions import defs
from assets.resources import RedisResource, StoreResource

store_url, redis_url, version, as_of, days = sys.argv[1:]
config = {"version": version, "as_of": as_of, "days": int(days)}
with DagsterInstance.ephemeral() as instance:
    result = defs.resolve_job_def("promotion_job").execute_in_process(
        run_config={"ops": {"warm_green": {"config": config}}}, instance=instance,
        resources={"store": StoreResource(database_url=store_url),
                   "redis": RedisResource(redis_url=redis_url)},
        raise_on_error=False,
    )
sys.exit(0 if result.success else 1)
"""
# What the proxy stops on: green's first SET batch, and the pointer's SET (not its GETs).
MID_WARM = f"bp:v1:pred:{GREEN}:".encode()
MID_FLIP = b"SET\r\n$12\r\nbp:v1:active\r\n"


@pytest.fixture(scope="module")
def promotion_base(gamelogs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2019-2022 games and features, blue (Elo) registered, green (a real blend) checked."""
    path = tmp_path_factory.mktemp("promotion-base") / "bullpen.db"
    engine = make_engine(build_base_store(gamelogs_dir, path))
    try:
        register_elo(engine, BLUE.model_version)
        register_blend(engine, GREEN)
        lifecycle.transition(engine, GREEN, lifecycle.Status.CHECKED, "test", "checks passed")
    finally:
        engine.dispose()
    return path


def start(base: Path, workdir: Path, redis_url: str) -> Engine:
    """A private store copy with blue active and warm in `redis_url`."""
    engine = make_engine(copy_store(base, workdir / "bullpen.db"))
    client = redis.Redis.from_url(redis_url)
    make_active(engine, client, BLUE.model_version)
    blue = get_model(engine, BLUE.model_version)
    assert blue is not None
    active.warm(engine, client, blue, coming_days(AS_OF, WARM_DAYS), 600)
    client.close()
    return engine


def promote(engine: Engine, redis_url: str) -> subprocess.Popen[bytes]:
    args = [str(engine.url), redis_url, GREEN, AS_OF.isoformat(), str(WARM_DAYS)]
    return subprocess.Popen([sys.executable, "-c", RUN, *args], cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def outcome(engine: Engine, client: redis.Redis) -> dict[str, Any]:
    """What a promotion leaves: pointers, aliases, statuses, flips, and green's warm keys."""
    keys = keys_for_days(engine, ActiveModel(GREEN, FEATURE_VERSION), coming_days(AS_OF, WARM_DAYS))
    bodies = [json.loads(raw) for raw in client.mget(keys) if raw is not None]
    for body in bodies:
        body.pop("computed_at", None)
        for game in body.get("games", []):
            game.pop("computed_at", None)
    return {
        "redis pointer": read_pointer(client),
        "store pointer": active.serving_pointer(engine),
        "aliases": active.aliases(engine),
        "status": {v: get_model(engine, v).status for v in (BLUE.model_version, GREEN)},  # type: ignore[union-attr]
        "green flips": sum(r.to_status == "active" for r in lifecycle.audit_log(engine, GREEN)),
        "green coverage": coverage(client, keys).ratio,
        "green bodies": sorted(json.dumps(b, sort_keys=True) for b in bodies),
    }


@pytest.fixture
def reference(promotion_base: Path, tmp_path: Path, redis_node: RedisNode) -> dict[str, Any]:
    """The outcome of an uninterrupted promotion (Redis DB 1 of the private server)."""
    url = redis_node.url.rsplit("/", 1)[0] + "/1"
    engine = start(promotion_base, tmp_path / "reference", url)
    proc = promote(engine, url)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err.decode()[-3000:]
    client = redis.Redis.from_url(url)
    try:
        return outcome(engine, client)
    finally:
        client.close()
        engine.dispose()


@pytest.fixture
def proxy(redis_node: RedisNode) -> Iterator[FaultProxy]:
    proxy = FaultProxy(redis_node.port).start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.mark.parametrize("where", ["mid-warm", "mid-flip"])
def test_promotion_killed_converges(
    where: str,
    promotion_base: Path,
    tmp_path: Path,
    redis_node: RedisNode,
    proxy: FaultProxy,
    reference: dict[str, Any],
    fault_rows: list[FaultRow],
) -> None:
    engine = start(promotion_base, tmp_path / "killed", redis_node.url)
    client = redis.Redis.from_url(redis_node.url)
    proxy.hold_on = MID_WARM if where == "mid-warm" else MID_FLIP
    proc = promote(engine, proxy.url)
    try:
        assert proxy.held.wait(120), proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        proc.kill()  # SIGKILL by PID while the run waits on the held command
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    killed = outcome(engine, client)
    # Readers follow the Redis pointer: blue, whose keys are all still there.
    assert killed["redis pointer"] == BLUE
    blue_keys = keys_for_days(engine, BLUE, coming_days(AS_OF, WARM_DAYS))
    assert coverage(client, blue_keys).complete
    if where == "mid-warm":  # green was being warmed: nothing of it visible, nothing flipped
        assert killed["store pointer"] == BLUE and killed["green coverage"] == 0
        assert killed["status"][GREEN] == "warming" and killed["green flips"] == 0
    else:  # the store had flipped, Redis not yet: the store is ahead, never behind
        assert killed["store pointer"] == ActiveModel(GREEN, FEATURE_VERSION)
        assert killed["green coverage"] == 1.0 and killed["green flips"] == 1
    started = time.monotonic()
    rerun = promote(engine, redis_node.url)
    _, err = rerun.communicate(timeout=180)
    rerun_s = time.monotonic() - started
    assert rerun.returncode == 0, err.decode()[-3000:]
    after = outcome(engine, client)
    differences = [k for k in reference if after[k] != reference[k]]
    fault_rows.append(FaultRow(
        f"dagster promotion_job SIGKILLed {where}", None, None, None, rerun_s, len(differences),
        f"at the kill: redis pointer {killed['redis pointer'].model_version}, store pointer "
        f"{killed['store pointer'].model_version}, green {killed['status'][GREEN]}, "
        f"{killed['green coverage']:.0%} of green's keys; the re-run (recover, a new process) "
        f"matched an uninterrupted run in {len(reference) - len(differences)}/{len(reference)}"
        " of pointer, aliases, statuses, flips, coverage, bodies",
    ))  # fmt: skip
    assert differences == [], {k: (after[k], reference[k]) for k in differences}
    client.close()
    engine.dispose()
