"""The root of both stores: who a store runs as, its retention, and how it runs SQL.

:class:`StoreBase` holds the host name and
:class:`~gruponos_ext.state.locks.HostIdentity` a store records and checks
locks with, the opportunistic pruning ``start_run`` triggers (at most once an
hour per instance; never a reason for the run to fail), and the three things
each database supplies: :meth:`~StoreBase.location`, :meth:`~StoreBase.sql`
and :meth:`~StoreBase._transaction`.

Statements written once for both stores name their tables ``{s}.<table>``
and take ``%s`` (or ``%(name)s``) parameters; :meth:`~StoreBase.sql` turns
one into the store's dialect (PostgreSQL: our schema, quoted; SQLite: no
schema, ``?`` and ``:name``). Both drivers' connections are used through
:class:`SqlConnection` only: ``execute`` and a cursor's ``fetchone``,
``fetchall`` and ``rowcount``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.procfs import host_name
from gruponos_ext.state.locks import HostIdentity
from gruponos_ext.state.model import DEFAULT_PRUNE_BATCH, PruneResult, StateStoreError

__all__ = ["AUTO_PRUNE_INTERVAL_S", "Row", "SqlConnection", "SqlCursor", "StoreBase"]

_log = get_logger("gruponos_ext.state")

AUTO_PRUNE_INTERVAL_S = 3600.0

Row = Mapping[str, Any]
"""A row read by either driver (``sqlite3.Row``, a psycopg dict row): column name to value."""


class SqlCursor(Protocol):
    """What the shared code reads from a cursor of either driver."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class SqlConnection(Protocol):
    """What the shared code does with a connection of either driver."""

    def execute(self, query: str, params: Any = ..., /) -> SqlCursor: ...
    def rollback(self) -> None: ...


C = TypeVar("C", bound=SqlConnection)


class StoreBase(ABC, Generic[C]):
    """Identity, retention and SQL access of a store whose connections are ``C``."""

    def __init__(self, *, hostname: str | None, retention_days: float | None) -> None:
        self._host = hostname or host_name()
        self._here: HostIdentity | None = None
        self._retention_days = retention_days
        self._last_auto_prune: float | None = None

    @property
    def hostname(self) -> str:
        """The host this store records (runs, health) and whose pids it may check."""
        return self._host

    @property
    def here(self) -> HostIdentity:
        """This process's host identity (read once, when first needed)."""
        if self._here is None:
            self._here = HostIdentity.current(self._host)
        return self._here

    # -- what each database supplies -------------------------------------------------
    @property
    @abstractmethod
    def location(self) -> str:
        """Where the state lives, for messages (never a secret)."""

    @abstractmethod
    def sql(self, statement: str) -> str:
        """``statement`` (``{s}.<table>``, ``%s`` / ``%(name)s``) in this store's dialect."""

    @abstractmethod
    def _transaction(self, operation: str, *, write: bool = True) -> AbstractContextManager[C]:
        """One transaction, committed unless it raises; errors become ``StateStoreError``.

        A refusal may ``rollback()`` inside it (nothing written); the commit is
        then a no-op.
        """

    @abstractmethod
    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        """Delete history older than ``retention_days`` (see the housekeeping part)."""

    # -- reads both dialects phrase alike --------------------------------------------
    def _one(self, operation: str, statement: str, params: Any) -> Row | None:
        """The first row ``statement`` reads, in a read-only transaction."""
        with self._transaction(operation, write=False) as conn:
            row: Row | None = conn.execute(self.sql(statement), params).fetchone()
        return row

    def _newest(
        self, operation: str, table: str, *, order: str, limit: int, where: tuple[str, Any]
    ) -> list[Row]:
        """At most ``limit`` rows of ``table`` in ``order``; with ``where = (column, value)``
        only those whose ``column`` equals ``value`` (every row when ``value`` is None).
        """
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        column, value = where
        query = f"SELECT * FROM {{s}}.{table}"
        params: tuple[Any, ...] = ()
        if value is not None:
            query += f" WHERE {column} = %s"
            params = (value,)
        query += f" ORDER BY {order} LIMIT %s"
        with self._transaction(operation, write=False) as conn:
            return list(conn.execute(self.sql(query), (*params, limit)).fetchall())

    # -- retention ---------------------------------------------------------------------
    def _auto_prune(self) -> None:
        """Prune by ``retention_days``, at most once an hour; failures are only logged."""
        if self._retention_days is None:
            return
        now = time.monotonic()
        last = self._last_auto_prune
        if last is not None and now - last < AUTO_PRUNE_INTERVAL_S:
            return
        self._last_auto_prune = now
        try:
            self.prune(self._retention_days)
        except StateStoreError as exc:
            # Housekeeping must never fail the run that triggered it.
            _log.warning("state_prune_failed", where=self.location, reason=exc.reason)
