"""Run locks of both stores: leases with fencing numbers, decided in one transaction.

A lock is a row of ``locks`` (never a session advisory lock: preflight and
dispose are different processes, and a frozen holder would keep one
forever). Written once here: the flow of ``acquire_lock`` (free, re-entrant,
stale and reclaimed, refused), the renewal and release rules, rows to
:class:`~gruponos_ext.state.model.LockInfo` with the staleness verdict, and
the log lines. Each store supplies the writes that differ (taking a free or
stale lock with the job's next fence, extending a lease, abandoning the old
holder's runs, deleting rows it must report) and the clock staleness is
judged by (:meth:`StoreLocks._lock_clock`): SQLite's own clock, PostgreSQL's
``clock_timestamp()``.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.common.base import C, Row, StoreBase
from gruponos_ext.state.locks import HostIdentity, process_identity, stale_reason
from gruponos_ext.state.model import (
    LeaseRenewal,
    LockAcquisition,
    LockInfo,
    LockLoss,
    LockOwner,
    to_time,
)

__all__ = ["StoreLocks", "holder_identity", "lock_from_row"]

_log = get_logger("gruponos_ext.state")


def holder_identity(row: Row) -> HostIdentity:
    """The identity of the host that took the lock in ``row``."""
    return HostIdentity(row["host"], row["boot_id"], row["pid_namespace"], row["machine_id"])


def lock_from_row(
    row: Row, *, now: float | datetime | None = None, here: HostIdentity | None = None
) -> LockInfo:
    """The lock in ``row``; with ``now`` and ``here``, its staleness verdict too."""
    expires = row["expires_at"]
    info = LockInfo(
        job=row["job"],
        owner=LockOwner(
            context_id=row["context_id"],
            host=row["host"],
            pid=int(row["pid"]),
            started_at=to_time(row["owner_started_at"]),
        ),
        acquired_at=to_time(row["acquired_at"]),
        expires_at=None if expires is None else to_time(expires),
        fence=int(row["fence"] or 0),
    )
    if now is None or here is None:
        return info
    at = now.timestamp() if isinstance(now, datetime) else float(now)
    reason = stale_reason(
        info, row["process_identity"], now=at, here=here, holder=holder_identity(row)
    )
    return LockInfo(info.job, info.owner, info.acquired_at, info.expires_at, reason, info.fence)


def _abandon_message(previous: LockInfo, owner: LockOwner) -> str:
    """What an abandoned run's record says about who reclaimed its lock."""
    reason = previous.stale.value if previous.stale else "stale"
    return f"abandoned: its lock was reclaimed ({reason}) by {owner.describe()}"


def _log_acquisition(acquisition: LockAcquisition, previous: LockInfo | None) -> None:
    """The log line of a lock decision (refused, reclaimed or acquired)."""
    job = acquisition.job
    if not acquisition.acquired:
        holder = acquisition.lock.owner
        _log.info(
            "lock_refused",
            job=job,
            holder_context_id=holder.context_id,
            holder_host=holder.host,
            holder_pid=holder.pid,
        )
    elif previous is not None:
        _log.warning(
            "lock_reclaimed",
            job=job,
            reason=None if previous.stale is None else previous.stale.value,
            previous_context_id=previous.owner.context_id,
            previous_host=previous.owner.host,
            previous_pid=previous.owner.pid,
            fence=acquisition.lock.fence,
            abandoned_runs=list(acquisition.abandoned_run_ids),
        )
    elif not acquisition.already_held:
        _log.info(
            "lock_acquired",
            job=job,
            context_id=acquisition.lock.owner.context_id,
            fence=acquisition.lock.fence,
        )


class StoreLocks(StoreBase[C]):
    """The lock methods of :class:`~gruponos_ext.state.protocol.StateStore`."""

    _LOCK_COLUMNS: ClassVar[str]
    """What a read of ``locks l`` selects: ``l.*`` and whatever :meth:`_lock_clock` needs."""
    _FOR_UPDATE: ClassVar[str]
    """What makes a read lock the row until the transaction ends ("" where writes lock all)."""

    # -- what each store supplies ------------------------------------------------------
    @abstractmethod
    def _lock_clock(self, row: Row) -> float | datetime:
        """The store's time at which ``row`` (read with ``_LOCK_COLUMNS``) is judged."""

    @abstractmethod
    def _insert_lock(self, conn: C, values: dict[str, Any]) -> Row | None:
        """Insert the lock of ``values`` (see :meth:`_lock_values`) under the job's next fence.

        None when another process inserted the job's lock first.
        """

    @abstractmethod
    def _take_over(self, conn: C, values: dict[str, Any]) -> Row:
        """Replace the job's (locked, stale) row with ``values``, under the job's next fence."""

    @abstractmethod
    def _renew(
        self, conn: C, job: str, context_id: str, ttl_s: float | None, fence: int | None
    ) -> Row | None:
        """Extend the lease of ``context_id``'s lock (``fence``'s, when given) to now + ``ttl_s``.

        The renewed row; None when ``context_id`` (with ``fence``) does not hold it.
        """

    @abstractmethod
    def _abandon_runs(self, conn: C, job: str, context_id: str, message: str) -> list[int]:
        """Mark ``context_id``'s open runs of ``job`` abandoned with ``message``; their ids."""

    @abstractmethod
    def _delete_locks(self, conn: C, where: str, params: tuple[Any, ...]) -> list[Row]:
        """Delete the locks matching ``where`` (``%s`` style); the rows deleted."""

    # -- shared ------------------------------------------------------------------------
    def _lock_values(self, job: str, owner: LockOwner, ttl_s: float | None) -> dict[str, Any]:
        """The columns of ``owner``'s lock on ``job``; the machine instance only if local."""
        local = owner.host == self.hostname
        here = self.here
        return {
            "job": job,
            "ctx": owner.context_id,
            "host": owner.host,
            "pid": owner.pid,
            "identity": process_identity(owner.pid) if local else None,
            "owner_started": owner.started_at,
            "ttl": float(ttl_s or 0),
            "boot": here.boot_id if local else None,
            "pidns": here.pid_namespace if local else None,
            "machine": here.machine_id if local else None,
        }

    def _lock_row(self, conn: C, job: str, *, for_update: bool = False) -> Row | None:
        lock = self._FOR_UPDATE if for_update else ""
        query = f"SELECT {self._LOCK_COLUMNS} FROM {{s}}.locks l WHERE l.job = %s{lock}"
        row: Row | None = conn.execute(self.sql(query), (job,)).fetchone()
        return row

    def _judged(self, row: Row) -> LockInfo:
        return lock_from_row(row, now=self._lock_clock(row), here=self.here)

    def acquire_lock(self, job: str, owner: LockOwner, ttl_s: float | None) -> LockAcquisition:
        """Take ``job``'s run lock for ``owner`` with a lease of ``ttl_s`` seconds.

        ``ttl_s`` of ``None`` or ``0`` means no lease (only a dead process on
        this host frees the lock). Outcomes, decided in one transaction so
        exactly one of several racing processes wins:

        - free: acquired, with the job's next fencing number;
        - held by the same ``context_id``: acquired, ``already_held``, lease
          renewed, fence unchanged;
        - held but stale (holder's pid gone or reused on this machine
          instance, host rebooted, or lease expired by the store's clock):
          taken over with the next fence, ``reclaimed_from`` names the
          previous owner and its open runs are marked ``abandoned``;
        - held by a live run: refused (falsy, ``error_code == "LOCK_HELD"``,
          ``lock`` names the holder; ``to_result()`` gives a failed Result),
          and nothing is written.
        """
        if not job:
            raise ValueError("acquire_lock needs a job name")
        if ttl_s is not None and ttl_s < 0:
            raise ValueError(f"ttl_s must be >= 0 or None, got {ttl_s}")
        values = self._lock_values(job, owner, ttl_s)
        with self._transaction("acquire_lock") as conn:
            row = self._lock_row(conn, job, for_update=True)
            if row is None:
                taken = self._insert_lock(conn, values)
                if taken is not None:
                    acquisition = LockAcquisition(job, True, lock_from_row(taken))
                    _log_acquisition(acquisition, None)
                    return acquisition
                # Another process inserted it meanwhile: wait for it and judge its row.
                row = self._lock_row(conn, job, for_update=True)
                if row is None:  # and already released it: the caller may simply retry
                    conn.rollback()
                    return self.acquire_lock(job, owner, ttl_s)
            if row["context_id"] == owner.context_id:
                held = self._renew(conn, job, owner.context_id, ttl_s, None)
                assert held is not None  # the row is ours and locked by this transaction
                return LockAcquisition(job, True, lock_from_row(held), already_held=True)
            previous = self._judged(row)
            if previous.stale is None:
                conn.rollback()  # nothing to write: a refusal leaves no trace
                refused = LockAcquisition(job, False, previous)
                _log_acquisition(refused, previous)
                return refused
            taken = self._take_over(conn, values)
            abandoned = self._abandon_runs(
                conn, job, previous.owner.context_id, _abandon_message(previous, owner)
            )
        acquisition = LockAcquisition(
            job,
            True,
            lock_from_row(taken),
            reclaimed_from=previous.owner,
            reclaim_reason=previous.stale,
            abandoned_run_ids=tuple(sorted(abandoned)),
        )
        _log_acquisition(acquisition, previous)
        return acquisition

    def refresh_lock(
        self, job: str, context_id: str, ttl_s: float | None, *, fence: int | None = None
    ) -> LeaseRenewal:
        """Renew the lease of ``context_id``'s lock to now + ``ttl_s`` (None/0: no lease).

        With ``fence``, only the holder of that fencing number renews. The
        renewal is falsy when the caller no longer holds the lock; ``lost``
        then says whether another run took it or it was broken.
        """
        with self._transaction("refresh_lock") as conn:
            renewed = self._renew(conn, job, context_id, ttl_s, fence)
            row = None if renewed is not None else self._lock_row(conn, job)
        if renewed is not None:
            expires = renewed["expires_at"]
            until = None if expires is None else to_time(expires)
            return LeaseRenewal(job, context_id, True, until)
        holder = None if row is None else lock_from_row(row)
        lost = LockLoss.GONE if holder is None else LockLoss.TAKEN
        _log.error("run_lock_lost", job=job, context_id=context_id, lost=lost)
        return LeaseRenewal(job, context_id, False, lost=lost, holder=holder)

    def release_lock(self, job: str, context_id: str) -> bool:
        """Release ``job``'s lock if ``context_id`` holds it.

        False when there is nothing to release, or when another run holds it
        (that lock is left untouched): safe to call any number of times.
        """
        with self._transaction("release_lock") as conn:
            released = bool(
                self._delete_locks(conn, "job = %s AND context_id = %s", (job, context_id))
            )
            other = None if released else self._lock_row(conn, job)
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
            rows = self._delete_locks(conn, "context_id = %s", (context_id,))
        jobs = tuple(sorted(r["job"] for r in rows))
        if jobs:
            _log.info("locks_released", jobs=list(jobs), context_id=context_id)
        return jobs

    def break_lock(self, job: str) -> LockInfo | None:
        """Remove ``job``'s lock whoever holds it; the removed lock, if any.

        For operators who know the holder is gone (e.g. on another host,
        where pids cannot be checked). Its open runs are left as they are;
        the holder's next heartbeat finds the lock gone.
        """
        with self._transaction("break_lock") as conn:
            rows = self._delete_locks(conn, "job = %s", (job,))
        if not rows:
            return None
        info = lock_from_row(rows[0])
        _log.warning("lock_broken", job=job, holder_context_id=info.owner.context_id)
        return info

    def current_lock(self, job: str) -> LockInfo | None:
        """``job``'s lock with its staleness verdict (``stale``) by the store's clock, if locked."""
        with self._transaction("current_lock", write=False) as conn:
            row = self._lock_row(conn, job)
        return None if row is None else self._judged(row)

    def all_locks(self) -> list[LockInfo]:
        """Every lock with its staleness verdict, sorted by job."""
        query = f"SELECT {self._LOCK_COLUMNS} FROM {{s}}.locks l ORDER BY l.job"
        with self._transaction("all_locks", write=False) as conn:
            rows = conn.execute(self.sql(query)).fetchall()
        return [self._judged(r) for r in rows]
