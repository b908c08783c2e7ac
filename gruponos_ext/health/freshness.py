"""``schedules:freshness``: did every scheduled job run when it was due?

Meltano has no dead-man's switch: when the scheduler is down or a cron line
is commented out, nothing runs and nothing says so. This check compares each
schedule's due times (:mod:`gruponos_ext.project.cron`) with the job's
runs in the state store (any :class:`~gruponos_ext.state.protocol.StateStore`:
SQLite or a shared database), and judges each schedule:

* **running** -- a live run of the job holds its lock now: ``pass``;
* **on time** -- its last successful run started at or after the latest due
  time whose grace has passed: ``pass``;
* **never succeeded** -- no successful run is recorded (a new job, or history
  pruned): ``warn`` "no successful run recorded", never ``fail``;
* **overdue** -- otherwise: ``fail`` when the job is critical, else ``warn``,
  naming the job, the schedule, the last success and the first due time missed;
* **unscheduled** (``@manual``, ``@once``, ``@none``) and excluded schedules
  are left out; an interval Meltano would not accept is a ``warn``.

A run counts for a due time when it *started* at or after it: a run that
started before was the previous slot's run. The **grace** is how long after
a due time a run may start: ``schedule_grace`` seconds when set, else a
quarter of the schedule's interval with a floor of 5 minutes
(:func:`default_grace`). The **interval** of a cron schedule is the time
between its latest due time and the one before (constant for regular
schedules; the current gap for irregular ones such as weekdays only).

All times are UTC, as in Meltano; the check's message says so.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.health.model import CheckOutcome, HealthCheck, Status
from gruponos_ext.project.cron.due_times import (
    InvalidScheduleError,
    count_due,
    cron_of,
    latest_due,
    next_due,
)

if TYPE_CHECKING:
    from gruponos_ext.project.schedule import Schedule
    from gruponos_ext.state.model import LockInfo, RunRecord
    from gruponos_ext.state.protocol import StateStore

__all__ = [
    "CHECK_NAME",
    "GRACE_FLOOR_S",
    "ScheduleVerdict",
    "default_grace",
    "evaluate_schedules",
    "schedule_freshness_check",
]

CHECK_NAME = "schedules:freshness"
GRACE_FLOOR_S = 300.0
"""The default grace is never shorter than this (5 minutes)."""
GRACE_FRACTION = 0.25
"""The default grace is this fraction of the schedule's interval."""


def default_grace(interval_s: float) -> float:
    """A quarter of the interval, at least 5 minutes.

    >>> default_grace(60), default_grace(3600), default_grace(86400)
    (300.0, 900.0, 21600.0)
    """
    return max(GRACE_FRACTION * interval_s, GRACE_FLOOR_S)


def _utc(moment: datetime | None) -> str:
    """``2024-05-01 10:00 UTC`` (seconds only when not zero)."""
    if moment is None:
        return "never"
    moment = moment.astimezone(timezone.utc)
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")
    return f"{text} UTC"


def _span(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``.

    >>> _span(45), _span(720), _span(12000), _span(187200)
    ('45 s', '12 min', '3 h 20 min', '2 d 4 h')
    """
    seconds = int(max(0.0, seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass(frozen=True, slots=True)
class ScheduleVerdict:
    """How one schedule stands; ``to_dict`` is what the report and metrics carry."""

    schedule: str
    job: str
    interval: str | None
    status: Status
    state: str  # running | on_time | never_succeeded | overdue | invalid
    message: str
    critical: bool = False
    interval_s: float | None = None
    grace_s: float | None = None
    last_success: datetime | None = None
    missed_due: datetime | None = None
    missed_runs: int = 0
    overdue_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "schedule": self.schedule,
            "job": self.job,
            "interval": self.interval,
            "status": self.status.value,
            "state": self.state,
            "critical": self.critical,
            "interval_s": self.interval_s,
            "grace_s": self.grace_s,
            "last_success": iso(self.last_success),
            "last_success_ts": None if self.last_success is None else self.last_success.timestamp(),
            "missed_due": iso(self.missed_due),
            "missed_runs": self.missed_runs,
            "overdue_s": self.overdue_s,
            "message": self.message,
        }


def _running_jobs(locks: Sequence[LockInfo]) -> dict[str, LockInfo]:
    """Jobs whose lock is held by a live run (a stale lock is a dead run: not running)."""
    return {lock.job: lock for lock in locks if lock.stale is None}


def _judge(
    schedule: Schedule,
    store: StateStore,
    running: dict[str, LockInfo],
    now: datetime,
    grace_setting: float | None,
    critical_jobs: Collection[str],
) -> ScheduleVerdict | None:
    job = schedule.run_job
    critical = job in critical_jobs
    base: dict[str, Any] = {
        "schedule": schedule.name,
        "job": job,
        "interval": schedule.interval,
        "critical": critical,
    }
    try:
        cron = cron_of(schedule.interval)
        if cron is None:
            return None
        newest = latest_due(cron, now)
        interval_s = (newest - latest_due(cron, newest - timedelta(seconds=1))).total_seconds()
        grace_s = grace_setting if grace_setting is not None else default_grace(interval_s)
        due = latest_due(cron, now - timedelta(seconds=grace_s))
    except InvalidScheduleError as exc:
        return ScheduleVerdict(
            **base,
            status=Status.WARN,
            state="invalid",
            message=f"schedule {schedule.name!r} (job {job!r}) in {schedule.where.file}: "
            f"{exc.message}",
        )
    base.update(interval_s=interval_s, grace_s=grace_s)
    named = f"job {job!r} (schedule {schedule.name!r}, {schedule.interval})"
    last = store.last_success(job)
    base["last_success"] = None if last is None else last.started_at
    lock = running.get(job)
    if lock is not None:
        return ScheduleVerdict(
            **base,
            status=Status.PASS,
            state="running",
            message=f"{named} is running since {_utc(lock.acquired_at)} ({lock.owner.describe()})",
        )
    if last is None:
        return ScheduleVerdict(
            **base,
            status=Status.WARN,
            state="never_succeeded",
            message=f"{named}: no successful run recorded (due last at {_utc(due)})",
        )
    if last.started_at >= due:
        return ScheduleVerdict(
            **base,
            status=Status.PASS,
            state="on_time",
            message=f"{named} on time: last success started {_utc(last.started_at)}, "
            f"next due {_utc(next_due(cron, now))}",
        )
    missed = next_due(cron, last.started_at)
    missed_runs = count_due(cron, last.started_at, due)
    overdue_s = (now - missed).total_seconds()
    later = f" and {missed_runs - 1} later one(s)" if missed_runs > 1 else ""
    return ScheduleVerdict(
        **base,
        status=Status.FAIL if critical else Status.WARN,
        state="overdue",
        missed_due=missed,
        missed_runs=missed_runs,
        overdue_s=overdue_s,
        message=f"{named} missed its run due {_utc(missed)}{later}: last success started "
        f"{_utc(last.started_at)}{_last_run_note(store, job, last)}; overdue by "
        f"{_span(overdue_s)} (grace {_span(grace_s)})",
    )


def _last_run_note(store: StateStore, job: str, last_success: RunRecord) -> str:
    """``, its last run (... UTC) failed with exit code 2`` when a later run failed."""
    recent = store.recent_runs(job, limit=1)
    if not recent or recent[0].id == last_success.id or not recent[0].status.final:
        return ""
    run = recent[0]
    code = f" with exit code {run.exit_code}" if run.exit_code is not None else ""
    return f", its last run ({_utc(run.started_at)}) ended {run.status.value}{code}"


def evaluate_schedules(
    schedules: Sequence[Schedule],
    store: StateStore,
    now: datetime,
    *,
    grace: float | None = None,
    exclude: Collection[str] = (),
    critical_jobs: Collection[str] = (),
) -> tuple[list[ScheduleVerdict], list[LockInfo]]:
    """Every scheduled (not excluded) schedule's verdict at ``now``, and the store's locks."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    locks = store.all_locks()
    running = _running_jobs(locks)
    verdicts = []
    for schedule in schedules:
        if schedule.name in exclude:
            continue
        verdict = _judge(schedule, store, running, now, grace, critical_jobs)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts, locks


def _lock_details(locks: Sequence[LockInfo], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "job": lock.job,
            "acquired_at": lock.acquired_at.isoformat(),
            "age_s": max(0.0, (now - lock.acquired_at).total_seconds()),
            "stale": None if lock.stale is None else lock.stale.value,
        }
        for lock in locks
    ]


def _outcome(verdicts: list[ScheduleVerdict], locks: list[LockInfo], now: datetime) -> CheckOutcome:
    details = {
        "now": now.isoformat(),
        "schedules": [v.to_dict() for v in verdicts],
        "locks": _lock_details(locks, now),
    }
    overdue = [v for v in verdicts if v.state == "overdue"]
    measured: dict[str, Any] = {
        "observed_value": len(overdue),
        "observed_unit": "overdue",
        "component_type": "system",
        "details": details,
    }
    if not verdicts:
        return CheckOutcome.skipped("no schedule to check (times UTC)", **measured)
    status = Status.worst(v.status for v in verdicts)
    problems = [v for v in verdicts if v.status is not Status.PASS]
    if not problems:
        running = sum(v.state == "running" for v in verdicts)
        note = f", {running} running now" if running else ""
        return CheckOutcome.passed(
            f"{len(verdicts)} schedule(s) on time{note} (times UTC): "
            + "; ".join(v.message for v in verdicts),
            **measured,
        )
    return CheckOutcome(
        status,
        f"{len(problems)} of {len(verdicts)} schedule(s) need attention (times UTC): "
        + "; ".join(v.message for v in problems),
        **measured,
    )


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def schedule_freshness_check(
    load_schedules: Callable[[], Sequence[Schedule]] | None,
    store: Callable[[], StateStore] | None,
    *,
    grace: float | None = None,
    exclude: Collection[str] = (),
    critical_jobs: Collection[str] = (),
    clock: Callable[[], datetime] = utc_now,
    name: str = CHECK_NAME,
    tags: frozenset[str] = frozenset({"schedules", "local"}),
) -> HealthCheck:
    """The ``schedules:freshness`` check (see the module docstring).

    ``load_schedules`` reads the project's schedules (``None``: no project
    known, the check skips); ``store`` gives the state store (``None``: not
    configured, the check skips). Both are called when the check runs, so a
    broken file or database is that check's ``fail`` -- except an error whose
    ``details["reason"]`` is ``"missing"`` (no project file: nothing is
    scheduled), which skips. ``clock`` gives "now"
    (UTC); tests pass a fixed one.
    """
    excluded = frozenset(exclude)
    critical = frozenset(critical_jobs)

    def run() -> CheckOutcome:
        if load_schedules is None:
            return CheckOutcome.skipped(
                "no Meltano project known (MELTANO_PROJECT_ROOT is not set)",
                component_type="system",
            )
        if store is None:
            return CheckOutcome.skipped(
                "no state store configured: run history is unknown", component_type="system"
            )
        now = clock()
        try:
            schedules = load_schedules()
            verdicts, locks = evaluate_schedules(
                schedules,
                store(),
                now,
                grace=grace,
                exclude=excluded,
                critical_jobs=critical,
            )
        except GruponosError as exc:
            if exc.details.get("reason") == "missing":  # not a Meltano project: nothing scheduled
                return CheckOutcome.skipped(exc.message, component_type="system")
            return CheckOutcome.failed(exc.message, details={"code": exc.code})
        return _outcome(verdicts, locks, now)

    return HealthCheck(
        name=name,
        run=run,
        tags=tags,
        critical=True,
        description="every scheduled job ran when it was due",
    )
