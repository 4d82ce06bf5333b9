"""The e2e code location: bullpen's Definitions with `k8s_job_executor` as the default
executor, so `batch_job` runs each step in its own Kubernetes Job (pod).

`orchestration.definitions` sets no executor (Dagster's default is one process per step
on the run's own machine); the live-loop jobs keep their explicit in-process executor.
scripts/k8s-e2e ships this file to the launcher container and to every run and step pod
(a ConfigMap mounted at /opt/bullpen-e2e), so the run's code pointer resolves everywhere.
"""

from dagster import Definitions
from dagster_k8s import k8s_job_executor

from orchestration.definitions import defs as bullpen_defs

defs = Definitions.merge(bullpen_defs, Definitions(executor=k8s_job_executor))
