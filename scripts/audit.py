"""`make audit`: known-vulnerability audit of the Python and npm dependencies, honestly.

pip-audit prints "No known vulnerabilities found" (exit 0) even when it audited nothing,
because no vulnerability service answered (every package "could not be audited"). So:

1. a canary with published advisories (jinja2 2.10) must be reported vulnerable, which
   proves a vulnerability service answers at all;
2. every pinned requirement must have been audited (none skipped);
3. npm audit must reach its registry's advisory endpoint.

Exit 0: audited, nothing known. Exit 1: vulnerabilities found. Exit 3: NOT AUDITED (no
vulnerability service reachable from here; CI with network access runs this target).
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404 - fixed commands, no shell
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CANARY = "jinja2==2.10"  # CVE-2019-10906, CVE-2019-8341: any live advisory service lists them


def pip_audit(requirements: Path) -> dict:
    result = subprocess.run(  # nosec B603
        [str(BIN / "pip-audit"), "--no-deps", "--disable-pip", "-r", str(requirements),
         "--progress-spinner", "off", "-f", "json"],  # fmt: skip
        capture_output=True,
        text=True,
        check=False,
    )
    start = result.stdout.find("{")
    if start < 0:
        raise RuntimeError(result.stderr.strip() or "pip-audit printed no report")
    return json.loads(result.stdout[start:])


def python_audit() -> int:
    with tempfile.TemporaryDirectory() as folder:
        canary = Path(folder) / "canary.txt"
        canary.write_text(CANARY + "\n")
        try:
            probe = pip_audit(canary)
        except RuntimeError as exc:
            print(f"python: NOT AUDITED: pip-audit failed ({exc})")
            return 3
    if not any(dep.get("vulns") for dep in probe["dependencies"]):
        reason = probe["dependencies"][0].get("skip_reason", "reported clean")
        print(f"python: NOT AUDITED: no vulnerability service answered (the canary {CANARY}, "
              f"which has published advisories, came back: {reason})")  # fmt: skip
        return 3
    report = pip_audit(ROOT / "requirements.txt")
    skipped = [d for d in report["dependencies"] if d.get("skip_reason")]
    found = [d for d in report["dependencies"] if d.get("vulns")]
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        print(f"python: NOT AUDITED: {len(skipped)} packages could not be audited: {names}")
        return 3
    for dep in found:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"python: {dep['name']} {dep['version']}: {ids}")
    print(f"python: {len(report['dependencies'])} packages audited, {len(found)} vulnerable")
    return 1 if found else 0


def npm_audit() -> int:
    npm = shutil.which("npm")
    if npm is None:
        print("npm: NOT AUDITED: npm is not installed")
        return 3
    result = subprocess.run(  # nosec B603
        [npm, "audit", "--json", "--omit=dev"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    try:
        report = json.loads(result.stdout or "{}")
    except ValueError:
        report = {}
    if "error" in report or "metadata" not in report:
        detail = report.get("error", {}).get("summary") or result.stderr.strip()[:200]
        print(f"npm: NOT AUDITED: the advisory service did not answer ({detail})")
        return 3
    counts = report["metadata"]["vulnerabilities"]
    total = sum(counts.values())
    print(f"npm: {report['metadata']['dependencies'].get('total', '?')} packages audited, "
          f"{total} vulnerable {counts}")  # fmt: skip
    return 1 if total else 0


def main() -> int:
    results = [python_audit(), npm_audit()]
    if 1 in results:
        return 1
    return 3 if 3 in results else 0


if __name__ == "__main__":
    sys.exit(main())
