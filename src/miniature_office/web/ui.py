"""The browser UI: ``/`` serves static/index.html; Flask serves ``/static/<path>``."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from .openapi import Operation, describe

bp = Blueprint("ui", __name__)

FALLBACK_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Miniature Office</title></head>
<body>
<h1>Miniature Office</h1>
<p>The browser UI is not installed in this build. The API is at <a href="/api">/api</a>
(reference: <a href="/api/docs">/api/docs</a>).</p>
</body>
</html>
"""


def resolve_static_dir(configured: Path | None) -> Path:
    """MINIOFFICE_STATIC_DIR, else the packaged ``miniature_office/static``, else repo static/."""
    if configured is not None:
        return configured.resolve()
    packaged = Path(__file__).resolve().parents[1] / "static"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "static"


@bp.get("/")
@describe(Operation("The browser UI (static/index.html)", "ui", content_type="text/html"))
def index() -> Response:
    folder = Path(current_app.static_folder or "")
    if (folder / "index.html").is_file():
        response = send_from_directory(folder, "index.html", max_age=0)
        return response
    return Response(FALLBACK_PAGE, mimetype="text/html")
