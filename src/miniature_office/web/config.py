"""The web service's view of the configuration: :mod:`miniature_office.service.config`.

``python -m miniature_office.web.config`` validates the environment (Gunicorn's config runs
it in a child process) and prints the settings Gunicorn needs.
"""

from __future__ import annotations

import sys

from ..service.config import (  # noqa: F401 - re-exported for the web package
    ENV_NAMES,
    SECRET_FIELDS,
    Config,
    ConfigError,
    cli_config,
    load_config,
    main,
)

if __name__ == "__main__":
    sys.exit(main())
