"""Run records in the SQLite store: opening and closing runs under the file's write lock.

Every write transaction is ``BEGIN IMMEDIATE``, so a check and the write it
decides are atomic across processes; times are this store's clock.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from gruponos_ext.state.common.base import Row
from gruponos_ext.state.common.runs import StoreRuns
from gruponos_ext.state.model import to_timestamp
from gruponos_ext.state.sqlite.database import SqliteDatabase

__all__ = ["SqliteRuns"]


class SqliteRuns(StoreRuns[sqlite3.Connection], SqliteDatabase):
    """The run statements that differ from PostgreSQL's, on SQLite."""

    def _open_run(self, conn: sqlite3.Connection, run: dict[str, Any]) -> tuple[Row, bool]:
        """The open run if there is one, else a new one (check and insert: one transaction)."""
        row = conn.execute(
            "SELECT * FROM runs WHERE job = :job AND context_id = :ctx AND status = 'running'",
            run,
        ).fetchone()
        if row is not None:
            return row, False
        started = run["started_at"]
        cursor = conn.execute(
            "INSERT INTO runs (job, context_id, host, pid, status, started_at)"
            " VALUES (:job, :ctx, :host, :pid, 'running', :start)",
            {**run, "start": self.now() if started is None else to_timestamp(started)},
        )
        return conn.execute("SELECT * FROM runs WHERE id = ?", (cursor.lastrowid,)).fetchone(), True

    def _close_runs(
        self, conn: sqlite3.Connection, where: str, values: dict[str, Any]
    ) -> list[Row]:
        """Find the runs, update them, read them back (no ``RETURNING`` before SQLite 3.35)."""
        query = self.sql(f"SELECT id FROM {{s}}.runs WHERE {where}")
        ids = [int(r["id"]) for r in conn.execute(query, values)]
        finished = values["finished_at"]
        end = self.now() if finished is None else to_timestamp(finished)
        conn.executemany(
            "UPDATE runs SET status = :status, finished_at = :end, exit_code = :exit_code,"
            " message = :message WHERE id = :id",
            [{**values, "end": end, "id": run_id} for run_id in ids],
        )
        return [conn.execute("SELECT * FROM runs WHERE id = ?", (i,)).fetchone() for i in ids]
