"""The Consigliere's drafts: a directive proposal from a short goal and a floor.

Parameters are estimated from similar past work of this run: directives on the same floor
(still in memory) whose titles share words with the goal; failing that, every directive on the
floor; failing that, the command's defaults. Words that signal sensitive work (auth, secret,
payment, ...) raise the sensitivity estimate to at least the security review threshold, so the
draft gets the review such work needs.
"""

from __future__ import annotations

import re
from statistics import mean, median
from typing import Any

from .world import World

SENSITIVE_WORDS = frozenset(
    {
        "auth",
        "login",
        "password",
        "secret",
        "token",
        "payment",
        "crypto",
        "key",
        "permission",
        "privacy",
        "security",
        "encrypt",
        "session",
        "admin",
    }
)
DEFAULTS = {"priority": 2, "ambiguity": 0.3, "sensitivity": 0.2, "complexity": 0.5}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def draft_directive(world: World, goal: str, floor: str) -> dict[str, Any]:
    """A ``create_directive`` payload for ``goal`` on ``floor`` and the basis of its numbers."""
    goal = " ".join(goal.split())
    words = _words(goal)
    on_floor = [d for d in world.board.directives.values() if d.floor_id == floor]
    similar = [d for d in on_floor if words & _words(d.title)]
    basis = similar or on_floor
    payload: dict[str, Any] = {"title": goal[:1].upper() + goal[1:200], "floor": floor}
    if basis:
        payload["priority"] = int(median(d.priority for d in basis))
        for name in ("ambiguity", "sensitivity", "complexity"):
            payload[name] = round(mean(getattr(d, name) for d in basis), 2)
    else:
        payload.update(DEFAULTS)
    flagged = sorted(words & SENSITIVE_WORDS)
    if flagged:
        payload["sensitivity"] = max(payload["sensitivity"], world.settings.security_threshold)
    source = (
        f"{len(similar)} similar directive(s) on {floor} ({', '.join(d.id for d in similar[:5])})"
        if similar
        else f"all {len(on_floor)} directive(s) on {floor}" if on_floor else "the defaults"
    )
    return {
        "payload": payload,
        "basis": {
            "similar": [d.id for d in similar],
            "floor_directives": len(on_floor),
            "sensitive_words": flagged,
        },
        "sentence": f"Drafted from {source}"
        + (
            f"; sensitive words ({', '.join(flagged)}) call for a security review"
            if flagged
            else ""
        )
        + ".",
    }


__all__ = ["draft_directive"]
