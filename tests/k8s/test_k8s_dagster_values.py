"""Dagster on Kubernetes: the Helm values, and their agreement with the PostgreSQL
instance file deploy/dagster-postgres.yaml.

The chart's values.schema.json is published with the chart (Helm repository),
not on PyPI or Debian, so it is not used here. Instead the keys bullpen sets are
checked against the field names of the sections of that schema which forbid
unknown fields (additionalProperties: false), written out below for chart 1.13.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.k8s import K8S, ROOT

VALUES = K8S / "dagster" / "values.yaml"
DEV_VALUES = K8S / "dagster" / "values-dev.yaml"
INSTANCE = ROOT / "deploy" / "dagster-postgres.yaml"
DAGSTER_VERSION = "1.13.27"

# Field names of the chart's closed (additionalProperties: false) sections.
K8S_RUN_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
    "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
    "failPodOnRunFailure", "resources", "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
RUN_K8S_CONFIG_KEYS = {
    "containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata",
}  # fmt: skip
QUEUED_RUN_COORDINATOR_KEYS = {
    "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers",
    "dequeueUseThreads", "blockOpConcurrencyLimitedRuns",
}  # fmt: skip
DAEMON_KEYS = {
    "enabled", "image", "runCoordinator", "heartbeatTolerance", "env", "envConfigMaps",
    "envSecrets", "deploymentLabels", "labels", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe",
    "startupProbe", "annotations", "runMonitoring", "runRetries", "sensors", "schedules",
    "schedulerName", "volumeMounts", "volumes", "initContainerResources",
}  # fmt: skip
POSTGRESQL_KEYS = {
    "image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword",
    "postgresqlDatabase", "postgresqlParams", "postgresqlScheme", "service",
}  # fmt: skip
USER_DEPLOYMENT_KEYS = {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns",
    "deploymentNamespace", "port", "env", "envConfigMaps", "envSecrets", "annotations",
    "nodeSelector", "affinity", "tolerations", "podSecurityContext", "securityContext",
    "resources", "livenessProbe", "readinessProbe", "startupProbe", "labels", "volumeMounts",
    "volumes", "schedulerName", "initContainers", "sidecarContainers",
}  # fmt: skip
TOP_LEVEL_KEYS = {
    "dagsterWebserver", "dagster-user-deployments", "postgresql",
    "generatePostgresqlPasswordSecret", "generateCeleryConfigSecret", "rabbitmq", "redis",
    "flower", "ingress", "imagePullSecrets", "computeLogManager", "scheduler", "runLauncher",
    "pythonLogs", "dagsterDaemon", "busybox", "migrate", "telemetry", "serviceAccount", "global",
    "retention", "additionalInstanceConfig",
}  # fmt: skip


def _load(path: Any) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _merged() -> dict[str, Any]:
    """values.yaml with values-dev.yaml on top, merged the way Helm merges maps."""

    def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
        return out

    return merge(_load(VALUES), _load(DEV_VALUES))


@pytest.mark.parametrize("values", [_load(VALUES), _merged()], ids=["prod", "dev"])
def test_values_use_only_chart_keys(values: dict[str, Any]) -> None:
    assert set(values) <= TOP_LEVEL_KEYS
    assert set(values["postgresql"]) <= POSTGRESQL_KEYS
    assert set(values["dagsterDaemon"]) <= DAEMON_KEYS
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator" and coordinator["enabled"] is True
    assert set(coordinator["config"]["queuedRunCoordinator"]) <= QUEUED_RUN_COORDINATOR_KEYS
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]) == {"k8sRunLauncher"}
    k8s = launcher["config"]["k8sRunLauncher"]
    assert set(k8s) <= K8S_RUN_LAUNCHER_KEYS
    assert set(k8s["runK8sConfig"]) <= RUN_K8S_CONFIG_KEYS
    for deployment in values["dagster-user-deployments"]["deployments"]:
        assert set(deployment) <= USER_DEPLOYMENT_KEYS


def test_values_point_at_the_cloudnativepg_cluster_and_the_image() -> None:
    values = _load(VALUES)
    pg = values["postgresql"]
    assert pg["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert pg["postgresqlHost"].startswith("bullpen-pg-rw.")
    assert (pg["postgresqlUsername"], pg["postgresqlDatabase"]) == ("dagster", "dagster")
    assert values["global"]["postgresqlSecretName"] == "dagster-postgresql-secret"
    for key in ("dagsterWebserver", "dagsterDaemon"):
        assert values[key]["image"]["tag"] == DAGSTER_VERSION
    (user,) = values["dagster-user-deployments"]["deployments"]
    assert user["dagsterApiGrpcArgs"] == ["--module-name", "orchestration.definitions"]
    assert user["image"]["repository"].endswith("/bullpen")
    assert user["includeConfigInLaunchedRuns"]["enabled"] is True
    assert _merged()["postgresql"]["postgresqlHost"].startswith("bullpen-pg-rw.bullpen-dev.")


def test_concurrency_limits_agree_with_the_instance_file() -> None:
    """Helm and deploy/dagster-postgres.yaml bound runs the same way."""
    queued = _load(VALUES)["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    instance = _load(INSTANCE)
    runs = instance["concurrency"]["runs"]
    assert queued["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    # And the one-machine default dagster.yaml limits the same tag.
    embedded = _load(ROOT / "dagster.yaml")
    embedded_keys = {t["key"] for t in embedded["concurrency"]["runs"]["tag_concurrency_limits"]}
    assert {t["key"] for t in runs["tag_concurrency_limits"]} <= embedded_keys


def test_dagster_role_connection_limit_covers_the_run_limit() -> None:
    """Each concurrent run holds a few connections (run, event log, steps)."""
    cluster = yaml.safe_load((K8S / "base" / "postgres" / "cluster.yaml").read_text())
    (role,) = cluster["spec"]["managed"]["roles"]
    max_runs = _load(VALUES)["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"][
        "maxConcurrentRuns"
    ]
    assert role["connectionLimit"] >= 10 * max_runs
    assert int(cluster["spec"]["postgresql"]["parameters"]["max_connections"]) > (
        50 * 10 + role["connectionLimit"]
    )
