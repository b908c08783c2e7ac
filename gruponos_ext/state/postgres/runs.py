"""Run records in the PostgreSQL store: opening and closing runs, one statement each.

The partial unique index ``runs_one_open`` keeps one open run per
``(job, context_id)``; times default to the server's ``clock_timestamp()``.
"""

from __future__ import annotations

from typing import Any

from gruponos_ext.state.common.base import Row
from gruponos_ext.state.common.runs import StoreRuns
from gruponos_ext.state.postgres.database import PgConnection, PostgresDatabase

__all__ = ["PostgresRuns"]

_INSERT_OPEN = (
    "INSERT INTO {s}.runs (job, context_id, host, pid, status, started_at)"
    " VALUES (%(job)s, %(ctx)s, %(host)s, %(pid)s, 'running',"
    " COALESCE(%(started_at)s::timestamptz, clock_timestamp()))"
    " ON CONFLICT (job, context_id) WHERE status = 'running' DO NOTHING RETURNING *"
)
_SELECT_OPEN = (
    "SELECT * FROM {s}.runs WHERE job = %(job)s AND context_id = %(ctx)s AND status = 'running'"
)


class PostgresRuns(StoreRuns[PgConnection], PostgresDatabase):
    """The run statements that differ from SQLite's, on PostgreSQL."""

    def _open_run(self, conn: PgConnection, run: dict[str, Any]) -> tuple[Row, bool]:
        """``INSERT ... ON CONFLICT DO NOTHING``; else the open run that racers get too."""
        for _ in range(3):  # the open run may be finished between our two statements
            row = conn.execute(self.sql(_INSERT_OPEN), run).fetchone()
            if row is not None:
                return row, True
            row = conn.execute(self.sql(_SELECT_OPEN), run).fetchone()
            if row is not None:
                return row, False
        raise RuntimeError(  # pragma: no cover - three finishes in a row between two statements
            "start_run: the open run kept changing"
        )

    def _close_runs(self, conn: PgConnection, where: str, values: dict[str, Any]) -> list[Row]:
        """One ``UPDATE ... RETURNING``."""
        query = (
            "UPDATE {s}.runs SET status = %(status)s, exit_code = %(exit_code)s,"
            " message = %(message)s,"
            " finished_at = COALESCE(%(finished_at)s::timestamptz, clock_timestamp())"
            f" WHERE {where} RETURNING *"
        )
        return list(conn.execute(self.sql(query), values).fetchall())
