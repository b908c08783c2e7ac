"""What the status page shows, as plain frozen records (no I/O, no HTML).

The collector fills these from ``meltano.yml``, the state store and the
schedule freshness; the renderer turns them into one HTML file. Keeping the
page as data between the two lets each be tested alone, and keeps the
renderer free of any store or project code.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "CheckCell",
    "CheckPanel",
    "JobPanel",
    "LockView",
    "RunMark",
    "SchedulePanel",
    "StatusPage",
]


@dataclass(frozen=True, slots=True)
class RunMark:
    """One run of a job, as the timeline and the duration chart show it."""

    run_id: int
    status: str
    """``success``, ``failed``, ``cancelled``, ``running`` or ``abandoned``."""
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    host: str

    @property
    def duration_s(self) -> float | None:
        """Seconds the run took; None while it runs."""
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class LockView:
    """Who holds a job's run lock."""

    host: str
    pid: int
    since: datetime
    lease_left_s: float | None
    """Seconds until the lease ends (negative: expired); None without a lease."""
    stale_reason: str | None = None
    """Why the lock may be reclaimed (``expired``, ``process_gone``...), None while held."""


@dataclass(frozen=True, slots=True)
class SchedulePanel:
    """A schedule of the job and whether it ran when due."""

    name: str
    interval: str
    state: str
    """The freshness verdict: ``pass``, ``warn``, ``fail`` or ``skip``."""
    message: str
    next_due: datetime | None = None
    overdue_s: float = 0.0
    last_success: datetime | None = None


@dataclass(frozen=True, slots=True)
class JobPanel:
    """Everything the page says about one job."""

    name: str
    runs: tuple[RunMark, ...] = ()
    """Most recent last."""
    total_runs: int = 0
    """Runs recorded in the store (``runs`` may show only the latest)."""
    schedules: tuple[SchedulePanel, ...] = ()
    lock: LockView | None = None
    defined: bool = True
    """False for a job that has history but is no longer in meltano.yml."""

    @property
    def overdue(self) -> bool:
        """Whether any schedule of the job missed its due time."""
        return any(s.state in ("warn", "fail") and s.overdue_s > 0 for s in self.schedules)


@dataclass(frozen=True, slots=True)
class CheckCell:
    """One health check result."""

    status: str
    time: datetime
    duration_s: float
    message: str = ""


@dataclass(frozen=True, slots=True)
class CheckPanel:
    """A health check: its latest result and its recent history, oldest first."""

    name: str
    latest: CheckCell
    history: tuple[CheckCell, ...] = ()
    critical: bool = False

    @property
    def flips(self) -> int:
        """How often the status changed in the history: flapping shows as many flips."""
        statuses = [cell.status for cell in self.history]
        return sum(a != b for a, b in itertools.pairwise(statuses))


@dataclass(frozen=True, slots=True)
class StatusPage:
    """The whole page."""

    project: str
    meltano_environment: str | None
    store: str
    """The state store in use, without credentials (e.g. ``SQLite .meltano/...``)."""
    generated_at: datetime
    version: str
    jobs: tuple[JobPanel, ...] = ()
    checks: tuple[CheckPanel, ...] = ()
    health_time: datetime | None = None
    health_status: str | None = None
    notes: tuple[str, ...] = field(default=())
    """Lines for the reader: what could not be read, and why."""

    @property
    def empty(self) -> bool:
        """No run recorded yet for any job."""
        return not any(job.runs for job in self.jobs)
