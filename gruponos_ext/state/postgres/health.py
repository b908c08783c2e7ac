"""Health-report history in the PostgreSQL store (with the host that ran the checks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from gruponos_ext.state.model import HealthRecord
from gruponos_ext.state.postgres.database import PostgresDatabase
from gruponos_ext.state.rows import check_limit, health_checks, health_from_row

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["PostgresHealth"]


class PostgresHealth(PostgresDatabase):
    """``record_health`` and ``recent_health`` on PostgreSQL."""

    def record_health(self, report: HealthReport, *, job: str | None = None) -> int:
        """Store ``report``'s total and per-check summary; the new row's id."""
        with self._transaction("record_health") as conn:
            row = conn.execute(
                self.t(
                    "INSERT INTO {s}.health_results (recorded_at, report_time, job, host, status,"
                    " duration_s, checks) VALUES (clock_timestamp(), %s, %s, %s, %s, %s, %s)"
                    " RETURNING id"
                ),
                (
                    report.time,
                    job,
                    self.hostname,
                    report.status.value,
                    report.duration_s,
                    Jsonb(health_checks(report)),
                ),
            ).fetchone()
        return int(row["id"]) if row else 0

    def recent_health(self, limit: int = 20, *, job: str | None = None) -> list[HealthRecord]:
        """The latest stored reports of every host (of ``job`` when given), newest first."""
        query = "SELECT * FROM {s}.health_results"
        params: tuple[Any, ...] = ()
        if job is not None:
            query += " WHERE job = %s"
            params = (job,)
        query += " ORDER BY recorded_at DESC, id DESC LIMIT %s"
        with self._transaction("recent_health", write=False) as conn:
            rows = conn.execute(self.t(query), (*params, check_limit(limit))).fetchall()
        return [health_from_row(r) for r in rows]
