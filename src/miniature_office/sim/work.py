"""One office's tick, re-exported for old imports.

The behaviour lives in one module per concept: :mod:`.dispatch` (the manager assigns),
:mod:`.acting` (agents walk, fetch tools and work), :mod:`.reviews`, :mod:`.meeting_flow`,
:mod:`.voting` (ballots and settling), :mod:`.deployment` (deploy and retention), all built on
:mod:`.assignment` (assign, release, abandon, rework).
"""

from __future__ import annotations

from .acting import WORK, act
from .assignment import abandon, assign, release, rework
from .deployment import deploy, prune
from .dispatch import dispatch
from .meeting_flow import advance_meetings
from .reviews import ACTIVITY_REVIEW, REVIEW_ACTIVITY, REVIEW_ROLE
from .voting import close_votes, settle_vote

__all__ = [
    "ACTIVITY_REVIEW",
    "REVIEW_ACTIVITY",
    "REVIEW_ROLE",
    "WORK",
    "abandon",
    "act",
    "advance_meetings",
    "assign",
    "close_votes",
    "deploy",
    "dispatch",
    "prune",
    "release",
    "rework",
    "settle_vote",
]
