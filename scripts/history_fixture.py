"""Build a work-item history CSV from a git repository's pull-request merge commits.

    python scripts/history_fixture.py GIT_DIR > items.csv

Each ``Merge pull request #N from ...`` commit on the first-parent line is one item:
``id`` = N, ``started`` = the earliest author date among the commits the merge brought in
(``git rev-list first-parent..second-parent``), ``done`` = the merge commit's committer date.
Only timestamps are written (no code, no names). Squash merges are left out: their branch commits
are not in the repository, so their start is unknown.
"""

from __future__ import annotations

import csv
import re
import subprocess  # noqa: S404 - runs git on a local repository given by the user
import sys
from datetime import datetime, timezone

MERGE = re.compile(r"^Merge pull request #(\d+) ")


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(  # noqa: S603,S607 - fixed git argv
        ["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True
    ).stdout


def _iso(epoch: str) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def items(git_dir: str) -> list[tuple[int, str, str]]:
    """(PR number, started, done) of every PR merge commit on the first-parent line."""
    log = _git(git_dir, "log", "--first-parent", "--merges", "--format=%H %P%x09%ct%x09%s", "HEAD")
    rows = []
    for line in log.splitlines():
        head, done, subject = line.split("\t", 2)
        match = MERGE.match(subject)
        parents = head.split()[1:]
        if not match or len(parents) != 2:
            continue
        authored = _git(git_dir, "log", "--format=%at", f"{parents[0]}..{parents[1]}").split()
        if not authored:
            continue
        started = min(int(a) for a in authored)
        rows.append((int(match.group(1)), _iso(str(min(started, int(done)))), _iso(done)))
    return sorted(rows, key=lambda row: row[2])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["id", "started", "done"])
    writer.writerows(items(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
