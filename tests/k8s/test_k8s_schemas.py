"""Every rendered object, validated offline against a published schema.

- Built-in kinds: the Kubernetes OpenAPI schemas bundled in `kubernetes-validate`
  (PyPI), strict mode: an unknown or misspelt field is an error.
- Argo Rollouts (Rollout, AnalysisTemplate) and Prometheus operator
  (ServiceMonitor, PrometheusRule): the schemas generated from those projects'
  CRDs, as published on npm by @kubernetes-models. They check types, enums and
  required fields; CRD schemas do not forbid unknown fields (the API server
  prunes them), so the tests in test_k8s_manifests.py check the fields that matter.
- CloudNativePG (Cluster, Database, ScheduledBackup): no schema package on PyPI,
  Debian or npm, so `test_cnpg_required_fields` checks the required and the
  relied-on fields explicitly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from tests.support.k8s import TARGETS, Doc, find

K8S_VERSION = "1.32.0"  # the version of the kubectl this was written against
CRD_MODELS = Path(__file__).parent / "crd_models"
CRD_KINDS = {
    ("argoproj.io/v1alpha1", "Rollout"),
    ("argoproj.io/v1alpha1", "AnalysisTemplate"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
CNPG_KINDS = {
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "Database"),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
}


def _key(doc: Doc) -> tuple[str, str]:
    return doc["apiVersion"], doc["kind"]


def _is_builtin(doc: Doc) -> bool:
    return _key(doc) not in CRD_KINDS | CNPG_KINDS


@pytest.mark.parametrize("target", list(TARGETS))
def test_renders(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    assert docs, f"{target} rendered nothing"
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names)), "duplicate objects"


@pytest.mark.parametrize("target", list(TARGETS))
def test_builtin_objects_match_openapi_schema(rendered: dict[str, list[Doc]], target: str) -> None:
    errors = []
    for doc in rendered[target]:
        if not _is_builtin(doc):
            continue
        # A custom kind missing from CRD_KINDS/CNPG_KINDS lands here and has no
        # schema: SchemaNotFoundError, so no object goes unvalidated.
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {exc.path}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: no schema ({exc})")
    assert not errors, "\n".join(errors)


def test_extra_manifests_match_openapi_schema(extra_manifests: list[Doc]) -> None:
    for doc in extra_manifests:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_schema_validation_catches_a_typo(rendered: dict[str, list[Doc]]) -> None:
    """The strict validator really rejects unknown fields (guards the test above)."""
    deployment = json.loads(json.dumps(find(rendered["prod"], "Deployment", "online")))
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


# --- custom resources with published schemas (npm) -------------------------


@pytest.fixture(scope="session")
def crd_validator() -> Path:
    """The npm packages installed once into a cache directory keyed by package.json."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not found: the CRD schemas come as npm packages")
    package = (CRD_MODELS / "package.json").read_bytes()
    digest = hashlib.sha256(package + (CRD_MODELS / "validate.mjs").read_bytes()).hexdigest()[:12]
    cache = Path.home() / ".cache" / "bullpen" / f"crd-models-{digest}"
    if not (cache / "node_modules" / "@kubernetes-models" / "argo-rollouts").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy(CRD_MODELS / "package.json", cache / "package.json")
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=cache, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            pytest.skip(f"npm could not install the CRD schema packages:\n{result.stderr[-2000:]}")
    shutil.copy(CRD_MODELS / "validate.mjs", cache / "validate.mjs")
    return cache


def _validate_crds(cache: Path, docs: list[Doc]) -> list[dict[str, str | None]]:
    result = subprocess.run(
        ["node", str(cache / "validate.mjs")],
        input=json.dumps(docs), capture_output=True, text=True, timeout=120, cwd=cache,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("target", list(TARGETS))
def test_custom_resources_match_published_crd_schemas(
    rendered: dict[str, list[Doc]], target: str, crd_validator: Path
) -> None:
    docs = [d for d in rendered[target] if _key(d) in CRD_KINDS]
    assert docs
    results = _validate_crds(crd_validator, docs)
    errors = [f"{r['kind']}/{r['name']}: {r['error']}" for r in results if r["error"]]
    assert not errors, "\n".join(errors)


def test_crd_validation_catches_a_wrong_type(
    rendered: dict[str, list[Doc]], crd_validator: Path
) -> None:
    rollout = json.loads(json.dumps(find(rendered["prod"], "Rollout", "online")))
    rollout["spec"]["strategy"]["blueGreen"]["autoPromotionEnabled"] = "yes"
    del rollout["spec"]["strategy"]["blueGreen"]["activeService"]
    (result,) = _validate_crds(crd_validator, [rollout])
    assert result["error"] and "activeService" in result["error"]


# --- CloudNativePG: explicit checks (no schema obtainable here) -------------


@pytest.mark.parametrize("target", list(TARGETS))
def test_cnpg_required_fields(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    cluster = find(docs, "Cluster", "bullpen-pg")
    spec = cluster["spec"]
    assert isinstance(spec["instances"], int) and spec["instances"] >= 1
    assert isinstance(spec["storage"]["size"], str)
    image = spec["imageName"]
    assert ":" in image and not image.endswith(":latest")
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["database"] == "bullpen" and initdb["owner"] == "bullpen"
    for role in spec["managed"]["roles"]:
        assert set(role) <= {
            "name", "ensure", "login", "connectionLimit", "passwordSecret", "comment",
            "superuser", "createdb", "createrole", "inherit", "replication", "bypassrls",
            "inRoles", "validUntil", "disablePassword",
        }, role  # fmt: skip
        assert role["ensure"] in ("present", "absent")
    assert all(isinstance(v, str) for v in spec["postgresql"]["parameters"].values()), (
        "PostgreSQL parameters must be strings in the CNPG spec"
    )
    assert spec["affinity"]["podAntiAffinityType"] in ("preferred", "required")
    for quantity in ("requests", "limits"):
        assert set(spec["resources"][quantity]) == {"cpu", "memory"}

    database = find(docs, "Database", "dagster")
    assert database["spec"]["cluster"]["name"] == "bullpen-pg"
    assert database["spec"]["owner"] in {r["name"] for r in spec["managed"]["roles"]}

    if target == "dev":
        assert "backup" not in spec
        assert not [d for d in docs if d["kind"] == "ScheduledBackup"]
        return
    assert spec["instances"] == 3
    store = spec["backup"]["barmanObjectStore"]
    assert store["destinationPath"].startswith(("s3://", "gs://", "https://"))
    backup = find(docs, "ScheduledBackup", "bullpen-pg-nightly")["spec"]
    assert backup["cluster"]["name"] == "bullpen-pg"
    assert backup["method"] in ("barmanObjectStore", "volumeSnapshot", "plugin")
    assert backup["backupOwnerReference"] in ("none", "self", "cluster")
    # CNPG's cron has six fields, seconds first.
    assert len(backup["schedule"].split()) == 6
