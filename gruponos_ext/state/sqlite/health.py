"""Health-report history in the SQLite store: the insert, stamped by this store's clock."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from gruponos_ext.state.common.health import StoreHealth
from gruponos_ext.state.model import to_timestamp
from gruponos_ext.state.sqlite.database import SqliteDatabase

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["SqliteHealth"]


class SqliteHealth(StoreHealth[sqlite3.Connection], SqliteDatabase):
    """The health statement that differs from PostgreSQL's, on SQLite."""

    def _insert_health(
        self,
        conn: sqlite3.Connection,
        report: HealthReport,
        job: str | None,
        checks: list[dict[str, Any]],
    ) -> int:
        """Times are seconds since the epoch; ``checks`` is JSON text."""
        cursor = conn.execute(
            "INSERT INTO health_results (recorded_at, report_time, job, status,"
            " duration_s, checks, host) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.now(),
                to_timestamp(report.time),
                job,
                report.status.value,
                report.duration_s,
                json.dumps(checks, ensure_ascii=False),
                self.hostname,
            ),
        )
        return int(cursor.lastrowid or 0)
