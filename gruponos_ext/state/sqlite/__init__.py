"""The embedded SQLite state store (standard library only)."""

from gruponos_ext.state.sqlite.database import DEFAULT_FILENAME
from gruponos_ext.state.sqlite.schema import SCHEMA_VERSION
from gruponos_ext.state.sqlite.store import SqliteStateStore

__all__ = ["DEFAULT_FILENAME", "SCHEMA_VERSION", "SqliteStateStore"]
