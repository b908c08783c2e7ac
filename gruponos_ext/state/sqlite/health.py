"""Health-report history in the SQLite store (with the host that ran the checks)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gruponos_ext.state.model import HealthRecord, to_timestamp
from gruponos_ext.state.rows import check_limit, health_checks, health_from_row
from gruponos_ext.state.sqlite.database import SqliteDatabase

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["SqliteHealth"]


class SqliteHealth(SqliteDatabase):
    """``record_health`` and ``recent_health`` on SQLite."""

    def record_health(self, report: HealthReport, *, job: str | None = None) -> int:
        """Store ``report``'s total and per-check summary; the new row's id."""
        with self._transaction("record_health") as conn:
            cursor = conn.execute(
                "INSERT INTO health_results (recorded_at, report_time, job, status,"
                " duration_s, checks, host) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.now(),
                    to_timestamp(report.time),
                    job,
                    report.status.value,
                    report.duration_s,
                    json.dumps(health_checks(report), ensure_ascii=False),
                    self.hostname,
                ),
            )
        return int(cursor.lastrowid or 0)

    def recent_health(self, limit: int = 20, *, job: str | None = None) -> list[HealthRecord]:
        """The latest stored reports (of ``job`` when given), newest first."""
        query = "SELECT * FROM health_results"
        params: tuple[Any, ...] = ()
        if job is not None:
            query += " WHERE job = ?"
            params = (job,)
        query += " ORDER BY recorded_at DESC, id DESC LIMIT ?"
        with self._transaction("recent_health", write=False) as conn:
            rows = conn.execute(query, (*params, check_limit(limit))).fetchall()
        return [health_from_row(r) for r in rows]
