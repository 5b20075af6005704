"""GitHub Actions workflows pass actionlint, pin their actions and ask for least privilege."""

from __future__ import annotations

import re

import yaml

from ._support import REPO, explain, run, tool

WORKFLOWS = REPO / ".github" / "workflows"


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _uses() -> list[str]:
    return [
        match
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for match in re.findall(r"uses:\s*(\S+)", path.read_text())
    ]


def test_workflows_pass_actionlint():
    # actionlint also runs shellcheck on every `run:` script when shellcheck is on PATH.
    result = run([tool("actionlint"), "-no-color"], cwd=REPO)
    assert result.returncode == 0, explain(result)


def test_workflows_match_the_github_workflow_schema():
    paths = [str(p) for p in sorted(WORKFLOWS.glob("*.yml"))]
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths])
    assert result.returncode == 0, explain(result)


def test_every_action_is_pinned_to_a_full_commit_sha():
    uses = _uses()
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action


def test_ci_tests_every_supported_python():
    test = _workflow("ci.yml")["jobs"]["test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    steps = " ".join(step.get("run", "") for step in test["steps"])
    assert "scripts/install-validators.sh" in steps
    assert "pytest" in steps


def test_ci_lints_scans_and_runs_browser_tests():
    jobs = _workflow("ci.yml")["jobs"]
    runs = {name: " ".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
    for linter in ("black --check", "isort --check-only", "flake8"):
        assert linter in runs["lint"]
    assert "bandit" in runs["security"] and "pip-audit" in runs["security"]
    assert "apt-get install" in runs["browser"] and "chromium" in runs["browser"]
    assert "pytest -m browser" in runs["browser"]


def test_ci_only_reads_the_repository():
    assert _workflow("ci.yml")["permissions"] == {"contents": "read"}


def test_deploy_pushes_to_ghcr_on_tags_with_least_privilege():
    workflow = _workflow("deploy.yml")
    # PyYAML reads the bare key `on` as True.
    assert workflow[True] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "registry: ghcr.io" in text and "push: true" in text


def test_ci_runs_the_simulation_tests_on_both_builds():
    # The compiled build (mypyc) is what users run; the pure one is the fallback. Both must
    # pass tests/sim (hash pins included), and the compiled pass must really be compiled.
    test = _workflow("ci.yml")["jobs"]["test"]
    steps = [step.get("run", "") for step in test["steps"]]
    assert any("--version" in s and "grep 'compiled (mypyc)'" in s for s in steps)
    assert any(s.startswith("MINIOFFICE_PURE=1 ") and "pytest tests/sim" in s for s in steps)
    make = (REPO / "Makefile").read_text()
    recipe = make.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "grep -q 'compiled (mypyc)'" in recipe
    assert "MINIOFFICE_PURE=1 $(BIN)/pytest" in recipe and recipe.rstrip().endswith("tests/sim")
    assert "\ntest: compiler " in make  # a C compiler before the build
