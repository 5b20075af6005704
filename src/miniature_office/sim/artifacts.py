"""Artifacts: what work produces, each with a content hash, a version and an author."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

from mypy_extensions import mypyc_attr

from .audit import sorted_compact_encoder


class ArtifactKind(str, Enum):
    DESIGN = "design"
    CODE_CHANGE = "code_change"
    REVIEW_REPORT = "review_report"
    DECISION_TRANSCRIPT = "decision_transcript"
    DOCUMENT = "document"
    CONTRACT = "contract"


#: json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False), built once.
_ENCODE = sorted_compact_encoder(allow_nan=True)


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of an artifact's canonical JSON content."""
    return hashlib.sha256(_ENCODE(content).encode("utf-8")).hexdigest()


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Artifact:
    id: str
    kind: ArtifactKind
    subject: str  # the task, directive, meeting or contract it belongs to
    author: str
    version: int
    tick: int
    content: dict[str, Any]
    hash: str

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        id: str,
        kind: ArtifactKind,
        subject: str,
        author: str,
        version: int,
        tick: int,
        content: dict[str, Any],
        hash: str,
    ) -> None:
        self.id = id
        self.kind = kind
        self.subject = subject
        self.author = author
        self.version = version
        self.tick = tick
        self.content = content
        self.hash = hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "subject": self.subject,
            "author": self.author,
            "version": self.version,
            "tick": self.tick,
            "content": self.content,
            "hash": self.hash,
        }
