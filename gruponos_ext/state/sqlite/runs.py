"""Run records in the SQLite store: one open run per ``(job, context_id)``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.model import RunRecord, RunStatus, to_timestamp
from gruponos_ext.state.rows import check_limit, clip, final_status, log_finished, run_from_row
from gruponos_ext.state.sqlite.database import SqliteDatabase

__all__ = ["SqliteRuns"]

_log = get_logger("gruponos_ext.state.store")


class SqliteRuns(SqliteDatabase):
    """``start_run`` ... ``last_success`` of :class:`~gruponos_ext.state.protocol.StateStore`."""

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
        start it). Check and insert are one ``BEGIN IMMEDIATE`` transaction.
        """
        if not job or not context_id:
            raise ValueError("start_run needs a job name and a context id")
        start = self.now() if started_at is None else to_timestamp(started_at)
        with self._transaction("start_run") as conn:
            row = conn.execute(
                "SELECT * FROM runs WHERE job = ? AND context_id = ? AND status = 'running'",
                (job, context_id),
            ).fetchone()
            created = row is None
            if created:
                cursor = conn.execute(
                    "INSERT INTO runs (job, context_id, host, pid, status, started_at)"
                    " VALUES (?, ?, ?, ?, 'running', ?)",
                    (job, context_id, host, pid, start),
                )
                row = conn.execute(
                    "SELECT * FROM runs WHERE id = ?", (cursor.lastrowid,)
                ).fetchone()
        record = run_from_row(row)
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
        final = final_status(status)
        end = self.now() if finished_at is None else to_timestamp(finished_at)
        column = "id" if isinstance(run, int) else "context_id"
        query = f"SELECT id FROM runs WHERE {column} = ? AND status = 'running'"
        params: tuple[Any, ...] = (run,)
        if job is not None:
            query += " AND job = ?"
            params += (job,)
        with self._transaction("finish_run") as conn:
            ids = [int(r["id"]) for r in conn.execute(query, params)]
            records: list[RunRecord] = []
            for run_id in ids:
                conn.execute(
                    "UPDATE runs SET status = ?, finished_at = ?, exit_code = ?, message = ?"
                    " WHERE id = ?",
                    (final.value, end, exit_code, clip(message), run_id),
                )
                row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
                records.append(run_from_row(row))
        log_finished(tuple(records), exit_code)
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
        return None if row is None else run_from_row(row)

    def get_run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        with self._transaction("get_run", write=False) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else run_from_row(row)

    def recent_runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (of ``job``, or of every job and host), newest first."""
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if job is not None:
            query += " WHERE job = ?"
            params = (job,)
        query += " ORDER BY started_at DESC, id DESC LIMIT ?"
        with self._transaction("recent_runs", write=False) as conn:
            rows = conn.execute(query, (*params, check_limit(limit))).fetchall()
        return [run_from_row(r) for r in rows]

    def last_success(self, job: str) -> RunRecord | None:
        """The successful run of ``job`` that finished last, if any."""
        with self._transaction("last_success", write=False) as conn:
            row = conn.execute(
                "SELECT * FROM runs WHERE job = ? AND status = 'success'"
                " ORDER BY finished_at DESC, id DESC LIMIT 1",
                (job,),
            ).fetchone()
        return None if row is None else run_from_row(row)
