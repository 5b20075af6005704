"""Miniature Office: a software company in miniature that you watch, steer and measure."""

__version__ = "0.2.0"
