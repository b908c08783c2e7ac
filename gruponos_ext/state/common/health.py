"""Health-report history of both stores (with the host that ran the checks).

Written once here: what of a report is kept (its total and a per-check
summary), the read, and rows to :class:`~gruponos_ext.state.model.HealthRecord`.
Each store supplies the insert (:meth:`StoreHealth._insert_health`): whose
clock stamps it and how the summary is stored as JSON differ.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from gruponos_ext.state.common.base import C, Row, StoreBase
from gruponos_ext.state.model import HealthCheckRecord, HealthRecord, to_time

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["StoreHealth", "health_from_row"]


def health_from_row(row: Row) -> HealthRecord:
    checks = row["checks"]
    parsed = json.loads(checks) if isinstance(checks, str) else checks
    return HealthRecord(
        id=int(row["id"]),
        time=to_time(row["report_time"]),
        job=row["job"],
        status=row["status"],
        duration_s=float(row["duration_s"]),
        checks=tuple(
            HealthCheckRecord(
                name=c["name"],
                status=c["status"],
                message=c["message"],
                duration_s=float(c["duration_s"]),
                critical=bool(c["critical"]),
            )
            for c in parsed
        ),
        host=row["host"],
    )


class StoreHealth(StoreBase[C]):
    """``record_health`` and ``recent_health`` of the state store."""

    @abstractmethod
    def _insert_health(
        self, conn: C, report: HealthReport, job: str | None, checks: list[dict[str, Any]]
    ) -> int:
        """Insert ``report`` (run by this host) with its ``checks`` summary, stamped now; its id."""

    def record_health(self, report: HealthReport, *, job: str | None = None) -> int:
        """Store ``report``'s total and per-check summary; the new row's id."""
        checks = [
            {
                "name": r.name,
                "status": r.status.value,
                "message": r.message,
                "duration_s": r.duration_s,
                "critical": r.critical,
            }
            for r in report.results
        ]
        with self._transaction("record_health") as conn:
            return self._insert_health(conn, report, job, checks)

    def recent_health(self, limit: int = 20, *, job: str | None = None) -> list[HealthRecord]:
        """The latest stored reports of every host (of ``job`` when given), newest first."""
        rows = self._newest(
            "recent_health",
            "health_results",
            order="recorded_at DESC, id DESC",
            limit=limit,
            where=("job", job),
        )
        return [health_from_row(r) for r in rows]
