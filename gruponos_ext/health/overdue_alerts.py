"""Alerts for overdue scheduled jobs, from a health report's ``schedules:freshness`` result.

``health`` calls :func:`alert_overdue_jobs` once per run. Each overdue
schedule gives one alert through the existing channels. Its title names only
the job (``Meltano job wms-incremental is overdue``), so the alert manager's
de-duplication (title, job, severity; ``alert_dedup_window``) sends it once
per window however often ``health`` runs, and again once the window passed
while the job is still overdue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gruponos_ext.health.freshness import CHECK_NAME
from gruponos_ext.health.model import HealthReport

__all__ = ["AlertSender", "alert_overdue_jobs", "overdue_schedules"]


class AlertSender(Protocol):
    """The orchestrator's ``alert``: redacts, sends through every channel, never raises."""

    def __call__(
        self,
        title: str,
        message: str,
        *,
        job: str | None,
        severity: str = ...,
        details: Mapping[str, str] | None = ...,
    ) -> object: ...


def overdue_schedules(report: HealthReport) -> list[Mapping[str, Any]]:
    """The overdue schedules the freshness result of ``report`` lists (empty if none ran)."""
    for result in report.results:
        if result.name != CHECK_NAME:
            continue
        schedules = result.details.get("schedules")
        if isinstance(schedules, list):
            return [s for s in schedules if isinstance(s, Mapping) and s.get("state") == "overdue"]
    return []


def alert_overdue_jobs(report: HealthReport, sender: Callable[[], AlertSender]) -> int:
    """One alert per overdue schedule in ``report``; how many were sent.

    ``sender`` gives the sending function (the orchestrator's ``alert``); it is
    called only when something is overdue, so a healthy run builds no alert
    channel at all.
    """
    overdue = overdue_schedules(report)
    if not overdue:
        return 0
    send = sender()
    for entry in overdue:
        job = str(entry.get("job"))
        send(
            f"Meltano job {job} is overdue",
            str(entry.get("message", "")),
            job=job,
            severity="error" if entry.get("critical") else "warning",
            details={
                "schedule": str(entry.get("schedule")),
                "interval": str(entry.get("interval")),
                "missed_due": str(entry.get("missed_due")),
                "last_success": str(entry.get("last_success")),
                "overdue_s": f"{float(entry.get('overdue_s') or 0):.0f}",
            },
        )
    return len(overdue)
