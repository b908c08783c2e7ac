"""Run locks in the SQLite store: leases with fencing numbers, decided in one transaction."""

from __future__ import annotations

import sqlite3

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.locks import process_identity
from gruponos_ext.state.model import (
    LeaseRenewal,
    LockAcquisition,
    LockInfo,
    LockOwner,
    to_timestamp,
)
from gruponos_ext.state.rows import (
    abandon_message,
    check_lock_request,
    lock_from_row,
    log_acquisition,
    log_release,
    renewal_outcome,
)
from gruponos_ext.state.sqlite.database import SqliteDatabase

__all__ = ["SqliteLocks"]

_log = get_logger("gruponos_ext.state.store")


class SqliteLocks(SqliteDatabase):
    """The lock methods of :class:`~gruponos_ext.state.protocol.StateStore` on SQLite."""

    def _next_fence(self, conn: sqlite3.Connection, job: str) -> int:
        conn.execute(
            "INSERT INTO lock_fences (job, fence) VALUES (?, 1)"
            " ON CONFLICT (job) DO UPDATE SET fence = fence + 1",
            (job,),
        )
        return int(
            conn.execute("SELECT fence FROM lock_fences WHERE job = ?", (job,)).fetchone()[0]
        )

    def acquire_lock(self, job: str, owner: LockOwner, ttl_s: float | None) -> LockAcquisition:
        """Take ``job``'s run lock for ``owner`` with a lease of ``ttl_s`` seconds.

        ``ttl_s`` of ``None`` or ``0`` means no lease (only a dead process on
        this host frees the lock). Outcomes, decided in one ``BEGIN
        IMMEDIATE`` transaction so exactly one of several racing processes
        wins:

        - free: acquired, with the job's next fencing number;
        - held by the same ``context_id``: acquired, ``already_held``, lease
          renewed, fence unchanged;
        - held but stale (holder's pid gone or reused on this machine
          instance, host rebooted, or lease expired): taken over with the next
          fence, ``reclaimed_from`` names the previous owner and its open runs
          are marked ``abandoned``;
        - held by a live run: refused (falsy, ``error_code == "LOCK_HELD"``,
          ``lock`` names the holder; ``to_result()`` gives a failed Result).
        """
        check_lock_request(job, ttl_s)
        local = owner.host == self.hostname
        identity = process_identity(owner.pid) if local else None
        here = self.here
        previous: LockInfo | None = None
        abandoned: tuple[int, ...] = ()
        with self._transaction("acquire_lock") as conn:
            now = self.now()
            expires = now + ttl_s if ttl_s else None
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
            if row is not None and row["context_id"] == owner.context_id:
                conn.execute("UPDATE locks SET expires_at = ? WHERE job = ?", (expires, job))
                held = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
                return LockAcquisition(job, True, lock_from_row(held), already_held=True)
            if row is not None:
                previous = lock_from_row(row, now=now, here=here)
                if previous.stale is None:
                    refused = LockAcquisition(job, False, previous)
                    log_acquisition(refused, previous)
                    return refused
            fence = self._next_fence(conn, job)
            conn.execute(
                "INSERT OR REPLACE INTO locks (job, context_id, host, pid, process_identity,"
                " owner_started_at, acquired_at, expires_at, fence, boot_id, pid_namespace,"
                " machine_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job,
                    owner.context_id,
                    owner.host,
                    owner.pid,
                    identity,
                    to_timestamp(owner.started_at),
                    now,
                    expires,
                    fence,
                    here.boot_id if local else None,
                    here.pid_namespace if local else None,
                    here.machine_id if local else None,
                ),
            )
            if previous is not None:
                abandoned = tuple(
                    int(r["id"])
                    for r in conn.execute(
                        "SELECT id FROM runs WHERE job = ? AND context_id = ?"
                        " AND status = 'running'",
                        (job, previous.owner.context_id),
                    )
                )
                conn.executemany(
                    "UPDATE runs SET status = 'abandoned', finished_at = ?, message = ?"
                    " WHERE id = ?",
                    [(now, abandon_message(previous, owner), run_id) for run_id in abandoned],
                )
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
        acquisition = LockAcquisition(
            job,
            True,
            lock_from_row(row),
            reclaimed_from=None if previous is None else previous.owner,
            reclaim_reason=None if previous is None else previous.stale,
            abandoned_run_ids=abandoned,
        )
        log_acquisition(acquisition, previous)
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
            now = self.now()
            expires = now + ttl_s if ttl_s else None
            query = "UPDATE locks SET expires_at = ? WHERE job = ? AND context_id = ?"
            params: tuple[object, ...] = (expires, job, context_id)
            if fence is not None:
                query += " AND fence = ?"
                params += (fence,)
            renewed = conn.execute(query, params).rowcount > 0
            row = (
                None
                if renewed
                else conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
            )
        return renewal_outcome(job, context_id, renewed, expires, row)

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
        log_release(job, context_id, bool(released), None if other is None else other["context_id"])
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
        where pids cannot be checked). Its open runs are left as they are;
        the holder's next heartbeat finds the lock gone.
        """
        with self._transaction("break_lock") as conn:
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM locks WHERE job = ?", (job,))
        if row is None:
            return None
        info = lock_from_row(row)
        _log.warning("lock_broken", job=job, holder_context_id=info.owner.context_id)
        return info

    def current_lock(self, job: str) -> LockInfo | None:
        """``job``'s lock with its staleness verdict (``stale``), if locked."""
        with self._transaction("current_lock", write=False) as conn:
            row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
        return None if row is None else lock_from_row(row, now=self.now(), here=self.here)

    def all_locks(self) -> list[LockInfo]:
        """Every lock with its staleness verdict, sorted by job."""
        with self._transaction("all_locks", write=False) as conn:
            rows = conn.execute("SELECT * FROM locks ORDER BY job").fetchall()
        now = self.now()
        return [lock_from_row(r, now=now, here=self.here) for r in rows]
