"""The browser UI: ``/`` serves static/index.html, ``/assets/<build>/<path>`` its files.

Every file of the static folder is read once (again when one changes on disk), given an ETag
(its content hash) and, for text, a gzip copy. The page's own URLs point at
``/assets/<build>/...`` where ``<build>`` hashes every file, so those answers may be cached for
a year (``immutable``): a new build is a new URL. Relative imports between the ES modules stay
under the same prefix. Conditional requests answer 304. Flask's plain ``/static/<path>`` keeps
working for anything that links there directly.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request

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

YEAR = 365 * 24 * 3600
#: Types worth compressing; images such as PNG are compressed already.
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
#: Source maps are for developers' tools; the page never loads them.
SKIPPED_SUFFIXES = (".map",)


def resolve_static_dir(configured: Path | None) -> Path:
    """MINIOFFICE_STATIC_DIR, else the packaged ``miniature_office/static``, else repo static/."""
    if configured is not None:
        return configured.resolve()
    packaged = Path(__file__).resolve().parents[1] / "static"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "static"


@dataclass(slots=True, frozen=True)
class Asset:
    """One static file held in memory, with its ETag and (for text) a gzip copy."""

    body: bytes
    gzipped: bytes | None
    mimetype: str
    etag: str


def _mimetype(path: Path) -> str:
    if path.suffix in (".js", ".mjs"):
        return "application/javascript"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    mimetype = _mimetype(path)
    gzipped = None
    if mimetype.startswith(COMPRESSIBLE) and len(body) > 512:
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    return Asset(body, gzipped, mimetype, hashlib.sha256(body).hexdigest()[:20])


class AssetCache:
    """The static folder in memory; rebuilt when a file's size or mtime changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.signature: tuple[tuple[str, int, int], ...] | None = None
        self.assets: dict[str, Asset] = {}
        self.build = ""

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        files = []
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.name.endswith(SKIPPED_SUFFIXES):
                stat = path.stat()
                files.append(
                    (path.relative_to(self.folder).as_posix(), stat.st_mtime_ns, stat.st_size)
                )
        return tuple(files)

    def refresh(self) -> None:
        """Re-read the folder if anything in it changed (a stat per file: about 20 files)."""
        signature = self._scan()
        with self.lock:
            if signature == self.signature:
                return
            assets = {name: _asset(self.folder / name) for name, _, _ in signature}
            digest = hashlib.sha256("".join(a.etag for a in assets.values()).encode())
            self.build = digest.hexdigest()[:12]
            index = assets.get("index.html")
            if index is not None:
                page = index.body.replace(b'"/static/', f'"/assets/{self.build}/'.encode())
                assets["index.html"] = _asset_from_bytes(page, index.mimetype)
            self.assets, self.signature = assets, signature

    def get(self, name: str) -> Asset | None:
        return self.assets.get(name)


def _asset_from_bytes(body: bytes, mimetype: str) -> Asset:
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    return Asset(body, gzipped, mimetype, hashlib.sha256(body).hexdigest()[:20])


def _cache() -> AssetCache:
    app = current_app
    cache = app.extensions.get("miniature_office.assets")
    if cache is None:
        cache = AssetCache(Path(app.static_folder or ""))
        app.extensions["miniature_office.assets"] = cache
    cache.refresh()
    return cache


def _send(asset: Asset, cache_control: str) -> Response:
    """The asset, gzipped when the client accepts it, or 304 when its ETag still matches."""
    if asset.etag in request.if_none_match:
        response = Response(status=304)
    else:
        compressed = asset.gzipped is not None and "gzip" in request.accept_encodings
        response = Response(asset.gzipped if compressed else asset.body, mimetype=asset.mimetype)
        if compressed:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = cache_control
    response.vary.add("Accept-Encoding")
    return response


@bp.get("/")
@describe(Operation("The browser UI (static/index.html)", "ui", content_type="text/html"))
def index() -> Response:
    asset = _cache().get("index.html")
    if asset is None:
        return Response(FALLBACK_PAGE, mimetype="text/html")
    # The page names the current build; it must be revalidated on every visit.
    return _send(asset, "no-cache")


@bp.get("/assets/<build>/<path:filename>")
@describe(Operation("A static file of the UI under its build hash (cached for a year)", "ui",
                    content_type="application/octet-stream"))  # fmt: skip
def asset(build: str, filename: str) -> Response:
    cache = _cache()
    found = cache.get(filename)
    if found is None or filename == "index.html":
        abort(404)
    # An old build's URL gets today's file, but only for this visit.
    current = build == cache.build
    return _send(found, f"public, max-age={YEAR}, immutable" if current else "no-cache")
