"""Helpers for the deployment tests: paths, validators and the Dockerfile parser.

The validators are installed by ``scripts/install-validators.sh``; a missing one fails the
test that needs it (it is not skipped), so a broken install cannot pass as green.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from miniature_office.service.config import ENV_NAMES

REPO = Path(__file__).resolve().parents[2]

# Every environment variable the application reads (the configuration contract), taken from
# the configuration itself so that a new setting cannot skip the documentation checks.
CONFIG_VARIABLES = tuple(ENV_NAMES.values())

# Every metric name /metrics exports (histograms without their _bucket/_sum/_count suffixes).
METRICS = (
    "minioffice_world_time",
    "minioffice_floors_total",
    "minioffice_agents_total",
    "minioffice_artifacts_total",
    "minioffice_audit_events_total",
    "minioffice_tasks",
    "minioffice_backlog_directives",
    "minioffice_agents_by_role",
    "minioffice_agents_by_status",
    "minioffice_tick_duration_seconds",
    "minioffice_throughput_tasks_per_day",
    "minioffice_lead_time_ticks",
    "minioffice_audit_chain_valid",
    "minioffice_tick_loop_running",
    "minioffice_last_tick_timestamp_seconds",
    "minioffice_http_requests_total",
    "minioffice_http_request_duration_seconds",
    "minioffice_socketio_clients",
    "minioffice_stalls_open",
    "minioffice_build_info",
)


def tool(name: str) -> str:
    """Path of a validator: the test virtualenv's bin first, then PATH (and /usr/sbin)."""
    venv_bin = Path(sys.executable).parent
    candidates = [venv_bin / name]
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail(f"{name} is not installed: run `bash scripts/install-validators.sh .venv`")


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a validator and capture its output as text."""
    kwargs.setdefault("timeout", 120)
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def load_yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def load_json(path: Path):
    return json.loads(path.read_text())


@dataclass
class Stage:
    """One build stage of the Dockerfile: its FROM line and its instructions in order."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        values = self.all(keyword)
        assert values, f"stage {self.name or self.base} has no {keyword}"
        return values[-1]

    def env(self) -> dict[str, str]:
        """ENV of this stage in KEY=VALUE form, as Docker reads it (quotes removed)."""
        result: dict[str, str] = {}
        for args in self.all("ENV"):
            for item in shlex.split(args):
                key, sep, value = item.partition("=")
                assert sep, f"use ENV KEY=VALUE, not {args!r}"
                result[key] = value
        return result

    def exec_form(self, keyword: str) -> list[str]:
        """A CMD/ENTRYPOINT in JSON (exec) form, parsed."""
        value = json.loads(self.last(keyword))
        assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        return value


def parse_dockerfile(path: Path = REPO / "Dockerfile") -> list[Stage]:
    """Split a Dockerfile into stages of (KEYWORD, arguments), continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages
