"""Settings from the environment (MINIOFFICE_*), validated once at start-up into one object.

One :class:`Config` serves the web service, the CLI and the store they open (both read the
same variables with the same defaults); nothing else reads the environment. It lives below
both (service layer) so the CLI need not import the web app.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Config field -> environment variable that sets it.
ENV_NAMES: dict[str, str] = {
    "env": "MINIOFFICE_ENV",
    "host": "MINIOFFICE_HOST",
    "port": "MINIOFFICE_PORT",
    "tick_rate": "MINIOFFICE_TICK_RATE",
    "scenario": "MINIOFFICE_SCENARIO",
    "seed": "MINIOFFICE_SEED",
    "autostart": "MINIOFFICE_AUTOSTART",
    "cors_origins": "MINIOFFICE_CORS_ORIGINS",
    "log_level": "MINIOFFICE_LOG_LEVEL",
    "max_content_length": "MINIOFFICE_MAX_CONTENT_LENGTH",
    "async_mode": "MINIOFFICE_ASYNC_MODE",
    "workers": "MINIOFFICE_WORKERS",
    "hsts": "MINIOFFICE_HSTS",
    "proxy_fix": "MINIOFFICE_PROXY_FIX",
    "static_dir": "MINIOFFICE_STATIC_DIR",
    "data_dir": "MINIOFFICE_DATA_DIR",
    "secret_key": "SECRET_KEY",  # nosec B105
    "database_url": "DATABASE_URL",
    "message_queue": "MESSAGE_QUEUE",
    "auth_reads": "MINIOFFICE_AUTH_READS",
    "dev_token": "MINIOFFICE_DEV_TOKEN",
    "bootstrap_token": "MINIOFFICE_BOOTSTRAP_TOKEN",  # nosec B105
    "bootstrap_role": "MINIOFFICE_BOOTSTRAP_ROLE",
    "ratelimit_default": "MINIOFFICE_RATELIMIT_DEFAULT",
    "ratelimit_enabled": "MINIOFFICE_RATELIMIT_ENABLED",
    "ratelimit_storage_uri": "RATELIMIT_STORAGE_URI",
    "dask_scheduler_address": "DASK_SCHEDULER_ADDRESS",
    "job_niceness": "MINIOFFICE_JOB_NICENESS",
    "job_workers": "MINIOFFICE_JOB_WORKERS",
    "job_deadline": "MINIOFFICE_JOB_DEADLINE",
    "worker_connections": "MINIOFFICE_WORKER_CONNECTIONS",
    "ws_max_connections": "MINIOFFICE_WS_MAX_CONNECTIONS",
    "ws_per_address": "MINIOFFICE_WS_PER_ADDRESS",
    "ws_max_message": "MINIOFFICE_WS_MAX_MESSAGE",
}
#: Of the worker's connection slots, at least this share stays free for HTTP (/health,
#: /metrics, the API, idle keep-alive connections) whatever the websocket cap says.
HTTP_RESERVE_SHARE = 0.25
#: Threads of the gthread worker (MINIOFFICE_ASYNC_MODE=threading): its connection pool.
GTHREAD_THREADS = 100
#: Settings never echoed back in an error message.
SECRET_FIELDS = (
    "secret_key",
    "database_url",
    "message_queue",
    "bootstrap_token",
    "ratelimit_storage_uri",
)

_ORIGIN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")


class ConfigError(ValueError):
    """A setting is missing or invalid; ``variable`` names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class Config(BaseModel):
    """Every setting of the web service. Build it with :func:`load_config`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["development", "production"] = "development"
    host: str = Field(default="127.0.0.1", min_length=1, max_length=255)
    port: int = Field(default=8000, ge=1, le=65535)
    tick_rate: float = Field(default=2.0, gt=0, le=1000)
    scenario: Path | None = None
    seed: int = Field(default=42, ge=0, le=2**63 - 1)
    autostart: bool = True
    cors_origins: tuple[str, ...] = ()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    max_content_length: int = Field(default=16 * 1024 * 1024, ge=1024)
    async_mode: Literal["eventlet", "threading"] = "eventlet"
    workers: int = Field(default=1, ge=1, le=64)
    hsts: bool = True
    proxy_fix: int = Field(default=0, ge=0, le=10)
    static_dir: Path | None = None
    data_dir: Path | None = None
    secret_key: str = Field(default="", repr=False)
    database_url: str | None = Field(default=None, repr=False)
    message_queue: str | None = Field(default=None, repr=False)
    #: Run previews, sweeps and forecasts on this Dask scheduler (None: a local process pool).
    dask_scheduler_address: str | None = Field(default=None, max_length=500)
    #: Preview and assessment jobs run at this niceness (0..19; higher yields the CPU to the
    #: live world's tick loop), their pool's workers too.
    job_niceness: int = Field(default=10, ge=0, le=19)
    #: Worker processes per job (None: the CPUs this server may use less one, at least one).
    job_workers: int | None = Field(default=None, ge=1, le=256)
    #: Wall-clock seconds a job may run; then it ends as "timed_out", its last answer kept.
    job_deadline: float = Field(default=300.0, gt=0, le=86400)
    #: Run the background tick loop (tests that drive ticks by hand turn it off).
    tick_loop: bool = True
    #: Reads and the Socket.IO view need a viewer token (None: yes in production only).
    auth_reads: bool | None = None
    #: Print a fresh operator token at start (None: yes in development only; never production).
    dev_token: bool | None = None
    #: A token (mo_<id>_<secret>) registered at start, for automation and tests.
    bootstrap_token: str | None = Field(default=None, repr=False, max_length=200)
    bootstrap_role: Literal["viewer", "operator", "admin"] = "admin"
    #: flask-limiter limit for every /api route, per token (or per client address).
    ratelimit_default: str = Field(default="600 per minute", min_length=1, max_length=200)
    ratelimit_enabled: bool = True
    #: Where the limiter counts: memory:// (per process) or redis://host:port/db (shared).
    ratelimit_storage_uri: str = Field(default="memory://", repr=False, max_length=500)
    #: Connections one eventlet worker serves at once: websockets, long polls and HTTP
    #: (idle keep-alive ones included) share them. Green threads are cheap; file descriptors
    #: must allow it (the worker raises its soft limit up to the hard one).
    worker_connections: int = Field(default=4000, ge=100, le=100_000)
    #: Live Socket.IO sessions (websockets and long polls) in all, per worker.
    ws_max_connections: int = Field(default=1000, ge=1, le=75_000)
    #: Live Socket.IO sessions from one client address (the trusted forwarded one behind
    #: MINIOFFICE_PROXY_FIX), per worker.
    ws_per_address: int = Field(default=50, ge=1, le=75_000)
    #: Largest message (bytes) a Socket.IO client may send; a larger one closes its connection.
    ws_max_message: int = Field(default=65536, ge=1024, le=16 * 1024 * 1024)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_exact(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if origin == "*" or "*" in origin:
                raise ValueError("wildcards are not allowed; list each origin")
            if scheme not in ("http", "https") or not sep or not rest:
                raise ValueError(f"{origin!r} is not an origin like https://example.org")
            if not set(rest.lower()) <= _ORIGIN_CHARS:
                raise ValueError(f"{origin!r} is not an origin (no path, no query)")
        return tuple(o.rstrip("/") for o in value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("proxy_fix", mode="before")
    @classmethod
    def _proxy_bool(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() in ("true", "yes", "on"):
            return 1
        if isinstance(value, str) and value.lower() in ("false", "no", "off"):
            return 0
        return value

    @field_validator("ratelimit_default")
    @classmethod
    def _limit_parses(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit like '600 per minute' or '10/second;1000/hour'"
            ) from None
        return value

    @field_validator("bootstrap_token")
    @classmethod
    def _token_format(cls, value: str | None) -> str | None:
        from ..store.tokens import is_well_formed

        if value is not None and not is_well_formed(value):
            raise ValueError("must look like mo_<id>_<secret> (id: 4-32 a-z0-9, secret: 32+)")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> "Config":
        if self.env == "production" and self.dev_token:
            raise ValueError("dev_token: MINIOFFICE_DEV_TOKEN is refused in production")
        if self.workers > 1 and not self.message_queue:
            raise ValueError(
                "workers: MINIOFFICE_WORKERS is greater than 1 but MESSAGE_QUEUE is not set. "
                "The simulated world lives in the memory of one process; several workers would "
                "each run a different world. Keep MINIOFFICE_WORKERS=1, or set MESSAGE_QUEUE "
                "(for example redis://localhost:6379/0) for the scale-out setup."
            )
        # (the gthread worker's fixed 100 threads clamp the cap instead: websocket_cap)
        pool = self.worker_connections
        if self.async_mode == "eventlet" and self.ws_max_connections > pool * (
            1 - HTTP_RESERVE_SHARE
        ):
            raise ValueError(
                "ws_max_connections: MINIOFFICE_WS_MAX_CONNECTIONS must leave a quarter of the "
                f"worker's {pool} connections to HTTP (at most "
                f"{int(pool * (1 - HTTP_RESERVE_SHARE))}); raise "
                "MINIOFFICE_WORKER_CONNECTIONS or lower the cap"
            )
        return self

    @property
    def connection_pool(self) -> int:
        """Connections one worker serves at once: eventlet's pool, or gthread's threads."""
        return self.worker_connections if self.async_mode == "eventlet" else GTHREAD_THREADS

    @property
    def websocket_cap(self) -> int:
        """The live Socket.IO sessions one worker admits (below its pool, leaving the
        reserve for HTTP)."""
        return min(self.ws_max_connections,
                   int(self.connection_pool * (1 - HTTP_RESERVE_SHARE)))  # fmt: skip

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def reads_need_token(self) -> bool:
        """MINIOFFICE_AUTH_READS, defaulting to true in production and false in development."""
        return self.is_production if self.auth_reads is None else self.auth_reads

    @property
    def prints_dev_token(self) -> bool:
        return not self.is_production and (self.dev_token is None or self.dev_token)

    def store_url(self) -> str:
        """The store: DATABASE_URL, else SQLite in MINIOFFICE_DATA_DIR, else in ./instance
        (the same default for the server and the CLI)."""
        from ..store.location import database_url

        return database_url(self.database_url, data_dir=self.data_dir)

    def socket_cors(self) -> list[str] | None:
        """Socket.IO allowed origins: the configured list, or None for same-origin only."""
        return list(self.cors_origins) or None


def load_config(environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Read, validate and return the configuration; raise :class:`ConfigError` on any problem.

    Blank variables count as unset. ``overrides`` (field names) win over the environment.
    In production a missing SECRET_KEY is an error; in development a random one is made.
    """
    source = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for field, variable in ENV_NAMES.items():
        value = source.get(variable)
        if value is not None and value.strip() != "":
            raw[field] = value.strip()
    raw.update(overrides)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        named = message.partition(": ")[0] if not first["loc"] else ""
        field = str(first["loc"][0]) if first["loc"] else (named or "workers")
        variable = ENV_NAMES.get(field, field)
        message = message.removeprefix(f"{field}: ")
        shown = raw.get(field)
        got = f" (got {shown!r})" if shown is not None and field in ENV_NAMES else ""
        if field in SECRET_FIELDS:
            got = ""
        raise ConfigError(variable, f"{message}{got}") from None
    if not config.secret_key:
        if config.is_production:
            raise ConfigError(
                "SECRET_KEY",
                "is required when MINIOFFICE_ENV=production. Generate one with: "
                'python3 -c "import secrets; print(secrets.token_urlsafe(48))"',
            )
        config = config.model_copy(update={"secret_key": secrets.token_urlsafe(48)})
    return config


def cli_config(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration the CLI reads: the server's own (same variables, same defaults),
    without requiring the SECRET_KEY only the server uses."""
    source = os.environ if environ is None else environ
    return load_config(source, secret_key=source.get("SECRET_KEY") or "unused-by-the-cli")


def main() -> int:
    """``python -m miniature_office.service.config``: validate the environment.

    Prints the settings Gunicorn needs as JSON, or the problem on stderr (exit status 2).
    Gunicorn's config runs this in a child process so that its master process never imports
    pydantic before the eventlet worker monkey-patches.
    """
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"miniature-office: cannot start: {exc}\n")
        return 2
    fields = ("host", "port", "workers", "async_mode", "log_level", "env", "worker_connections")
    sys.stdout.write(json.dumps({name: getattr(config, name) for name in fields}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
