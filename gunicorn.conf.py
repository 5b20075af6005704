"""Gunicorn picks this file up from the working directory; the settings live in the package."""

from miniature_office.web.gunicorn_conf import *  # noqa: F401,F403
from miniature_office.web.gunicorn_conf import (  # noqa: F401
    post_worker_init,
    worker_exit,
    worker_int,
)
