"""Where the embedded database lives when DATABASE_URL is not set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

DB_FILENAME = "miniature_office.db"


def default_data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """MINIOFFICE_DATA_DIR, or ``instance/`` under the working directory."""
    return Path(env.get("MINIOFFICE_DATA_DIR") or Path.cwd() / "instance")


def database_url(
    explicit: str | None = None,
    *,
    data_dir: str | Path | None = None,
    env: Mapping[str, str] = os.environ,
) -> str:
    """The store URL: an explicit one, DATABASE_URL, or SQLite in the data directory."""
    url = explicit or env.get("DATABASE_URL")
    if url:
        return normalise(url)
    folder = Path(data_dir) if data_dir else default_data_dir(env)
    return f"sqlite:///{folder / DB_FILENAME}"


def normalise(url: str) -> str:
    """Accept the common ``postgres://``/``postgresql://`` spellings; use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
