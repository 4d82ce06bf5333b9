"""Helper of scripts/k8s-e2e (run with the repo's .venv python; only PyYAML and Dagster).

  instance --out FILE [--host-only] ...   write the e2e Dagster instance (dagster.yaml)
  wait-run --run-id ID --timeout S         poll the run until it ends; print its steps

The instance is composed from the repo's own files, so the e2e run checks them:
  - storage: deploy/dagster-postgres.yaml (PostgreSQL from DAGSTER_PG_*, psycopg2 scheme);
  - run launcher: k8s/dagster/values.yaml + values-dev.yaml (Helm merges maps key by key,
    replaces lists), i.e. what the Dagster chart writes for `runLauncher.config.k8sRunLauncher`
    and `global`, plus what only this single-node cluster needs (host networking, hostPath
    volumes, a kubeconfig instead of in-cluster config: the apiserver is not routable
    through a Service here, there is no kube-proxy).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Helm's runK8sConfig keys → dagster.yaml's run_k8s_config keys (the chart's template).
RUN_K8S_KEYS = {
    "containerConfig": "container_config",
    "podSpecConfig": "pod_spec_config",
    "podTemplateSpecMetadata": "pod_template_spec_metadata",
    "jobSpecConfig": "job_spec_config",
    "jobMetadata": "job_metadata",
}


def helm_merge(base: Any, override: Any) -> Any:
    """Helm's merge of values files: maps key by key, everything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = helm_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def load_values(paths: list[Path]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in paths:
        values = helm_merge(values, yaml.safe_load(path.read_text()) or {})
    return values


def storage_section(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    return {"storage": doc["storage"]}


def run_launcher(values: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s = {RUN_K8S_KEYS[k]: v for k, v in (k8s.get("runK8sConfig") or {}).items()}
    # This cluster only: host networking (PostgreSQL, Redis and the apiserver listen on
    # 127.0.0.1; there is no CNI route or kube-proxy) and the node's resolver (no cluster
    # DNS; ClusterFirstWithHostNet on a real cluster).
    run_k8s = helm_merge(
        run_k8s, {"pod_spec_config": {"host_network": True, "dns_policy": "Default"}}
    )
    volumes = [
        # Read-only game logs from the machine (stands in for a data volume).
        {"name": "gamelogs", "host_path": {"path": args.gamelogs_host_dir, "type": "Directory"}},
        # One artifact directory every step pod shares: the fs IO manager passes
        # outputs (the scan, the training frame) between steps through it. In a real
        # cluster: a ReadWriteMany volume or an object-store IO manager.
        {
            "name": "dagster-shared",
            "host_path": {"path": args.shared_host_dir, "type": "Directory"},
        },
        # The e2e code location (definitions.py) at the path the run's code pointer names.
        {"name": "e2e-code", "config_map": {"name": "bullpen-e2e-code"}},
        # The kubeconfig the run worker's K8sRunLauncher and k8s_job_executor load.
        {"name": "kubeconfig", "secret": {"secret_name": "bullpen-e2e-kubeconfig"}},
    ]
    mounts = [
        {"name": "gamelogs", "mount_path": "/data/retrosheet", "read_only": True},
        {"name": "dagster-shared", "mount_path": args.shared_dir},
        {"name": "e2e-code", "mount_path": "/opt/bullpen-e2e", "read_only": True},
        {"name": "kubeconfig", "mount_path": str(Path(args.kubeconfig).parent), "read_only": True},
    ]
    global_values = values.get("global", {})
    config: dict[str, Any] = {
        "load_incluster_config": False,
        "kubeconfig_file": args.kubeconfig,
        "job_namespace": args.namespace,
        "job_image": args.image,
        # The values say IfNotPresent; here nothing may be pulled (no registry is
        # reachable): the image was loaded into the node's dockerd.
        "image_pull_policy": "Never",
        "service_account_name": global_values.get("serviceAccountName", "dagster"),
        "instance_config_map": "dagster-instance",
        # The image's own DAGSTER_HOME (writable /tmp); the instance itself travels with
        # each run as an InstanceRef.
        "dagster_home": "/tmp/dagster_home",
        "postgres_password_secret": global_values.get(
            "postgresqlSecretName", "dagster-postgresql-secret"
        ),
        "env_secrets": [s["name"] for s in k8s.get("envSecrets", [])],
        "env_config_maps": [*[c["name"] for c in k8s.get("envConfigMaps", [])], "bullpen-e2e-env"],
        "env_vars": list(k8s.get("envVars", [])),
        "labels": dict(k8s.get("labels", {})),
        "volume_mounts": [*k8s.get("volumeMounts", []), *mounts],
        "volumes": [*k8s.get("volumes", []), *volumes],
        "run_k8s_config": run_k8s,
    }
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}


def cmd_instance(args: argparse.Namespace) -> int:
    doc: dict[str, Any] = {"telemetry": {"enabled": False}}
    doc.update(storage_section(ROOT / "deploy" / "dagster-postgres.yaml"))
    if not args.host_only:
        values = load_values(
            [ROOT / "k8s" / "dagster" / "values.yaml", ROOT / "k8s" / "dagster" / "values-dev.yaml"]
        )
        doc["local_artifact_storage"] = {
            "module": "dagster._core.storage.root",
            "class": "LocalArtifactStorage",
            "config": {"base_dir": args.shared_dir},
        }
        doc["compute_logs"] = {
            "module": "dagster._core.storage.local_compute_log_manager",
            "class": "LocalComputeLogManager",
            "config": {"base_dir": f"{args.shared_dir}/compute_logs"},
        }
        # Launched straight away: Dagster's default is now the QueuedRunCoordinator, which
        # needs a dagster-daemon to dequeue; this test runs none.
        doc["run_coordinator"] = {
            "module": "dagster._core.run_coordinator",
            "class": "DefaultRunCoordinator",
        }
        doc["run_launcher"] = run_launcher(values, args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return 0


def cmd_wait_run(args: argparse.Namespace) -> int:
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

    instance = DagsterInstance.get()  # $DAGSTER_HOME: the host-only instance (storage)
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    last = None
    terminal = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    run = None
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(args.run_id)
        status = run.status if run else None
        if status != last:
            print(
                f"  run {args.run_id[:8]}: {status.value if status else 'not found'} "
                f"(+{time.monotonic() - started:.0f} s)",
                flush=True,
            )
            last = status
        if status in terminal:
            break
        time.sleep(2)
    records = instance.all_logs(args.run_id)
    steps: dict[str, dict[str, Any]] = {}
    failures = []
    for rec in records:
        ev = rec.dagster_event
        if ev is None or not ev.step_key:
            continue
        step = steps.setdefault(ev.step_key, {"worker": None, "status": None, "start": None})
        if ev.event_type == DagsterEventType.STEP_WORKER_STARTING:
            step["worker"] = ev.event_specific_data.metadata.get("Kubernetes Job name").value  # type: ignore[union-attr]
        elif ev.event_type == DagsterEventType.STEP_START:
            step["start"] = rec.timestamp
        elif ev.event_type == DagsterEventType.STEP_SUCCESS:
            step["status"] = "SUCCESS"
            step["duration_s"] = round(rec.timestamp - (step["start"] or rec.timestamp), 1)
        elif ev.event_type == DagsterEventType.ASSET_CHECK_EVALUATION and "did not pass" in (
            rec.user_message or ""
        ):
            failures.append(f"{ev.step_key}: {rec.user_message[:500]}")
        elif ev.event_type == DagsterEventType.STEP_FAILURE:
            step["status"] = "FAILURE"
            failures.append(f"{ev.step_key}: {rec.user_message[:2000]}")
    if run is not None and run.status == DagsterRunStatus.FAILURE:
        for rec in records:
            ev = rec.dagster_event
            if (
                ev is not None
                and ev.event_type in (DagsterEventType.RUN_FAILURE, DagsterEventType.ENGINE_EVENT)
                and "rror" in rec.user_message
            ):
                failures.append(rec.user_message[:2000])
    for key, step in sorted(steps.items(), key=lambda kv: kv[1]["start"] or float("inf")):
        print(
            f"    step {key:34s} {step['status'] or '-':8s} "
            f"{step.get('duration_s', '-')!s:>6s} s  job {step['worker']}"
        )
    for failure in failures:
        print(f"  FAILURE {failure}", file=sys.stderr)
    summary = {
        "status": run.status.value if run else None,
        "steps": len(steps),
        "steps_succeeded": sum(1 for s in steps.values() if s["status"] == "SUCCESS"),
        "step_jobs": sorted({s["worker"] for s in steps.values() if s["worker"]}),
        "seconds": round(time.monotonic() - started),
    }
    Path(args.summary).write_text(json.dumps(summary))
    return 0 if run is not None and run.status == DagsterRunStatus.SUCCESS else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    inst = sub.add_parser("instance")
    inst.add_argument("--out", required=True)
    inst.add_argument("--host-only", action="store_true", help="storage only (for polling)")
    inst.add_argument("--namespace", default="bullpen-e2e")
    inst.add_argument("--image", default="localhost/bullpen:dev")
    inst.add_argument("--kubeconfig", default="/var/run/bullpen-e2e/kube/kubeconfig")
    inst.add_argument("--shared-dir", default="/var/lib/bullpen-e2e/dagster")
    inst.add_argument("--shared-host-dir", default="/var/tmp/bullpen-k8s/run/dagster-shared")
    inst.add_argument("--gamelogs-host-dir", default="/work/shared/data/retrosheet")
    inst.set_defaults(func=cmd_instance)
    wait = sub.add_parser("wait-run")
    wait.add_argument("--run-id", required=True)
    wait.add_argument("--timeout", type=float, default=1800)
    wait.add_argument("--summary", required=True, help="JSON summary written here")
    wait.set_defaults(func=cmd_wait_run)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
