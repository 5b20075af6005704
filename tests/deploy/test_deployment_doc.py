"""DEPLOYMENT.md documents every variable, metric and file it tells operators to use."""

from __future__ import annotations

import re

import pytest

from ._support import CONFIG_VARIABLES, METRICS, REPO

DOC = REPO / "DEPLOYMENT.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


def test_configuration_table_lists_every_variable(doc):
    rows = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", doc, re.M))
    assert set(CONFIG_VARIABLES) <= rows


def test_metrics_table_lists_every_exported_metric(doc):
    for metric in METRICS:
        assert f"`{metric}" in doc, metric


def test_every_deployment_file_the_doc_names_exists(doc):
    named = set(re.findall(r"`((?:k8s|deploy|scripts|tests/deploy)/[\w./-]+)`", doc))
    assert named
    for path in named:
        assert (REPO / path).exists(), path


@pytest.mark.parametrize(
    "section",
    [
        "## Docker",
        "## Docker Compose",
        "## Kubernetes",
        "## systemd and nginx",
        "## TLS",
        "## Scaling: why one engine",
        "## Backup and restore",
        "## Monitoring and alerting",
        "## Upgrading",
        "## Troubleshooting",
        "## Production checklist",
    ],
)
def test_doc_covers_each_deployment_topic(doc, section):
    assert f"\n{section}\n" in doc


def test_doc_explains_x_xss_protection_zero(doc):
    assert "`X-XSS-Protection` is sent as `0`" in doc
    assert "OWASP Secure Headers Project" in doc and "`1; mode=block` is deprecated" in doc


def test_doc_shows_sqlite_backup_and_pg_dump(doc):
    assert ".backup" in doc and "pg_dump" in doc and "pg_restore" in doc
