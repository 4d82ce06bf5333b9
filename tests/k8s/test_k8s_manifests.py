"""What the manifests must say, beyond being well-formed: the HPA's numbers, the
blue-green analysis, the SLO alerts, and that names and labels line up."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.support.k8s import K8S, ROOT, TARGETS, Doc, containers, find, pod_specs

OVERLAY_TARGETS = [t for t in TARGETS if t != "base"]


# --- HorizontalPodAutoscaler ---------------------------------------------------


def _behavior(hpa: Doc) -> Any:
    return hpa["spec"]["behavior"]


@pytest.mark.parametrize("target", list(TARGETS))
def test_hpa_behaviour_is_the_designed_one(rendered: dict[str, list[Doc]], target: str) -> None:
    hpa = find(rendered[target], "HorizontalPodAutoscaler", "online")
    assert hpa["apiVersion"] == "autoscaling/v2"
    up, down = _behavior(hpa)["scaleUp"], _behavior(hpa)["scaleDown"]
    # Up by up to 50% or 5 pods a minute, whichever is more, at once.
    assert up["stabilizationWindowSeconds"] == 0
    assert up["selectPolicy"] == "Max"
    assert sorted((p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]) == [
        ("Percent", 50, 60),
        ("Pods", 5, 60),
    ]
    # Down by 10% a minute after a 5-minute window.
    assert down["stabilizationWindowSeconds"] == 300
    assert [(p["type"], p["value"], p["periodSeconds"]) for p in down["policies"]] == [
        ("Percent", 10, 60)
    ]


@pytest.mark.parametrize("target", list(TARGETS))
def test_hpa_metrics_cpu_memory_and_requests_per_second(
    rendered: dict[str, list[Doc]], target: str
) -> None:
    metrics = find(rendered[target], "HorizontalPodAutoscaler", "online")["spec"]["metrics"]
    kinds = {
        (
            m["type"],
            m["resource"]["name"] if m["type"] == "Resource" else m["pods"]["metric"]["name"],
        )
        for m in metrics
    }
    assert kinds == {
        ("Resource", "cpu"),
        ("Resource", "memory"),
        ("Pods", "bullpen_http_requests_per_second"),
        ("Pods", "bullpen_queue_seconds"),
    }


@pytest.mark.parametrize("target", ["base", "prod"])
def test_hpa_range_is_5_to_50(rendered: dict[str, list[Doc]], target: str) -> None:
    spec = find(rendered[target], "HorizontalPodAutoscaler", "online")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (5, 50)


def test_dev_hpa_is_smaller_but_behaves_the_same(rendered: dict[str, list[Doc]]) -> None:
    dev = find(rendered["dev"], "HorizontalPodAutoscaler", "online")["spec"]
    prod = find(rendered["prod"], "HorizontalPodAutoscaler", "online")["spec"]
    assert (dev["minReplicas"], dev["maxReplicas"]) == (1, 3)
    assert dev["behavior"] == prod["behavior"] and dev["metrics"] == prod["metrics"]


@pytest.mark.parametrize(
    ("target", "kind"), [("base", "Deployment"), ("dev", "Deployment"), ("prod", "Rollout")]
)
def test_hpa_scales_the_workload_that_owns_the_pods(
    rendered: dict[str, list[Doc]], target: str, kind: str
) -> None:
    ref = find(rendered[target], "HorizontalPodAutoscaler", "online")["spec"]["scaleTargetRef"]
    assert ref["kind"] == kind and ref["name"] == "online"
    workload = find(rendered[target], kind, "online")
    # Nothing but the HPA sets the replica count of what it scales.
    assert "replicas" not in workload["spec"]


def test_adapter_serves_the_metric_the_hpa_uses() -> None:
    values = yaml.safe_load(
        (K8S / "base" / "monitoring" / "prometheus-adapter-values.yaml").read_text()
    )
    served = {rule["name"]["as"]: rule["seriesQuery"] for rule in values["rules"]["custom"]}
    assert "bullpen_http_requests_total" in served["bullpen_http_requests_per_second"]
    assert "bullpen_event_loop_lag_seconds" in served["bullpen_queue_seconds"]
    exported = _exported_metric_names()
    assert {"bullpen_http_requests_total", "bullpen_event_loop_lag_seconds"} <= exported


# --- Online tier -----------------------------------------------------------------


@pytest.mark.parametrize("target", OVERLAY_TARGETS)
def test_online_pods_have_probes_resources_and_spread(
    rendered: dict[str, list[Doc]], target: str
) -> None:
    pod = find(rendered[target], "Deployment", "online")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["resources"]["requests"] == container["resources"]["limits"]
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    # Migrations run in the Job, not in 50 pods at once.
    config = find(rendered[target], "ConfigMap", "online-config")["data"]
    assert config["BULLPEN_MIGRATE_ON_START"] == "false"
    assert config["BULLPEN_REDIS_CLUSTER"] == "true"


@pytest.mark.parametrize("target", OVERLAY_TARGETS)
def test_services_and_policies_select_real_pods(
    rendered: dict[str, list[Doc]], target: str
) -> None:
    docs = rendered[target]
    pod_labels = [
        doc["spec"]["template"]["metadata"]["labels"]
        for doc in docs
        if doc["kind"] in ("Deployment", "StatefulSet", "Job")
    ]

    def selects_something(selector: dict[str, str]) -> bool:
        return any(selector.items() <= labels.items() for labels in pod_labels)

    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "Service":
            assert selects_something(doc["spec"]["selector"]), name
        elif doc["kind"] in ("NetworkPolicy", "PodDisruptionBudget"):
            key = "podSelector" if doc["kind"] == "NetworkPolicy" else "selector"
            assert selects_something(doc["spec"][key]["matchLabels"]), name


@pytest.mark.parametrize("target", OVERLAY_TARGETS)
def test_every_pod_has_a_network_policy(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    selectors = [
        d["spec"]["podSelector"]["matchLabels"] for d in docs if d["kind"] == "NetworkPolicy"
    ]
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert any(s.items() <= labels.items() for s in selectors), doc["metadata"]["name"]


def test_redis_clients_are_admitted_by_the_redis_policy(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["prod"]
    online = find(docs, "Deployment", "online")["spec"]["template"]["metadata"]["labels"]
    assert online["bullpen.io/redis-client"] == "true"
    policy = find(docs, "NetworkPolicy", "redis")["spec"]["ingress"][0]["from"]
    assert {"bullpen.io/redis-client": "true"} in [p["podSelector"]["matchLabels"] for p in policy]
    values = yaml.safe_load((K8S / "dagster" / "values.yaml").read_text())
    run_labels = values["runLauncher"]["config"]["k8sRunLauncher"]["labels"]
    assert run_labels["bullpen.io/redis-client"] == "true"
    namespace = yaml.safe_load((K8S / "dagster" / "namespace.yaml").read_text())
    assert namespace["metadata"]["labels"]["bullpen.io/dagster"] == "true"


def test_dev_overlay_provides_every_secret_the_pods_read(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["dev"]
    secrets = {(d["metadata"]["name"]) for d in docs if d["kind"] == "Secret"}
    # CloudNativePG creates <cluster>-app itself at bootstrap.
    secrets.add("bullpen-pg-app")
    referenced = set()
    for doc in docs:
        for _label, pod in pod_specs(doc):
            for container in containers(pod):
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        referenced.add(ref["name"])
    referenced.add(
        find(docs, "Cluster", "bullpen-pg")["spec"]["managed"]["roles"][0]["passwordSecret"]["name"]
    )
    assert referenced <= secrets, referenced - secrets


def test_ingress_rate_limits_and_exposes_only_the_api(rendered: dict[str, list[Doc]]) -> None:
    ingress = find(rendered["prod"], "Ingress", "online")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    # Balanced by load (the design's least_conn; ingress-nginx's equivalent is ewma).
    assert annotations["nginx.ingress.kubernetes.io/load-balance"] == "ewma"
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    # The API, its probes and its docs; nothing else of the pod (not /metrics).
    assert paths == {"/v1", "/api", "/health", "/ready", "/openapi.json", "/docs", "/redoc",
                     "/static-offline-docs"}  # fmt: skip


# --- Redis Cluster ----------------------------------------------------------------


@pytest.mark.parametrize("target", OVERLAY_TARGETS)
def test_redis_cluster_is_six_nodes_with_password_lru_and_persistence(
    rendered: dict[str, list[Doc]], target: str
) -> None:
    docs = rendered[target]
    redis = find(docs, "StatefulSet", "redis")
    assert redis["spec"]["replicas"] == 6
    assert redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    env = {e["name"]: e for e in redis["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "redis-auth"
    conf = dict(
        line.split(" ", 1)
        for line in find(docs, "ConfigMap", "redis-config")["data"]["redis.conf"].splitlines()
        if line and not line.startswith("#")
    )
    assert conf["cluster-enabled"] == "yes"
    assert conf["maxmemory-policy"] == "allkeys-lru"
    assert conf["appendonly"] == "yes"
    assert conf["cluster-node-timeout"] == "2000"
    assert conf["include"] == "/run/redis/auth.conf"
    job = find(docs, "Job", "redis-cluster-create")
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "--cluster-replicas 1" in script and "for i in 0 1 2 3 4 5" in script


# --- Argo Rollouts (prod) ----------------------------------------------------------


def test_rollout_is_blue_green_with_pre_and_post_promotion_analysis(
    rendered: dict[str, list[Doc]],
) -> None:
    docs = rendered["prod"]
    rollout = find(docs, "Rollout", "online")
    assert rollout["spec"]["workloadRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "online", "scaleDown": "onsuccess",
    }  # fmt: skip
    assert find(docs, "Deployment", "online")["spec"]["replicas"] == 0
    blue_green = rollout["spec"]["strategy"]["blueGreen"]
    find(docs, "Service", blue_green["activeService"])
    find(docs, "Service", blue_green["previewService"])
    templates = {d["metadata"]["name"]: d for d in docs if d["kind"] == "AnalysisTemplate"}
    post_duration = 0
    for phase in ("prePromotionAnalysis", "postPromotionAnalysis"):
        analysis = blue_green[phase]
        names = [t["templateName"] for t in analysis["templates"]]
        assert "online-success-rate" in names
        passed = {a["name"] for a in analysis["args"]}
        for name in names:
            template = templates[name]
            required = {a["name"] for a in template["spec"]["args"] if "value" not in a}
            assert required <= passed, (phase, name, required - passed)
        if phase == "postPromotionAnalysis":
            metric = templates["online-success-rate"]["spec"]["metrics"][0]
            post_duration = metric["count"] * _seconds(metric["interval"]) + _seconds(
                metric["initialDelay"]
            )
    # The old ReplicaSet outlives the post-promotion analysis: rollback is warm.
    assert blue_green["scaleDownDelaySeconds"] > post_duration


def _seconds(duration: str) -> int:
    value, unit = int(duration[:-1]), duration[-1]
    return value * {"s": 1, "m": 60, "h": 3600}[unit]


def test_success_rate_analysis_queries_the_new_pods(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["prod"]
    metric = find(docs, "AnalysisTemplate", "online-success-rate")["spec"]["metrics"][0]
    query = metric["provider"]["prometheus"]["query"]
    assert 'rollouts_pod_template_hash="{{args.pod-template-hash}}"' in query
    assert "bullpen_http_requests_total" in query
    assert "0.98" in metric["successCondition"] and "len(result) > 0" in metric["successCondition"]
    # ...which Prometheus can only tell apart if the label is scraped.
    monitor = find(docs, "ServiceMonitor", "online")
    assert "rollouts-pod-template-hash" in monitor["spec"]["podTargetLabels"]


# --- Monitoring ----------------------------------------------------------------------


def _exported_metric_names() -> set[str]:
    """Metric names the online tier registers (online/metrics.py, the shedder's in
    online/shedding.py), as Prometheus exposes them."""
    source = "".join((ROOT / "online" / f).read_text() for f in ("metrics.py", "shedding.py"))
    names = set()
    for kind, name in re.findall(r"(Counter|Histogram|Gauge)\(\s*\"([a-z_]+)\"", source):
        if kind == "Counter":
            names.add(f"{name}_total")
        elif kind == "Histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        else:
            names.add(name)
    return names


def test_slo_alerts(rendered: dict[str, list[Doc]]) -> None:
    rule = find(rendered["prod"], "PrometheusRule", "bullpen-slo")
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    records = {r["record"]: r["expr"] for r in rules if "record" in r}
    # The whole set, and each alert firing, is tests/k8s/test_alert_rules.py's (promtool).
    assert {
        "BullpenLatencyP95High", "BullpenErrorRateHigh", "BullpenCacheHitRateLow",
        "BullpenReplicasAtMax",
    } <= set(alerts)  # fmt: skip
    assert "> 1" in alerts["BullpenLatencyP95High"]["expr"]
    assert "histogram_quantile(0.95" in records["bullpen:http_request_duration_seconds:p95_5m"]
    assert "> 0.02" in alerts["BullpenErrorRateHigh"]["expr"]
    assert "< 0.80" in alerts["BullpenCacheHitRateLow"]["expr"]
    assert (
        "kube_horizontalpodautoscaler_spec_max_replicas" in alerts["BullpenReplicasAtMax"]["expr"]
    )


def test_queries_use_only_metrics_the_app_exports(rendered: dict[str, list[Doc]]) -> None:
    exported = _exported_metric_names()
    assert "bullpen_http_requests_total" in exported
    texts = [json.dumps(find(rendered["prod"], "PrometheusRule", "bullpen-slo"))]
    texts += [json.dumps(d) for d in rendered["prod"] if d["kind"] == "AnalysisTemplate"]
    texts.append((K8S / "base" / "monitoring" / "bullpen-dashboard.json").read_text())
    used = {m for text in texts for m in re.findall(r"\bbullpen_[a-z_]+", text)}
    used.discard("bullpen_http_requests_per_second")  # served by prometheus-adapter
    assert used <= exported, used - exported


def test_grafana_dashboard_ships_as_a_configmap(rendered: dict[str, list[Doc]]) -> None:
    config_map = find(rendered["prod"], "ConfigMap", "bullpen-grafana-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["bullpen-dashboard.json"])
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for word in ("requests", "error", "latency", "cache", "replicas"):
        assert word in titles
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def _routed(path: str, rules: list[Doc]) -> bool:
    for rule in rules:
        prefix = rule["path"].rstrip("/")
        if rule["pathType"] == "Exact" and path == rule["path"]:
            return True
        if rule["pathType"] == "Prefix" and (path == prefix or path.startswith(prefix + "/")):
            return True
    return False


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_the_ingress_routes_every_public_path_of_the_api(
    rendered: dict[str, list[Doc]], target: str
) -> None:
    """Every path of the OpenAPI schema, and the docs' assets, reach the online Service;
    /metrics (scraped inside the cluster) does not."""
    from online.app import create_app

    ingress = find(rendered[target], "Ingress", "online")
    rules = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert {p["backend"]["service"]["name"] for p in rules} == {"online"}
    paths = list(create_app().openapi()["paths"])
    assert "/api/v1/predict" in paths
    concrete = [re.sub(r"\{[^}]+\}", "X", path) for path in paths]
    docs = ["/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json",
            "/static-offline-docs/swagger-ui-bundle.js"]  # fmt: skip
    assert [p for p in concrete + docs if not _routed(p, rules)] == []
    assert not _routed("/metrics", rules)
