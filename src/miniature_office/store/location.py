"""Where the embedded database lives when DATABASE_URL is not set.

Nothing here reads the environment: the web service and the CLI both pass what their one
:class:`~miniature_office.service.config.Config` says (MINIOFFICE_DATA_DIR, DATABASE_URL).
"""

from __future__ import annotations

from pathlib import Path

DB_FILENAME = "miniature_office.db"
#: The default data directory, relative to the working directory, for the server and the CLI.
DEFAULT_DATA_DIR = "instance"


def default_data_dir() -> Path:
    """``./instance`` under the working directory (server and CLI alike)."""
    return Path.cwd() / DEFAULT_DATA_DIR


def database_url(explicit: str | None = None, *, data_dir: str | Path | None = None) -> str:
    """The store URL: an explicit one, or SQLite in the data directory."""
    if explicit:
        return normalise(explicit)
    folder = Path(data_dir) if data_dir else default_data_dir()
    return f"sqlite:///{folder / DB_FILENAME}"


def normalise(url: str) -> str:
    """Accept the common ``postgres://``/``postgresql://`` spellings; use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
