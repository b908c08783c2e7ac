"""Run state: runs, run locks, health results and alert history.

The records and the :class:`StateStore` interface import nothing heavy;
:class:`SqliteStateStore` (and with it ``sqlite3``) and
:class:`PostgresStateStore` (and with it ``psycopg``) load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports
from gruponos_ext.state import model
from gruponos_ext.state.model import *  # noqa: F403 - the records: listed once, in model.__all__
from gruponos_ext.state.protocol import AlertDeduplicator, StateStore

if TYPE_CHECKING:
    from gruponos_ext.state.postgres import PostgresStateStore
    from gruponos_ext.state.sqlite import SqliteStateStore

__all__ = ["AlertDeduplicator", "PostgresStateStore", "SqliteStateStore", "StateStore"]
__all__ += model.__all__


__getattr__ = lazy_exports(
    __name__, {"SqliteStateStore": ".sqlite", "PostgresStateStore": ".postgres"}
)
