"""The daemon's own sensor and schedule iterations, for driving them in a test.

Dagster has no public API to run one daemon tick in process: its own tests use these
internals, and so do ours, from this one place. When an upgrade moves them, only this
module changes (and `tests/scaleout` fails loudly until it does).
"""

from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import PythonFileTarget
from dagster._daemon.sensor import execute_sensor_iteration
from dagster._scheduler.scheduler import launch_scheduled_runs

__all__ = [
    "PythonFileTarget",
    "create_test_daemon_workspace_context",
    "execute_sensor_iteration",
    "launch_scheduled_runs",
]
