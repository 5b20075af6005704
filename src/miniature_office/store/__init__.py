"""Persistence of commands, audit events and world snapshots (SQLite by default, PostgreSQL)."""

from .store import SCHEMA_VERSION, Store, StoreError

__all__ = ["SCHEMA_VERSION", "Store", "StoreError"]
