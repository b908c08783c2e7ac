"""The :class:`StateStore` interface: what preflight, dispose, guard and history need.

:class:`~gruponos_ext.state.store.SqliteStateStore` implements it for one
machine. Runs spread over several machines (Airflow workers, several cron
hosts) need one shared database instead; see :class:`StateStore`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gruponos_ext.state.model import (
    DEFAULT_PRUNE_BATCH,
    AlertRecord,
    HealthRecord,
    LockAcquisition,
    LockInfo,
    LockOwner,
    PruneResult,
    RunRecord,
    RunStatus,
)

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["AlertDeduplicator", "StateStore"]


@runtime_checkable
class AlertDeduplicator(Protocol):
    """Decides whether an alert is sent, across processes and runs."""

    def should_send(self, key: str, window_s: float) -> bool:
        """True at most once per ``key`` within ``window_s`` seconds, atomically.

        The check and the record happen in one transaction: two processes
        asking at once for the same key get exactly one True.
        """
        ...


@runtime_checkable
class StateStore(AlertDeduplicator, Protocol):
    """Runs, run locks, health results and alert history of a Meltano project.

    Every method may raise :class:`~gruponos_ext.state.model.StateStoreError`
    (code ``STATE_STORE_ERROR``) when the database cannot be used; a refused
    lock is *not* an error but a falsy
    :class:`~gruponos_ext.state.model.LockAcquisition` (code ``LOCK_HELD``).
    Implementations are safe to share between threads and processes and open
    nothing in their constructor.

    **A shared database** (e.g. PostgreSQL, when Airflow workers on several
    machines run the same jobs) implements this protocol with the same four
    tables and these rules:

    - ``acquire_lock`` in one transaction: ``INSERT ... ON CONFLICT (job) DO
      NOTHING``, then ``SELECT ... FOR UPDATE`` the row; reclaim or refuse as
      here. Do not use session advisory locks: preflight and dispose are
      different processes, so the lock must outlive the connection.
    - A holder's pid can only be checked on its own host, so across machines
      a dead run's lock goes stale by its lease alone: keep ``ttl_s`` modest
      and have long runs call ``refresh_lock`` periodically (a heartbeat).
    - ``should_send`` as one statement: ``INSERT ... ON CONFLICT (key) DO
      UPDATE SET last_sent = now() WHERE last_sent < now() - window
      RETURNING``, a row back meaning "send".
    - Take times from the database server (``now()``), not from each
      worker's clock, so lease and window arithmetic share one clock.

    The settings then name the store (e.g. a ``state_uri``), and the
    container registers that implementation instead of ``SqliteStateStore``;
    nothing above the store changes.
    """

    # -- runs ---------------------------------------------------------------
    def start_run(
        self,
        job: str,
        context_id: str,
        *,
        host: str,
        pid: int,
        started_at: datetime | None = None,
    ) -> RunRecord:
        """Record the start of a run (idempotent per open ``(job, context_id)``)."""
        ...

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
        """Close open runs by id (int) or context id (str); empty when none was open."""
        ...

    def find_open_run(self, context_id: str, *, job: str | None = None) -> RunRecord | None:
        """The newest still-running run of ``context_id`` (and ``job``), if any."""
        ...

    def get_run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        ...

    def recent_runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """Newest first."""
        ...

    def last_success(self, job: str) -> RunRecord | None:
        """The most recently finished successful run of ``job``."""
        ...

    # -- locks --------------------------------------------------------------
    def acquire_lock(self, job: str, owner: LockOwner, ttl_s: float | None) -> LockAcquisition:
        """Take ``job``'s run lock; reclaim it if stale; refuse if a live run holds it."""
        ...

    def refresh_lock(self, job: str, context_id: str, ttl_s: float | None) -> bool:
        """Extend the owner's lease to ``now + ttl_s``; False if not the owner."""
        ...

    def release_lock(self, job: str, context_id: str) -> bool:
        """Release ``job``'s lock if ``context_id`` owns it; False otherwise (idempotent)."""
        ...

    def release_locks_for_context(self, context_id: str) -> tuple[str, ...]:
        """Release every lock ``context_id`` owns; the released job names."""
        ...

    def break_lock(self, job: str) -> LockInfo | None:
        """Remove ``job``'s lock whoever holds it (operator action); the removed lock."""
        ...

    def current_lock(self, job: str) -> LockInfo | None:
        """``job``'s lock with the store's staleness verdict, if any."""
        ...

    def all_locks(self) -> list[LockInfo]:
        """Every stored lock, by job name."""
        ...

    # -- health and alerts ----------------------------------------------------
    def record_health(self, report: HealthReport, *, job: str | None = None) -> int:
        """Store a health report's summary; its id."""
        ...

    def recent_health(self, limit: int = 20, *, job: str | None = None) -> list[HealthRecord]:
        """Newest first."""
        ...

    def forget(self, key: str) -> bool:
        """Take back the latest send of ``key`` (it reached no channel); False if none."""
        ...

    def alert_history(self, limit: int = 50, *, key: str | None = None) -> list[AlertRecord]:
        """De-duplication decisions, newest first."""
        ...

    # -- housekeeping -------------------------------------------------------
    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        """Delete finished runs, health results and alert records older than the retention."""
        ...

    def ping(self) -> None:
        """Open the database and check its schema; raise ``StateStoreError`` if unusable."""
        ...

    def close(self) -> None:
        """Release pooled resources, if any."""
        ...
