"""`make audit` cannot pass without auditing; `make lint` no longer pretends to audit."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)  # type: ignore[union-attr]

SKIPPED = {"dependencies": [{"name": "jinja2", "skip_reason": "could not be audited"}]}
FLAGGED = {"dependencies": [{"name": "jinja2", "version": "2.10", "vulns": [{"id": "CVE-1"}]}]}


def _recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    found = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.M)
    assert found, target
    return found.group(1)


def test_lint_does_not_run_the_audit() -> None:
    assert "pip-audit" not in _recipe("lint") and "audit" not in _recipe("lint")
    assert "scripts/audit.py" in _recipe("audit")


def test_no_vulnerability_service_means_not_audited(monkeypatch, capsys) -> None:
    monkeypatch.setattr(audit, "pip_audit", lambda _path: SKIPPED)
    assert audit.python_audit() == 3
    assert "NOT AUDITED" in capsys.readouterr().out


def test_a_skipped_package_means_not_audited(monkeypatch, capsys) -> None:
    answers = iter([FLAGGED, {"dependencies": [{"name": "flask", "version": "3", "vulns": []},
                                               *SKIPPED["dependencies"]]}])  # fmt: skip
    monkeypatch.setattr(audit, "pip_audit", lambda _path: next(answers))
    assert audit.python_audit() == 3
    assert "1 packages could not be audited" in capsys.readouterr().out


def test_a_vulnerable_requirement_fails_the_audit(monkeypatch, capsys) -> None:
    answers = iter([FLAGGED, FLAGGED])
    monkeypatch.setattr(audit, "pip_audit", lambda _path: next(answers))
    assert audit.python_audit() == 1
    assert "CVE-1" in capsys.readouterr().out
