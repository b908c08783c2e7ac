"""Rows to records: what both state stores share once a row is read.

A row is any mapping from column name to value (``sqlite3.Row``, a psycopg
dict row). Times arrive as seconds since the epoch (SQLite) or as aware
datetimes (PostgreSQL's ``timestamptz``); both become aware UTC datetimes.
The lock's staleness verdict is decided here for both stores, from the
store's clock and this process's :class:`~gruponos_ext.state.locks.HostIdentity`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.locks import HostIdentity, stale_reason
from gruponos_ext.state.model import (
    AlertRecord,
    HealthCheckRecord,
    HealthRecord,
    LeaseRenewal,
    LockAcquisition,
    LockInfo,
    LockLoss,
    LockOwner,
    PruneResult,
    RunRecord,
    RunStatus,
    from_timestamp,
)

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = [
    "MESSAGE_MAX_CHARS",
    "abandon_message",
    "alert_from_row",
    "check_limit",
    "check_lock_request",
    "clip",
    "final_status",
    "health_checks",
    "health_from_row",
    "holder_identity",
    "lock_from_row",
    "log_acquisition",
    "log_finished",
    "log_pruned",
    "log_release",
    "renewal_outcome",
    "run_from_row",
    "to_time",
]

_log = get_logger("gruponos_ext.state")

MESSAGE_MAX_CHARS = 4000
"""Messages may carry a child's output tail; the database stays bounded."""

Row = Mapping[str, Any]


def to_time(value: float | datetime) -> datetime:
    """An aware UTC datetime from epoch seconds or a (timezone-aware) datetime."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return from_timestamp(float(value))


def clip(message: str) -> str:
    """``message`` cut to :data:`MESSAGE_MAX_CHARS`, keeping its end (where errors are)."""
    if len(message) <= MESSAGE_MAX_CHARS:
        return message
    return "…" + message[-(MESSAGE_MAX_CHARS - 1) :]


def check_limit(limit: int) -> int:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return limit


def check_lock_request(job: str, ttl_s: float | None) -> None:
    """Refuse an acquisition that can never be right (both stores ask this first)."""
    if not job:
        raise ValueError("acquire_lock needs a job name")
    if ttl_s is not None and ttl_s < 0:
        raise ValueError(f"ttl_s must be >= 0 or None, got {ttl_s}")


def final_status(status: RunStatus | str) -> RunStatus:
    """``status`` as a final :class:`RunStatus` (``finish_run`` refuses ``running``)."""
    final = RunStatus(status)
    if not final.final:
        raise ValueError("finish_run needs a final status, not 'running'")
    return final


def log_finished(records: tuple[RunRecord, ...], exit_code: int | None) -> None:
    for record in records:
        _log.info(
            "run_finished",
            job=record.job,
            run_id=record.id,
            status=record.status.value,
            exit_code=exit_code,
            duration_s=record.duration_s,
        )


def log_release(job: str, context_id: str, released: bool, holder: str | None) -> None:
    """The log line of ``release_lock``: released, refused (another ``holder``), or nothing."""
    if released:
        _log.info("lock_released", job=job, context_id=context_id)
    elif holder is not None:
        _log.warning(
            "lock_release_refused", job=job, context_id=context_id, holder_context_id=holder
        )


def renewal_outcome(
    job: str, context_id: str, renewed: bool, expires: float | datetime | None, row: Row | None
) -> LeaseRenewal:
    """A heartbeat's answer: renewed until ``expires``, or lost to ``row``'s holder (or gone)."""
    if renewed:
        return LeaseRenewal(job, context_id, True, None if expires is None else to_time(expires))
    holder = None if row is None else lock_from_row(row)
    lost = LockLoss.GONE if holder is None else LockLoss.TAKEN
    _log.error("run_lock_lost", job=job, context_id=context_id, lost=lost)
    return LeaseRenewal(job, context_id, False, lost=lost, holder=holder)


def log_pruned(result: PruneResult, retention_days: float) -> PruneResult:
    if result.total:
        _log.info(
            "state_pruned",
            runs=result.runs,
            health_results=result.health_results,
            alerts=result.alerts,
            retention_days=retention_days,
        )
    return result


def run_from_row(row: Row) -> RunRecord:
    finished = row["finished_at"]
    return RunRecord(
        id=int(row["id"]),
        job=row["job"],
        context_id=row["context_id"],
        host=row["host"],
        pid=int(row["pid"]),
        status=RunStatus(row["status"]),
        started_at=to_time(row["started_at"]),
        finished_at=None if finished is None else to_time(finished),
        exit_code=row["exit_code"],
        message=row["message"],
    )


def holder_identity(row: Row) -> HostIdentity:
    """The identity of the host that took the lock in ``row``."""
    return HostIdentity(row["host"], row["boot_id"], row["pid_namespace"], row["machine_id"])


def lock_from_row(
    row: Row, *, now: float | datetime | None = None, here: HostIdentity | None = None
) -> LockInfo:
    """The lock in ``row``; with ``now`` and ``here``, its staleness verdict too."""
    expires = row["expires_at"]
    info = LockInfo(
        job=row["job"],
        owner=LockOwner(
            context_id=row["context_id"],
            host=row["host"],
            pid=int(row["pid"]),
            started_at=to_time(row["owner_started_at"]),
        ),
        acquired_at=to_time(row["acquired_at"]),
        expires_at=None if expires is None else to_time(expires),
        fence=int(row["fence"] or 0),
    )
    if now is None or here is None:
        return info
    at = now.timestamp() if isinstance(now, datetime) else float(now)
    reason = stale_reason(
        info, row["process_identity"], now=at, here=here, holder=holder_identity(row)
    )
    return LockInfo(info.job, info.owner, info.acquired_at, info.expires_at, reason, info.fence)


def abandon_message(previous: LockInfo, owner: LockOwner) -> str:
    """What an abandoned run's record says about who reclaimed its lock."""
    reason = previous.stale.value if previous.stale else "stale"
    return f"abandoned: its lock was reclaimed ({reason}) by {owner.describe()}"


def log_acquisition(acquisition: LockAcquisition, previous: LockInfo | None) -> None:
    """The log line of a lock decision (refused, reclaimed or acquired)."""
    job = acquisition.job
    if not acquisition.acquired:
        holder = acquisition.lock.owner
        _log.info(
            "lock_refused",
            job=job,
            holder_context_id=holder.context_id,
            holder_host=holder.host,
            holder_pid=holder.pid,
        )
    elif previous is not None:
        _log.warning(
            "lock_reclaimed",
            job=job,
            reason=None if previous.stale is None else previous.stale.value,
            previous_context_id=previous.owner.context_id,
            previous_host=previous.owner.host,
            previous_pid=previous.owner.pid,
            fence=acquisition.lock.fence,
            abandoned_runs=list(acquisition.abandoned_run_ids),
        )
    elif not acquisition.already_held:
        _log.info(
            "lock_acquired",
            job=job,
            context_id=acquisition.lock.owner.context_id,
            fence=acquisition.lock.fence,
        )


def health_checks(report: HealthReport) -> list[dict[str, Any]]:
    """The per-check summary of ``report`` that the stores keep (as JSON)."""
    return [
        {
            "name": r.name,
            "status": r.status.value,
            "message": r.message,
            "duration_s": r.duration_s,
            "critical": r.critical,
        }
        for r in report.results
    ]


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


def alert_from_row(row: Row) -> AlertRecord:
    return AlertRecord(
        id=int(row["id"]),
        key=row["key"],
        time=to_time(row["at"]),
        sent=bool(row["sent"]),
        window_s=float(row["window_s"]),
        forgotten=bool(row["forgotten"]),
    )
