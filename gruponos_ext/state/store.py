"""The embedded state store: one SQLite file per Meltano project.

:class:`SqliteStateStore` keeps runs, run locks, health results and alert
de-duplication history in ``<state_dir>/state.db`` using only the standard
library. It opens one connection per operation, so one instance may be shared
by threads and used after ``fork``, and several processes may use the same
file at once: WAL mode lets readers run beside the single writer, every write
is a ``BEGIN IMMEDIATE`` transaction (so check-then-write sequences such as
lock acquisition are atomic across processes), and a busy timeout makes
writers queue instead of failing. WAL needs a local filesystem: do not put
the file on NFS or SMB; use a shared database instead (see
:class:`~gruponos_ext.state.protocol.StateStore`).

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`, created on first
use; all times are seconds since the epoch, UTC)::

    runs(id PK AUTOINCREMENT, job, context_id, host, pid, status, started_at,
         finished_at, exit_code, message)   -- one open run per (job, context_id)
    locks(job PK, context_id, host, pid, process_identity, owner_started_at,
          acquired_at, expires_at)
    health_results(id PK, recorded_at, report_time, job, status, duration_s,
                   checks JSON)
    alerts(id PK, key, at, sent, window_s, forgotten)  -- one row per decision
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.locks import process_identity, stale_reason
from gruponos_ext.state.model import (
    DEFAULT_PRUNE_BATCH,
    AlertRecord,
    HealthCheckRecord,
    HealthRecord,
    LockAcquisition,
    LockInfo,
    LockOwner,
    PruneResult,
    RunRecord,
    RunStatus,
    StateStoreError,
    from_timestamp,
    to_timestamp,
)
from gruponos_ext.state.protocol import AlertDeduplicator, StateStore

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = [
    "DEFAULT_FILENAME",
    "SCHEMA_VERSION",
    "AlertDeduplicator",
    "SqliteStateStore",
    "StateStore",
]

_log = get_logger(__name__)

SCHEMA_VERSION = 1
DEFAULT_FILENAME = "state.db"

# Messages may carry a child's output tail; keep the database bounded.
_MESSAGE_MAX_CHARS = 4000
_AUTO_PRUNE_INTERVAL_S = 3600.0

# _MIGRATIONS[n] brings a database from user_version n to n + 1.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job TEXT NOT NULL,
            context_id TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('running', 'success', 'failed', 'cancelled', 'abandoned')),
            started_at REAL NOT NULL,
            finished_at REAL,
            exit_code INTEGER,
            message TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX IF NOT EXISTS runs_job_started ON runs (job, started_at)",
        "CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at)",
        "CREATE INDEX IF NOT EXISTS runs_context ON runs (context_id, status)",
        """CREATE UNIQUE INDEX IF NOT EXISTS runs_one_open
            ON runs (job, context_id) WHERE status = 'running'""",
        """CREATE TABLE IF NOT EXISTS locks (
            job TEXT PRIMARY KEY,
            context_id TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            process_identity TEXT,
            owner_started_at REAL NOT NULL,
            acquired_at REAL NOT NULL,
            expires_at REAL
        )""",
        """CREATE TABLE IF NOT EXISTS health_results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at REAL NOT NULL,
            report_time REAL NOT NULL,
            job TEXT,
            status TEXT NOT NULL,
            duration_s REAL NOT NULL,
            checks TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS health_recorded ON health_results (recorded_at)",
        """CREATE TABLE IF NOT EXISTS alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            at REAL NOT NULL,
            sent INTEGER NOT NULL,
            window_s REAL NOT NULL,
            forgotten INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX IF NOT EXISTS alerts_key ON alerts (key, sent, at)",
        "CREATE INDEX IF NOT EXISTS alerts_at ON alerts (at)",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # the original error is the one worth reporting


def _clip(message: str) -> str:
    if len(message) <= _MESSAGE_MAX_CHARS:
        return message
    return "…" + message[-(_MESSAGE_MAX_CHARS - 1) :]


def _check_limit(limit: int) -> int:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return limit


class SqliteStateStore:
    """:class:`~gruponos_ext.state.protocol.StateStore` on a local SQLite file.

    Nothing is opened by the constructor; the directory, the file and the
    schema are created on first use. ``busy_timeout_s`` bounds how long an
    operation waits for another process's write before failing with
    ``StateStoreError`` (reason ``locked``). With ``retention_days``,
    ``start_run`` prunes old history at most once an hour per instance.
    ``clock`` (seconds since the epoch) and ``hostname`` are injectable for
    tests; ``hostname`` is the host whose pids this store may check.
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
        self._path = Path(path)
        self._busy_timeout_s = float(busy_timeout_s)
        self._retention_days = retention_days
        self._clock = clock
        self._host = hostname or socket.gethostname()
        self._init_lock = threading.Lock()
        self._ready = threading.Event()
        self._last_auto_prune: float | None = None

    @classmethod
    def in_dir(cls, state_dir: Path | str, **kwargs: Any) -> SqliteStateStore:
        """The store at ``<state_dir>/state.db`` (the settings' ``state_dir``)."""
        return cls(Path(state_dir) / DEFAULT_FILENAME, **kwargs)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def hostname(self) -> str:
        return self._host

    def __repr__(self) -> str:
        return f"SqliteStateStore({str(self._path)!r})"

    # -- plumbing -------------------------------------------------------------
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
        _log.error("state_store_error", path=str(self._path), operation=operation, reason=reason)
        return StateStoreError(
            f"state database {self._path}: {operation} failed ({text}); {hint}",
            path=self._path,
            operation=operation,
            reason=reason,
        )

    def _open(self, operation: str) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                str(self._path), timeout=self._busy_timeout_s, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise self._error(exc, operation) from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> str:
        """Switch the file to WAL (persistent), retrying while another process is busy.

        SQLite answers ``SQLITE_BUSY`` to a journal-mode change at once,
        without calling the busy handler, when processes open a new file
        together; the retry stands in for the busy timeout there.
        """
        deadline = time.monotonic() + self._busy_timeout_s
        delay = 0.002
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                busy = str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY") or (
                    "locked" in str(exc).lower()
                )
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _refuse_foreign_database(self, conn: sqlite3.Connection, operation: str) -> None:
        """Refuse a file that holds another application's tables, before changing it.

        Guards against ``state_dir`` pointing at e.g. Meltano's own ``meltano.db``.
        """
        # One read transaction: another process may create the schema meanwhile.
        conn.execute("BEGIN")
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
            _rollback(conn)
            raise
        conn.execute("COMMIT")
        if version != 0:
            return
        if foreign:
            raise StateStoreError(
                f"{self._path} is a SQLite database of something else (tables: "
                f"{', '.join(foreign[:5])}), not a gruponos-infra state database; "
                "point state_dir at a directory of its own",
                path=self._path,
                operation=operation,
                reason="schema",
            )

    def _ensure_ready(self, operation: str) -> None:
        if self._ready.is_set():
            return
        with self._init_lock:
            if self._ready.is_set():
                return
            directory = self._path.parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateStoreError(
                    f"state database {self._path}: cannot create its directory {directory} "
                    f"({exc.strerror or exc}); point state_dir at a writable directory",
                    path=self._path,
                    operation=operation,
                    reason="unwritable",
                ) from exc
            conn = self._open(operation)
            try:
                self._refuse_foreign_database(conn, operation)
                mode = self._enable_wal(conn)
                if mode.lower() != "wal":
                    _log.warning("state_store_not_wal", path=str(self._path), mode=mode)
                conn.execute("BEGIN IMMEDIATE")
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    _rollback(conn)
                    raise StateStoreError(
                        f"state database {self._path} has schema version {version}, newer than "
                        f"this gruponos-infra understands ({SCHEMA_VERSION}); upgrade "
                        "gruponos-infra or point state_dir elsewhere",
                        path=self._path,
                        operation=operation,
                        reason="schema",
                    )
                for migration in _MIGRATIONS[version:]:
                    for statement in migration:
                        conn.execute(statement)
                if version < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
                if version < SCHEMA_VERSION:
                    _log.info(
                        "state_store_schema_created",
                        path=str(self._path),
                        from_version=version,
                        version=SCHEMA_VERSION,
                    )
            except sqlite3.Error as exc:
                _rollback(conn)
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
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise self._error(exc, operation) from exc
        except BaseException:
            _rollback(conn)
            raise
        finally:
            conn.close()

    # -- rows -> records -------------------------------------------------------
    @staticmethod
    def _run(row: sqlite3.Row) -> RunRecord:
        finished = row["finished_at"]
        return RunRecord(
            id=int(row["id"]),
            job=row["job"],
            context_id=row["context_id"],
            host=row["host"],
            pid=int(row["pid"]),
            status=RunStatus(row["status"]),
            started_at=from_timestamp(row["started_at"]),
            finished_at=None if finished is None else from_timestamp(finished),
            exit_code=row["exit_code"],
            message=row["message"],
        )

    def _lock(self, row: sqlite3.Row, *, now: float | None = None) -> LockInfo:
        expires = row["expires_at"]
        info = LockInfo(
            job=row["job"],
            owner=LockOwner(
                context_id=row["context_id"],
                host=row["host"],
                pid=int(row["pid"]),
                started_at=from_timestamp(row["owner_started_at"]),
            ),
            acquired_at=from_timestamp(row["acquired_at"]),
            expires_at=None if expires is None else from_timestamp(expires),
        )
        if now is None:
            return info
        reason = stale_reason(info, row["process_identity"], now=now, host=self._host)
        return LockInfo(info.job, info.owner, info.acquired_at, info.expires_at, reason)

    # -- runs -----------------------------------------------------------------
    def start_run(
        self,
        job: str,
        context_id: str,
        *,
        host: str,
        pid: int,
        started_at: datetime | None = None,
    ) -> RunRecord:
        """Record that ``job`` started under ``context_id``; the run's record.

        Idempotent: while a run of ``(job, context_id)`` is open, the same
        record is returned (a guard and the preflight block it wraps may both
        start it).
        """
        if not job or not context_id:
            raise ValueError("start_run needs a job name and a context id")
        start = self._clock() if started_at is None else to_timestamp(started_at)
        with self._transaction("start_run") as conn:
            row = conn.execute(
                "SELECT * FROM runs WHERE job = ? AND context_id = ? AND status = 'running'",
                (job, context_id),
            ).fetchone()
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO runs (job, context_id, host, pid, status, started_at)"
                    " VALUES (?, ?, ?, ?, 'running', ?)",
                    (job, context_id, host, pid, start),
                )
                row = conn.execute(
                    "SELECT * FROM runs WHERE id = ?", (cursor.lastrowid,)
                ).fetchone()
                created = True
            else:
                created = False
        record = self._run(row)
        if created:
            _log.info("run_started", job=job, run_id=record.id, context_id=context_id)
        self._auto_prune()
        return record

    def finish_run(
        self,
        run: int | str,
        status: RunStatus | str,
        exit_code: int | None = None,
        message: str = "",
        *,
        job: str | None = None,
        finished_at: datetime | None = None,
    ) -> tuple[RunRecord, ...]:
        """Close open runs: ``run`` is a run id (int) or a context id (str).

        By context id every open run of that context is closed (only those of
        ``job`` when given). Already finished runs are left alone, so calling
        it twice is harmless; the result is empty when nothing was open.
        """
        final = RunStatus(status)
        if not final.final:
            raise ValueError("finish_run needs a final status, not 'running'")
        end = self._clock() if finished_at is None else to_timestamp(finished_at)
        with self._transaction("finish_run") as conn:
            if isinstance(run, int):
                query = "SELECT id FROM runs WHERE id = ? AND status = 'running'"
                params: tuple[Any, ...] = (run,)
            else:
                query = "SELECT id FROM runs WHERE context_id = ? AND status = 'running'"
                params = (run,)
            if job is not None:
                query += " AND job = ?"
                params += (job,)
            ids = [int(r["id"]) for r in conn.execute(query, params)]
            records: list[RunRecord] = []
            for run_id in ids:
                conn.execute(
                    "UPDATE runs SET status = ?, finished_at = ?, exit_code = ?, message = ?"
                    " WHERE id = ?",
                    (final.value, end, exit_code, _clip(message), run_id),
                )
                row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
                records.append(self._run(row))
        for record in records:
            _log.info(
                "run_finished",
                job=record.job,
                run_id=record.id,
                status=record.status.value,
                exit_code=exit_code,
                duration_s=record.duration_s,
            )
        return tuple(records)

    def find_open_run(self, context_id: str, *, job: str | None = None) -> RunRecord | None:
        """The newest still-running run of ``context_id`` (and ``job``), if any."""
        query = "SELECT * FROM runs WHERE context_id = ? AND status = 'running'"
        params: tuple[Any, ...] = (context_id,)
        if job is not None:
            query += " AND job = ?"
            params += (job,)
        with self._transaction("find_open_run", write=False) as conn:
            row = conn.execute(query + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return None if row is None else self._run(row)

    def get_run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        with self._transaction("get_run", write=False) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else self._run(row)

    def recent_runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (of ``job``, or of every job), newest first."""
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if job is not None:
            query += " WHERE job = ?"
            params = (job,)
        query += " ORDER BY started_at DESC, id DESC LIMIT ?"
        with self._transaction("recent_runs", write=False) as conn:
            rows = conn.execute(query, (*params, _check_limit(limit))).fetchall()
        return [self._run(r) for r in rows]

    def last_success(self, job: str) -> RunRecord | None:
        """The successful run of ``job`` that finished last, if any."""
        with self._transaction("last_success", write=False) as conn:
            row = conn.execute(
                "SELECT * FROM runs WHERE job = ? AND status = 'success'"
                " ORDER BY finished_at DESC, id DESC LIMIT 1",
                (job,),
            ).fetchone()
        return None if row is None else self._run(row)

    # -- locks ----------------------------------------------------------------
    def acquire_lock(self, job: str, owner: LockOwner, ttl_s: float | None) -> LockAcquisition:
        """Take ``job``'s run lock for ``owner`` with a lease of ``ttl_s`` seconds.

        ``ttl_s`` of ``None`` or ``0`` means no lease (only a dead process on
        this host frees the lock). Outcomes, decided in one ``BEGIN
        IMMEDIATE`` transaction so exactly one of several racing processes
        wins:

        - free: acquired;
        - held by the same ``context_id``: acquired, ``already_held``, lease
          renewed;
        - held but stale (holder's pid gone or reused on this host, host
          rebooted, or lease expired): taken over, ``reclaimed_from`` names
          the previous owner and its open runs are marked ``abandoned``;
        - held by a live run: refused (falsy, ``error_code == "LOCK_HELD"``,
          ``lock`` names the holder; ``to_result()`` gives a failed Result).
        """
        if not job:
            raise ValueError("acquire_lock needs a job name")
        if ttl_s is not None and ttl_s < 0:
            raise ValueError(f"ttl_s must be >= 0 or None, got {ttl_s}")
        identity = process_identity(owner.pid) if owner.host == self._host else None
        with self._transaction("acquire_lock") as conn:
            now = self._clock()
            expires = now + ttl_s if ttl_s else None
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
            if row is not None and row["context_id"] == owner.context_id:
                conn.execute("UPDATE locks SET expires_at = ? WHERE job = ?", (expires, job))
                held = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
                return LockAcquisition(job, True, self._lock(held), already_held=True)
            previous: LockInfo | None = None
            if row is not None:
                previous = self._lock(row, now=now)
                if previous.stale is None:
                    refused = LockAcquisition(job, False, previous)
                    _log.info(
                        "lock_refused",
                        job=job,
                        holder_context_id=previous.owner.context_id,
                        holder_host=previous.owner.host,
                        holder_pid=previous.owner.pid,
                    )
                    return refused
            conn.execute(
                "INSERT OR REPLACE INTO locks (job, context_id, host, pid, process_identity,"
                " owner_started_at, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job,
                    owner.context_id,
                    owner.host,
                    owner.pid,
                    identity,
                    to_timestamp(owner.started_at),
                    now,
                    expires,
                ),
            )
            abandoned: tuple[int, ...] = ()
            if previous is not None:
                abandoned = tuple(
                    int(r["id"])
                    for r in conn.execute(
                        "SELECT id FROM runs WHERE job = ? AND context_id = ?"
                        " AND status = 'running'",
                        (job, previous.owner.context_id),
                    )
                )
                reason = previous.stale.value if previous.stale else "stale"
                conn.executemany(
                    "UPDATE runs SET status = 'abandoned', finished_at = ?, message = ?"
                    " WHERE id = ?",
                    [
                        (
                            now,
                            f"abandoned: its lock was reclaimed ({reason}) by {owner.describe()}",
                            run_id,
                        )
                        for run_id in abandoned
                    ],
                )
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
        acquisition = LockAcquisition(
            job,
            True,
            self._lock(row),
            reclaimed_from=None if previous is None else previous.owner,
            reclaim_reason=None if previous is None else previous.stale,
            abandoned_run_ids=abandoned,
        )
        if previous is not None:
            _log.warning(
                "lock_reclaimed",
                job=job,
                reason=None if previous.stale is None else previous.stale.value,
                previous_context_id=previous.owner.context_id,
                previous_host=previous.owner.host,
                previous_pid=previous.owner.pid,
                abandoned_runs=list(abandoned),
            )
        else:
            _log.info("lock_acquired", job=job, context_id=owner.context_id)
        return acquisition

    def refresh_lock(self, job: str, context_id: str, ttl_s: float | None) -> bool:
        """Renew the lease of ``context_id``'s lock to now + ``ttl_s`` (None/0: no lease).

        False when ``context_id`` does not hold the lock.
        """
        with self._transaction("refresh_lock") as conn:
            expires = self._clock() + ttl_s if ttl_s else None
            cursor = conn.execute(
                "UPDATE locks SET expires_at = ? WHERE job = ? AND context_id = ?",
                (expires, job, context_id),
            )
        return cursor.rowcount > 0

    def release_lock(self, job: str, context_id: str) -> bool:
        """Release ``job``'s lock if ``context_id`` holds it.

        False when there is nothing to release, or when another run holds it
        (that lock is left untouched): safe to call any number of times.
        """
        with self._transaction("release_lock") as conn:
            cursor = conn.execute(
                "DELETE FROM locks WHERE job = ? AND context_id = ?", (job, context_id)
            )
            released = cursor.rowcount > 0
            other = (
                None
                if released
                else conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
            )
        if released:
            _log.info("lock_released", job=job, context_id=context_id)
        elif other is not None:
            _log.warning(
                "lock_release_refused",
                job=job,
                context_id=context_id,
                holder_context_id=other["context_id"],
            )
        return released

    def release_locks_for_context(self, context_id: str) -> tuple[str, ...]:
        """Release every lock held by ``context_id``; the jobs released, sorted."""
        with self._transaction("release_locks_for_context") as conn:
            jobs = tuple(
                sorted(
                    r["job"]
                    for r in conn.execute(
                        "SELECT job FROM locks WHERE context_id = ?", (context_id,)
                    )
                )
            )
            conn.execute("DELETE FROM locks WHERE context_id = ?", (context_id,))
        if jobs:
            _log.info("locks_released", jobs=list(jobs), context_id=context_id)
        return jobs

    def break_lock(self, job: str) -> LockInfo | None:
        """Remove ``job``'s lock whoever holds it; the removed lock, if any.

        For operators who know the holder is gone (e.g. on another host,
        where pids cannot be checked). Its open runs are left as they are.
        """
        with self._transaction("break_lock") as conn:
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM locks WHERE job = ?", (job,))
        if row is None:
            return None
        info = self._lock(row)
        _log.warning("lock_broken", job=job, holder_context_id=info.owner.context_id)
        return info

    def current_lock(self, job: str) -> LockInfo | None:
        """``job``'s lock with its staleness verdict (``stale``), if locked."""
        with self._transaction("current_lock", write=False) as conn:
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
        return None if row is None else self._lock(row, now=self._clock())

    def all_locks(self) -> list[LockInfo]:
        """Every lock with its staleness verdict, sorted by job."""
        with self._transaction("all_locks", write=False) as conn:
            rows = conn.execute("SELECT * FROM locks ORDER BY job").fetchall()
        now = self._clock()
        return [self._lock(r, now=now) for r in rows]

    # -- health ---------------------------------------------------------------
    def record_health(self, report: HealthReport, *, job: str | None = None) -> int:
        """Store ``report``'s total and per-check summary; the new row's id."""
        checks = [
            {
                "name": r.name,
                "status": r.status.value,
                "message": r.message,
                "duration_s": r.duration_s,
                "critical": r.critical,
            }
            for r in report.results
        ]
        with self._transaction("record_health") as conn:
            cursor = conn.execute(
                "INSERT INTO health_results (recorded_at, report_time, job, status,"
                " duration_s, checks) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._clock(),
                    to_timestamp(report.time),
                    job,
                    report.status.value,
                    report.duration_s,
                    json.dumps(checks, ensure_ascii=False),
                ),
            )
        return int(cursor.lastrowid or 0)

    def recent_health(self, limit: int = 20, *, job: str | None = None) -> list[HealthRecord]:
        """The latest stored reports (of ``job`` when given), newest first."""
        query = "SELECT * FROM health_results"
        params: tuple[Any, ...] = ()
        if job is not None:
            query += " WHERE job = ?"
            params = (job,)
        query += " ORDER BY recorded_at DESC, id DESC LIMIT ?"
        with self._transaction("recent_health", write=False) as conn:
            rows = conn.execute(query, (*params, _check_limit(limit))).fetchall()
        return [
            HealthRecord(
                id=int(r["id"]),
                time=from_timestamp(r["report_time"]),
                job=r["job"],
                status=r["status"],
                duration_s=float(r["duration_s"]),
                checks=tuple(
                    HealthCheckRecord(
                        name=c["name"],
                        status=c["status"],
                        message=c["message"],
                        duration_s=float(c["duration_s"]),
                        critical=bool(c["critical"]),
                    )
                    for c in json.loads(r["checks"])
                ),
            )
            for r in rows
        ]

    # -- alerts ---------------------------------------------------------------
    def should_send(self, key: str, window_s: float) -> bool:
        """True unless ``key`` was sent less than ``window_s`` seconds ago.

        Check and record are one write transaction, so of several processes
        asking at once exactly one gets True. Every decision is kept in the
        alert history. Build ``key`` from non-secret fields only (it is
        stored as is).
        """
        with self._transaction("should_send") as conn:
            now = self._clock()
            last = conn.execute(
                "SELECT MAX(at) FROM alerts WHERE key = ? AND sent = 1 AND forgotten = 0", (key,)
            ).fetchone()[0]
            send = last is None or window_s <= 0 or now - float(last) >= window_s
            conn.execute(
                "INSERT INTO alerts (key, at, sent, window_s) VALUES (?, ?, ?, ?)",
                (key, now, int(send), float(window_s)),
            )
        if not send:
            _log.debug("alert_suppressed", key=key, window_s=window_s)
        return send

    def forget(self, key: str) -> bool:
        """Take back the latest send of ``key`` (it reached no channel).

        The next ``should_send`` for ``key`` is then True again instead of
        being suppressed for a whole window. False if there was nothing to
        take back.
        """
        with self._transaction("forget") as conn:
            cursor = conn.execute(
                "UPDATE alerts SET forgotten = 1 WHERE id = (SELECT MAX(id) FROM alerts"
                " WHERE key = ? AND sent = 1 AND forgotten = 0)",
                (key,),
            )
        return cursor.rowcount > 0

    def alert_history(self, limit: int = 50, *, key: str | None = None) -> list[AlertRecord]:
        """De-duplication decisions (sent and suppressed), newest first."""
        query = "SELECT * FROM alerts"
        params: tuple[Any, ...] = ()
        if key is not None:
            query += " WHERE key = ?"
            params = (key,)
        query += " ORDER BY at DESC, id DESC LIMIT ?"
        with self._transaction("alert_history", write=False) as conn:
            rows = conn.execute(query, (*params, _check_limit(limit))).fetchall()
        return [
            AlertRecord(
                id=int(r["id"]),
                key=r["key"],
                time=from_timestamp(r["at"]),
                sent=bool(r["sent"]),
                window_s=float(r["window_s"]),
                forgotten=bool(r["forgotten"]),
            )
            for r in rows
        ]

    # -- housekeeping ---------------------------------------------------------
    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        """Delete history older than ``retention_days``, at most ``max_rows`` per table.

        Runs go by their end (or start, if never finished); a run whose
        lock is still held is kept whatever its age, and locks are never
        touched. Oldest rows go first, so repeated calls catch up.
        """
        if retention_days < 0:
            raise ValueError(f"retention_days must be >= 0, got {retention_days}")
        with self._transaction("prune") as conn:
            cutoff = self._clock() - retention_days * 86400.0
            runs = conn.execute(
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs r"
                " WHERE COALESCE(r.finished_at, r.started_at) < ?"
                " AND NOT EXISTS (SELECT 1 FROM locks l"
                "  WHERE l.job = r.job AND l.context_id = r.context_id)"
                " ORDER BY r.id LIMIT ?)",
                (cutoff, max_rows),
            ).rowcount
            health = conn.execute(
                "DELETE FROM health_results WHERE id IN (SELECT id FROM health_results"
                " WHERE recorded_at < ? ORDER BY id LIMIT ?)",
                (cutoff, max_rows),
            ).rowcount
            alerts = conn.execute(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts"
                " WHERE at < ? ORDER BY id LIMIT ?)",
                (cutoff, max_rows),
            ).rowcount
        result = PruneResult(runs=runs, health_results=health, alerts=alerts)
        if result.total:
            _log.info(
                "state_pruned",
                runs=runs,
                health_results=health,
                alerts=alerts,
                retention_days=retention_days,
            )
        return result

    def _auto_prune(self) -> None:
        if self._retention_days is None:
            return
        now = self._clock()
        if self._last_auto_prune is not None and now - self._last_auto_prune < (
            _AUTO_PRUNE_INTERVAL_S
        ):
            return
        self._last_auto_prune = now
        try:
            self.prune(self._retention_days)
        except StateStoreError as exc:
            # Housekeeping must never fail the run that triggered it.
            _log.warning("state_prune_failed", path=str(self._path), reason=exc.reason)

    def ping(self) -> None:
        """Open the database (creating it if needed) and read it; raise if unusable."""
        with self._transaction("ping", write=False) as conn:
            conn.execute("SELECT COUNT(*) FROM locks").fetchone()

    def close(self) -> None:
        """Nothing to release: connections live for one operation."""


if TYPE_CHECKING:

    def _conforms(store: SqliteStateStore) -> StateStore:
        # mypy proves here that SqliteStateStore implements the protocol.
        return store
