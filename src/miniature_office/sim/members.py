"""Enum members as module constants, for the code that runs every tick.

On Python 3.11, ``EnumClass.MEMBER`` costs several times a global name: ``EnumType`` defines
``__getattr__`` (3.12 dropped it), which routes every attribute lookup on an enum class through
a slow hook. The tick compares states and kinds thousands of times, so its modules import these
names instead (``TASK_SCHEDULED`` is ``TaskState.SCHEDULED``, the member itself: ``is`` holds).
Code that runs once per command or request keeps the enum spelling.
"""

from __future__ import annotations

from .agents import ActivityKind, AgentStatus, Role
from .artifacts import ArtifactKind
from .contracts import ContractState, ShipmentKind
from .tasks import DirectiveState, ReviewKind, ReviewStatus, TaskState
from .votes import VoteOutcome

TASK_SCHEDULED = TaskState.SCHEDULED
TASK_IN_PROGRESS = TaskState.IN_PROGRESS
TASK_IN_REVIEW = TaskState.IN_REVIEW
TASK_APPROVAL = TaskState.APPROVAL
TASK_MERGED = TaskState.MERGED
TASK_DEPLOYED = TaskState.DEPLOYED
TASK_BLOCKED = TaskState.BLOCKED

DIRECTIVE_AWAITING_DESIGN = DirectiveState.AWAITING_DESIGN
DIRECTIVE_DESIGNING = DirectiveState.DESIGNING
DIRECTIVE_IN_PROGRESS = DirectiveState.IN_PROGRESS
DIRECTIVE_DEPLOYED = DirectiveState.DEPLOYED

REVIEW_PENDING = ReviewStatus.PENDING
REVIEW_IN_PROGRESS = ReviewStatus.IN_PROGRESS
REVIEW_PASSED = ReviewStatus.PASSED
REVIEW_FAILED = ReviewStatus.FAILED

REVIEW_KIND_VERIFICATION = ReviewKind.VERIFICATION
REVIEW_KIND_SECURITY = ReviewKind.SECURITY
REVIEW_KIND_DOCUMENTATION = ReviewKind.DOCUMENTATION

AGENT_IDLE = AgentStatus.IDLE
AGENT_WALKING = AgentStatus.WALKING
AGENT_WORKING = AgentStatus.WORKING
AGENT_REVIEWING = AgentStatus.REVIEWING
AGENT_IN_MEETING = AgentStatus.IN_MEETING
AGENT_WAITING = AgentStatus.WAITING
AGENT_BLOCKED = AgentStatus.BLOCKED
AGENT_OFF_DUTY = AgentStatus.OFF_DUTY

ACTIVITY_DESIGN = ActivityKind.DESIGN
ACTIVITY_BUILD = ActivityKind.BUILD
ACTIVITY_VERIFY = ActivityKind.VERIFY
ACTIVITY_SECURE = ActivityKind.SECURE
ACTIVITY_DOCUMENT = ActivityKind.DOCUMENT
ACTIVITY_MEETING = ActivityKind.MEETING
ACTIVITY_COURIER = ActivityKind.COURIER

ROLE_ARCHITECT = Role.ARCHITECT
ROLE_BUILDER = Role.BUILDER
ROLE_VERIFIER = Role.VERIFIER
ROLE_SECURITY = Role.SECURITY
ROLE_DOC_AGENT = Role.DOC_AGENT
ROLE_MANAGER = Role.MANAGER

ARTIFACT_DESIGN = ArtifactKind.DESIGN
ARTIFACT_CODE_CHANGE = ArtifactKind.CODE_CHANGE
ARTIFACT_REVIEW_REPORT = ArtifactKind.REVIEW_REPORT
ARTIFACT_DECISION_TRANSCRIPT = ArtifactKind.DECISION_TRANSCRIPT
ARTIFACT_DOCUMENT = ArtifactKind.DOCUMENT
ARTIFACT_CONTRACT = ArtifactKind.CONTRACT

VOTE_OPEN = VoteOutcome.OPEN
VOTE_CARRIED = VoteOutcome.CARRIED
VOTE_FAILED = VoteOutcome.FAILED
VOTE_OVERRIDDEN_CARRIED = VoteOutcome.OVERRIDDEN_CARRIED
VOTE_OVERRIDDEN_FAILED = VoteOutcome.OVERRIDDEN_FAILED

CONTRACT_REQUESTED = ContractState.REQUESTED
CONTRACT_IN_DEVELOPMENT = ContractState.IN_DEVELOPMENT
CONTRACT_PUBLISHED = ContractState.PUBLISHED
CONTRACT_IN_TRANSIT = ContractState.IN_TRANSIT
CONTRACT_DELIVERED = ContractState.DELIVERED
CONTRACT_REJECTED = ContractState.REJECTED

SHIPMENT_REQUEST = ShipmentKind.REQUEST
SHIPMENT_RELEASE = ShipmentKind.RELEASE
