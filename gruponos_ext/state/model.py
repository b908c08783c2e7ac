"""The vocabulary of the state store: runs, locks, health and alert records.

Plain frozen dataclasses, free of any database import, so the CLI, the
orchestrator and a future shared-database store all speak the same types.
Times are timezone-aware UTC :class:`~datetime.datetime` values; every record
has a ``to_dict()`` that is JSON-ready (ISO-8601 strings) for ``history
--format json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.procfs import host_name
from gruponos_ext.core.records import FieldsJson, fields_json
from gruponos_ext.core.result import Result

__all__ = [
    "DEFAULT_PRUNE_BATCH",
    "LOCK_HELD",
    "AlertRecord",
    "HealthCheckRecord",
    "HealthRecord",
    "LeaseRenewal",
    "LockAcquisition",
    "LockInfo",
    "LockLoss",
    "LockOwner",
    "PruneResult",
    "ReclaimReason",
    "RunRecord",
    "RunStatus",
    "StateDriverMissingError",
    "StateStoreError",
    "from_timestamp",
    "to_time",
    "to_timestamp",
]

DEFAULT_PRUNE_BATCH = 5000
"""At most this many rows per table are deleted by one ``prune`` call."""

LOCK_HELD = "LOCK_HELD"
"""The stable code of a refused lock acquisition."""


def to_timestamp(value: datetime) -> float:
    """Seconds since the epoch; a naive datetime is local time (Python's rule)."""
    return value.timestamp()


def from_timestamp(value: float) -> datetime:
    """An aware UTC datetime from seconds since the epoch."""
    return datetime.fromtimestamp(value, tz=timezone.utc)


def to_time(value: float | datetime) -> datetime:
    """An aware UTC datetime from epoch seconds (SQLite) or an aware datetime (PostgreSQL)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return from_timestamp(float(value))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class StateStoreError(GruponosError):
    """The state database could not be used (locked, corrupted, unwritable, down...).

    ``details`` holds ``path`` (the SQLite file, or ``host:port/database`` of
    a PostgreSQL store, never a password), ``operation`` (what the store was
    doing) and ``reason``: one of ``locked``, ``corrupt``, ``empty`` (a
    0-byte file: the history was lost), ``unwritable``, ``schema``,
    ``unreachable`` (the server does not answer), ``timeout`` (a lock or
    statement took longer than allowed), ``denied`` (authentication or
    privileges), ``error``. The message names the database and what to do.
    """

    code = "STATE_STORE_ERROR"

    def __init__(self, message: str, *, path: Path | str, operation: str, reason: str) -> None:
        super().__init__(
            message, details={"path": str(path), "operation": operation, "reason": reason}
        )
        self.path = str(path)
        self.operation = operation
        self.reason = reason


class StateDriverMissingError(GruponosError):
    """``state_uri`` names a PostgreSQL database but psycopg is not installed (exit 2)."""

    code = "STATE_DRIVER_MISSING"
    exit_code = 2

    def __init__(self) -> None:
        super().__init__(
            "GRUPONOS_INFRA_STATE_URI is set, but the PostgreSQL driver (psycopg 3) is not "
            "installed: install gruponos-infra[postgres] (in meltano.yml: pip_url: "
            "gruponos-infra[postgres]), or unset state_uri to use the local SQLite store"
        )


class RunStatus(str, Enum):
    """Where a run stands. Every status but ``running`` is final."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    """Its lock was reclaimed after its process died or its lease expired."""

    @property
    def final(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a job, from preflight (``start_run``) to dispose (``finish_run``)."""

    id: int
    job: str
    context_id: str
    host: str
    pid: int
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int | None = None
    message: str = ""

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish; ``None`` while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job,
            "context_id": self.context_id,
            "host": self.host,
            "pid": self.pid,
            "status": self.status.value,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_s": self.duration_s,
            "exit_code": self.exit_code,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class LockOwner(FieldsJson):
    """Who holds (or asks for) a job's run lock.

    ``pid`` must be a process that lives as long as the run: for a preflight
    block under ``meltano run`` that is the ``meltano`` process (the block's
    parent), not the short-lived preflight process itself, or the lock looks
    abandoned as soon as preflight exits.
    """

    context_id: str
    host: str
    pid: int
    started_at: datetime

    @classmethod
    def current(
        cls, context_id: str, *, pid: int | None = None, started_at: datetime | None = None
    ) -> LockOwner:
        """An owner on this host: ``pid`` defaults to this process, ``started_at`` to now."""
        return cls(
            context_id=context_id,
            host=host_name(),
            pid=os.getpid() if pid is None else pid,
            started_at=started_at or datetime.now(timezone.utc),
        )

    def describe(self) -> str:
        return f"run {self.context_id} on host {self.host} (pid {self.pid})"


class ReclaimReason(str, Enum):
    """Why a lock was found stale and could be taken over."""

    PROCESS_GONE = "process_gone"
    """Same host, the holder's pid no longer exists (or is a zombie)."""
    PID_REUSED = "pid_reused"
    """Same host, the pid is alive but belongs to a process started later."""
    HOST_REBOOTED = "host_rebooted"
    """Same host name, but the machine booted since the lock was taken."""
    EXPIRED = "expired"
    """The lock's lease (``ttl_s`` from acquisition or last refresh) ran out."""


@dataclass(frozen=True, slots=True)
class LockInfo(FieldsJson):
    """A job's run lock as stored.

    ``stale`` is the store's verdict at read time: why the next acquisition
    would reclaim it, or ``None`` while its holder is alive and its lease runs.
    ``fence`` is the lock's fencing number: it grows with every new holder of
    the job's lock (never with a renewal), so a holder that lost the lock can
    tell, and be told, that it is no longer the holder.
    """

    job: str
    owner: LockOwner
    acquired_at: datetime
    expires_at: datetime | None
    stale: ReclaimReason | None = None
    fence: int = 0

    def describe(self) -> str:
        """``run <ctx> on host h (pid p) since <iso>`` — how refusals name the holder."""
        return f"{self.owner.describe()} since {self.acquired_at.isoformat(timespec='seconds')}"


@dataclass(frozen=True, slots=True)
class LockAcquisition:
    """The outcome of ``acquire_lock``; truthy when the lock is now ours.

    ``lock`` is the lock as it stands after the attempt: ours when acquired,
    the live holder's when refused. ``reclaimed_from`` is the previous owner
    whose stale lock was taken over (with ``reclaim_reason``), and
    ``abandoned_run_ids`` the runs of that owner marked ``abandoned``.
    ``already_held`` means the same context already held it (re-entrant
    acquisition; the stored owner is unchanged).
    """

    code: ClassVar[str] = LOCK_HELD

    job: str
    acquired: bool
    lock: LockInfo
    reclaimed_from: LockOwner | None = None
    reclaim_reason: ReclaimReason | None = None
    already_held: bool = False
    abandoned_run_ids: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return self.acquired

    @property
    def error_code(self) -> str | None:
        """``LOCK_HELD`` when refused, ``None`` when acquired."""
        return None if self.acquired else LOCK_HELD

    @property
    def message(self) -> str:
        """One line for people: who holds the lock, or what was reclaimed."""
        if not self.acquired:
            expiry = (
                f"; its lease expires at {self.lock.expires_at.isoformat(timespec='seconds')}"
                if self.lock.expires_at is not None
                else ""
            )
            return (
                f"job {self.job!r} is already running: locked by {self.lock.describe()}{expiry}. "
                "It is released when that run disposes, and reclaimed once its process is "
                "gone or its lease expires."
            )
        if self.reclaimed_from is not None:
            reason = self.reclaim_reason.value if self.reclaim_reason else "stale"
            return (
                f"lock of job {self.job!r} acquired by reclaiming a stale lock ({reason}) "
                f"of {self.reclaimed_from.describe()}"
            )
        if self.already_held:
            return f"lock of job {self.job!r} already held by this run ({self.lock.describe()})"
        return f"lock of job {self.job!r} acquired by {self.lock.describe()}"

    def to_result(self) -> Result[LockAcquisition]:
        """``Result.ok(self)`` when acquired, else a failure coded ``LOCK_HELD``.

        The failure's ``error_data`` names the holder: ``job``, ``context_id``,
        ``host``, ``pid``, ``since`` (ISO-8601) and ``expires_at``.
        """
        if self.acquired:
            return Result.ok(self)
        owner = self.lock.owner
        return Result.fail(
            self.message,
            LOCK_HELD,
            {
                "job": self.job,
                "context_id": owner.context_id,
                "host": owner.host,
                "pid": owner.pid,
                "since": _iso(self.lock.acquired_at),
                "expires_at": _iso(self.lock.expires_at),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "acquired": self.acquired,
            "code": self.error_code,
            "message": self.message,
            "lock": self.lock.to_dict(),
            "reclaimed_from": (
                None if self.reclaimed_from is None else self.reclaimed_from.to_dict()
            ),
            "reclaim_reason": None if self.reclaim_reason is None else self.reclaim_reason.value,
            "already_held": self.already_held,
            "abandoned_run_ids": list(self.abandoned_run_ids),
        }


class LockLoss(str, Enum):
    """Why a heartbeat found that its run no longer holds the lock."""

    TAKEN = "taken"
    """Another run holds the job's lock now (it reclaimed it after our lease ran out)."""
    GONE = "gone"
    """The job has no lock any more: it was broken by an operator or released."""
    UNCONFIRMED = "unconfirmed"
    """The store could not be reached for longer than the lease: it may be taken."""


@dataclass(frozen=True, slots=True)
class LeaseRenewal:
    """The outcome of ``refresh_lock``: truthy while the caller still holds the lock.

    ``expires_at`` is the new end of the lease (server time; ``None`` for a
    lock without a lease). When the lock is lost, ``lost`` says why and
    ``holder`` is the lock that stands now, if any. A caller that loses its
    lock must stop the work the lock protects: another run may be doing it.
    """

    job: str
    context_id: str
    held: bool
    expires_at: datetime | None = None
    lost: LockLoss | None = None
    holder: LockInfo | None = None
    error: str | None = None
    """Set when this renewal could not reach the store (the lock may still be ours)."""

    def __bool__(self) -> bool:
        return self.held

    @property
    def message(self) -> str:
        """One line for people."""
        if self.held and self.error is not None:
            return (
                f"run lock of job {self.job!r} not renewed ({self.error}); still ours until "
                "the last lease runs out"
            )
        if self.held:
            until = (
                f"until {self.expires_at.isoformat(timespec='seconds')}"
                if self.expires_at is not None
                else "without a lease"
            )
            return f"run lock of job {self.job!r} renewed {until}"
        if self.lost is LockLoss.TAKEN and self.holder is not None:
            return (
                f"run lock of job {self.job!r} lost: now held by {self.holder.describe()} "
                f"(fence {self.holder.fence})"
            )
        if self.lost is LockLoss.UNCONFIRMED:
            return (
                f"run lock of job {self.job!r} lost: the state store could not renew it "
                "before its lease ran out"
            )
        return f"run lock of job {self.job!r} lost: it was broken or released"

    def to_dict(self) -> dict[str, Any]:
        return fields_json(self, message=self.message)


@dataclass(frozen=True, slots=True)
class HealthCheckRecord(FieldsJson):
    """One check of a stored health report."""

    name: str
    status: str
    message: str
    duration_s: float
    critical: bool = True


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """A stored :class:`~gruponos_ext.health.model.HealthReport` summary."""

    id: int
    time: datetime
    job: str | None
    status: str
    duration_s: float
    checks: tuple[HealthCheckRecord, ...]
    host: str | None = None
    """The host that ran the checks (None for reports stored before hosts were)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": _iso(self.time),
            "host": self.host,
            "job": self.job,
            "status": self.status,
            "duration_s": self.duration_s,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True, slots=True)
class AlertRecord(FieldsJson):
    """One de-duplication decision: the alert ``key`` was sent, or suppressed.

    ``forgotten`` marks a send taken back because the alert reached no
    channel; it no longer suppresses later alerts.
    """

    id: int
    key: str
    time: datetime
    sent: bool
    window_s: float
    forgotten: bool = False


@dataclass(frozen=True, slots=True)
class PruneResult:
    """How many rows one ``prune`` call removed per table."""

    runs: int = 0
    health_results: int = 0
    alerts: int = 0

    @property
    def total(self) -> int:
        return self.runs + self.health_results + self.alerts
