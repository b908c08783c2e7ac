"""The SQLite file behind the embedded store: creating, opening, transactions, errors.

One connection per operation, so one store may be shared by threads and used
after ``fork``, and several processes may use the same file at once: WAL
lets readers run beside the single writer, every write is a ``BEGIN
IMMEDIATE`` transaction (check-then-write sequences are atomic across
processes), and a busy timeout makes writers queue instead of failing. WAL
needs a local filesystem: not NFS or SMB (use the PostgreSQL store there).

A new database is built under a temporary name and linked into place, so
the file at the store's path is either absent or complete: a 0-byte file
there is a lost history (a truncating copy, a full disk), which is said, not
silently replaced by an empty database.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.common.base import StoreBase
from gruponos_ext.state.model import StateStoreError
from gruponos_ext.state.sqlite.schema import SCHEMA_VERSION, migrate

__all__ = ["DEFAULT_FILENAME", "SqliteDatabase", "in_sqlite_dialect", "rollback"]

_log = get_logger("gruponos_ext.state.store")

DEFAULT_FILENAME = "state.db"


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=128)
def in_sqlite_dialect(statement: str) -> str:
    """A statement of the shared code in SQLite's words: no schema, ``?`` and ``:name``.

    >>> in_sqlite_dialect("SELECT * FROM {s}.runs WHERE job = %s AND id > %(min)s")
    'SELECT * FROM runs WHERE job = ? AND id > :min'
    """
    positional = statement.replace("{s}.", "").replace("%s", "?")
    return _NAMED_PARAMETER.sub(r":\1", positional)


def rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # the original error is the one worth reporting


def _is_busy(exc: sqlite3.Error) -> bool:
    return str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY") or (
        "locked" in str(exc).lower()
    )


class SqliteDatabase(StoreBase[sqlite3.Connection]):
    """A state database file: everything the store's tables share.

    Nothing is opened by the constructor; the directory, the file and the
    schema are created on first use. ``busy_timeout_s`` bounds how long an
    operation waits for another process's write before failing with
    ``StateStoreError`` (reason ``locked``). ``clock`` (seconds since the
    epoch) and ``hostname`` are injectable for tests; ``hostname`` is the
    host whose pids this store may check.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_s: float = 10.0,
        retention_days: float | None = None,
        clock: Callable[[], float] = time.time,
        hostname: str | None = None,
    ) -> None:
        if busy_timeout_s < 0:
            raise ValueError(f"busy_timeout_s must be >= 0, got {busy_timeout_s}")
        super().__init__(hostname=hostname, retention_days=retention_days)
        self._path = Path(path)
        self._busy_timeout_s = float(busy_timeout_s)
        self._clock = clock
        self._init_lock = threading.Lock()
        self._ready = threading.Event()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def location(self) -> str:
        """Where the state lives, for messages: the file's path."""
        return str(self._path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._path)!r})"

    def sql(self, statement: str) -> str:
        """``statement`` (``{s}.<table>``, ``%s`` / ``%(name)s``) in SQLite's words."""
        return in_sqlite_dialect(statement)

    # -- errors -------------------------------------------------------------------
    def _error(self, exc: sqlite3.Error, operation: str) -> StateStoreError:
        name = str(getattr(exc, "sqlite_errorname", "") or "")
        text = str(exc) or type(exc).__name__
        lower = text.lower()
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in lower:
            reason = "locked"
            hint = (
                f"another process kept it locked longer than the busy timeout "
                f"({self._busy_timeout_s:g}s); retry, or look for a stuck process using it"
            )
        elif name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
            "not a database" in lower or "malformed" in lower
        ):
            reason = "corrupt"
            hint = (
                "the file is corrupted or is not a SQLite database: move it aside (with its "
                "-wal and -shm files) and a new, empty one is created on next use"
            )
        elif name.startswith(
            ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_FULL", "SQLITE_IOERR")
        ) or any(w in lower for w in ("unable to open", "readonly", "disk", "permission")):
            reason = "unwritable"
            hint = (
                "check that its directory exists and is writable by this user and that the "
                "disk is not full (setting state_dir)"
            )
        else:
            reason = "error"
            hint = "check the file, or move it aside to start a new history"
        _log.debug("state_store_error", path=str(self._path), operation=operation, reason=reason)
        return StateStoreError(
            f"state database {self._path}: {operation} failed ({text}); {hint}",
            path=self._path,
            operation=operation,
            reason=reason,
        )

    def _refusal(self, message: str, operation: str, reason: str) -> StateStoreError:
        _log.debug("state_store_error", path=str(self._path), operation=operation, reason=reason)
        return StateStoreError(message, path=self._path, operation=operation, reason=reason)

    # -- opening ------------------------------------------------------------------
    def _connect(self, target: Path, operation: str, *, create: bool) -> sqlite3.Connection:
        uri = Path(os.path.abspath(target)).as_uri() + ("?mode=rwc" if create else "?mode=rw")
        try:
            conn = sqlite3.connect(
                uri, uri=True, timeout=self._busy_timeout_s, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise self._error(exc, operation) from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _open(self, operation: str) -> sqlite3.Connection:
        return self._connect(self._path, operation, create=False)

    def _enable_wal(self, conn: sqlite3.Connection) -> str:
        """Switch the file to WAL (persistent), retrying while another process is busy.

        SQLite answers ``SQLITE_BUSY`` to a journal-mode change at once,
        without calling the busy handler, when processes open a file
        together; the retry stands in for the busy timeout there.
        """
        deadline = time.monotonic() + self._busy_timeout_s
        delay = 0.002
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _refuse_foreign_database(self, conn: sqlite3.Connection, operation: str) -> int:
        """The file's schema version; refuse a file of another application before changing it.

        Guards against ``state_dir`` pointing at e.g. Meltano's own ``meltano.db``.
        """
        conn.execute("BEGIN")  # one read transaction: another process may migrate meanwhile
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            foreign = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
        except BaseException:
            rollback(conn)
            raise
        conn.execute("COMMIT")
        if version == 0 and foreign:
            raise self._refusal(
                f"{self._path} is a SQLite database of something else (tables: "
                f"{', '.join(foreign[:5])}), not a gruponos-infra state database; "
                "point state_dir at a directory of its own",
                operation,
                "schema",
            )
        return version

    def _create(self, operation: str) -> None:
        """Build a new database under a temporary name and link it into place.

        ``link`` never replaces: when several processes create the file at
        once, the first link wins and the others use that file.
        """
        scratch = self._path.with_name(f".{self._path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        try:
            conn = self._connect(scratch, operation, create=True)
            try:
                self._enable_wal(conn)
                conn.execute("BEGIN IMMEDIATE")
                migrate(conn, 0)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback(conn)
                raise self._error(exc, operation) from exc
            finally:
                conn.close()
            try:
                os.link(scratch, self._path)
            except FileExistsError:
                pass  # another process created it first: use theirs
            except OSError as exc:
                raise self._refusal(
                    f"state database {self._path}: cannot create it ({exc.strerror or exc}); "
                    "point state_dir at a writable directory on a local disk",
                    operation,
                    "unwritable",
                ) from exc
            else:
                _log.info(
                    "state_store_schema_created", path=str(self._path), version=SCHEMA_VERSION
                )
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{scratch}{suffix}")

    def _check_file(self, operation: str) -> bool:
        """Whether the file exists; refuse what is there but cannot be a database."""
        try:
            info = self._path.stat()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._refusal(
                f"state database {self._path}: cannot read it ({exc.strerror or exc}); "
                "check the permissions of state_dir",
                operation,
                "unwritable",
            ) from exc
        if self._path.is_dir():
            raise self._refusal(
                f"state database {self._path} is a directory, not a file; move it away or "
                "point state_dir elsewhere",
                operation,
                "unwritable",
            )
        if info.st_size == 0:
            raise self._refusal(
                f"state database {self._path} is empty (0 bytes): its history of runs, locks "
                "and alerts was lost (a truncating copy or a full disk?); restore it from a "
                "backup, or delete it to start a new history",
                operation,
                "empty",
            )
        return True

    def _ensure_ready(self, operation: str) -> None:
        if self._ready.is_set() and self._path.exists():
            return
        with self._init_lock:
            if self._ready.is_set() and self._path.exists():
                return
            self._ready.clear()
            directory = self._path.parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._refusal(
                    f"state database {self._path}: cannot create its directory {directory} "
                    f"({exc.strerror or exc}); point state_dir at a writable directory",
                    operation,
                    "unwritable",
                ) from exc
            if not self._check_file(operation):
                self._create(operation)
            self._check_file(operation)
            conn = self._open(operation)
            try:
                self._refuse_foreign_database(conn, operation)
                mode = self._enable_wal(conn)
                if mode.lower() != "wal":
                    _log.warning("state_store_not_wal", path=str(self._path), mode=mode)
                conn.execute("BEGIN IMMEDIATE")
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    rollback(conn)
                    raise self._refusal(
                        f"state database {self._path} has schema version {version}, newer than "
                        f"this gruponos-infra understands ({SCHEMA_VERSION}); upgrade "
                        "gruponos-infra or point state_dir elsewhere",
                        operation,
                        "schema",
                    )
                migrate(conn, version)
                conn.execute("COMMIT")
                if version < SCHEMA_VERSION:
                    _log.info(
                        "state_store_schema_migrated",
                        path=str(self._path),
                        from_version=version,
                        version=SCHEMA_VERSION,
                    )
            except sqlite3.Error as exc:
                rollback(conn)
                raise self._error(exc, operation) from exc
            finally:
                conn.close()
            self._ready.set()

    @contextmanager
    def _transaction(self, operation: str, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One connection, one transaction: ``BEGIN IMMEDIATE`` for writes.

        Taking the write lock up front makes a read-then-write sequence
        atomic across processes and avoids ``SQLITE_BUSY`` on lock upgrade,
        which the busy timeout would not cover.
        """
        self._ensure_ready(operation)
        conn = self._open(operation)
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield conn
            if conn.in_transaction:  # not rolled back by a refusal inside
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            rollback(conn)
            raise self._error(exc, operation) from exc
        except BaseException:
            rollback(conn)
            raise
        finally:
            conn.close()

    def now(self) -> float:
        """The store's clock: this machine's (one SQLite file serves one machine)."""
        return self._clock()
