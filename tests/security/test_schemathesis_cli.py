"""`schemathesis run --checks all` against a real server (every check schemathesis has,
response schema conformance included). ``make test`` runs a small budget; ``make fuzz`` the
large one (MINIOFFICE_FUZZ_CLI_EXAMPLES). Settings: schemathesis.toml at the repository root.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Callable

import pytest
from web.conftest import ADMIN_TOKEN, VENV_BIN, Server, gunicorn_argv, server_env

ROOT = Path(__file__).resolve().parents[2]
QUICK = int(os.environ.get("MINIOFFICE_FUZZ_CLI_QUICK", "3"))
LONG = int(os.environ.get("MINIOFFICE_FUZZ_CLI_EXAMPLES", "100"))


def run_schemathesis(free_port_factory: Callable[[], int], examples: int) -> str:
    """Serve, run the CLI with every check, return its output (fails on any failure)."""
    port = free_port_factory()
    env = server_env(port, MINIOFFICE_AUTH_READS="true", MINIOFFICE_RATELIMIT_ENABLED="false")
    server = Server(gunicorn_argv(), env, port)  # Gunicorn answers some errors itself
    try:
        server.wait_ready()
        result = subprocess.run(
            [
                str(VENV_BIN / "schemathesis"), "run", f"{server.url}/api/openapi.json",
                "--checks", "all",
                "--max-examples", str(examples),
                "--generation-deterministic",
                "-H", f"Authorization: Bearer {ADMIN_TOKEN}",
                "-H", "Accept-Encoding: identity",
                # Revoking a generated token id could revoke the run's own token.
                "--exclude-path", "/api/tokens/{token_id}",
                "--exclude-path", "/api/security/revoke/{token_id}",
                "--include-path-regex", "^/(api|health)",
                "--no-color",
            ],  # fmt: skip
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        server.stop()
    output = result.stdout + result.stderr
    report = ROOT / "test-artifacts" / f"schemathesis-{examples}.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text(output)
    failures = output[output.find("FAILURES") :] if "FAILURES" in output else output[-6000:]
    assert result.returncode == 0, f"full output in {report}\n{failures[:8000]}"
    return output


def _summary(output: str) -> str:
    found = re.search(r"(\d+) generated, (\d+) passed", output)
    assert found, output[-2000:]
    return f"{found.group(1)} cases generated, {found.group(2)} passed, 0 failures"


def test_schemathesis_with_every_check_finds_nothing(free_port_factory) -> None:
    print(
        "schemathesis --checks all (quick):", _summary(run_schemathesis(free_port_factory, QUICK))
    )


@pytest.mark.fuzz
def test_schemathesis_with_every_check_finds_nothing_long_run(free_port_factory) -> None:
    print("schemathesis --checks all (long):", _summary(run_schemathesis(free_port_factory, LONG)))
