"""Run records of both stores: one open run per ``(job, context_id)``.

Written once here: the checks of ``start_run`` and ``finish_run``, every
read, rows to :class:`~gruponos_ext.state.model.RunRecord` and the log lines.
Each store supplies how a run is opened against racing processes
(:meth:`StoreRuns._open_run`) and how open runs are closed and read back
(:meth:`StoreRuns._close_runs`).
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.common.base import C, Row, StoreBase
from gruponos_ext.state.model import RunRecord, RunStatus, to_time

__all__ = ["MESSAGE_MAX_CHARS", "StoreRuns", "clip", "run_from_row"]

_log = get_logger("gruponos_ext.state")

MESSAGE_MAX_CHARS = 4000
"""Messages may carry a child's output tail; the database stays bounded."""


def clip(message: str) -> str:
    """``message`` cut to :data:`MESSAGE_MAX_CHARS`, keeping its end (where errors are)."""
    if len(message) <= MESSAGE_MAX_CHARS:
        return message
    return "…" + message[-(MESSAGE_MAX_CHARS - 1) :]


def run_from_row(row: Row) -> RunRecord:
    finished = row["finished_at"]
    return RunRecord(
        id=int(row["id"]),
        job=row["job"],
        context_id=row["context_id"],
        host=row["host"],
        pid=int(row["pid"]),
        status=RunStatus(row["status"]),
        started_at=to_time(row["started_at"]),
        finished_at=None if finished is None else to_time(finished),
        exit_code=row["exit_code"],
        message=row["message"],
    )


def _open_runs(column: str, job: str | None) -> str:
    """The condition on the open runs whose ``column`` is ``%(run)s`` (and job ``%(job)s``)."""
    where = f"{column} = %(run)s AND status = 'running'"
    return where if job is None else where + " AND job = %(job)s"


class StoreRuns(StoreBase[C]):
    """``start_run`` ... ``last_success`` of :class:`~gruponos_ext.state.protocol.StateStore`."""

    @abstractmethod
    def _open_run(self, conn: C, run: dict[str, Any]) -> tuple[Row, bool]:
        """The open run of ``run``'s ``job`` and ``ctx``, and whether this call inserted it.

        ``run`` also has ``host``, ``pid`` and ``started_at`` (None: the store's clock now).
        """

    @abstractmethod
    def _close_runs(self, conn: C, where: str, values: dict[str, Any]) -> list[Row]:
        """Close the runs matching ``where`` (``%(name)s`` style); their rows, as closed.

        ``values`` holds the parameters of ``where`` and the new ``status``,
        ``exit_code``, ``message`` and ``finished_at`` (None: the store's clock now).
        """

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
        start it; racing processes get the same record). With
        ``retention_days``, old history is pruned at most once an hour.
        """
        if not job or not context_id:
            raise ValueError("start_run needs a job name and a context id")
        with self._transaction("start_run") as conn:
            row, created = self._open_run(
                conn,
                {"job": job, "ctx": context_id, "host": host, "pid": pid, "started_at": started_at},
            )
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
        it twice is harmless; the result (by id) is empty when nothing was open.
        """
        final = RunStatus(status)
        if not final.final:
            raise ValueError("finish_run needs a final status, not 'running'")
        where = _open_runs("id" if isinstance(run, int) else "context_id", job)
        values = {
            "run": run,
            "job": job,
            "status": final.value,
            "exit_code": exit_code,
            "message": clip(message),
            "finished_at": finished_at,
        }
        with self._transaction("finish_run") as conn:
            rows = self._close_runs(conn, where, values)
        records = tuple(sorted((run_from_row(r) for r in rows), key=lambda r: r.id))
        for record in records:
            _log.info(
                "run_finished",
                job=record.job,
                run_id=record.id,
                status=record.status.value,
                exit_code=exit_code,
                duration_s=record.duration_s,
            )
        return records

    def _one_run(self, operation: str, query: str, params: Any) -> RunRecord | None:
        row = self._one(operation, query, params)
        return None if row is None else run_from_row(row)

    def find_open_run(self, context_id: str, *, job: str | None = None) -> RunRecord | None:
        """The newest still-running run of ``context_id`` (and ``job``), if any."""
        query = f"SELECT * FROM {{s}}.runs WHERE {_open_runs('context_id', job)}"
        params = {"run": context_id, "job": job}
        return self._one_run("find_open_run", query + " ORDER BY id DESC LIMIT 1", params)

    def get_run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        return self._one_run("get_run", "SELECT * FROM {s}.runs WHERE id = %s", (run_id,))

    def recent_runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (of ``job``, or of every job and host), newest first."""
        rows = self._newest(
            "recent_runs", "runs", order="started_at DESC, id DESC", limit=limit, where=("job", job)
        )
        return [run_from_row(r) for r in rows]

    def last_success(self, job: str) -> RunRecord | None:
        """The successful run of ``job`` that finished last, if any."""
        return self._one_run(
            "last_success",
            "SELECT * FROM {s}.runs WHERE job = %s AND status = 'success'"
            " ORDER BY finished_at DESC, id DESC LIMIT 1",
            (job,),
        )
