"""Overdue jobs become alerts: one per overdue schedule, and no alert machinery otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from gruponos_ext.health.freshness import schedule_freshness_check
from gruponos_ext.health.model import HealthReport
from gruponos_ext.health.overdue_alerts import alert_overdue_jobs
from gruponos_ext.health.runner import HealthCheckRunner
from gruponos_ext.state.model import RunStatus
from gruponos_ext.state.protocol import StateStore
from tests.support.schedules import schedule

NOW = datetime(2024, 5, 1, 11, 20, tzinfo=timezone.utc)


class Sent:
    """Records what the orchestrator's ``alert`` would have been given."""

    def __init__(self) -> None:
        self.alerts: list[tuple[str, str, str | None, str, dict[str, str]]] = []

    def __call__(
        self,
        title: str,
        message: str,
        *,
        job: str | None,
        severity: str = "error",
        details: Mapping[str, str] | None = None,
    ) -> object:
        self.alerts.append((title, message, job, severity, dict(details or {})))
        return None


def report_for(store: StateStore, last_started: datetime, *, critical: bool) -> HealthReport:
    run = store.start_run("late", "ctx", host="h", pid=1, started_at=last_started)
    store.finish_run(run.id, RunStatus.SUCCESS, 0, finished_at=last_started + timedelta(minutes=1))
    check = schedule_freshness_check(
        lambda: [
            schedule("late-hourly", "late", "@hourly"),
            schedule("new", "n", "@daily"),
        ],
        lambda: store,
        critical_jobs={"late"} if critical else set(),
        clock=lambda: NOW,
    )
    return HealthCheckRunner([check]).run()


def test_each_overdue_schedule_is_one_alert_naming_job_and_schedule(
    any_store: StateStore,
) -> None:
    report = report_for(
        any_store, datetime(2024, 5, 1, 8, 0, 3, tzinfo=timezone.utc), critical=True
    )
    sent = Sent()
    assert alert_overdue_jobs(report, lambda: sent) == 1
    ((title, message, job, severity, details),) = sent.alerts
    assert (title, job, severity) == ("Meltano job late is overdue", "late", "error")
    assert "missed its run due 2024-05-01 09:00 UTC" in message
    assert details["schedule"] == "late-hourly"
    assert details["overdue_s"] == "8400"


def test_a_non_critical_job_is_a_warning(any_store: StateStore) -> None:
    report = report_for(
        any_store, datetime(2024, 5, 1, 8, 0, 3, tzinfo=timezone.utc), critical=False
    )
    sent = Sent()
    alert_overdue_jobs(report, lambda: sent)
    assert [a[3] for a in sent.alerts] == ["warning"]


def test_nothing_overdue_builds_no_sender(any_store: StateStore) -> None:
    report = report_for(
        any_store, datetime(2024, 5, 1, 11, 0, 3, tzinfo=timezone.utc), critical=True
    )

    def no_sender() -> Sent:
        raise AssertionError("no alert channel is built when nothing is overdue")

    assert alert_overdue_jobs(report, no_sender) == 0
