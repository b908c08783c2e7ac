"""Run locks in the SQLite store: leases by this store's clock, under the file's write lock.

Acquisition (see :class:`~gruponos_ext.state.common.locks.StoreLocks`) runs
in one ``BEGIN IMMEDIATE`` transaction: no other process writes the file
until it ends, so reading the job's row needs no row lock and an insert
never loses a race.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from gruponos_ext.state.common.base import Row
from gruponos_ext.state.common.locks import StoreLocks
from gruponos_ext.state.model import to_timestamp
from gruponos_ext.state.sqlite.database import SqliteDatabase

__all__ = ["SqliteLocks"]


class SqliteLocks(StoreLocks[sqlite3.Connection], SqliteDatabase):
    """The lock statements that differ from PostgreSQL's, on SQLite."""

    _LOCK_COLUMNS = "l.*"
    _FOR_UPDATE = ""  # the write transaction already excludes every other writer

    def _lock_clock(self, row: Row) -> float:
        """This store's clock (one SQLite file serves one machine)."""
        return self.now()

    def _insert_lock(self, conn: sqlite3.Connection, values: dict[str, Any]) -> Row:
        """Write the lock (a stale one is replaced) with the job's next fence."""
        conn.execute(
            "INSERT INTO lock_fences (job, fence) VALUES (:job, 1)"
            " ON CONFLICT (job) DO UPDATE SET fence = fence + 1",
            values,
        )
        now = self.now()
        ttl = values["ttl"]
        conn.execute(
            "INSERT OR REPLACE INTO locks (job, context_id, host, pid, process_identity,"
            " owner_started_at, acquired_at, expires_at, fence, boot_id, pid_namespace,"
            " machine_id) SELECT :job, :ctx, :host, :pid, :identity, :owner_started, :now,"
            " :expires, fence, :boot, :pidns, :machine FROM lock_fences WHERE job = :job",
            {
                **values,
                "owner_started": to_timestamp(values["owner_started"]),
                "now": now,
                "expires": now + ttl if ttl else None,
            },
        )
        row: Row = conn.execute("SELECT * FROM locks WHERE job = ?", (values["job"],)).fetchone()
        return row

    _take_over = _insert_lock

    def _renew(
        self,
        conn: sqlite3.Connection,
        job: str,
        context_id: str,
        ttl_s: float | None,
        fence: int | None,
    ) -> Row | None:
        query = "UPDATE locks SET expires_at = ? WHERE job = ? AND context_id = ?"
        params: tuple[object, ...] = (self.now() + ttl_s if ttl_s else None, job, context_id)
        if fence is not None:
            query += " AND fence = ?"
            params += (fence,)
        if conn.execute(query, params).rowcount == 0:
            return None
        row: Row = conn.execute("SELECT * FROM locks WHERE job = ?", (job,)).fetchone()
        return row

    def _abandon_runs(
        self, conn: sqlite3.Connection, job: str, context_id: str, message: str
    ) -> list[int]:
        open_runs = "FROM runs WHERE job = ? AND context_id = ? AND status = 'running'"
        ids = [int(r["id"]) for r in conn.execute(f"SELECT id {open_runs}", (job, context_id))]
        conn.execute(
            f"UPDATE runs SET status = 'abandoned', finished_at = ?, message = ? WHERE id IN"
            f" (SELECT id {open_runs})",
            (self.now(), message, job, context_id),
        )
        return ids

    def _delete_locks(
        self, conn: sqlite3.Connection, where: str, params: tuple[Any, ...]
    ) -> list[Row]:
        """Read the rows, then delete them (no ``RETURNING`` before SQLite 3.35)."""
        rows = conn.execute(self.sql(f"SELECT * FROM {{s}}.locks WHERE {where}"), params).fetchall()
        conn.execute(self.sql(f"DELETE FROM {{s}}.locks WHERE {where}"), params)
        return list(rows)
