"""A real team's history: import work items, describe them, fit an office, backtest forecasts.

Pure functions over text and numbers (no I/O): ``items`` parses a CSV export, ``describe``
measures it, ``fit`` builds and checks a calibrated scenario, ``backtest`` compares forecasts
with what happened. MODEL.md ("Real history") explains the method.
"""
