"""Prometheus scrape config and alert rules pass promtool; the dashboard queries real metrics."""

from __future__ import annotations

import re

import pytest
import yaml

from ._support import METRICS, REPO, explain, load_json, run, tool

PROMETHEUS = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "miniature-office.json"
RULE_TESTS = REPO / "tests" / "deploy" / "prometheus" / "alerts_test.yml"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b(minioffice_[a-z_]+)", expr))
    result = set()
    for name in names:
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in METRICS:
                name = name.removesuffix(suffix)
        result.add(name)
    return result


def _alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_prometheus_config_passes_promtool():
    result = run([tool("promtool"), "check", "config", str(PROMETHEUS / "prometheus.yml")])
    assert result.returncode == 0, explain(result)


def test_alert_rules_pass_promtool():
    result = run([tool("promtool"), "check", "rules", str(PROMETHEUS / "alerts.yml")])
    assert result.returncode == 0, explain(result)


def test_alert_rules_fire_as_specified_in_their_unit_tests():
    result = run([tool("promtool"), "test", "rules", str(RULE_TESTS)])
    assert result.returncode == 0, explain(result)


@pytest.mark.parametrize(
    "alert",
    [
        "MiniatureOfficeTickLoopDown",
        "MiniatureOfficeTickLoopStalled",
        "MiniatureOfficeAuditChainBroken",
        "MiniatureOfficeHighErrorRate",
        "MiniatureOfficeHighLeadTime",
    ],
)
def test_required_alert_exists_with_severity_and_summary(alert):
    (rule,) = [rule for rule in _alert_rules() if rule.get("alert") == alert]
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    assert rule["annotations"]["summary"]


def test_alerts_use_only_exported_metrics():
    for rule in _alert_rules():
        assert _metric_names(rule["expr"]) <= set(METRICS), rule["alert"]


def test_every_alert_has_a_unit_test():
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert {rule["alert"] for rule in _alert_rules()} <= tested


def test_scrape_config_targets_the_metrics_endpoint():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "miniature-office"
    assert job["metrics_path"] == "/metrics"
    assert config["rule_files"] == ["alerts.yml"]


def _dashboard_targets() -> list[tuple[str, str]]:
    dashboard = load_json(DASHBOARD)
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def test_dashboard_queries_are_valid_promql(tmp_path):
    # promtool parses PromQL only inside rule files: turn each query into a recording rule.
    rules = [
        {
            "record": f"dashboard:query_{i}",
            "expr": expr.replace("$__rate_interval", "5m").replace("$instance", ".*"),
        }
        for i, (_, expr) in enumerate(_dashboard_targets())
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run([tool("promtool"), "check", "rules", str(path)])
    assert result.returncode == 0, explain(result)


def test_dashboard_shows_flow_and_service_metrics():
    used = set().union(*(_metric_names(expr) for _, expr in _dashboard_targets()))
    assert used <= set(METRICS)
    assert used == set(METRICS)


def test_dashboard_panels_have_unique_ids_and_a_prometheus_datasource():
    dashboard = load_json(DASHBOARD)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"] == "miniature-office"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
