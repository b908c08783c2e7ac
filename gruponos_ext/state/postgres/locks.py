"""Run locks in the PostgreSQL store: lease rows decided by the server's clock, with fences.

A lock is a row of ``locks`` (never a session advisory lock: preflight and
dispose are different processes, and a frozen holder would keep one
forever). Acquisition is one transaction: ``SELECT ... FOR UPDATE`` of the
job's row, or ``INSERT ... ON CONFLICT DO NOTHING`` when there is none; the
row is taken over only when its lease has run out by ``clock_timestamp()``
(the server's time) or its holder is provably gone on this very machine
instance. Each new holder gets the job's next fencing number from
``lock_fences``; a refused attempt rolls back and writes nothing.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.locks import process_identity
from gruponos_ext.state.model import (
    LeaseRenewal,
    LockAcquisition,
    LockInfo,
    LockOwner,
)
from gruponos_ext.state.postgres.database import PostgresDatabase
from gruponos_ext.state.rows import (
    abandon_message,
    check_lock_request,
    lock_from_row,
    log_acquisition,
    log_release,
    renewal_outcome,
)

__all__ = ["PostgresLocks"]

_log = get_logger("gruponos_ext.state.postgres")

# The lease end for a ttl in seconds (NULL: no lease), by the server's clock.
_EXPIRY = "CASE WHEN %(ttl)s::float8 > 0 THEN clock_timestamp() + make_interval(secs => %(ttl)s::float8) END"  # noqa: E501
_SELECT_LOCK = "SELECT l.*, clock_timestamp() AS server_now FROM {s}.locks l WHERE l.job = %(job)s"


class PostgresLocks(PostgresDatabase):
    """The lock methods of :class:`~gruponos_ext.state.protocol.StateStore` on PostgreSQL."""

    def _row_params(self, job: str, owner: LockOwner, ttl_s: float | None) -> dict[str, Any]:
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

    def _take_fresh(self, conn: Connection[dict[str, Any]], p: dict[str, Any]) -> Any:
        """Insert the lock when the job has none; None when another process got there first."""
        return conn.execute(
            self.t(
                "WITH f AS (INSERT INTO {s}.lock_fences (job, fence) VALUES (%(job)s, 1)"
                " ON CONFLICT (job) DO UPDATE SET fence = {s}.lock_fences.fence + 1"
                " RETURNING fence)"
                " INSERT INTO {s}.locks (job, context_id, host, pid, process_identity,"
                " owner_started_at, acquired_at, expires_at, fence, boot_id, pid_namespace,"
                " machine_id) SELECT %(job)s, %(ctx)s, %(host)s, %(pid)s, %(identity)s,"
                f" %(owner_started)s, clock_timestamp(), {_EXPIRY}, f.fence, %(boot)s,"
                " %(pidns)s, %(machine)s FROM f ON CONFLICT (job) DO NOTHING RETURNING *"
            ),
            p,
        ).fetchone()

    def _take_over(self, conn: Connection[dict[str, Any]], p: dict[str, Any]) -> Any:
        """Replace the (locked, stale) row with ours, under the job's next fence."""
        return conn.execute(
            self.t(
                "WITH f AS (INSERT INTO {s}.lock_fences (job, fence) VALUES (%(job)s, 1)"
                " ON CONFLICT (job) DO UPDATE SET fence = {s}.lock_fences.fence + 1"
                " RETURNING fence)"
                " UPDATE {s}.locks SET context_id = %(ctx)s, host = %(host)s, pid = %(pid)s,"
                " process_identity = %(identity)s, owner_started_at = %(owner_started)s,"
                f" acquired_at = clock_timestamp(), expires_at = {_EXPIRY}, fence = f.fence,"
                " boot_id = %(boot)s, pid_namespace = %(pidns)s, machine_id = %(machine)s"
                " FROM f WHERE {s}.locks.job = %(job)s RETURNING {s}.locks.*"
            ),
            p,
        ).fetchone()

    def acquire_lock(self, job: str, owner: LockOwner, ttl_s: float | None) -> LockAcquisition:
        """Take ``job``'s run lock for ``owner`` with a lease of ``ttl_s`` seconds.

        The outcomes are those of the SQLite store (free, re-entrant, stale
        and reclaimed, refused); staleness is judged at the server's time.
        """
        check_lock_request(job, ttl_s)
        p = self._row_params(job, owner, ttl_s)
        previous: LockInfo | None = None
        abandoned: tuple[int, ...] = ()
        with self._transaction("acquire_lock") as conn:
            row = conn.execute(self.t(_SELECT_LOCK + " FOR UPDATE"), p).fetchone()
            if row is None:
                taken = self._take_fresh(conn, p)
                if taken is not None:
                    acquisition = LockAcquisition(job, True, lock_from_row(taken))
                    log_acquisition(acquisition, None)
                    return acquisition
                # Another process inserted it meanwhile: wait for it and judge its row.
                row = conn.execute(self.t(_SELECT_LOCK + " FOR UPDATE"), p).fetchone()
                if row is None:  # and already released it: the caller may simply retry
                    conn.rollback()
                    return self.acquire_lock(job, owner, ttl_s)
            if row["context_id"] == owner.context_id:
                held = conn.execute(
                    self.t(
                        f"UPDATE {{s}}.locks SET expires_at = {_EXPIRY} WHERE job = %(job)s"
                        " RETURNING *"
                    ),
                    p,
                ).fetchone()
                assert held is not None  # the row is locked FOR UPDATE by this transaction
                return LockAcquisition(job, True, lock_from_row(held), already_held=True)
            previous = lock_from_row(row, now=row["server_now"], here=self.here)
            if previous.stale is None:
                conn.rollback()  # nothing to write: a refusal leaves no trace
                refused = LockAcquisition(job, False, previous)
                log_acquisition(refused, previous)
                return refused
            taken = self._take_over(conn, p)
            abandoned = tuple(
                int(r["id"])
                for r in conn.execute(
                    self.t(
                        "UPDATE {s}.runs SET status = 'abandoned',"
                        " finished_at = clock_timestamp(), message = %s"
                        " WHERE job = %s AND context_id = %s AND status = 'running' RETURNING id"
                    ),
                    (abandon_message(previous, owner), job, previous.owner.context_id),
                ).fetchall()
            )
        acquisition = LockAcquisition(
            job,
            True,
            lock_from_row(taken),
            reclaimed_from=previous.owner,
            reclaim_reason=previous.stale,
            abandoned_run_ids=tuple(sorted(abandoned)),
        )
        log_acquisition(acquisition, previous)
        return acquisition

    def refresh_lock(
        self, job: str, context_id: str, ttl_s: float | None, *, fence: int | None = None
    ) -> LeaseRenewal:
        """Renew the lease of ``context_id``'s lock (``fence``'s, when given), by server time.

        ``UPDATE ... WHERE job AND context_id [AND fence]``: a holder whose
        lock was taken over renews nothing and is told so (``lost``).
        """
        query = (
            f"UPDATE {{s}}.locks SET expires_at = {_EXPIRY}"
            " WHERE job = %(job)s AND context_id = %(ctx)s"
        )
        if fence is not None:
            query += " AND fence = %(fence)s"
        p = {"job": job, "ctx": context_id, "ttl": float(ttl_s or 0), "fence": fence}
        with self._transaction("refresh_lock") as conn:
            renewed = conn.execute(self.t(query + " RETURNING expires_at"), p).fetchone()
            row = None if renewed else conn.execute(self.t(_SELECT_LOCK), p).fetchone()
        expires = None if renewed is None else renewed["expires_at"]
        return renewal_outcome(job, context_id, renewed is not None, expires, row)

    def release_lock(self, job: str, context_id: str) -> bool:
        """Release ``job``'s lock if ``context_id`` holds it; False otherwise (idempotent)."""
        with self._transaction("release_lock") as conn:
            released = conn.execute(
                self.t("DELETE FROM {s}.locks WHERE job = %s AND context_id = %s RETURNING job"),
                (job, context_id),
            ).fetchone()
            other = (
                None
                if released
                else conn.execute(
                    self.t("SELECT context_id FROM {s}.locks WHERE job = %s"), (job,)
                ).fetchone()
            )
        log_release(job, context_id, bool(released), None if other is None else other["context_id"])
        return released is not None

    def release_locks_for_context(self, context_id: str) -> tuple[str, ...]:
        """Release every lock held by ``context_id``; the jobs released, sorted."""
        with self._transaction("release_locks_for_context") as conn:
            rows = conn.execute(
                self.t("DELETE FROM {s}.locks WHERE context_id = %s RETURNING job"), (context_id,)
            ).fetchall()
        jobs = tuple(sorted(r["job"] for r in rows))
        if jobs:
            _log.info("locks_released", jobs=list(jobs), context_id=context_id)
        return jobs

    def break_lock(self, job: str) -> LockInfo | None:
        """Remove ``job``'s lock whoever holds it; the removed lock, if any."""
        with self._transaction("break_lock") as conn:
            row = conn.execute(
                self.t("DELETE FROM {s}.locks WHERE job = %s RETURNING *"), (job,)
            ).fetchone()
        if row is None:
            return None
        info = lock_from_row(row)
        _log.warning("lock_broken", job=job, holder_context_id=info.owner.context_id)
        return info

    def current_lock(self, job: str) -> LockInfo | None:
        """``job``'s lock with its staleness verdict at the server's time, if locked."""
        with self._transaction("current_lock", write=False) as conn:
            row = conn.execute(self.t(_SELECT_LOCK), {"job": job}).fetchone()
        return None if row is None else lock_from_row(row, now=row["server_now"], here=self.here)

    def all_locks(self) -> list[LockInfo]:
        """Every lock with its staleness verdict, sorted by job."""
        with self._transaction("all_locks", write=False) as conn:
            rows = conn.execute(
                self.t("SELECT l.*, clock_timestamp() AS server_now FROM {s}.locks l ORDER BY job")
            ).fetchall()
        return [lock_from_row(r, now=r["server_now"], here=self.here) for r in rows]
