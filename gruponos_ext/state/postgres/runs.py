"""Run records in the PostgreSQL store: one open run per ``(job, context_id)``, by statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.model import RunRecord, RunStatus
from gruponos_ext.state.postgres.database import PostgresDatabase
from gruponos_ext.state.rows import check_limit, clip, final_status, log_finished, run_from_row

__all__ = ["PostgresRuns"]

_log = get_logger("gruponos_ext.state.postgres")


class PostgresRuns(PostgresDatabase):
    """``start_run`` ... ``last_success`` of the protocol, on PostgreSQL."""

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

        Idempotent while the run is open: the partial unique index
        ``runs_one_open`` decides (``INSERT ... ON CONFLICT DO NOTHING``), so
        racing processes starting the same run get the same record.
        """
        if not job or not context_id:
            raise ValueError("start_run needs a job name and a context id")
        created = False
        with self._transaction("start_run") as conn:
            for _ in range(3):  # the open run may be finished between our two statements
                row = conn.execute(
                    self.t(
                        "INSERT INTO {s}.runs (job, context_id, host, pid, status, started_at)"
                        " VALUES (%s, %s, %s, %s, 'running',"
                        " COALESCE(%s::timestamptz, clock_timestamp()))"
                        " ON CONFLICT (job, context_id) WHERE status = 'running' DO NOTHING"
                        " RETURNING *"
                    ),
                    (job, context_id, host, pid, started_at),
                ).fetchone()
                created = row is not None
                if row is None:
                    row = conn.execute(
                        self.t(
                            "SELECT * FROM {s}.runs WHERE job = %s AND context_id = %s"
                            " AND status = 'running'"
                        ),
                        (job, context_id),
                    ).fetchone()
                if row is not None:
                    break
            else:  # pragma: no cover - three finishes in a row between two statements
                raise RuntimeError("start_run: the open run kept changing")
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
        """Close open runs by id (int) or context id (str); one ``UPDATE ... RETURNING``."""
        final = final_status(status)
        column = "id" if isinstance(run, int) else "context_id"
        query = (
            "UPDATE {s}.runs SET status = %s, exit_code = %s, message = %s,"
            " finished_at = COALESCE(%s::timestamptz, clock_timestamp())"
            f" WHERE {column} = %s AND status = 'running'"
        )
        params: tuple[Any, ...] = (final.value, exit_code, clip(message), finished_at, run)
        if job is not None:
            query += " AND job = %s"
            params += (job,)
        with self._transaction("finish_run") as conn:
            rows = conn.execute(self.t(query + " RETURNING *"), params).fetchall()
        records = tuple(sorted((run_from_row(r) for r in rows), key=lambda r: r.id))
        log_finished(records, exit_code)
        return records

    def _one_run(self, operation: str, query: str, params: tuple[Any, ...]) -> RunRecord | None:
        with self._transaction(operation, write=False) as conn:
            row = conn.execute(self.t(query), params).fetchone()
        return None if row is None else run_from_row(row)

    def find_open_run(self, context_id: str, *, job: str | None = None) -> RunRecord | None:
        """The newest still-running run of ``context_id`` (and ``job``), if any."""
        query = "SELECT * FROM {s}.runs WHERE context_id = %s AND status = 'running'"
        params: tuple[Any, ...] = (context_id,)
        if job is not None:
            query += " AND job = %s"
            params += (job,)
        return self._one_run("find_open_run", query + " ORDER BY id DESC LIMIT 1", params)

    def get_run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        return self._one_run("get_run", "SELECT * FROM {s}.runs WHERE id = %s", (run_id,))

    def recent_runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (of ``job``, or of every job and host), newest first."""
        query = "SELECT * FROM {s}.runs"
        params: tuple[Any, ...] = ()
        if job is not None:
            query += " WHERE job = %s"
            params = (job,)
        query += " ORDER BY started_at DESC, id DESC LIMIT %s"
        with self._transaction("recent_runs", write=False) as conn:
            rows = conn.execute(self.t(query), (*params, check_limit(limit))).fetchall()
        return [run_from_row(r) for r in rows]

    def last_success(self, job: str) -> RunRecord | None:
        """The successful run of ``job`` that finished last, if any."""
        return self._one_run(
            "last_success",
            "SELECT * FROM {s}.runs WHERE job = %s AND status = 'success'"
            " ORDER BY finished_at DESC, id DESC LIMIT 1",
            (job,),
        )
