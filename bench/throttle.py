"""CPU limits for one process in a benchmark: a CFS quota in a cgroup of its own
(`cpu_quota`), or its threads pinned to given cores (`pinned`).

This machine mounts the cgroup-v1 `cpu` controller (../shared/CONTAINERS.md), so a
quota of `cpus` is `cfs_quota_us = cpus * cfs_period_us` in a child group. The process
moves back to its original group and the child is removed on exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000


@contextlib.contextmanager
def cpu_quota(pid: int, cpus: float) -> Iterator[Path]:
    """Hold `pid` to `cpus` CPUs (e.g. 0.25) until the block ends; yields the group."""
    if not (CPU_ROOT / "cgroup.procs").exists():
        raise RuntimeError(f"no cgroup-v1 cpu controller at {CPU_ROOT}: cannot throttle")
    if not 0.01 <= cpus <= os.cpu_count():  # type: ignore[operator]
        raise ValueError(f"cpus must be in [0.01, {os.cpu_count()}], not {cpus}")
    group = CPU_ROOT / f"bullpen-throttle-{pid}"
    group.mkdir(exist_ok=True)
    try:
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(round(cpus * PERIOD_US)))
        (group / "cgroup.procs").write_text(str(pid))
        yield group
    finally:
        with contextlib.suppress(OSError):  # the process may have exited
            (CPU_ROOT / "cgroup.procs").write_text(str(pid))
        group.rmdir()


@contextlib.contextmanager
def pinned(pid: int, cpus: set[int]) -> Iterator[None]:
    """Every thread of `pid` on `cpus` until the block ends (then back to all CPUs).

    A replica pinned to one core measures what a pod with a 1-CPU limit serves, while
    the load generator and nginx run on the other core."""
    everything = set(range(os.cpu_count() or 1))
    _set_affinity(pid, cpus)
    try:
        yield
    finally:
        _set_affinity(pid, everything)


def _set_affinity(pid: int, cpus: set[int]) -> None:
    # Threads started later inherit from their creator, so each existing thread is set.
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cpus)
