"""The Head of Security's audit: both chains, unsafe shipments, escapes, tools, tokens.

The report lists:

- both hash chains verified (the world's audit log and the security event chain);
- sensitive work that shipped without a passed security review (tasks whose security level
  called for a review, deployed, with no ``review.completed`` security pass);
- escaped vulnerabilities (deployments that shipped with vulnerabilities still in them);
- sensitive tools checked out without a justification;
- tokens by role, with their last use.

Shipments and escapes are read from the world's audit events (every event the store keeps, or
the in-memory window without a store) together with the tasks still in memory.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from ..sim.tasks import ReviewKind, ReviewStatus, TaskState
from ..sim.world import World


def audit_events(events: Iterable[dict[str, Any]], world: World) -> dict[str, Any]:
    """Shipments without a security pass, escaped vulnerabilities and unjustified checkouts."""
    passed: set[str] = set()
    deployed: dict[str, int] = {}
    unjustified: list[dict[str, Any]] = []
    sensitive_tools = {t.id for t in world.building.tools.values() if t.sensitive}
    escapes: list[dict[str, Any]] = []
    for event in events:
        kind, data = event["kind"], event.get("data") or {}
        if kind == "review.completed" and data.get("review") == "security" and data.get("passed"):
            passed.add(event["target"])
        elif kind == "task.transition" and data.get("to") == "deployed":
            deployed[event["target"]] = event["seq"]
        elif kind == "tool.checked_out" and event["target"] in sensitive_tools:
            if not data.get("justification"):
                unjustified.append(
                    {"event": event["seq"], "tool": event["target"], "agent": event["actor"]}
                )
        elif kind == "directive.deployed" and data.get("escaped_defects"):
            escapes.append(
                {
                    "event": event["seq"],
                    "directive": event["target"],
                    "escaped_defects_and_vulnerabilities": data["escaped_defects"],
                }
            )
    threshold = world.settings.security_threshold
    unsafe = []
    for task in world.board.tasks.values():
        if task.state is not TaskState.DEPLOYED or task.sensitivity < threshold:
            continue
        if task.reviews.get(ReviewKind.SECURITY) is not ReviewStatus.PASSED and (
            task.id not in passed
        ):
            unsafe.append(
                {
                    "task": task.id,
                    "sensitivity": round(task.sensitivity, 3),
                    "event": deployed.get(task.id),
                }
            )
    vulnerable = [
        {"task": t.id, "vulnerabilities": t.vulnerabilities, "directive": t.directive_id}
        for t in world.board.tasks.values()
        if t.state is TaskState.DEPLOYED and t.vulnerabilities
    ]
    return {
        "sensitive_shipped_without_security_review": unsafe,
        "escaped_vulnerabilities": vulnerable,
        "deployments_with_escapes": escapes,
        "tools_checked_out_without_justification": unjustified,
    }


def tokens_by_role(records: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """Tokens grouped by role, most recently used first (never their secrets)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        row = record.to_dict()
        grouped[row["role"]].append(
            {k: row[k] for k in ("id", "name", "active", "created_at", "last_used_at")}
        )
    for rows in grouped.values():
        rows.sort(key=lambda r: r["last_used_at"] or 0, reverse=True)
    return dict(grouped)


def summary_sentence(report: dict[str, Any]) -> str:
    """One line: the chains and the counts of each finding."""
    chains = "both chains verify" if report["chains_ok"] else "a chain does NOT verify"
    return (
        f"{chains}; {len(report['sensitive_shipped_without_security_review'])} sensitive task(s) "
        f"shipped without a security pass, {len(report['escaped_vulnerabilities'])} with escaped "
        f"vulnerabilities, {len(report['tools_checked_out_without_justification'])} sensitive "
        "checkout(s) without justification"
    )


__all__ = ["audit_events", "summary_sentence", "tokens_by_role"]
