"""The PostgreSQL database behind the shared store: connections, transactions, schema, errors.

Each process keeps at most one idle connection and reuses it for its next
operation (connecting costs ~3.5 ms over TCP, more under load); an operation
that finds it in use by another thread opens one of its own. A connection
the server dropped meanwhile (a restart, an idle timeout) is noticed on the
transaction's first statement and replaced at once; after ``fork`` the child
never touches its parent's connection. ``close()`` (the container's cleanup)
closes it. Every wait is bounded by
``timeout_s`` (the ``state_timeout`` setting): connecting (``connect_timeout``
and, around it, :func:`~gruponos_ext.core.deadline.call_within`), waiting for
a row lock (``lock_timeout``) and each statement (``statement_timeout``),
both set per transaction with ``set_config(..., true)`` so they also hold
behind a transaction-pooling PgBouncer.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import Connection
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from gruponos_ext.core.deadline import DeadlineExceeded, call_within, format_seconds
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.state.common.base import StoreBase
from gruponos_ext.state.model import StateStoreError
from gruponos_ext.state.postgres.schema import MIGRATION_LOCK_KEY, SCHEMA_VERSION, statements
from gruponos_ext.state.postgres.target import PostgresTarget, check_schema_name

__all__ = ["PgConnection", "PostgresDatabase"]

_log = get_logger("gruponos_ext.state.postgres")

# SQLSTATE classes: 08 connection, 28 authorization, 3D no database, 42501 privilege.
_DENIED_STATES = ("28", "42501", "3D")

PgConnection = Connection[dict[str, Any]]
"""A connection whose rows are dicts (column name to value)."""


class PostgresDatabase(StoreBase[PgConnection]):
    """A PostgreSQL database and our schema in it: everything the store's tables share.

    ``uri`` is the ``state_uri`` (a secret: never shown); ``schema`` the
    ``state_schema``; ``timeout_s`` bounds every wait. Nothing is opened by
    the constructor. ``redactor`` cleans server messages (the settings'
    :meth:`~gruponos_ext.config.GruponosMeltanoSettings.redactor`); the URI's
    own password is always added to it.
    """

    def __init__(
        self,
        uri: str,
        *,
        schema: str = "gruponos_infra",
        timeout_s: float = 10.0,
        retention_days: float | None = None,
        hostname: str | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        super().__init__(hostname=hostname, retention_days=retention_days)
        self._target = PostgresTarget.from_uri(uri)
        self._schema = check_schema_name(schema)
        self._timeout_s = float(timeout_s)
        self._redact = (redactor or Redactor()).including(
            [uri], credentials=[(self._target.user, self._target.password)]
        )
        self._init_lock = threading.Lock()
        self._ready = threading.Event()
        self._ms = str(int(self._timeout_s * 1000))
        # After a failed connect, fail fast for a while: one command must not wait
        # for the same dead server once per operation (preflight, then its alert).
        self._down: tuple[float, StateStoreError] | None = None
        # One idle connection per process, reused by the next operation (pid: not after fork).
        self._idle_lock = threading.Lock()
        self._idle: tuple[int, PgConnection] | None = None

    @property
    def schema(self) -> str:
        return self._schema

    @property
    def location(self) -> str:
        """Where the state lives, for messages: ``host:port/db`` (never the password)."""
        return self._target.describe()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r}, schema={self._schema!r})"

    def sql(self, statement: str) -> str:
        """``statement`` with ``{s}`` replaced by our (checked, quoted) schema name."""
        return statement.replace("{s}", f'"{self._schema}"')

    # -- errors -------------------------------------------------------------------
    def _one_line(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return self._redact(text, limit=300)

    def _error(self, exc: BaseException, operation: str) -> StateStoreError:
        where = self.location
        text = self._one_line(exc)
        state = str(getattr(exc, "sqlstate", "") or "")
        if isinstance(exc, DeadlineExceeded):
            reason = "unreachable"
            message = (
                f"state database {where}: no answer within {format_seconds(self._timeout_s)} s "
                f"({operation}); check that the server is up and reachable (setting state_uri)"
            )
        elif isinstance(exc, (pg_errors.LockNotAvailable, pg_errors.QueryCanceled)):
            reason = "timeout"
            message = (
                f"state database {where}: {operation} waited longer than "
                f"{format_seconds(self._timeout_s)} s ({text}); another process holds it "
                "or the server is overloaded (setting state_timeout)"
            )
        elif state.startswith(_DENIED_STATES) or isinstance(exc, pg_errors.InsufficientPrivilege):
            reason = "denied"
            message = (
                f"state database {where}: {operation} was refused ({text}); check the user, "
                f"password and database in state_uri and the user's rights on schema "
                f"{self._schema}"
            )
        elif isinstance(exc, psycopg.OperationalError) and (not state or state.startswith("08")):
            reason = "unreachable"
            message = (
                f"state database {where}: cannot connect ({text}); check that the server is "
                "up and reachable (setting state_uri)"
            )
        else:
            reason = "error"
            message = f"state database {where}: {operation} failed ({text})"
        _log.debug("state_store_error", database=where, operation=operation, reason=reason)
        return StateStoreError(message, path=where, operation=operation, reason=reason)

    def _refusal(self, message: str, operation: str, reason: str) -> StateStoreError:
        _log.debug("state_store_error", database=self.location, operation=operation, reason=reason)
        return StateStoreError(message, path=self.location, operation=operation, reason=reason)

    # -- connections ----------------------------------------------------------------
    def _connect(self, operation: str) -> PgConnection:
        down = self._down
        if down is not None and time.monotonic() < down[0]:
            raise down[1]
        params = self._target.connect_params(self._timeout_s)

        def connect() -> PgConnection:
            return psycopg.connect(**params, row_factory=dict_row, autocommit=False)

        try:
            # libpq bounds the connection itself; this bounds name resolution too.
            conn = call_within(connect, self._timeout_s + 2.0, what="connecting")
        except (psycopg.Error, DeadlineExceeded, OSError) as exc:
            error = self._error(exc, operation)
            if error.reason == "unreachable":
                self._down = (time.monotonic() + min(self._timeout_s, 5.0), error)
            raise error from None
        self._down = None
        return conn

    def _checkout(self, operation: str) -> tuple[PgConnection, bool]:
        """The idle connection of this process if any (reused: True), else a new one."""
        with self._idle_lock:
            idle, self._idle = self._idle, None
        if idle is not None and idle[0] == os.getpid() and not idle[1].closed:
            return idle[1], True
        return self._connect(operation), False

    def _checkin(self, conn: PgConnection) -> None:
        """Keep ``conn`` for the next operation (one idle connection per process)."""
        if conn.closed or conn.broken:
            return
        with self._idle_lock:
            if self._idle is None:
                self._idle = (os.getpid(), conn)
                return
        conn.close()

    def _begin(self, conn: PgConnection, read_only: bool) -> None:
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true),"
            " set_config('lock_timeout', %s, true),"
            " set_config('idle_in_transaction_session_timeout', %s, true),"
            " set_config('transaction_read_only', %s, true)",
            (self._ms, self._ms, self._ms, "on" if read_only else "off"),
        )

    @contextmanager
    def _session(self, operation: str, *, read_only: bool = False) -> Iterator[PgConnection]:
        """One transaction with bounded waits; committed unless it raises.

        The connection is this process's idle one when it has one (a server
        restart since is noticed on the first statement, and the transaction
        begins again on a new connection: nothing of it had run). Code inside
        may ``rollback()`` itself (a refused lock writes nothing); the final
        commit is then a no-op.
        """
        conn, reused = self._checkout(operation)
        try:
            try:
                self._begin(conn, read_only)
            except psycopg.OperationalError:
                if not reused:
                    raise
                conn.close()
                conn = self._connect(operation)
                self._begin(conn, read_only)
            yield conn
            conn.commit()
        except psycopg.Error as exc:
            conn.close()
            raise self._error(exc, operation) from None
        except BaseException:
            _quiet_rollback(conn)
            conn.close()
            raise
        self._checkin(conn)

    @contextmanager
    def _transaction(self, operation: str, *, write: bool = True) -> Iterator[PgConnection]:
        """:meth:`_session` once our schema is known to be there and current."""
        self._ensure_ready(operation)
        with self._session(operation, read_only=not write) as conn:
            yield conn

    def close(self) -> None:
        """Close this process's idle connection, if any."""
        with self._idle_lock:
            idle, self._idle = self._idle, None
        if idle is not None and idle[0] == os.getpid():
            idle[1].close()

    # -- schema ---------------------------------------------------------------------
    def _version(self, conn: PgConnection) -> int | None:
        """Our schema's version; None when the schema or its version table is missing."""
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AS present", (f'"{self._schema}".schema_version',)
        ).fetchone()
        if not row or not row["present"]:
            return None
        got = conn.execute(self.sql("SELECT max(version) AS v FROM {s}.schema_version")).fetchone()
        return None if not got or got["v"] is None else int(got["v"])

    def _check_version(self, version: int | None, operation: str) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise self._refusal(
                f"state database {self.location}: schema {self._schema} has version {version}, "
                f"newer than this gruponos-infra understands ({SCHEMA_VERSION}); upgrade "
                "gruponos-infra or set another state_schema",
                operation,
                "schema",
            )

    def _ensure_ready(self, operation: str) -> None:
        if self._ready.is_set():
            return
        with self._init_lock:
            if self._ready.is_set():
                return
            with self._session(operation) as conn:
                version = self._version(conn)
            self._check_version(version, operation)
            if version != SCHEMA_VERSION:
                self._migrate(operation)
            self._ready.set()

    def _migrate(self, operation: str) -> None:
        with self._session(operation) as conn:
            # Processes starting together: one migrates, the others wait, then see it done.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self._schema,)
            ).fetchone()
            if not exists:
                try:
                    conn.execute(f'CREATE SCHEMA "{self._schema}"')
                except pg_errors.InsufficientPrivilege:
                    raise self._refusal(
                        f"state database {self.location}: cannot create schema {self._schema} "
                        "(permission denied); create it for this user (CREATE SCHEMA "
                        f"{self._schema} AUTHORIZATION <user>) or grant CREATE on the database",
                        operation,
                        "denied",
                    ) from None
            version = self._version(conn)
            self._check_version(version, operation)
            current = version or 0
            for statement in statements(current, self._schema):
                conn.execute(statement)
            if current < SCHEMA_VERSION:
                conn.execute(
                    self.sql("INSERT INTO {s}.schema_version (version) VALUES (%s)"),
                    (SCHEMA_VERSION,),
                )
                _log.info(
                    "state_store_schema_migrated",
                    database=self.location,
                    schema=self._schema,
                    from_version=current,
                    version=SCHEMA_VERSION,
                )


def _quiet_rollback(conn: PgConnection) -> None:
    try:
        if not conn.closed:
            conn.rollback()
    except psycopg.Error:
        pass  # the original error is the one worth reporting
