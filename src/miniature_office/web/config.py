"""Settings from the environment (MINIOFFICE_*), validated once at start-up into one object."""

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
}

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
    #: Run the background tick loop (tests that drive ticks by hand turn it off).
    tick_loop: bool = True

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

    @model_validator(mode="after")
    def _check_combinations(self) -> "Config":
        if self.workers > 1 and not self.message_queue:
            raise ValueError(
                "workers: MINIOFFICE_WORKERS is greater than 1 but MESSAGE_QUEUE is not set. "
                "The simulated world lives in the memory of one process; several workers would "
                "each run a different world. Keep MINIOFFICE_WORKERS=1, or set MESSAGE_QUEUE "
                "(for example redis://localhost:6379/0) for the scale-out setup."
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

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
        field = str(first["loc"][0]) if first["loc"] else "workers"
        variable = ENV_NAMES.get(field, field)
        message = str(first["msg"]).removeprefix("Value error, ")
        message = message.removeprefix("workers: ")
        shown = raw.get(field)
        got = f" (got {shown!r})" if shown is not None and field in ENV_NAMES else ""
        if field in ("secret_key", "database_url", "message_queue"):
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


def main() -> int:
    """``python -m miniature_office.web.config``: validate the environment.

    Prints the settings Gunicorn needs as JSON, or the problem on stderr (exit status 2).
    Gunicorn's config runs this in a child process so that its master process never imports
    pydantic before the eventlet worker monkey-patches.
    """
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"miniature-office: cannot start: {exc}\n")
        return 2
    fields = ("host", "port", "workers", "async_mode", "log_level", "env")
    sys.stdout.write(json.dumps({name: getattr(config, name) for name in fields}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
