"""Filling the status page from the state store (embedded or shared) and the project.

Reads are bounded whatever the store holds: the latest ``runs_per_job`` runs
of each job and the latest ``health_results`` health runs, so a store with
years of history still renders in well under a second into a small page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from gruponos_ext.report.page import (
    CheckCell,
    CheckPanel,
    JobPanel,
    LockView,
    RunMark,
    SchedulePanel,
    StatusPage,
)
from gruponos_ext.state.model import HealthRecord, LockInfo, RunRecord
from gruponos_ext.state.protocol import StateStore

__all__ = ["HEALTH_RESULTS", "RUNS_PER_JOB", "collect_page"]

RUNS_PER_JOB = 60
"""Runs of each job on the page: enough to see a trend, few enough to read."""
HEALTH_RESULTS = 30
"""Health runs whose results make each check's strip."""
# How far back to look for jobs that have history but are no longer defined.
_DISCOVERY_RUNS = 2000


def _mark(run: RunRecord) -> RunMark:
    return RunMark(
        run_id=run.id,
        status=run.status.value,
        started_at=run.started_at,
        finished_at=run.finished_at,
        exit_code=run.exit_code,
        host=run.host,
    )


def _lock_view(lock: LockInfo, now: datetime) -> LockView:
    lease = (lock.expires_at - now).total_seconds() if lock.expires_at is not None else None
    return LockView(
        host=lock.owner.host,
        pid=lock.owner.pid,
        since=lock.acquired_at,
        lease_left_s=lease,
        stale_reason=lock.stale.value if lock.stale is not None else None,
    )


def _newest(records: Sequence[HealthRecord]) -> HealthRecord | None:
    """The newest full health run (``health``), else the newest of preflight's critical ones."""
    ordered = sorted(records, key=lambda record: (record.time, record.id), reverse=True)
    full = [record for record in ordered if record.job is None]
    candidates = full or ordered
    return candidates[0] if candidates else None


def _check_panels(records: Sequence[HealthRecord]) -> tuple[CheckPanel, ...]:
    """One panel per check of the newest health run, with each check's history."""
    newest = _newest(records)
    if newest is None:
        return ()
    oldest_first = sorted(records, key=lambda record: (record.time, record.id))
    history: dict[str, list[CheckCell]] = {}
    critical: dict[str, bool] = {}
    for record in oldest_first:
        for check in record.checks:
            history.setdefault(check.name, []).append(
                CheckCell(check.status, record.time, check.duration_s, check.message)
            )
            critical[check.name] = check.critical
    return tuple(
        CheckPanel(
            name=check.name,
            latest=history[check.name][-1],
            history=tuple(history[check.name]),
            critical=critical[check.name],
        )
        for check in newest.checks
    )


def _job_names(defined: Iterable[str], store: StateStore, locks: Iterable[LockInfo]) -> list[str]:
    names = list(dict.fromkeys(defined))
    seen = set(names)
    extra = {run.job for run in store.recent_runs(None, _DISCOVERY_RUNS)}
    extra |= {lock.job for lock in locks}
    names += sorted(extra - seen)
    return names


def collect_page(
    store: StateStore,
    *,
    project: str,
    jobs: Iterable[str],
    now: datetime,
    version: str,
    store_label: str,
    meltano_environment: str | None = None,
    schedules: Mapping[str, Sequence[SchedulePanel]] | None = None,
    notes: Sequence[str] = (),
    runs_per_job: int = RUNS_PER_JOB,
    health_results: int = HEALTH_RESULTS,
) -> StatusPage:
    """The page for the jobs of ``meltano.yml`` (``jobs``) and any job with history.

    ``schedules`` maps a job to its schedules' freshness (the
    ``schedules:freshness`` verdicts); ``now`` is the page's time.
    """
    defined = list(jobs)
    locks = store.all_locks()
    lock_by_job = {lock.job: lock for lock in locks}
    panels = []
    for name in _job_names(defined, store, locks):
        runs = store.recent_runs(name, runs_per_job)
        marks = tuple(_mark(run) for run in sorted(runs, key=lambda r: (r.started_at, r.id)))
        lock = lock_by_job.get(name)
        panels.append(
            JobPanel(
                name=name,
                runs=marks,
                total_runs=len(marks),
                schedules=tuple((schedules or {}).get(name, ())),
                lock=_lock_view(lock, now) if lock is not None else None,
                defined=name in defined,
            )
        )
    records = store.recent_health(health_results)
    newest = _newest(records)
    return StatusPage(
        project=project,
        meltano_environment=meltano_environment,
        store=store_label,
        generated_at=now,
        version=version,
        jobs=tuple(panels),
        checks=_check_panels(records),
        health_time=newest.time if newest is not None else None,
        health_status=newest.status if newest is not None else None,
        notes=tuple(notes),
    )
