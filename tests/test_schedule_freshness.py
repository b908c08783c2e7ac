"""``schedules:freshness``: each verdict, judged against a real state store at fixed times (UTC).

The store is the ``any_store`` fixture (tests.support.state: SQLite and PostgreSQL): every
store kind the project has runs each test. Runs are recorded through the
store's own API with the times a scheduler would have produced.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gruponos_ext.health.freshness import (
    ScheduleVerdict,
    default_grace,
    evaluate_schedules,
    schedule_freshness_check,
)
from gruponos_ext.health.model import Status
from gruponos_ext.health.runner import HealthCheckRunner
from gruponos_ext.project.model import Schedule
from gruponos_ext.state.model import LockOwner, RunStatus
from gruponos_ext.state.protocol import StateStore
from tests.support.schedules import schedule

UTC = timezone.utc
HOURLY = schedule("wms-hourly", "wms-incremental", "@hourly")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def record_run(
    store: StateStore,
    job: str,
    started: datetime,
    *,
    status: RunStatus = RunStatus.SUCCESS,
    seconds: float = 120,
    exit_code: int = 0,
) -> None:
    run = store.start_run(
        job, f"ctx-{job}-{started.timestamp()}", host="h", pid=1, started_at=started
    )
    store.finish_run(run.id, status, exit_code, finished_at=started + timedelta(seconds=seconds))


def judge(
    store: StateStore, now: datetime, *specs: Schedule, **kwargs: object
) -> list[ScheduleVerdict]:
    verdicts, _ = evaluate_schedules(list(specs), store, now, **kwargs)  # type: ignore[arg-type]
    return verdicts


def test_a_run_that_started_after_the_due_time_is_on_time(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T10:00:05"))
    (verdict,) = judge(any_store, at("2024-05-01T10:40:00"), HOURLY)
    assert (verdict.status, verdict.state, verdict.overdue_s) == (Status.PASS, "on_time", 0.0)
    assert verdict.message == (
        "job 'wms-incremental' (schedule 'wms-hourly', @hourly) on time: last success "
        "started 2024-05-01 10:00:05 UTC, next due 2024-05-01 11:00 UTC"
    )


def test_within_the_grace_the_newest_due_time_is_not_missed_yet(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T10:00:05"))
    # 11:00 is due, but the default grace of an hourly schedule is 15 min
    (verdict,) = judge(any_store, at("2024-05-01T11:14:00"), HOURLY)
    assert verdict.state == "on_time"
    (verdict,) = judge(any_store, at("2024-05-01T11:15:00"), HOURLY)
    assert verdict.state == "overdue"


def test_a_missed_due_time_warns_naming_job_schedule_last_success_and_the_missed_time(
    any_store: StateStore,
) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"))
    (verdict,) = judge(any_store, at("2024-05-01T11:20:00"), HOURLY)
    assert (verdict.status, verdict.state) == (Status.WARN, "overdue")
    assert verdict.missed_due == at("2024-05-01T09:00:00")
    assert verdict.missed_runs == 3  # 09:00, 10:00, 11:00
    assert verdict.overdue_s == 2 * 3600 + 20 * 60
    assert verdict.message == (
        "job 'wms-incremental' (schedule 'wms-hourly', @hourly) missed its run due "
        "2024-05-01 09:00 UTC and 2 later one(s): last success started 2024-05-01 08:00:03 UTC; "
        "overdue by 2 h 20 min (grace 15 min)"
    )


def test_an_overdue_critical_job_fails(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"))
    (verdict,) = judge(
        any_store, at("2024-05-01T11:20:00"), HOURLY, critical_jobs={"wms-incremental"}
    )
    assert (verdict.status, verdict.critical) == (Status.FAIL, True)


def test_a_failed_run_after_the_last_success_is_named(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"))
    record_run(
        any_store,
        "wms-incremental",
        at("2024-05-01T09:00:02"),
        status=RunStatus.FAILED,
        exit_code=2,
    )
    (verdict,) = judge(any_store, at("2024-05-01T09:30:00"), HOURLY)
    assert verdict.state == "overdue"
    assert (
        ", its last run (2024-05-01 09:00:02 UTC) ended failed with exit code 2; "
        in verdict.message
    )


def test_a_job_that_never_succeeded_warns_and_never_fails(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"), status=RunStatus.FAILED)
    (verdict,) = judge(
        any_store, at("2024-05-09T00:00:00"), HOURLY, critical_jobs={"wms-incremental"}
    )
    assert (verdict.status, verdict.state) == (Status.WARN, "never_succeeded")
    assert "no successful run recorded" in verdict.message
    assert verdict.overdue_s == 0.0


def test_a_job_holding_its_lock_now_passes_as_running(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"))
    owner = LockOwner.current("ctx-live")  # this test process: alive
    assert any_store.acquire_lock("wms-incremental", owner, ttl_s=3600)
    (verdict,) = judge(any_store, at("2024-05-01T11:20:00"), HOURLY)
    assert (verdict.status, verdict.state) == (Status.PASS, "running")
    assert "is running since" in verdict.message
    assert "ctx-live" in verdict.message


def test_a_stale_lock_is_a_dead_run_not_a_running_one(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"))
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert any_store.acquire_lock(
        "wms-incremental", LockOwner.current("ctx-dead", pid=gone.pid), None
    )
    verdicts, locks = evaluate_schedules([HOURLY], any_store, at("2024-05-01T11:20:00"))
    assert verdicts[0].state == "overdue"
    assert [(lock.job, lock.stale is not None) for lock in locks] == [("wms-incremental", True)]


def test_manual_once_and_excluded_schedules_are_left_out(any_store: StateStore) -> None:
    specs = [
        schedule("by-hand", "a", "@manual"),
        schedule("one-off", "b", "@once"),
        schedule("disabled", "c", "@none"),
        schedule("no-interval", "d", None),
        schedule("ignored", "e", "@hourly"),
        schedule("kept", "f", "*/5 * * * *"),
    ]
    verdicts = judge(any_store, at("2024-05-01T11:20:00"), *specs, exclude={"ignored"})
    assert [v.schedule for v in verdicts] == ["kept"]


def test_an_interval_meltano_refuses_warns_naming_the_schedule(any_store: StateStore) -> None:
    bad = schedule("typo", "x", "0 0 * * * *", file="schedules.meltano.yml")
    (verdict,) = judge(any_store, at("2024-05-01T11:20:00"), bad)
    assert (verdict.status, verdict.state) == (Status.WARN, "invalid")
    assert verdict.message.startswith(
        "schedule 'typo' (job 'x') in schedules.meltano.yml: interval '0 0 * * * *' is not a "
        "cron expression Meltano accepts"
    )


def test_a_schedule_that_is_never_due_warns(any_store: StateStore) -> None:
    (verdict,) = judge(any_store, at("2024-05-01T11:20:00"), schedule("feb31", "x", "0 0 31 2 *"))
    assert (verdict.state, verdict.status) == ("invalid", Status.WARN)
    assert "never due" in verdict.message


@pytest.mark.parametrize(
    ("interval", "interval_s", "grace_s"),
    [
        ("* * * * *", 60, 300),  # the floor: 5 minutes
        ("*/20 * * * *", 1200, 300),
        ("@hourly", 3600, 900),  # a quarter of the interval
        ("@daily", 86400, 21600),
        ("0 9 * * 1-5", 3 * 86400, 3 * 21600),  # Monday 09:00 after Friday 09:00
    ],
)
def test_the_default_grace_is_a_quarter_of_the_interval_at_least_five_minutes(
    any_store: StateStore, interval: str, interval_s: float, grace_s: float
) -> None:
    # 2024-05-06 is a Monday
    (verdict,) = judge(any_store, at("2024-05-06T09:30:00"), schedule("s", "j", interval))
    assert (verdict.interval_s, verdict.grace_s) == (interval_s, grace_s)
    assert default_grace(interval_s) == grace_s


def test_the_grace_setting_replaces_the_default(any_store: StateStore) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T10:00:05"))
    (verdict,) = judge(any_store, at("2024-05-01T11:01:00"), HOURLY, grace=30)
    assert (verdict.state, verdict.grace_s) == ("overdue", 30)


def test_an_extractor_loader_schedule_counts_runs_under_its_own_name(
    any_store: StateStore,
) -> None:
    legacy = schedule("tap-x-to-target-y", None, "@daily")  # extractor/loader form
    record_run(any_store, "tap-x-to-target-y", at("2024-05-01T00:00:10"))
    (verdict,) = judge(any_store, at("2024-05-01T12:00:00"), legacy)
    assert verdict.state == "on_time"


def test_the_check_reports_the_worst_verdict_with_details_for_metrics(
    any_store: StateStore,
) -> None:
    record_run(any_store, "wms-incremental", at("2024-05-01T08:00:03"))
    record_run(any_store, "fresh", at("2024-05-01T11:00:01"))
    check = schedule_freshness_check(
        lambda: [HOURLY, schedule("fresh-hourly", "fresh", "@hourly")],
        lambda: any_store,
        critical_jobs={"wms-incremental"},
        clock=lambda: at("2024-05-01T11:20:00"),
    )
    report = HealthCheckRunner([check]).run()
    (result,) = report.results
    assert (result.name, result.status, report.status) == (
        "schedules:freshness",
        Status.FAIL,
        Status.FAIL,
    )
    assert result.message.startswith("1 of 2 schedule(s) need attention (times UTC): job ")
    assert "'wms-incremental'" in result.message
    assert (result.observed_value, result.observed_unit) == (1, "overdue")
    schedules = result.details["schedules"]
    assert [(s["schedule"], s["state"], s["overdue_s"]) for s in schedules] == [
        ("wms-hourly", "overdue", 8400.0),
        ("fresh-hourly", "on_time", 0.0),
    ]
    assert "schedules" in check.tags and "critical" not in check.tags


def test_the_check_skips_without_a_project_or_a_store(any_store: StateStore) -> None:
    no_project = schedule_freshness_check(None, lambda: any_store)
    no_store = schedule_freshness_check(lambda: [HOURLY], None)
    report = HealthCheckRunner([no_project]).run()
    assert report.results[0].status is Status.SKIP
    assert "MELTANO_PROJECT_ROOT" in report.results[0].message
    assert no_store.run().status is Status.SKIP


def test_no_meltano_yml_skips_and_a_broken_one_fails_naming_it(
    any_store: StateStore, tmp_path: Path
) -> None:
    from gruponos_ext.project import read_schedules

    check = schedule_freshness_check(lambda: read_schedules(tmp_path), lambda: any_store)
    missing = HealthCheckRunner([check]).run().results[0]
    assert (missing.status, missing.message) == (
        Status.SKIP,
        f"no meltano.yml in {tmp_path}: not a Meltano project (MELTANO_PROJECT_ROOT points "
        "elsewhere?)",
    )
    (tmp_path / "meltano.yml").write_text("schedules: [\n")
    broken = HealthCheckRunner([check]).run().results[0]
    assert (broken.status, broken.details) == (Status.FAIL, {"code": "SCHEDULES_UNREADABLE"})
    assert broken.message.startswith(
        f"cannot read the schedules of the Meltano project at {tmp_path}: meltano.yml:2: "
        "line 2, column 1: invalid YAML"
    )
