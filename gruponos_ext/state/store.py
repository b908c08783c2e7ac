"""The embedded state store (kept as an import path): see :mod:`gruponos_ext.state.sqlite`."""

from __future__ import annotations

from gruponos_ext.state.protocol import AlertDeduplicator, StateStore
from gruponos_ext.state.sqlite import DEFAULT_FILENAME, SCHEMA_VERSION, SqliteStateStore

__all__ = [
    "DEFAULT_FILENAME",
    "SCHEMA_VERSION",
    "AlertDeduplicator",
    "SqliteStateStore",
    "StateStore",
]
