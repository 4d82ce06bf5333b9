"""Helpers for the Kubernetes manifest tests: rendering with `kubectl kustomize`, walking pods.

Everything runs offline: kustomize is built into kubectl (Debian's
`kubernetes-client`), the Kubernetes OpenAPI schemas come with the
`kubernetes-validate` wheel, and the CRD schemas with two npm packages
(see `crd_models/`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "prod")
# What `kubectl kustomize` is asked to render: the base and every overlay.
TARGETS = {"base": K8S / "base", **{name: K8S / "overlays" / name for name in OVERLAYS}}
# Plain manifests applied beside the kustomization (see their comments).
EXTRA_MANIFESTS = (K8S / "dagster" / "namespace.yaml",)

Doc = dict[str, Any]


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl not found: `apt-get install kubernetes-client` provides it")
    return path


def render(target: Path) -> list[Doc]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(target)], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {target} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"{kind}/{name} not rendered")


def pod_specs(doc: Doc) -> Iterator[tuple[str, Doc]]:
    """Every pod spec an object carries, with a label for messages."""
    label = f"{doc['kind']}/{doc['metadata']['name']}"
    spec = doc.get("spec", {})
    kind = doc["kind"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        yield label, spec["template"]["spec"]
    elif kind == "CronJob":
        yield label, spec["jobTemplate"]["spec"]["template"]["spec"]
    elif kind == "Pod":
        yield label, spec
    elif kind == "Rollout" and "template" in spec:
        yield label, spec["template"]["spec"]
    elif kind == "AnalysisTemplate":
        for metric in spec.get("metrics", []):
            job = metric.get("provider", {}).get("job")
            if job:
                yield f"{label}:{metric['name']}", job["spec"]["template"]["spec"]


def containers(pod_spec: Doc) -> Iterator[Doc]:
    yield from pod_spec.get("initContainers", [])
    yield from pod_spec.get("containers", [])
