"""Health-report history in the PostgreSQL store: the insert, stamped by the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from gruponos_ext.state.common.health import StoreHealth
from gruponos_ext.state.postgres.database import PgConnection, PostgresDatabase

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["PostgresHealth"]


class PostgresHealth(StoreHealth[PgConnection], PostgresDatabase):
    """The health statement that differs from SQLite's, on PostgreSQL."""

    def _insert_health(
        self,
        conn: PgConnection,
        report: HealthReport,
        job: str | None,
        checks: list[dict[str, Any]],
    ) -> int:
        """``recorded_at`` is the server's ``clock_timestamp()``; ``checks`` is ``jsonb``."""
        row = conn.execute(
            self.sql(
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
                Jsonb(checks),
            ),
        ).fetchone()
        return int(row["id"]) if row else 0
