"""Run locks in the PostgreSQL store: lease rows decided by the server's clock, with fences.

Acquisition (see :class:`~gruponos_ext.state.common.locks.StoreLocks`) locks
the job's row with ``SELECT ... FOR UPDATE``, or inserts it with ``INSERT
... ON CONFLICT DO NOTHING`` when there is none; the row is taken over only
when its lease has run out by ``clock_timestamp()`` (the server's time) or
its holder is provably gone on this very machine instance. Each new holder
gets the job's next fencing number from ``lock_fences`` in the same
statement; a refused attempt rolls back and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gruponos_ext.state.common.base import Row
from gruponos_ext.state.common.locks import StoreLocks
from gruponos_ext.state.postgres.database import PgConnection, PostgresDatabase

__all__ = ["PostgresLocks"]

# The lease end for a ttl in seconds (NULL: no lease), by the server's clock.
_EXPIRY = "CASE WHEN %(ttl)s::float8 > 0 THEN clock_timestamp() + make_interval(secs => %(ttl)s::float8) END"  # noqa: E501
# The job's next fencing number, as the CTE ``f`` of the statement that writes the lock.
_NEXT_FENCE = (
    "WITH f AS (INSERT INTO {s}.lock_fences (job, fence) VALUES (%(job)s, 1)"
    " ON CONFLICT (job) DO UPDATE SET fence = {s}.lock_fences.fence + 1 RETURNING fence) "
)


class PostgresLocks(StoreLocks[PgConnection], PostgresDatabase):
    """The lock statements that differ from SQLite's, on PostgreSQL."""

    _LOCK_COLUMNS = "l.*, clock_timestamp() AS server_now"
    _FOR_UPDATE = " FOR UPDATE"

    def _lock_clock(self, row: Row) -> datetime:
        """The server's time, read with the row."""
        now: datetime = row["server_now"]
        return now

    def _insert_lock(self, conn: PgConnection, values: dict[str, Any]) -> Row | None:
        return conn.execute(
            self.sql(
                _NEXT_FENCE + "INSERT INTO {s}.locks (job, context_id, host, pid, process_identity,"
                " owner_started_at, acquired_at, expires_at, fence, boot_id, pid_namespace,"
                " machine_id) SELECT %(job)s, %(ctx)s, %(host)s, %(pid)s, %(identity)s,"
                f" %(owner_started)s, clock_timestamp(), {_EXPIRY}, f.fence, %(boot)s,"
                " %(pidns)s, %(machine)s FROM f ON CONFLICT (job) DO NOTHING RETURNING *"
            ),
            values,
        ).fetchone()

    def _take_over(self, conn: PgConnection, values: dict[str, Any]) -> Row:
        row = conn.execute(
            self.sql(
                _NEXT_FENCE + "UPDATE {s}.locks SET context_id = %(ctx)s, host = %(host)s,"
                " pid = %(pid)s, process_identity = %(identity)s,"
                f" owner_started_at = %(owner_started)s, acquired_at = clock_timestamp(),"
                f" expires_at = {_EXPIRY}, fence = f.fence, boot_id = %(boot)s,"
                " pid_namespace = %(pidns)s, machine_id = %(machine)s"
                " FROM f WHERE {s}.locks.job = %(job)s RETURNING {s}.locks.*"
            ),
            values,
        ).fetchone()
        assert row is not None  # the row is locked FOR UPDATE by this transaction
        return row

    def _renew(
        self,
        conn: PgConnection,
        job: str,
        context_id: str,
        ttl_s: float | None,
        fence: int | None,
    ) -> Row | None:
        """``UPDATE ... WHERE job AND context_id [AND fence] RETURNING *``, by server time."""
        query = (
            f"UPDATE {{s}}.locks SET expires_at = {_EXPIRY}"
            " WHERE job = %(job)s AND context_id = %(ctx)s"
        )
        if fence is not None:
            query += " AND fence = %(fence)s"
        p = {"job": job, "ctx": context_id, "ttl": float(ttl_s or 0), "fence": fence}
        return conn.execute(self.sql(query + " RETURNING *"), p).fetchone()

    def _abandon_runs(
        self, conn: PgConnection, job: str, context_id: str, message: str
    ) -> list[int]:
        rows = conn.execute(
            self.sql(
                "UPDATE {s}.runs SET status = 'abandoned', finished_at = clock_timestamp(),"
                " message = %s WHERE job = %s AND context_id = %s AND status = 'running'"
                " RETURNING id"
            ),
            (message, job, context_id),
        ).fetchall()
        return [int(r["id"]) for r in rows]

    def _delete_locks(self, conn: PgConnection, where: str, params: tuple[Any, ...]) -> list[Row]:
        query = self.sql(f"DELETE FROM {{s}}.locks WHERE {where} RETURNING *")
        return list(conn.execute(query, params).fetchall())
