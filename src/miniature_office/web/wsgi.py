"""WSGI entry point: ``gunicorn -c python:miniature_office.web.gunicorn_conf
miniature_office.web.wsgi:app``.

Gunicorn's eventlet worker monkey-patches the standard library before it imports this module,
so nothing here (or in the app) may be imported by the gunicorn master: ``gunicorn_conf``
imports only :mod:`.security` (for its error page) and validates the configuration in a child
process (``python -m miniature_office.service.config``).
"""

from __future__ import annotations

from .app import create_app

app = create_app()
