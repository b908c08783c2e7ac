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
    LeaseRenewal,
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

    **Rules every implementation keeps** (the contract tests check them):

    - Every check-then-write is one statement or one locked transaction:
      ``acquire_lock`` (exactly one winner among racers), ``start_run`` (one
      open run per ``(job, context_id)``), ``should_send`` (exactly one True).
    - Locks are leases decided by the store's clock (for a shared database,
      the server's ``now()``, never a worker's). Each new holder of a job's
      lock gets a larger fencing number (``LockInfo.fence``); a renewal keeps
      it. Session advisory locks are not used: preflight and dispose are
      different processes, and a frozen holder would keep one forever.
    - A holder's pid is checked only by a process of the same host name,
      boot id and pid namespace
      (:meth:`~gruponos_ext.state.locks.HostIdentity.shares_pids_with`);
      otherwise only the lease frees the lock.
    - Every wait is bounded (busy timeout; connect, lock and statement
      timeouts) and ends in ``StateStoreError``.

    **The lock-loss contract** (what ``guard`` relies on): a holder calls
    ``refresh_lock(job, context_id, ttl_s, fence=...)`` well within its lease
    (``guard`` does every ``ttl_s / 3``). The answer is a
    :class:`~gruponos_ext.state.model.LeaseRenewal`: truthy while the caller
    holds the lock (new ``expires_at``); falsy when it is lost, with
    ``lost`` = ``taken`` (another run holds it now: ``holder``) or ``gone``
    (broken or released). A lost lock means another run may be doing the
    same work: stop the child. ``StateStoreError`` means the store did not
    answer: the lock is still ours until the lease that the last successful
    renewal returned runs out, after which it must be treated as lost
    (:class:`~gruponos_ext.state.lease.LeaseKeeper` does this bookkeeping).
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

    def refresh_lock(
        self, job: str, context_id: str, ttl_s: float | None, *, fence: int | None = None
    ) -> LeaseRenewal:
        """Extend the holder's lease to ``now + ttl_s``; falsy (with why) if not the holder.

        With ``fence``, only the holder with that fencing number renews.
        """
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

    def ping(self) -> str:
        """Connect, check the schema and make a round trip; raise ``StateStoreError`` if unusable.

        SQLite: the file opens, ``quick_check`` passes and a write is
        possible. PostgreSQL: the server answers and our schema is there.
        Returns what was checked, in one line for people.
        """
        ...

    def close(self) -> None:
        """Release pooled resources, if any."""
        ...
