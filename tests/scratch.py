"""Scratch folders for tests that cannot take ``tmp_path`` (helpers such as ``build_app``).

Every folder is made under one root per test session (per xdist worker), and the
``scratch_root`` fixture in tests/conftest.py removes that root when the session ends, so a
test run leaves nothing behind in the system's temporary directory. Tests and fixtures that can
take ``tmp_path`` use it instead: pytest removes those folders itself (pyproject.toml sets
``tmp_path_retention_policy``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

_root: Path | None = None


def scratch_dir(prefix: str = "minioffice-") -> Path:
    """A new empty folder under this session's scratch root."""
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="minioffice-session-"))
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_root))


def remove_scratch() -> None:
    """Remove this session's scratch root and everything in it (safe to call twice)."""
    global _root
    if _root is not None:
        shutil.rmtree(_root, ignore_errors=True)
        _root = None
