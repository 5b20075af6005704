"""Miniature Office: a software company in miniature that you watch, steer and measure."""

from . import native as _native

__version__ = "0.2.0"

# Before any simulation module loads: the compiled build runs only when it is whole and matches
# the sources; otherwise sim/ loads from its .py files (miniature_office/native.py).
_native.install()
