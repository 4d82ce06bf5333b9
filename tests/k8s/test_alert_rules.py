"""The PrometheusRule's alerts, checked and unit-tested by `promtool` (Debian's prometheus
package; `scripts/tools` installs it): every alert fires on a scenario built to cross its
threshold, with its labels and rendered annotations (tests/k8s/promtool/rules_test.yaml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from bench.loopback import PROJECT_ROOT

RULE = PROJECT_ROOT / "k8s" / "base" / "monitoring" / "prometheusrule.yaml"
UNIT_TESTS = Path(__file__).parent / "promtool" / "rules_test.yaml"
# Every row of the design's SLO table has an alert, and so does each operational signal
# the online tier exports.
ALERTS = {
    "BullpenLatencyP95High", "BullpenErrorRateHigh", "BullpenCacheHitRateLow",
    "BullpenThroughputCollapsed", "BullpenPodCpuSaturated", "BullpenPodMemoryHigh",
    "BullpenDatabaseConnectionsHigh", "BullpenErrorBudgetFastBurn", "BullpenErrorBudgetSlowBurn",
    "BullpenLoadShedding", "BullpenReplicasServeDifferentModels", "BullpenReplicasAtMax",
}  # fmt: skip


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool not found: scripts/tools installs Debian's prometheus package"
    return path


def _rules(tmp_path: Path) -> Path:
    groups = yaml.safe_load(RULE.read_text())["spec"]["groups"]
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}))
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return rules


def test_the_rules_are_valid(tmp_path: Path) -> None:
    done = subprocess.run([_promtool(), "check", "rules", str(_rules(tmp_path))],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_fires_on_its_scenario(tmp_path: Path) -> None:
    _rules(tmp_path)
    tested = {t["alertname"] for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
              for t in case["alert_rule_test"] if t["exp_alerts"]}  # fmt: skip
    defined = {r["alert"] for g in yaml.safe_load(RULE.read_text())["spec"]["groups"]
               for r in g["rules"] if "alert" in r}  # fmt: skip
    assert defined == ALERTS and tested == defined
    done = subprocess.run([_promtool(), "test", "rules", UNIT_TESTS.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
