"""Rate limits on the API (flask-limiter): one budget per token, or per client address.

Issue 17's decision: limiting a cached read costs more than serving it (Flask-Limiter alone
measured ~130 us of worker CPU per request, against ~50 us for the whole state read), so the
app limits what is expensive and the edge limits the rest (DEPLOYMENT.md, "Rate limits").

- Limited here: every mutation, the token endpoints and every other ``/api`` read, with the
  expensive ones (replay, previews, assessments, security audits) on a tighter budget of
  their own on top.
- Exempt here, limited at the edge (the nginx example, the Kubernetes ingress): the cheap
  cached reads -- ``/api/world/state`` (:data:`EXEMPT_ENDPOINTS`), ``/health*``, ``/metrics``,
  the page and static files (these never pass through the limiter at all). They keep their
  authentication.

MINIOFFICE_RATELIMIT_DEFAULT (e.g. "600 per minute") is an application-wide budget shared by
every limited ``/api`` route. Counters live
in memory (per process) unless RATELIMIT_STORAGE_URI points at Redis, which every worker and
replica then shares. If Redis becomes unreachable the limiter falls back to memory rather than
failing requests. A refused request answers 429 with the JSON error shape and Retry-After.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask_limiter import Limiter

from ..service.config import Config

EXTENSION = "miniature_office.limiter"


def rate_key() -> str:
    """The authenticated token's id, or the client address for anonymous callers."""
    principal = g.get("principal")
    token = getattr(principal, "token", None)
    if token is not None:
        return f"token:{token.id}"
    return f"addr:{request.remote_addr or 'unknown'}"


def init_limiter(app: Flask, config: Config) -> Limiter:
    """Create and bind the limiter (call between identifying and enforcing auth)."""
    limiter = Limiter(
        key_func=rate_key,
        application_limits=[config.ratelimit_default],
        storage_uri=config.ratelimit_storage_uri,
        headers_enabled=True,
        strategy="sliding-window-counter",
        key_prefix="miniature-office",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=config.ratelimit_enabled,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    return limiter


#: Time travel rebuilds a world from the nearest stored snapshot: any viewer may do it, within
#: a budget of its own (per token or address) on top of the application-wide one. The page
#: plays the past at most 2 ticks a second (120 a minute).
REPLAY_LIMIT = "120 per minute"


#: Previews, assessments and audits start jobs of many simulated futures: each token (or
#: address) may start this many a minute, on top of the application-wide budget and the
#: board's limit on jobs running at once. Only a started job (202) counts: a refused
#: submission (a typo answered 422, a busy board's 429) does not spend the budget.
JOB_LIMIT = "10 per minute"
JOB_ENDPOINTS = ("consigliere.preview", "consigliere.assess", "security_office.audit")


#: API reads exempt from the in-app limiter: cached bytes, cheaper to serve than to count.
EXEMPT_ENDPOINTS = ("world.state",)


def limit_replays(app: Flask) -> None:
    """Give ``GET /api/world/replay`` its own budget (call once the API is registered), and
    the job-starting routes theirs; exempt the cheap cached reads."""
    limiter: Limiter = app.extensions[EXTENSION]
    for endpoint in EXEMPT_ENDPOINTS:
        limiter.exempt(app.view_functions[endpoint])
    view = app.view_functions["world.replay"]
    # the limiter checks a decorated route inside its wrapper, so the wrapper must be served
    app.view_functions["world.replay"] = limiter.limit(REPLAY_LIMIT)(view)
    for endpoint in JOB_ENDPOINTS:
        app.view_functions[endpoint] = limiter.limit(JOB_LIMIT, deduct_when=_job_started)(
            app.view_functions[endpoint]
        )


def _job_started(response: Response) -> bool:
    """Whether a job-starting request started a job (only those spend the job budget)."""
    return response.status_code == 202
