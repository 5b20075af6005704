"""``python -m miniature_office.cli``: the same as the ``miniature-office`` command."""

import sys

from . import main

sys.exit(main())
